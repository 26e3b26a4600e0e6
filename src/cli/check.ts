/**
 * `gobearmon check add|list|show|disable|enable|delete`: manage checks without writing JSON by hand.
 * SQL stays the source of truth; these only read and write the same rows.
 */
import { checkTypes, checkWarnings, validateCheck } from '../checks/registry';
import { cancelOrphanedAlerts } from '../store/reminders';
import type { Row } from '../store/driver';
import type { Store } from '../store/store';
import { parseTags } from '../web/model';
import { flagName, parseCheckFlags, wholeNumber } from './check-flags';
import { parseArgs, UsageError, type Command } from './command';
import { formatTable } from './sql';
import { StoreCliError, withConfigStore } from './store-cli';

function typeUsage(): string {
  return Object.values(checkTypes)
    .map((t) => `  ${t.name}: ${t.params.map((p) => `--${flagName(p.key)}${p.kind === 'bool' ? '' : p.kind === 'map' ? ' Name=value…' : p.kind === 'list' ? ' X…' : ' V'}${p.required ? ' (required)' : ''}`).join(' ')}`)
    .join('\n');
}

const usage = `usage: gobearmon check add TYPE --config FILE --name NAME [--interval S] [--delay N] [--tags a,b] [--disabled] [TYPE's flags]
       gobearmon check list --config FILE [--tag T] [--status online|offline] [--json]
       gobearmon check show ID --config FILE [--json]
       gobearmon check disable|enable|delete ID --config FILE

Each type's flags are its parameters (underscores become dashes):
${typeUsage()}
--interval seconds between runs (whole number, at least 1; default 60); --delay failed rounds
before a flip (default 1). http checks get --expect-status 200 unless given (0 = any status).
The parameters are validated as the controller validates them before anything is written.
delete also removes the check's alerts and cancels its pending deliveries.

Example: gobearmon check add http --config w.cfg --name web --url https://example.com --interval 60 --tags prod,web

Exit status: 0 done, 1 database error or no such check, 2 bad usage or parameters.`;

async function hasTags(store: Store): Promise<boolean> {
  return store.driver.hasColumn('checks', 'tags');
}

