/**
 * Overload: checks start later than their own interval, so the cluster cannot keep up (2,000
 * checks at 1 s on 4 threads leveled at 26 s of lateness). Pure and clock-free: results are
 * counted in 5 s buckets; a bucket is late when most of its results started more than their
 * check's interval after they were due; a minute of late buckets in a row is an overload, and the
 * first bucket that is not late ends it.
 */
export const OVERLOAD_BUCKET_MS = 5_000;
export const OVERLOAD_AFTER_MS = 60_000;

export interface OverloadState {
  overloaded: boolean;
  /** Start of the run of late buckets (null when the last bucket was not late). */
  lateSince: number | null;
  /** The last closed bucket: how many results, how many late beyond their interval, the worst lateness. */
  last: { results: number; late: number; maxLatenessMs: number };
}

export type OverloadChange = { kind: 'overloaded'; since: number; lateness: number } | { kind: 'recovered'; lastedMs: number };

export class OverloadMonitor {
  private bucketStart: number | null = null;
  private results = 0;
  private late = 0;
  private maxLatenessMs = 0;
  private state: OverloadState = { overloaded: false, lateSince: null, last: { results: 0, late: 0, maxLatenessMs: 0 } };

  get snapshot(): OverloadState {
    return { ...this.state, last: { ...this.state.last } };
  }

  /** One accepted result that started `latenessMs` after it was due, for a check of `intervalMs`. */
  note(latenessMs: number, intervalMs: number, now: number): OverloadChange | null {
    const change = this.tick(now);
    this.bucketStart ??= now;
    this.results++;
    if (latenessMs > intervalMs) this.late++;
    if (latenessMs > this.maxLatenessMs) this.maxLatenessMs = latenessMs;
    return change;
  }

  /** Closes the bucket if its time is up; call it now and then even without results. */
  tick(now: number): OverloadChange | null {
    if (this.bucketStart === null || now - this.bucketStart < OVERLOAD_BUCKET_MS) return null;
    const start = this.bucketStart;
    const bucket = { results: this.results, late: this.late, maxLatenessMs: this.maxLatenessMs };
    this.bucketStart = null;
    this.results = this.late = this.maxLatenessMs = 0;
    const s = this.state;
    s.last = bucket;
    // A stretch of buckets without results says nothing about lateness: it neither starts nor ends one.
    if (bucket.results === 0) return null;
    if (bucket.late * 2 > bucket.results) {
      s.lateSince ??= start;
      if (!s.overloaded && now - s.lateSince >= OVERLOAD_AFTER_MS) {
        s.overloaded = true;
        return { kind: 'overloaded', since: s.lateSince, lateness: bucket.maxLatenessMs };
      }
      return null;
    }
    const since = s.lateSince;
    s.lateSince = null;
    if (!s.overloaded) return null;
    s.overloaded = false;
    return { kind: 'recovered', lastedMs: now - (since ?? now) };
  }
}
