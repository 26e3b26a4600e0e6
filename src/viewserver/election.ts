/**
 * Who is the controller (SPEC §5, §12), pure: fed one probe round at a time, it keeps each
 * candidate's run of successful probes and its health, and names exactly one live, healthy
 * candidate active. An active one that stays unhealthy for `failuresToDown` answers loses office
 * to a healthy candidate; with none, it keeps office (nobody would do better). Every change raises the view.
 */

export interface ProbeOutcome {
  addr: string;
  ok: boolean;
  /** What a live controller says of itself. */
  inOffice?: boolean;
  epoch?: number;
  /** What the node says of its own health (store reachable, writes succeeding, not partitioned); absent = healthy (older node). */
  healthy?: boolean;
  problems?: string[];
  /** The name of the node's worker component, so the viewserver can tell the controller which workers are live. */
  worker?: string;
  /** Why a failed probe failed, in words: refused our password, a clock skew, not answering. */
  error?: string;
}

export interface Candidate {
  addr: string;
  /** Probes in a row that succeeded. */
  successes: number;
  /** Probes in a row that failed. */
  failures: number;
  live: boolean;
  inOffice: boolean;
  epoch: number;
  healthy: boolean;
  /** Answers in a row that said unhealthy. */
  unhealthyRuns: number;
  problems: string[];
  worker: string | null;
  /** Why the last probe failed (null after a success): what an operator reads as "why is it down". */
  lastError: string | null;
}

export type ElectionEvent =
  | { kind: 'elected'; addr: string; view: number }
  | { kind: 'failover'; from: string; to: string; view: number; reason: 'down' | 'unhealthy'; problems: string[] }
  | { kind: 'no_replacement'; from: string | null; view: number }
  | { kind: 'down'; addr: string; reason: string }
  | { kind: 'up'; addr: string }
  | { kind: 'unhealthy'; addr: string; active: boolean; problems: string[] }
  | { kind: 'healthy'; addr: string };

export class Election {
  readonly candidates: Candidate[];
  active: string | null = null;
  view = 0;
  private missing = false;

  constructor(addrs: string[], private readonly failuresToDown: number, now = Date.now()) {
    this.candidates = addrs.map((addr) => ({
      addr, successes: 0, failures: 0, live: false, inOffice: false, epoch: 0, healthy: true, unhealthyRuns: 0, problems: [], worker: null, lastError: null,
    }));
    this.view = now; // views are times, so they keep growing across viewserver restarts
  }

  /** Applies one round of probes (every candidate once); returns what an operator should hear of. */
  round(outcomes: ProbeOutcome[], now = Date.now()): ElectionEvent[] {
    const events: ElectionEvent[] = [];
    for (const o of outcomes) {
      const c = this.candidates.find((x) => x.addr === o.addr);
      if (!c) continue;
      if (o.ok) {
        if (!c.live) events.push({ kind: 'up', addr: c.addr });
        c.successes++;
        c.failures = 0;
        c.live = true;
        c.lastError = null;
        c.inOffice = o.inOffice ?? false;
        c.epoch = o.epoch ?? 0;
        c.worker = o.worker ?? c.worker;
        const healthy = o.healthy ?? true;
        if (healthy !== c.healthy) events.push(healthy ? { kind: 'healthy', addr: c.addr } : { kind: 'unhealthy', addr: c.addr, active: c.addr === this.active, problems: o.problems ?? [] });
        c.healthy = healthy;
        c.unhealthyRuns = healthy ? 0 : c.unhealthyRuns + 1;
        c.problems = healthy ? [] : (o.problems ?? []);
      } else {
        c.successes = 0;
        c.failures++;
        c.lastError = o.error ?? 'not answering';
        if (c.live && c.failures >= this.failuresToDown) {
          c.live = false;
          c.inOffice = false;
          events.push({ kind: 'down', addr: c.addr, reason: c.lastError });
        }
      }
    }
    const current = this.candidates.find((c) => c.addr === this.active);
    const sick = current?.live === true && current.unhealthyRuns >= this.failuresToDown;
    if (current?.live && !sick) return events;
    const next = this.best();
    // A sick controller keeps office while nobody healthy can take it: it may recover, and no one would do better.
    if (sick && !next) return events;
    const from = this.active;
    if (next) {
      this.active = next.addr;
      this.view = Math.max(this.view + 1, now);
      this.missing = false;
      events.push(from
        ? { kind: 'failover', from, to: next.addr, view: this.view, reason: sick ? 'unhealthy' : 'down', problems: sick ? current!.problems : [] }
        : { kind: 'elected', addr: next.addr, view: this.view });
    } else if (from || !this.missing) {
      if (from) this.view = Math.max(this.view + 1, now);
      this.active = null;
      if (from) {
        this.missing = true;
        events.push({ kind: 'no_replacement', from, view: this.view });
      }
    }
    return events;
  }

  /** Worker names of the nodes that answer probes: the controller's quorum never counts them gone. */
  liveWorkers(): string[] {
    return this.candidates.filter((c) => c.live && c.worker !== null).map((c) => c.worker!);
  }

  /**
   * The live, healthy candidate to name: one already in office (a restarted viewserver keeps the
   * cluster's controller), else the longest run of successes, else the first listed.
   */
  private best(): Candidate | undefined {
    const live = this.candidates.filter((c) => c.live && c.healthy && c.addr !== this.active);
    const inOffice = live.filter((c) => c.inOffice).sort((a, b) => b.epoch - a.epoch)[0];
    if (inOffice) return inOffice;
    return live.reduce<Candidate | undefined>((best, c) => (!best || c.successes > best.successes ? c : best), undefined);
  }
}
