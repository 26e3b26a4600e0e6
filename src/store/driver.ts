/** The small surface the store needs from a SQL engine; one implementation per engine. */

export type Row = Record<string, unknown>;
export type Param = string | number | null;

export interface Executor {
  /** SELECT: the rows. */
  all(sql: string, params?: Param[]): Promise<Row[]>;
  /** INSERT/UPDATE/DELETE/DDL: affected rows and the new auto-increment id. */
  run(sql: string, params?: Param[]): Promise<{ affectedRows: number; insertId: number }>;
}

export interface Driver extends Executor {
  readonly dialect: 'mysql' | 'sqlite';
  /** Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  hasTable(table: string): Promise<boolean>;
  hasColumn(table: string, column: string): Promise<boolean>;
  hasIndex(table: string, index: string): Promise<boolean>;
  /** A statement as the user typed it (for `gobearmon sql`): rows and columns, or the change count. */
  raw(sql: string): Promise<{ columns: string[]; rows: Row[] } | { affectedRows: number; insertId: number }>;
  close(): Promise<void>;
}
