/**
 * Lets one occurrence of each kind through per interval and counts the rest: for admin mails that
 * a storm would otherwise multiply (log lines use LogThrottle). The caller passes the time.
 */
export class RateLimiter {
  private readonly kinds = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs: number, private readonly maxKinds = 1_000) {}

  /** How many were held back since the last one let through, or null when this one is held back. */
  hit(kind: string, now: number): number | null {
    const k = this.kinds.get(kind);
    if (k && now - k.at < this.intervalMs) {
      k.suppressed++;
      return null;
    }
    if (!k && this.kinds.size >= this.maxKinds) {
      // Too many kinds to remember each: forget the oldest (it may then be let through early).
      const oldest = this.kinds.keys().next().value;
      if (oldest !== undefined) this.kinds.delete(oldest);
    }
    this.kinds.delete(kind);
    this.kinds.set(kind, { at: now, suppressed: 0 });
    return k?.suppressed ?? 0;
  }
}
