/** SQL of the per-minute rollups (see schema-web.ts): the controller's batched upsert and pruning. */
import type { Executor } from './driver';
import type { Dialect } from './schema';

export interface RollupRow {
  checkId: number;
  /** Epoch ms / 60000. */
  minute: number;
  runs: number;
  failures: number;
  sumMs: number;
  maxMs: number;
  lastAt: number;
  lastMs: number;
  lastOk: boolean;
}

/** Rows per INSERT statement: keeps a statement well under max_allowed_packet and SQLite's variable limit. */
const BATCH = 300;

const UPSERT_TAIL: Record<Dialect, string> = {
  // Whole totals, not increments: writing the same row twice leaves it the same.
  mysql: `ON DUPLICATE KEY UPDATE runs = VALUES(runs), failures = VALUES(failures), sum_ms = VALUES(sum_ms),
    max_ms = VALUES(max_ms), last_at = VALUES(last_at), last_ms = VALUES(last_ms), last_ok = VALUES(last_ok)`,
  sqlite: `ON CONFLICT (check_id, minute, epoch) DO UPDATE SET runs = excluded.runs, failures = excluded.failures,
    sum_ms = excluded.sum_ms, max_ms = excluded.max_ms, last_at = excluded.last_at, last_ms = excluded.last_ms, last_ok = excluded.last_ok`,
};

export async function upsertRollups(tx: Executor, dialect: Dialect, epoch: number, rows: RollupRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    const params = batch.flatMap((r) => [r.checkId, r.minute, epoch, r.runs, r.failures, r.sumMs, r.maxMs, r.lastAt, r.lastMs, r.lastOk ? 1 : 0]);
    await tx.run(
      `INSERT INTO check_rollups (check_id, minute, epoch, runs, failures, sum_ms, max_ms, last_at, last_ms, last_ok) VALUES
       ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} ${UPSERT_TAIL[dialect]}`,
      params,
    );
  }
}

/** Deletes rollups older than `beforeMinute`, at most `limit` rows (small transactions on a big table). */
export async function pruneRollups(tx: Executor, dialect: Dialect, beforeMinute: number, limit: number): Promise<number> {
  const n = Math.max(1, Math.floor(limit));
  const sql = dialect === 'mysql'
    ? `DELETE FROM check_rollups WHERE minute < ? LIMIT ${n}`
    : `DELETE FROM check_rollups WHERE rowid IN (SELECT rowid FROM check_rollups WHERE minute < ? LIMIT ${n})`;
  return (await tx.run(sql, [beforeMinute])).affectedRows;
}
