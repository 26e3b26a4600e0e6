/**
 * A fresh MySQL database per test (dropped afterwards) on the real MariaDB at
 * GOBEARMON_TEST_MYSQL (default root@127.0.0.1:3306).
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

export const MYSQL_URL = process.env.GOBEARMON_TEST_MYSQL ?? 'mysql://root@127.0.0.1:3306';

export interface TestDatabase {
  name: string;
  /** The original Go DSN form: user:pass@tcp(host:port)/name */
  goDsn: string;
  /** mysql://user:pass@host:port/name */
  urlDsn: string;
  /** Runs one statement on the database (no Store involved). */
  exec(sql: string, params?: (string | number | null)[]): Promise<unknown>;
  drop(): Promise<void>;
}

/** `charset` makes the database's default character set (e.g. latin1, the default of MySQL 5.7). */
export async function createTestDatabase(prefix = 'gbm_test', charset?: string): Promise<TestDatabase> {
  const server = new URL(MYSQL_URL);
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const conn = await mysql.createConnection({
    host: server.hostname, port: Number(server.port || 3306),
    user: decodeURIComponent(server.username || 'root'), password: decodeURIComponent(server.password),
  });
  await conn.query(`CREATE DATABASE \`${name}\`${charset ? ` CHARACTER SET ${charset}` : ''}`);
  await conn.query(`USE \`${name}\``);
  const auth = server.password ? `${server.username}:${server.password}` : server.username || 'root';
  return {
    name,
    goDsn: `${auth}@tcp(${server.hostname}:${server.port || 3306})/${name}`,
    urlDsn: `mysql://${auth}@${server.hostname}:${server.port || 3306}/${name}`,
    exec: async (sql, params = []) => (await conn.query(sql, params))[0],
    drop: async () => {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}
