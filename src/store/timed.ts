/**
 * A deadline on every store call (SPEC §12): a query that hangs on a pooled connection (a
 * blackholed server, a held lock) fails after `timeoutMs` with a StoreTimeoutError instead of
 * stalling its caller without a word. A transaction past its deadline refuses its next statement,
 * so it rolls back rather than committing behind the caller's back; one that timed out during
 * its COMMIT has an unknown outcome and says so (code COMMIT_UNKNOWN, as the MySQL driver does).
 */
import type { Driver, Executor, Param, Row } from './driver';

export class StoreTimeoutError extends Error {
  readonly code: string;

  constructor(what: string, timeoutMs: number, committing: boolean) {
    super(`${what} took longer than ${timeoutMs} ms${committing ? ' (during COMMIT: outcome unknown)' : ''}`);
    this.name = 'StoreTimeoutError';
    this.code = committing ? 'COMMIT_UNKNOWN' : 'STORE_TIMEOUT';
  }
}

function deadline<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

const what = (sql: string) => `store query "${sql.replace(/\s+/g, ' ').trim().slice(0, 60)}"`;

export class TimedDriver implements Driver {
  readonly dialect: Driver['dialect'];

  constructor(private readonly inner: Driver, readonly timeoutMs: number) {
    this.dialect = inner.dialect;
  }

  all(sql: string, params?: Param[]): Promise<Row[]> {
    return deadline(this.inner.all(sql, params), this.timeoutMs, () => new StoreTimeoutError(what(sql), this.timeoutMs, false));
  }

  run(sql: string, params?: Param[]): Promise<{ affectedRows: number; insertId: number }> {
    return deadline(this.inner.run(sql, params), this.timeoutMs, () => new StoreTimeoutError(what(sql), this.timeoutMs, false));
  }

  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    let expired = false;
    let committing = false;
    const guard = (tx: Executor): Executor => ({
      all: (sql, params) => (expired ? Promise.reject(new StoreTimeoutError(what(sql), this.timeoutMs, false)) : tx.all(sql, params)),
      run: (sql, params) => (expired ? Promise.reject(new StoreTimeoutError(what(sql), this.timeoutMs, false)) : tx.run(sql, params)),
    });
    const work = this.inner.transaction(async (tx) => {
      const result = await fn(guard(tx));
      // Past the deadline the caller has been told it failed: roll back rather than commit.
      if (expired) throw new StoreTimeoutError('store transaction', this.timeoutMs, false);
      committing = true;
      return result;
    });
    return deadline(work, this.timeoutMs, () => {
      expired = true;
      return new StoreTimeoutError('store transaction', this.timeoutMs, committing);
    });
  }

  hasTable(table: string): Promise<boolean> {
    return this.inner.hasTable(table);
  }

  hasColumn(table: string, column: string): Promise<boolean> {
    return this.inner.hasColumn(table, column);
  }

  hasIndex(table: string, index: string): Promise<boolean> {
    return this.inner.hasIndex(table, index);
  }

  /** Operator statements (migrations, `gobearmon sql`) may take long: no deadline. */
  raw(sql: string): ReturnType<Driver['raw']> {
    return this.inner.raw(sql);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
