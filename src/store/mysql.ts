/**
 * MySQL/MariaDB driver on mysql2. Several DSNs are replicas of one cluster: a query that fails
 * for a connection reason moves to the next replica, with bounded backoff between rounds.
 * Parameters are always bound, never interpolated.
 */
import mysql from 'mysql2/promise';
import type { Dsn } from './dsn';
import type { Driver, Executor, Param, Row } from './driver';

/** Errors that say "this server is unreachable or busy", not "this statement is wrong". */
const RETRYABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
  'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_QUERY_INTERRUPTED', 'ER_UNKNOWN_COM_ERROR',
  // A read-only replica (--read-only) refuses writes: another replica of the cluster may take them.
  'ER_OPTION_PREVENTS_STATEMENT',
]);

export function isRetryable(err: unknown): boolean {
  const e = err as { code?: string; fatal?: boolean };
  return RETRYABLE.has(e?.code ?? '') || e?.fatal === true;
}

export interface MysqlOptions {
  /** Rounds over all replicas before giving up. */
  rounds?: number;
  /** Backoff before the second round; doubles each round. */
  backoffMs?: number;
  connectTimeoutMs?: number;
  connectionLimit?: number;
  /**
   * Bounds on every session (a controller's): how long a statement waits for a row lock, how long
   * a transaction may sit idle before the server ends it (a frozen or cut-off holder's locks go
   * with it), and how long one statement may run. Seconds; unset = the server's defaults.
   */
  session?: SessionLimits;
}

export interface SessionLimits {
  lockWaitS: number;
  idleTransactionS: number;
  statementS?: number;
}

/** SET statements for `limits`; each is tried alone because MySQL and MariaDB know different ones. */
export function sessionStatements(limits: SessionLimits): string[] {
  const s = [
    `SET SESSION innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(limits.lockWaitS))}`,
    `SET SESSION lock_wait_timeout = ${Math.max(1, Math.ceil(limits.lockWaitS))}`,
    // MariaDB ≥ 10.3; MySQL has no idle-transaction bound (wait_timeout is the nearest).
    `SET SESSION idle_transaction_timeout = ${Math.max(1, Math.ceil(limits.idleTransactionS))}`,
  ];
  if (limits.statementS) {
    s.push(`SET SESSION max_statement_time = ${limits.statementS}`); // MariaDB
    s.push(`SET SESSION max_execution_time = ${Math.round(limits.statementS * 1000)}`); // MySQL (SELECT only)
  }
  return s;
}

type MysqlDsn = Extract<Dsn, { engine: 'mysql' }>;

export class MysqlDriver implements Driver {
  readonly dialect = 'mysql' as const;
  private readonly pools: mysql.Pool[];
  private readonly labels: string[];
  private next = 0;
  private readonly rounds: number;
  private readonly backoffMs: number;

  constructor(dsns: MysqlDsn[], options: MysqlOptions = {}) {
    this.rounds = options.rounds ?? 3;
    this.backoffMs = options.backoffMs ?? 100;
    this.labels = dsns.map((d) => `${d.host}:${d.port}/${d.database}`);
    this.pools = dsns.map((d) =>
      mysql.createPool({
        host: d.host,
        port: d.port,
        user: d.user,
        password: d.password,
        database: d.database,
        connectTimeout: options.connectTimeoutMs ?? 2_000,
        connectionLimit: options.connectionLimit ?? 8,
        enableKeepAlive: true,
        dateStrings: true,
        supportBigNumbers: true,
        charset: d.params.charset ?? 'utf8mb4',
      }),
    );
    const limits = options.session;
    if (limits) {
      // Queued on the new connection before the statement it was opened for; an unknown variable is skipped.
      for (const pool of this.pools) {
        // The event hands over the callback connection (typed as the promise one by mysql2).
        pool.on('connection', (conn) => {
          const core = conn as unknown as { query(sql: string, cb: (err: unknown) => void): void };
          for (const sql of sessionStatements(limits)) core.query(sql, () => undefined);
        });
      }
    }
  }

  /** Runs `op` on one replica after another until one answers; other errors pass straight through. */
  private async failover<T>(op: (pool: mysql.Pool) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    for (let round = 0; round < this.rounds; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (round - 1)));
      for (let i = 0; i < this.pools.length; i++) {
        const index = (this.next + i) % this.pools.length;
        try {
          const result = await op(this.pools[index]);
          this.next = index; // stay on a replica that works
          return result;
        } catch (err) {
          if (!isRetryable(err)) throw err;
          failures.push(`${this.labels[index]}: ${(err as Error).message || (err as { code?: string }).code}`);
        }
      }
      this.next = (this.next + 1) % this.pools.length;
    }
    throw Object.assign(new Error(`database unavailable after ${this.rounds} rounds over ${this.pools.length} replica(s): ${failures.slice(-this.pools.length).join('; ')}`), { code: 'STORE_UNAVAILABLE' });
  }

  all(sql: string, params: Param[] = []): Promise<Row[]> {
    return this.failover(async (pool) => (await pool.execute(sql, params))[0] as Row[]);
  }

  run(sql: string, params: Param[] = []): Promise<{ affectedRows: number; insertId: number }> {
    return this.failover(async (pool) => {
      const [res] = (await pool.execute(sql, params)) as [mysql.ResultSetHeader, unknown];
      return { affectedRows: res.affectedRows, insertId: res.insertId };
    });
  }

  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return this.failover(async (pool) => {
      const conn = await pool.getConnection();
      try {
        await conn.beginTransaction();
        const tx: Executor = {
          all: async (sql, params = []) => (await conn.execute(sql, params))[0] as Row[],
          run: async (sql, params = []) => {
            const [res] = (await conn.execute(sql, params)) as [mysql.ResultSetHeader, unknown];
            return { affectedRows: res.affectedRows, insertId: res.insertId };
          },
        };
        const result = await fn(tx);
        try {
          await conn.commit();
        } catch (err) {
          // The COMMIT may have landed before the connection died: running it again could
          // record a flip twice, so this one is reported, never retried.
          throw Object.assign(new Error(`transaction outcome unknown, COMMIT failed: ${(err as Error).message}`), { code: 'COMMIT_UNKNOWN' });
        }
        return result;
      } catch (err) {
        await conn.rollback().catch(() => undefined);
        throw err;
      } finally {
        conn.release();
      }
    });
  }

  async hasTable(table: string): Promise<boolean> {
    const rows = await this.all('SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [table]);
    return rows.length > 0;
  }

  async hasColumn(table: string, column: string): Promise<boolean> {
    const rows = await this.all(
      'SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?',
      [table, column],
    );
    return rows.length > 0;
  }

  async hasIndex(table: string, index: string): Promise<boolean> {
    const rows = await this.all(
      'SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?',
      [table, index],
    );
    return rows.length > 0;
  }

  raw(sql: string): Promise<{ columns: string[]; rows: Row[] } | { affectedRows: number; insertId: number }> {
    return this.failover(async (pool) => {
      const [res, fields] = await pool.query(sql);
      if (Array.isArray(res)) return { columns: (fields ?? []).map((f) => f.name), rows: res as Row[] };
      const header = res as mysql.ResultSetHeader;
      return { affectedRows: header.affectedRows, insertId: header.insertId };
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.end().catch(() => undefined)));
  }
}
