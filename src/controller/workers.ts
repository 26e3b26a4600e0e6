/** Which workers are alive: those heard from within the timeout (each keeps a long-poll open). */
export class WorkerRegistry {
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly timeoutMs: number) {}

  seen(worker: string, now: number): void {
    this.lastSeen.set(worker, now);
  }

  /** A worker that handed its checks back is shutting down: it no longer counts. */
  forget(worker: string): void {
    this.lastSeen.delete(worker);
  }

  live(now: number): Set<string> {
    const alive = new Set<string>();
    for (const [name, at] of this.lastSeen) if (now - at <= this.timeoutMs) alive.add(name);
    return alive;
  }

  list(now: number): { name: string; lastSeenMs: number; live: boolean }[] {
    return [...this.lastSeen].map(([name, at]) => ({ name, lastSeenMs: now - at, live: now - at <= this.timeoutMs }));
  }
}
