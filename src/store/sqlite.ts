/**
 * Embedded driver on better-sqlite3 for single-host use. WAL lets several processes on one host
 * share the file. One connection per process; statements and transactions are queued so an open
 * transaction never interleaves with another caller's statement.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Driver, Executor, Param, Row } from './driver';

/** MySQL's row locks have no SQLite syntax: BEGIN IMMEDIATE already holds the write lock. */
const translate = (sql: string) => sql.replace(/\s+FOR UPDATE\b/gi, '');

export class SqliteDriver implements Driver {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = OFF');
  }

  /** Runs `op` after everything queued before it. */
  private serial<T>(op: () => Promise<T> | T): Promise<T> {
    const result = this.queue.then(op);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private readonly direct: Executor = {
    all: async (sql, params = []) => this.db.prepare(translate(sql)).all(...params) as Row[],
    run: async (sql, params = []) => {
      const info = this.db.prepare(translate(sql)).run(...params);
      return { affectedRows: info.changes, insertId: Number(info.lastInsertRowid) };
    },
  };

  all(sql: string, params: Param[] = []): Promise<Row[]> {
    return this.serial(() => this.direct.all(sql, params));
  }

  run(sql: string, params: Param[] = []): Promise<{ affectedRows: number; insertId: number }> {
    return this.serial(() => this.direct.run(sql, params));
  }

  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async hasTable(table: string): Promise<boolean> {
    return (await this.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table])).length > 0;
  }

  async hasColumn(table: string, column: string): Promise<boolean> {
    return (await this.all('SELECT 1 FROM pragma_table_info(?) WHERE name = ?', [table, column])).length > 0;
  }

  async hasIndex(table: string, index: string): Promise<boolean> {
    return (await this.all("SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?", [table, index])).length > 0;
  }

  raw(sql: string): Promise<{ columns: string[]; rows: Row[] } | { affectedRows: number; insertId: number }> {
    return this.serial(() => {
      const stmt = this.db.prepare(sql);
      if (stmt.reader) return { columns: stmt.columns().map((c) => c.name), rows: stmt.all() as Row[] };
      const info = stmt.run();
      return { affectedRows: info.changes, insertId: Number(info.lastInsertRowid) };
    });
  }

  async close(): Promise<void> {
    await this.serial(() => this.db.close());
  }
}
