/** Opens the Store a config's `database` lines name: MySQL replicas, or one SQLite file. */
import { parseDsn, redactDsn, type Dsn } from './dsn';
import { MysqlDriver, type MysqlOptions } from './mysql';
import type { Driver } from './driver';
import { Store } from './store';
import { TimedDriver } from './timed';

export interface StoreOptions extends MysqlOptions {
  /** A deadline on every query and transaction (ms); none when absent. */
  timeoutMs?: number;
}

export async function openStore(dsns: string[], options: StoreOptions = {}): Promise<Store> {
  if (dsns.length === 0) throw new Error('no database DSN given');
  const parsed: Dsn[] = dsns.map(parseDsn);
  const mysql = parsed.filter((d): d is Extract<Dsn, { engine: 'mysql' }> => d.engine === 'mysql');
  const timed = (driver: Driver) => new Store(options.timeoutMs ? new TimedDriver(driver, options.timeoutMs) : driver);
  if (mysql.length === parsed.length) return timed(new MysqlDriver(mysql, options));
  if (parsed.length === 1 && parsed[0].engine === 'sqlite') {
    const { SqliteDriver } = await import('./sqlite');
    return timed(new SqliteDriver(parsed[0].path));
  }
  throw new Error(`cannot mix engines or list several sqlite files: ${dsns.map(redactDsn).join(', ')}`);
}
