/** Opens the Store a config's `database` lines name: MySQL replicas, or one SQLite file. */
import { parseDsn, redactDsn, type Dsn } from './dsn';
import { MysqlDriver, type MysqlOptions } from './mysql';
import { Store } from './store';

export async function openStore(dsns: string[], options: MysqlOptions = {}): Promise<Store> {
  if (dsns.length === 0) throw new Error('no database DSN given');
  const parsed: Dsn[] = dsns.map(parseDsn);
  const mysql = parsed.filter((d): d is Extract<Dsn, { engine: 'mysql' }> => d.engine === 'mysql');
  if (mysql.length === parsed.length) return new Store(new MysqlDriver(mysql, options));
  if (parsed.length === 1 && parsed[0].engine === 'sqlite') {
    const { SqliteDriver } = await import('./sqlite');
    return new Store(new SqliteDriver(parsed[0].path));
  }
  throw new Error(`cannot mix engines or list several sqlite files: ${dsns.map(redactDsn).join(', ')}`);
}