async function add(args: string[]): Promise<number> {
  const [type, ...rest] = args;
  if (!type || type.startsWith('--')) throw new UsageError(`check add needs a TYPE (${Object.keys(checkTypes).join(', ')})`);
  const checkType = Object.hasOwn(checkTypes, type) ? checkTypes[type] : undefined;
  if (!checkType) throw new UsageError(`unknown check type ${JSON.stringify(type)}; known types: ${Object.keys(checkTypes).join(', ')}`);
  let parsed;
  try {
    parsed = parseCheckFlags(rest, checkType.params);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { params, common, disabled } = parsed;
  if (!common.config) throw new UsageError('--config FILE is required (the worker config naming the database)');
  if (!common.name) throw new UsageError('--name is required');
  if (common.name.length > 64) throw new UsageError(`--name is ${common.name.length} characters; at most 64 fit checks.name`);
  let interval = 60;
  let delay = 1;
  try {
    if (common.interval !== undefined) interval = wholeNumber('interval', common.interval, 1);
    if (common.delay !== undefined) delay = wholeNumber('delay', common.delay, 0);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let all: Record<string, unknown> = params;
  if (common.data !== undefined) {
    try {
      all = { ...(JSON.parse(common.data) as Record<string, unknown>), ...params };
    } catch (err) {
      throw new UsageError(`--data is not valid JSON: ${(err as Error).message}`);
    }
  }
  // Kuma and Gatus users expect a 500 to be down: say so by default (the original counted any status).
  if (type === 'http' && all.expect_status === undefined) all.expect_status = 200;
  const data = JSON.stringify(all);
  const invalid = validateCheck(type, data);
  if (invalid) throw new UsageError(invalid);
  const unknown = checkWarnings(type, data).filter((w) => w.startsWith('unknown parameter'));
  if (unknown.length) throw new UsageError(unknown[0].replace(' ignored;', ' refused;'));
  if (data.length > 1024) throw new UsageError(`the parameters are ${data.length} characters as JSON; at most 1024 fit checks.data`);
  const tags = common.tags !== undefined ? parseTags(common.tags).join(',') : undefined;
  return withConfigStore(common.config, async (store) => {
    const withTags = tags !== undefined && (await hasTags(store));
    if (tags && !withTags) throw new StoreCliError('this database has no checks.tags column yet: run `gobearmon migrate` first');
    const { insertId } = await store.driver.run(
      `INSERT INTO checks (name, type, data, check_interval, delay, enabled${withTags ? ', tags' : ''}) VALUES (?, ?, ?, ?, ?, ?${withTags ? ', ?' : ''})`,
      [common.name, type, data, interval, delay, disabled ? 0 : 1, ...(withTags ? [tags ?? ''] : [])],
    );
    console.log(`check ${insertId} added: ${common.name} (${type} ${data}, every ${interval} s${disabled ? ', disabled' : ''})`);
    for (const w of checkWarnings(type, data)) console.error(`warning: ${w}`);
    return 0;
  });
}

const LIST_COLUMNS = 'id, name, type, status, enabled, check_interval, delay';

async function list(args: string[]): Promise<number> {
  const { positionals, flags, bools } = parseArgs(args, { values: ['config', 'tag', 'status'], booleans: ['json'] });
  if (positionals.length) throw new UsageError(`check list takes no arguments, got ${positionals.join(' ')}`);
  if (!flags.config) throw new UsageError('--config FILE is required');
  if (flags.status !== undefined && flags.status !== 'online' && flags.status !== 'offline') throw new UsageError('--status must be online or offline');
  return withConfigStore(flags.config, async (store) => {
    const tagged = await hasTags(store);
    const where: string[] = [];
    const params: string[] = [];
    if (flags.status) {
      where.push('status = ?');
      params.push(flags.status);
    }
    let rows = await store.driver.all(`SELECT ${LIST_COLUMNS}${tagged ? ', tags' : ''} FROM checks${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`, params);
    if (flags.tag !== undefined) rows = rows.filter((r) => parseTags(String(r.tags ?? '')).includes(flags.tag.toLowerCase()));
    const out: Row[] = rows.map((r) => ({ ...r, id: Number(r.id), enabled: Number(r.enabled), check_interval: Number(r.check_interval), delay: Number(r.delay) }));
    if (bools.has('json')) console.log(JSON.stringify(out.map((r) => ({ ...r, tags: parseTags(String(r.tags ?? '')) })), null, 2));
    else console.log(formatTable(Object.keys(out[0] ?? Object.fromEntries([...LIST_COLUMNS.split(', '), ...(tagged ? ['tags'] : [])].map((c) => [c, null]))), out));
    return 0;
  });
}

function oneId(args: string[], what: string, extra: { booleans?: string[] } = {}): { id: number; config: string; bools: Set<string> } {
  const { positionals, flags, bools } = parseArgs(args, { values: ['config'], booleans: extra.booleans });
  if (positionals.length !== 1) throw new UsageError(`${what} takes one ID`);
  if (!/^\d+$/.test(positionals[0])) throw new UsageError(`ID must be a number, got ${JSON.stringify(positionals[0])}`);
  if (!flags.config) throw new UsageError('--config FILE is required');
  return { id: Number(positionals[0]), config: flags.config, bools };
}

async function show(args: string[]): Promise<number> {
  const { id, config, bools } = oneId(args, 'check show', { booleans: ['json'] });
  return withConfigStore(config, async (store) => {
    const [row] = await store.driver.all('SELECT * FROM checks WHERE id = ?', [id]);
    if (!row) throw new StoreCliError(`no check with id ${id}`);
    const alerts = await store.driver.all(
      'SELECT alerts.id, alerts.type, alerts.enabled, contacts.id AS contact_id, contacts.type AS contact_type, contacts.data AS contact_data FROM alerts LEFT JOIN contacts ON contacts.id = alerts.contact_id WHERE alerts.check_id = ? ORDER BY alerts.id',
      [id],
    );
    let params: unknown = String(row.data);
    try {
      params = JSON.parse(String(row.data));
    } catch {
      // shown as stored: the controller reports why it is invalid
    }
    const invalid = validateCheck(String(row.type), String(row.data));
    const warnings = checkWarnings(String(row.type), String(row.data));
    if (bools.has('json')) {
      console.log(JSON.stringify({ ...row, id: Number(row.id), data: params, invalid, warnings, alerts }, null, 2));
      return 0;
    }
    const lines = [
      `check ${Number(row.id)}: ${String(row.name)} (${String(row.type)})`,
      `status:   ${String(row.status)}${Number(row.enabled) ? '' : ' (disabled)'}`,
      `interval: ${Number(row.check_interval)} s, delay ${Number(row.delay)}`,
      ...(row.tags !== undefined ? [`tags:     ${String(row.tags) || '-'}`] : []),
      `params:   ${JSON.stringify(params)}`,
      ...(invalid ? [`INVALID:  ${invalid}`] : []),
      ...warnings.map((w) => `warning:  ${w}`),
      `alerts:   ${alerts.length ? '' : 'none'}`,
      ...alerts.map((a) => `  alert ${Number(a.id)} → contact ${a.contact_id === null ? '(deleted)' : `${Number(a.contact_id)} ${String(a.contact_type)} ${String(a.contact_data)}`}, on ${String(a.type)}${Number(a.enabled) ? '' : ' (disabled)'}`),
    ];
    console.log(lines.join('\n'));
    return 0;
  });
}

async function setEnabled(args: string[], enabled: boolean): Promise<number> {
  const { id, config } = oneId(args, enabled ? 'check enable' : 'check disable');
  return withConfigStore(config, async (store) => {
    const { affectedRows } = await store.driver.run('UPDATE checks SET enabled = ? WHERE id = ?', [enabled ? 1 : 0, id]);
    const [row] = await store.driver.all('SELECT id FROM checks WHERE id = ?', [id]);
    if (!row) throw new StoreCliError(`no check with id ${id}`);
    console.log(`check ${id} ${enabled ? 'enabled' : 'disabled'}${affectedRows ? '' : ' (it already was)'}`);
    return 0;
  });
}

async function remove(args: string[]): Promise<number> {
  const { id, config } = oneId(args, 'check delete');
  return withConfigStore(config, async (store) => {
    const cancelled = await store.driver.transaction(async (tx) => {
      const { affectedRows } = await tx.run('DELETE FROM checks WHERE id = ?', [id]);
      if (!affectedRows) throw new StoreCliError(`no check with id ${id}`);
      await tx.run('DELETE FROM alerts WHERE check_id = ?', [id]);
      return cancelOrphanedAlerts(tx);
    });
    console.log(`check ${id} deleted with its alerts${cancelled ? `; ${cancelled} pending alert(s) cancelled` : ''}`);
    return 0;
  });
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'add, list, show, disable, enable or delete checks (flags instead of hand-written JSON)',
  usage,
  async run(args) {
    const [verb, ...rest] = args;
    try {
      switch (verb) {
        case 'add': return await add(rest);
        case 'list': return await list(rest);
        case 'show': return await show(rest);
        case 'disable': return await setEnabled(rest, false);
        case 'enable': return await setEnabled(rest, true);
        case 'delete': return await remove(rest);
        default: throw new UsageError(verb ? `unknown action ${JSON.stringify(verb)}` : 'an action is required: add, list, show, disable, enable or delete');
      }
    } catch (err) {
      if (!(err instanceof StoreCliError) && !isDbError(err)) throw err;
      console.error(`gobearmon check: ${(err as Error).message}`);
      return 1;
    }
  },
};

/** Errors from the database driver (not ours, not usage): printed as one line, exit 1. */
export function isDbError(err: unknown): boolean {
  const e = err as { code?: unknown; sqlMessage?: unknown; name?: string };
  return typeof e?.code === 'string' || typeof e?.sqlMessage === 'string' || e?.name === 'SqliteError';
}

