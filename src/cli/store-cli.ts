/** Opening the config's database for a management subcommand, with the failures told apart. */
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import { openStore } from '../store/open';
import type { Store } from '../store/store';

/** Exit 1 with a message: the database refused or could not be reached. */
export class StoreCliError extends Error {}

/** Runs `fn` with the store of `configFile`'s [controller] database; the store is always closed. */
export async function withConfigStore<T>(configFile: string, fn: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig(configFile);
  if (config.controller.database.length === 0) throw new StoreCliError(`${configFile} names no [controller] database (use a worker node's config)`);
  let store: Store;
  try {
    store = await openStore(config.controller.database);
  } catch (err) {
    throw new StoreCliError(`cannot open the database: ${(err as Error).message}`);
  }
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}
