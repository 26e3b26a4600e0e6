/**
 * A worker node's health as the viewserver hears it in every probe answer (SPEC §12), pure and
 * clock-free: the store answered its last read and its last write (each with a deadline), a read
 * succeeded recently (a ping that hangs counts as failed), and, while in office, the controller
 * hears the workers the viewserver sees. An unhealthy node is not elected and loses office.
 */

export type StoreUse = 'read' | 'write';

/** Store reads that must fail in a row before the node says it is unhealthy. */
export const READ_FAILURES_UNHEALTHY = 2;

export interface HealthReport {
  healthy: boolean;
  /** Why not, in words an operator can act on; empty when healthy. */
  problems: string[];
}

interface Outcome {
  ok: boolean;
  at: number;
  error: string;
}

export class NodeHealth {
  private readonly last: Record<StoreUse, Outcome | null> = { read: null, write: null };
  private lastReadOk: number;
  /** Reads failed in a row: one slow ping on a loaded host is not an outage, two are. */
  private readFailures = 0;
  private partition: string | null = null;

  /** `staleMs`: a node whose store has not answered a read for this long is unhealthy. */
  constructor(private readonly staleMs: number, now: number) {
    this.lastReadOk = now;
  }

  succeeded(use: StoreUse, now: number): void {
    this.last[use] = { ok: true, at: now, error: '' };
    if (use === 'read') {
      this.lastReadOk = now;
      this.readFailures = 0;
    }
  }

  failed(use: StoreUse, error: string, now: number): void {
    this.last[use] = { ok: false, at: now, error };
    if (use === 'read') this.readFailures++;
  }

  /** Set while in office and missing workers the viewserver sees (null: not partitioned). */
  setPartition(why: string | null): void {
    this.partition = why;
  }

  /** Forgets write outcomes: a write failure of an old term says nothing about the next. */
  clearWrites(): void {
    this.last.write = null;
  }

  report(now: number): HealthReport {
    const problems: string[] = [];
    const { read, write } = this.last;
    if (read && !read.ok && this.readFailures >= READ_FAILURES_UNHEALTHY) problems.push(`store read failing: ${read.error}`);
    else if (now - this.lastReadOk > this.staleMs) problems.push(`store has not answered a read for ${Math.round((now - this.lastReadOk) / 1000)} s`);
    if (write && !write.ok) problems.push(`store write failing: ${write.error}`);
    if (this.partition) problems.push(this.partition);
    return { healthy: problems.length === 0, problems };
  }
}
