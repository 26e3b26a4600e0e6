/** `gobearmon sql --config FILE [--json] STATEMENT`: one SQL statement against the config's database. */
import { loadConfig } from '../config/load';
import type { Row } from '../store/driver';
import { openStore } from '../store/open';
import type { Store } from '../store/store';
import { parseArgs, UsageError, type Command } from './command';

const usage = `usage: gobearmon sql --config FILE [--json] "STATEMENT"

Runs one SQL statement against the [controller] database of FILE (MySQL replicas or the
embedded SQLite file) — the way operators add checks, contacts and alerts, e.g.
  gobearmon sql --config gobearmon.cfg "INSERT INTO contacts (type, data) VALUES ('email', 'ops@example.com')"
  gobearmon sql --config gobearmon.cfg "SELECT id, name, status FROM checks"

A query prints its rows as an aligned table (NULL for null), or with --json as a JSON array of
objects. Any other statement prints how many rows it changed and the new id, if any.

Exit status: 0 done, 1 the database refused or could not be reached (its message on stderr),
2 bad usage or config.`;

/** A cell as JSON carries it: binary as text when it is UTF-8, else 0x-hex; big integers as strings. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) {
    const text = value.toString('utf8');
    return Buffer.from(text, 'utf8').equals(value) ? text : `0x${value.toString('hex')}`;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A cell as the table shows it, on one line. */
function cell(value: unknown): string {
  const v = plain(value);
  if (v === null || v === undefined) return 'NULL';
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

export function formatTable(columns: string[], rows: Row[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export const sqlCommand: Command = {
  name: 'sql',
  summary: 'run one SQL statement against the configured database and print the result',
  usage,
  async run(args) {
    const { positionals, flags, bools } = parseArgs(args, { values: ['config'], booleans: ['json'] });
    if (!flags.config) throw new UsageError('--config FILE is required');
    if (positionals.length !== 1 || !positionals[0].trim()) {
      throw new UsageError(`expected exactly one STATEMENT (quote it), got ${positionals.length} argument(s)`);
    }
    const config = loadConfig(flags.config);
    if (config.role !== 'worker') throw new UsageError(`${flags.config} is a viewserver config; sql needs a worker config with [controller] database`);

    let store: Store;
    try {
      store = await openStore(config.controller.database);
    } catch (err) {
      console.error((err as Error).message);
      return 1;
    }
    try {
      const result = await store.driver.raw(positionals[0]);
      if ('columns' in result) {
        if (bools.has('json')) {
          const rows = result.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
          console.log(JSON.stringify(rows, null, 2));
        } else console.log(formatTable(result.columns, result.rows));
      } else if (bools.has('json')) {
        console.log(JSON.stringify(result));
      } else {
        console.log(`${result.affectedRows} row(s) affected`);
        if (result.insertId > 0) console.log(`last insert id ${result.insertId}`);
      }
      return 0;
    } catch (err) {
      // The database's own words: the operator typed the statement and knows its SQL.
      console.error((err as Error).message);
      return 1;
    } finally {
      await store.close();
    }
  },
};
