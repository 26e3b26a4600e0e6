/** Which workers are alive: those heard from within the timeout (each keeps a long-poll open). */
export class WorkerRegistry {
  private readonly lastSeen = new Map<string, number>();
  /** The process behind each name (a random id per worker start), to tell two workers of one name apart. */
  private readonly instances = new Map<string, string>();

  constructor(private readonly timeoutMs: number) {}

  seen(worker: string, now: number): void {
    this.lastSeen.set(worker, now);
  }

  /**
   * Two live processes under one name would count as one worker toward every quorum. The first one
   * keeps the name while it is live; another instance is refused until it has been silent for the timeout.
   * Returns false for such an impostor. Workers of older releases send no instance and are not checked.
   */
  claim(worker: string, instance: string | undefined, now: number): boolean {
    if (instance === undefined) return true;
    const holder = this.instances.get(worker);
    const at = this.lastSeen.get(worker);
    if (holder !== undefined && holder !== instance && at !== undefined && now - at <= this.timeoutMs) return false;
    this.instances.set(worker, instance);
    return true;
  }

  /** A worker that handed its checks back is shutting down: it no longer counts. */
  forget(worker: string): void {
    this.lastSeen.delete(worker);
    this.instances.delete(worker);
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
