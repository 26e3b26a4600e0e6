/** `gobearmon migrate --config FILE`: brings the database up to the schema this version needs. */
import { loadConfig } from '../config/load';
import { openStore } from '../store/open';
import { parseArgs, UsageError, type Command } from './command';

/** What the operator should do about a database that cannot be opened or migrated. */
export function explainStoreError(err: unknown): string {
  const e = err as { code?: string; message?: string; sqlMessage?: string };
  const text = e?.sqlMessage ?? e?.message ?? String(err);
  if (e?.code === 'ER_BAD_DB_ERROR' || /Unknown database/i.test(text)) {
    const name = /Unknown database '([^']*)'/i.exec(text)?.[1] ?? 'it';
    return `${text}: the database does not exist yet; create it first, e.g. mysql -u root -e 'CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4', then run migrate again`;
  }
  if (/directory does not exist/i.test(text)) return `${text}: create the directory of the sqlite: file first (e.g. install -d -o gobearmon /var/lib/gobearmon)`;
  if (e?.code === 'ER_ACCESS_DENIED_ERROR' || e?.code === 'ER_DBACCESS_DENIED_ERROR') return `${text}: check the user and password in the DSN, and that this user may use the database (GRANT ALL ON db.* TO user)`;
  return text;
}

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'create or upgrade the database schema (idempotent; prints what it applied)',
  usage: `usage: gobearmon migrate --config FILE

Applies the schema migrations the config's database lacks, in order, and prints each one.
A database made by the original gobearmon install.sql is upgraded in place (additive only).
Running it again on an up-to-date database changes nothing.`,
  async run(args) {
    const { positionals, flags } = parseArgs(args, { values: ['config'] });
    if (!flags.config || positionals.length) throw new UsageError('migrate takes exactly --config FILE');
    const config = loadConfig(flags.config);
    if (config.role !== 'worker') throw new UsageError(`${flags.config} is a viewserver config; migrate needs a worker config with [controller] database`);
    let store;
    try {
      store = await openStore(config.controller.database);
    } catch (err) {
      console.error(`gobearmon migrate: ${explainStoreError(err)}`);
      return 1;
    }
    try {
      const applied = await store.migrate();
      if (applied.length === 0) console.log('schema is up to date');
      for (const line of applied) console.log(`applied migration ${line}`);
      return 0;
    } catch (err) {
      // One line, no stack: the operator has something to do, not a bug to report.
      console.error(`gobearmon migrate: ${explainStoreError(err)}`);
      return 1;
    } finally {
      await store.close();
    }
  },
};
