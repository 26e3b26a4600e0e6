/**
 * `gobearmon contact add|list|delete` and `gobearmon alert add|list|disable|enable|delete`:
 * who hears about which check, validated as the controller validates contacts.
 */
import { contactTypes, validateContact } from '../contacts/registry';
import { cancelOrphanedAlerts } from '../store/reminders';
import { wholeNumber } from './check-flags';
import { isDbError } from './check';
import { parseArgs, UsageError, type Command } from './command';
import { formatTable } from './sql';
import { StoreCliError, withConfigStore } from './store-cli';

async function guarded(name: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof StoreCliError) && !isDbError(err)) throw err;
    console.error(`gobearmon ${name}: ${(err as Error).message}`);
    return 1;
  }
}

function id(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new UsageError(`${what} must be a number, got ${JSON.stringify(text ?? '')}`);
  return Number(text);
}

const contactUsage = `usage: gobearmon contact add TYPE DATA --config FILE
       gobearmon contact list --config FILE [--json]
       gobearmon contact delete ID --config FILE

TYPE is one of ${[...contactTypes.keys()].join(', ')}; DATA as in the README's contact table, e.g.
  gobearmon contact add slack https://hooks.slack.com/services/T/B/X --config w.cfg
  gobearmon contact add telegram '{"chat_id":"-1001","token":"123:ABC"}' --config w.cfg
DATA is checked as the controller checks it (a bad one is refused). Try it first with
\`gobearmon notify TYPE DATA --config FILE\`. delete also removes its alerts and cancels its
pending deliveries.

Exit status: 0 done, 1 database error or no such contact, 2 bad usage or data.`;

export const contactCommand: Command = {
  name: 'contact',
  summary: 'add, list or delete contacts (validated like the controller does)',
  usage: contactUsage,
  async run(args) {
    const [verb, ...rest] = args;
    const { positionals, flags, bools } = parseArgs(rest, { values: ['config'], booleans: ['json'] });
    if (!flags.config) throw new UsageError('--config FILE is required');
    return guarded('contact', () => withConfigStore(flags.config, async (store, config) => {
      if (verb === 'add') {
        if (positionals.length !== 2) throw new UsageError('contact add takes TYPE and DATA');
        const [type, data] = positionals;
        const why = validateContact(type, data, config);
        if (why) throw new UsageError(why);
        if (data.length > 512) throw new UsageError(`DATA is ${data.length} characters; at most 512 fit contacts.data`);
        const { insertId } = await store.driver.run('INSERT INTO contacts (type, data) VALUES (?, ?)', [type, data]);
        console.log(`contact ${insertId} added: ${type}`);
        return 0;
      }
      if (verb === 'list') {
        const rows = (await store.driver.all('SELECT id, type, data FROM contacts ORDER BY id')).map((r) => ({ id: Number(r.id), type: String(r.type), data: String(r.data), problem: validateContact(String(r.type), String(r.data), config) ?? '' }));
        console.log(bools.has('json') ? JSON.stringify(rows, null, 2) : formatTable(['id', 'type', 'data', 'problem'], rows));
        return 0;
      }
      if (verb === 'delete') {
        const contactId = id(positionals[0], 'ID');
        const cancelled = await store.driver.transaction(async (tx) => {
          const { affectedRows } = await tx.run('DELETE FROM contacts WHERE id = ?', [contactId]);
          if (!affectedRows) throw new StoreCliError(`no contact with id ${contactId}`);
          await tx.run('DELETE FROM alerts WHERE contact_id = ?', [contactId]);
          return cancelOrphanedAlerts(tx);
        });
        console.log(`contact ${contactId} deleted with its alerts${cancelled ? `; ${cancelled} pending alert(s) cancelled` : ''}`);
        return 0;
      }
      throw new UsageError(verb ? `unknown action ${JSON.stringify(verb)}` : 'an action is required: add, list or delete');
    }));
  },
};

const alertUsage = `usage: gobearmon alert add CHECK_ID CONTACT_ID --config FILE [--type offline|online|both] [--remind S]
       gobearmon alert list --config FILE [--check ID] [--json]
       gobearmon alert disable|enable|delete ID --config FILE

--type: which flips the contact hears about (default both). --remind S: while the check stays
offline, remind the contact every S seconds (at least 60; default none). disable and delete
cancel the alert's pending deliveries.

Exit status: 0 done, 1 database error or no such check/contact/alert, 2 bad usage.`;

