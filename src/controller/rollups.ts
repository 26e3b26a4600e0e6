/**
 * Per-check per-minute history for the web (SPEC §11): the controller adds each result it applies
 * to an in-memory total for (check, minute) and writes the totals in batches every few seconds, so
 * a check run costs no write of its own.
 *
 * Failover: rows are keyed by (check, minute, epoch) and written as whole totals, never increments.
 * A controller only ever writes its own epoch's rows, so a retried flush rewrites the same numbers,
 * and a successor (a new epoch, an empty buffer) adds its own rows next to the predecessor's instead
 * of on top of them: a minute split by a failover is the sum of both, counted once each. What a
 * deposed controller applied after its last flush is not written (its writes are fenced); a clean
 * shutdown flushes first.
 */
import type { ResultStatus } from '../checks/types';
import type { RollupRow } from '../store/rollups';
import type { Logger } from '../util/log';

const MINUTE_MS = 60_000;

interface Entry extends RollupRow {
  dirty: boolean;
}

/** Totals per minute per check; pure bookkeeping, no I/O. */
export class RollupBuffer {
  private readonly minutes = new Map<number, Map<number, Entry>>();

  /** `maxMinutes` bounds memory while the store is unreachable: the oldest minute is dropped first. */
  constructor(private readonly maxMinutes = 60) {}

  add(checkId: number, at: number, ok: boolean, durationMs: number): void {
    const minute = Math.floor(at / MINUTE_MS);
    let checks = this.minutes.get(minute);
    if (!checks) {
      checks = new Map();
      this.minutes.set(minute, checks);
      this.dropOldest();
    }
    const ms = Math.max(0, Math.round(durationMs));
    const e = checks.get(checkId);
    if (!e) {
      checks.set(checkId, { checkId, minute, runs: 1, failures: ok ? 0 : 1, sumMs: ms, maxMs: ms, lastAt: at, lastMs: ms, lastOk: ok, dirty: true });
      return;
    }
    e.runs++;
    if (!ok) e.failures++;
    e.sumMs += ms;
    e.maxMs = Math.max(e.maxMs, ms);
    if (at >= e.lastAt) Object.assign(e, { lastAt: at, lastMs: ms, lastOk: ok });
    e.dirty = true;
  }

  /** Copies of the totals changed since they were last written. */
  dirty(): RollupRow[] {
    const rows: RollupRow[] = [];
    for (const checks of this.minutes.values()) {
      for (const e of checks.values()) {
        if (e.dirty) rows.push({ checkId: e.checkId, minute: e.minute, runs: e.runs, failures: e.failures, sumMs: e.sumMs, maxMs: e.maxMs, lastAt: e.lastAt, lastMs: e.lastMs, lastOk: e.lastOk });
      }
    }
    return rows;
  }

  /**
   * These totals are stored: clean unless a result came in meanwhile. Minutes before
   * `currentMinute - 1` with nothing left to write are forgotten (one closed minute is kept so a
   * result applied just across the boundary still finds its totals).
   */
  written(rows: RollupRow[], currentMinute: number): void {
    for (const r of rows) {
      const e = this.minutes.get(r.minute)?.get(r.checkId);
      if (e && e.runs === r.runs) e.dirty = false;
    }
    for (const [minute, checks] of this.minutes) {
      if (minute < currentMinute - 1 && ![...checks.values()].some((e) => e.dirty)) this.minutes.delete(minute);
    }
  }

  get size(): number {
    let n = 0;
    for (const checks of this.minutes.values()) n += checks.size;
    return n;
  }

  private dropOldest(): void {
    while (this.minutes.size > this.maxMinutes) this.minutes.delete(Math.min(...this.minutes.keys()));
  }
}

export interface RollupStore {
  writeRollups(epoch: number, rows: RollupRow[]): Promise<void>;
  pruneRollups(epoch: number, beforeMinute: number, limit: number): Promise<number>;
}

export interface RollupWriterOptions {
  retentionDays: number;
  flushMs?: number;
  pruneEveryMs?: number;
}

/** Rows per transaction: the fenced transaction holds the lease row, so flips never wait long. */
const ROWS_PER_TRANSACTION = 1_000;
const PRUNE_LIMIT = 10_000;

/** The timer and I/O around a RollupBuffer for one term of office. */
export class RollupWriter {
  private epoch = 0;
  private buffer = new RollupBuffer();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private lastPruneAt = 0;

  constructor(
    private readonly store: RollupStore,
    private readonly log: Logger,
    private readonly clock: () => number,
    private readonly opts: RollupWriterOptions,
  ) {}

  start(epoch: number): void {
    this.stop();
    this.epoch = epoch;
    this.lastPruneAt = 0;
    this.schedule();
  }

  /** Leaving office: unwritten totals are dropped (a deposed controller's writes would be refused anyway). */
  stop(): void {
    this.epoch = 0;
    this.buffer = new RollupBuffer();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  add(checkId: number, at: number, status: ResultStatus, durationMs: number): void {
    if (this.epoch) this.buffer.add(checkId, at, status === 'online', durationMs);
  }

  /** Writes what changed; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.writeDirty().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private schedule(): void {
    const epoch = this.epoch;
    this.timer = setTimeout(() => {
      void this.flush().finally(() => {
        if (this.epoch === epoch) this.schedule();
      });
    }, this.opts.flushMs ?? 5_000);
  }

  private async writeDirty(): Promise<void> {
    const { epoch, buffer } = this;
    if (!epoch) return;
    const rows = buffer.dirty();
    try {
      for (let i = 0; i < rows.length; i += ROWS_PER_TRANSACTION) {
        const part = rows.slice(i, i + ROWS_PER_TRANSACTION);
        await this.store.writeRollups(epoch, part);
        buffer.written(part, Math.floor(this.clock() / MINUTE_MS));
      }
      if (rows.length === 0) buffer.written([], Math.floor(this.clock() / MINUTE_MS));
      await this.pruneWhenDue(epoch);
    } catch (err) {
      // Fenced errors are the controller's business (its next flip or reload steps it down).
      this.log.warn({ event: 'rollup_write_error', epoch, rows: rows.length, err: (err as Error).message }, 'could not write result history; will retry');
    }
  }

  private async pruneWhenDue(epoch: number): Promise<void> {
    const now = this.clock();
    if (now - this.lastPruneAt < (this.opts.pruneEveryMs ?? 3_600_000)) return;
    this.lastPruneAt = now;
    const before = Math.floor(now / MINUTE_MS) - this.opts.retentionDays * 1440;
    let deleted = 0;
    for (let n = PRUNE_LIMIT; n === PRUNE_LIMIT && this.epoch === epoch; deleted += n) n = await this.store.pruneRollups(epoch, before, PRUNE_LIMIT);
    if (deleted) this.log.info({ event: 'rollups_pruned', deleted, retention_days: this.opts.retentionDays }, 'old result history deleted');
  }
}
