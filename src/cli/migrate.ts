/** `gobearmon migrate --config FILE`: brings the database up to the schema this version needs. */
import { loadConfig } from '../config/load';
import { openStore } from '../store/open';
import { parseArgs, UsageError, type Command } from './command';

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
    const store = await openStore(config.controller.database);
    try {
      const applied = await store.migrate();
      if (applied.length === 0) console.log('schema is up to date');
      for (const line of applied) console.log(`applied migration ${line}`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
