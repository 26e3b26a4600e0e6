/**
 * What the controller has done since it took office, served on `GET /metrics` so that operators and
 * the benchmark can see throughput and lateness without reading logs. Memory stays bounded: lateness
 * goes into fixed buckets, never a growing list of samples.
 */

/**
 * Upper bounds (ms) of the lateness buckets: 1 ms steps up to 10 ms, then about 10% wider each, up
 * to an hour. A percentile read from them is off by at most one bucket (≤ 10%).
 */
export const LATENESS_BOUNDS_MS: readonly number[] = (() => {
  const bounds = [1];
  while (bounds[bounds.length - 1] < 3_600_000) {
    const last = bounds[bounds.length - 1];
    bounds.push(Math.max(last + 1, Math.round(last * 1.1)));
  }
  return bounds;
})();

/**
 * The JSON of `GET /metrics` (counters since `since`, when this controller took office; zero and
 * `inOffice: false` on an idle controller):
 * ```
 * { "at": 1700000000000, "inOffice": true, "epoch": 7, "since": 1699999990000,
 *   "checks": 2000,                  // checks in the table
 *   "workRequests": 81234,           // /work requests answered (long-polls included)
 *   "assigned": 120450,              // checks handed out
 *   "results": 120300,               // results accepted: checks completed
 *   "ignored": 12,                   // results refused (lock not held or expired, check gone)
 *   "flips": 3,
 *   "firstAssignmentAt": 1699999990420,   // null until the first check is handed out
 *   "lateness": {                    // started − due, per accepted result, in ms
 *     "boundsMs": [1, 2, 3, …],      // bucket i counts samples ≤ boundsMs[i] (and > boundsMs[i-1])
 *     "counts": [0, 5, 17, …],       // one longer than boundsMs: the last counts samples above them all
 *     "count": 120300, "sumMs": 401230, "maxMs": 212 },
 *   "memory": { "rssMb": 182.4, "heapUsedMb": 61.2 } }   // this whole process
 * ```
 * Counters only grow within an office, so two snapshots of one epoch subtract into a window.
 */
export interface MetricsSnapshot {
  at: number;
  inOffice: boolean;
  epoch: number;
  since: number;
  checks: number;
  workRequests: number;
  assigned: number;
  results: number;
  ignored: number;
  flips: number;
  firstAssignmentAt: number | null;
  lateness: { boundsMs: readonly number[]; counts: number[]; count: number; sumMs: number; maxMs: number };
  memory: { rssMb: number; heapUsedMb: number };
}

export class ControllerMetrics {
  since = 0;
  workRequests = 0;
  assigned = 0;
  results = 0;
  ignored = 0;
  flips = 0;
  firstAssignmentAt: number | null = null;
  private counts = new Array<number>(LATENESS_BOUNDS_MS.length + 1).fill(0);
  private latenessCount = 0;
  private latenessSum = 0;
  private latenessMax = 0;

  /** Starts from zero: a new office has a new table, and the old counts were another epoch's. */
  reset(now: number): void {
    this.since = now;
    this.workRequests = this.assigned = this.results = this.ignored = this.flips = 0;
    this.firstAssignmentAt = null;
    this.counts.fill(0);
    this.latenessCount = this.latenessSum = this.latenessMax = 0;
  }

  /** One accepted result that started `ms` after it was due (negative, from clock skew, counts as 0). */
  lateness(ms: number): void {
    const v = Math.max(0, ms);
    this.counts[bucketOf(v)]++;
    this.latenessCount++;
    this.latenessSum += v;
    if (v > this.latenessMax) this.latenessMax = v;
  }

  snapshot(at: number, epoch: number, checks: number): MetricsSnapshot {
    return {
      at, inOffice: epoch > 0, epoch, since: this.since, checks,
      workRequests: this.workRequests, assigned: this.assigned, results: this.results, ignored: this.ignored,
      flips: this.flips, firstAssignmentAt: this.firstAssignmentAt,
      lateness: { boundsMs: LATENESS_BOUNDS_MS, counts: [...this.counts], count: this.latenessCount, sumMs: Math.round(this.latenessSum), maxMs: this.latenessMax },
      memory: memory(),
    };
  }
}

function memory(): MetricsSnapshot['memory'] {
  const { rss, heapUsed } = process.memoryUsage();
  const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
  return { rssMb: mb(rss), heapUsedMb: mb(heapUsed) };
}

/** Index of the first bound ≥ v (binary search), or the overflow bucket. */
function bucketOf(v: number): number {
  let lo = 0;
  let hi = LATENESS_BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (LATENESS_BOUNDS_MS[mid] >= v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The value at quantile `q` (0..1) of bucket counts: the upper bound of the bucket holding it. */
export function quantileOf(counts: readonly number[], q: number, bounds: readonly number[] = LATENESS_BOUNDS_MS): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return i < bounds.length ? bounds[i] : Infinity;
  }
  return Infinity;
}
