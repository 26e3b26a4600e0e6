/**
 * Remembers every accepted signature until its timestamp leaves the skew window, so a request
 * captured and sent again within that window is refused; after it, the timestamp refuses it.
 * Memory is bounded by the request rate times twice the window.
 */
import { MAX_SKEW_MS } from './auth';

export class ReplayGuard {
  /** MAC → when it can be forgotten. Insertion order is nearly expiry order, so pruning looks at the head. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs = MAX_SKEW_MS) {}

  get size(): number {
    return this.seen.size;
  }

  /** True the first time `mac` (signed at `ts`) is offered, false for every repeat. */
  accept(mac: string, ts: number, now: number): boolean {
    this.prune(now);
    if (this.seen.has(mac)) return false;
    this.seen.set(mac, ts + this.windowMs);
    return true;
  }

  private prune(now: number): void {
    for (const [mac, until] of this.seen) {
      // A later entry signed earlier than this one stays a little longer: harmless.
      if (until >= now) return;
      this.seen.delete(mac);
    }
  }
}
