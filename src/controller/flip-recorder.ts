/**
 * Records flips in the order they were decided, one at a time, each under its own identity (key)
 * so a retry can never record it twice. While the store is unreachable the flips wait here (up to
 * a bound) and are recorded with their decision times when it returns, even if the check has
 * recovered since; a COMMIT whose outcome is unknown is retried with the same key, and the store
 * reads the flip back instead of writing it again.
 */
import { randomBytes } from 'node:crypto';
import type { Status } from '../checks/types';
import { FencedError, isStoreUnavailable, type CheckRow, type FlipRecord, type RecordedFlip } from '../store/store';
import type { Logger } from '../util/log';
import type { Flip } from './check-table';

/** Flips kept while the store is unreachable; a newer one beyond this is refused (the rule fires again later). */
export const MAX_PENDING_FLIPS = 10_000;
/** A flip recorded later than this after its decision says so in its message. */
export const LATE_FLIP_MS = 5_000;
/** A flip refused this many times in a row for a reason other than an unreachable store is given up. */
const MAX_STATEMENT_FAILURES = 5;
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

export interface PendingFlip {
  key: string;
  flip: Flip;
  /** The check as it was when the flip was decided. */
  row: CheckRow;
  status: Status;
  message: string;
  decidedAt: number;
}

export interface FlipRecorderHooks {
  /** The epoch to write under (0: not in office). */
  epoch(): number;
  recorded(p: PendingFlip, result: RecordedFlip, lateMs: number): void;
  /** Given up (refused by the store, not unreachable): the caller undoes it in its table. */
  failed(p: PendingFlip, err: Error): void;
  fenced(err: FencedError): void;
  /** The store answered again after being unreachable: how long, and how many flips waited. */
  storeBack(info: { since: number; until: number; flips: number }): void;
}

export class FlipRecorder {
  private queue: PendingFlip[] = [];
  private draining = false;
  private timer: NodeJS.Timeout | null = null;
  private wait = RETRY_FIRST_MS;
  private statementFailures = 0;
  /** When the store stopped answering, and how many flips were decided since; null while it answers. */
  private outage: { since: number; flips: number } | null = null;

  constructor(
    /** Store.recordFlip, possibly wrapped (deadline, health accounting). */
    private readonly record: (epoch: number, flip: FlipRecord) => Promise<RecordedFlip>,
    private readonly log: Logger,
    private readonly hooks: FlipRecorderHooks,
    private readonly clock: () => number,
    private readonly maxPending = MAX_PENDING_FLIPS,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  /** Queues a flip; false when the queue is full (the caller undoes it so it fires again later). */
  add(flip: Flip, now: number): boolean {
    if (this.queue.length >= this.maxPending) return false;
    const key = `${this.hooks.epoch()}-${flip.check.row.id}-${now}-${randomBytes(4).toString('hex')}`;
    this.queue.push({ key, flip, row: { ...flip.check.row }, status: flip.status, message: flip.message, decidedAt: now });
    if (this.outage) this.outage.flips++;
    this.drain();
    return true;
  }

  /** Forgets every waiting flip (leaving office: the successor decides afresh); returns how many. */
  clear(): number {
    const n = this.queue.length;
    this.queue = [];
    this.outage = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return n;
  }

  private drain(): void {
    if (this.draining || this.timer || this.queue.length === 0) return;
    this.draining = true;
    void this.drainAll().finally(() => {
      this.draining = false;
    });
  }

  private async drainAll(): Promise<void> {
    while (this.queue.length) {
      const epoch = this.hooks.epoch();
      if (!epoch) return;
      const p = this.queue[0];
      const now = this.clock();
      const lateMs = now - p.decidedAt;
      const message = lateMs > LATE_FLIP_MS ? `${p.message} (detected ${new Date(p.decidedAt).toISOString()}, recorded ${Math.round(lateMs / 1000)} s late: the database was unreachable)` : p.message;
      try {
        const result = await this.record(epoch, { check: p.row, status: p.status, message, now: p.decidedAt, key: p.key });
        if (this.queue[0] !== p) continue; // cleared meanwhile
        this.queue.shift();
        this.wait = RETRY_FIRST_MS;
        this.statementFailures = 0;
        this.hooks.recorded(p, result, lateMs);
        if (this.outage && this.queue.length === 0) {
          this.hooks.storeBack({ since: this.outage.since, until: this.clock(), flips: this.outage.flips });
          this.outage = null;
        }
      } catch (err) {
        if (this.queue[0] !== p) continue;
        if (err instanceof FencedError) {
          this.clear();
          this.hooks.fenced(err);
          return;
        }
        const unavailable = isStoreUnavailable(err);
        if (unavailable && !this.outage) this.outage = { since: now, flips: this.queue.length };
        if (!unavailable && ++this.statementFailures >= MAX_STATEMENT_FAILURES) {
          this.queue.shift();
          this.statementFailures = 0;
          this.hooks.failed(p, err as Error);
          continue;
        }
        this.log.error({ event: 'flip_record_error', check_id: p.row.id, flip_key: p.key, to: p.status, waiting: this.queue.length,
          unavailable, err: (err as Error).message, retry_in_ms: this.wait }, 'could not record a flip; it waits and is retried');
        this.timer = setTimeout(() => {
          this.timer = null;
          this.drain();
        }, this.wait);
        this.wait = Math.min(RETRY_MAX_MS, this.wait * 2);
        return;
      }
    }
  }
}