export const alertCommand: Command = {
  name: 'alert',
  summary: 'link a contact to a check (add, list, disable, enable, delete)',
  usage: alertUsage,
  async run(args) {
    const [verb, ...rest] = args;
    const { positionals, flags, bools } = parseArgs(rest, { values: ['config', 'type', 'remind', 'check'], booleans: ['json'] });
    if (!flags.config) throw new UsageError('--config FILE is required');
    const type = flags.type ?? 'both';
    if (!['offline', 'online', 'both'].includes(type)) throw new UsageError(`--type must be offline, online or both, got ${JSON.stringify(type)}`);
    let remind: number | null = null;
    try {
      if (flags.remind !== undefined) remind = wholeNumber('remind', flags.remind, 60);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    return guarded('alert', () => withConfigStore(flags.config, async (store) => {
      const hasRemind = await store.driver.hasColumn('alerts', 'remind');
      if (verb === 'add') {
        if (positionals.length !== 2) throw new UsageError('alert add takes CHECK_ID and CONTACT_ID');
        const checkId = id(positionals[0], 'CHECK_ID');
        const contactId = id(positionals[1], 'CONTACT_ID');
        if (!(await store.driver.all('SELECT id FROM checks WHERE id = ?', [checkId])).length) throw new StoreCliError(`no check with id ${checkId}`);
        if (!(await store.driver.all('SELECT id FROM contacts WHERE id = ?', [contactId])).length) throw new StoreCliError(`no contact with id ${contactId}`);
        if (remind !== null && !hasRemind) throw new StoreCliError('this database has no alerts.remind column yet: run `gobearmon migrate` first');
        const { insertId } = await store.driver.run(
          `INSERT INTO alerts (check_id, contact_id, type${hasRemind ? ', remind' : ''}) VALUES (?, ?, ?${hasRemind ? ', ?' : ''})`,
          [checkId, contactId, type, ...(hasRemind ? [remind] : [])],
        );
        console.log(`alert ${insertId} added: check ${checkId} → contact ${contactId} on ${type}${remind ? `, reminding every ${remind} s` : ''}`);
        return 0;
      }
      if (verb === 'list') {
        const where = flags.check !== undefined ? ' WHERE check_id = ?' : '';
        const rows = (await store.driver.all(`SELECT id, check_id, contact_id, type, enabled${hasRemind ? ', remind' : ''} FROM alerts${where} ORDER BY id`, where ? [id(flags.check, '--check')] : []))
          .map((r) => ({ ...r, id: Number(r.id), check_id: Number(r.check_id), contact_id: Number(r.contact_id), enabled: Number(r.enabled), ...(hasRemind ? { remind: r.remind === null ? null : Number(r.remind) } : {}) }));
        console.log(bools.has('json') ? JSON.stringify(rows, null, 2) : formatTable(['id', 'check_id', 'contact_id', 'type', 'enabled', ...(hasRemind ? ['remind'] : [])], rows));
        return 0;
      }
      if (verb === 'disable' || verb === 'enable' || verb === 'delete') {
        const alertId = id(positionals[0], 'ID');
        const cancelled = await store.driver.transaction(async (tx) => {
          const { affectedRows } = verb === 'delete'
            ? await tx.run('DELETE FROM alerts WHERE id = ?', [alertId])
            : await tx.run('UPDATE alerts SET enabled = ? WHERE id = ?', [verb === 'enable' ? 1 : 0, alertId]);
          if (!affectedRows && !(await tx.all('SELECT id FROM alerts WHERE id = ?', [alertId])).length) throw new StoreCliError(`no alert with id ${alertId}`);
          return verb === 'enable' ? 0 : cancelOrphanedAlerts(tx);
        });
        console.log(`alert ${alertId} ${verb}d${cancelled ? `; ${cancelled} pending alert(s) cancelled` : ''}`);
        return 0;
      }
      throw new UsageError(verb ? `unknown action ${JSON.stringify(verb)}` : 'an action is required: add, list, disable, enable or delete');
    }));
  },
};
