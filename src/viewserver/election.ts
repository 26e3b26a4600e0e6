/**
 * Who is the controller (SPEC §5), pure: fed one probe round at a time, it keeps each candidate's
 * run of successful probes and names exactly one live candidate active. Every change raises the view.
 */

export interface ProbeOutcome {
  addr: string;
  ok: boolean;
  /** What a live controller says of itself. */
  inOffice?: boolean;
  epoch?: number;
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
}

export type ElectionEvent =
  | { kind: 'elected'; addr: string; view: number }
  | { kind: 'failover'; from: string; to: string; view: number }
  | { kind: 'no_replacement'; from: string | null; view: number }
  | { kind: 'down'; addr: string }
  | { kind: 'up'; addr: string };

export class Election {
  readonly candidates: Candidate[];
  active: string | null = null;
  view = 0;
  private missing = false;

  constructor(addrs: string[], private readonly failuresToDown: number, now = Date.now()) {
    this.candidates = addrs.map((addr) => ({ addr, successes: 0, failures: 0, live: false, inOffice: false, epoch: 0 }));
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
        c.inOffice = o.inOffice ?? false;
        c.epoch = o.epoch ?? 0;
      } else {
        c.successes = 0;
        c.failures++;
        if (c.live && c.failures >= this.failuresToDown) {
          c.live = false;
          c.inOffice = false;
          events.push({ kind: 'down', addr: c.addr });
        }
      }
    }
    const current = this.candidates.find((c) => c.addr === this.active);
    if (current?.live) return events;
    const next = this.best();
    const from = this.active;
    if (next) {
      this.active = next.addr;
      this.view = Math.max(this.view + 1, now);
      this.missing = false;
      events.push(from ? { kind: 'failover', from, to: next.addr, view: this.view } : { kind: 'elected', addr: next.addr, view: this.view });
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

  /**
   * The live candidate to name: one already in office (a restarted viewserver keeps the cluster's
   * controller), else the longest run of successes, else the first listed.
   */
  private best(): Candidate | undefined {
    const live = this.candidates.filter((c) => c.live);
    const inOffice = live.filter((c) => c.inOffice).sort((a, b) => b.epoch - a.epoch)[0];
    if (inOffice) return inOffice;
    return live.reduce<Candidate | undefined>((best, c) => (!best || c.successes > best.successes ? c : best), undefined);
  }
}
