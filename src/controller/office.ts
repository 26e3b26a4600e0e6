/**
 * Office as an explicit state machine (SPEC §12, issue 11 item 7), pure and clock-free:
 *   idle → taking → in_office → stepping_down → idle   (and closed from anywhere, for good).
 * The controller feeds it what happened (a probe, the store's answer, a fence, a shutdown) and does
 * what it answers. Every way out of office goes through `stepping_down`, whose one action `stop`
 * stops the dispatcher, the pump and the timers. It also keeps the newest view seen, so a probe of
 * an older view (queued while this process was frozen) or one sent too long ago is never obeyed.
 */

export type OfficeState =
  | { kind: 'idle' }
  | { kind: 'taking'; view: number }
  | { kind: 'in_office'; epoch: number; view: number; ready: boolean }
  | { kind: 'stepping_down'; epoch: number; reason: string }
  | { kind: 'closed' };

export type OfficeEvent =
  /** A signed probe from the viewserver; `ageMs` = receive time − its signed send time. */
  | { type: 'probe'; view: number; active: boolean; elected: boolean; ageMs: number }
  /** store.takeOffice answered with our epoch. */
  | { type: 'taken'; epoch: number; view: number }
  /** store.takeOffice failed; `leaseView` when the lease records a newer view. */
  | { type: 'take_failed'; reason: string; leaseView?: number }
  /** The first reload of a term finished: time to start the dispatcher. */
  | { type: 'loaded'; epoch: number }
  /** The store refused our epoch, or a reload found the lease at another; `leaseView` if known. */
  | { type: 'deposed'; epoch: number; reason: string; leaseView?: number }
  /** The stop action ran. */
  | { type: 'stopped' }
  | { type: 'close' };

export type OfficeAction =
  | { do: 'take'; view: number }
  | { do: 'load'; epoch: number }
  | { do: 'start'; epoch: number }
  | { do: 'stop'; epoch: number; reason: string }
  | { do: 'ignore'; reason: string };

export interface Office {
  state: OfficeState;
  /** The newest view this node has heard of (probes, the lease); it never goes back. */
  newestView: number;
}

export const initialOffice = (): Office => ({ state: { kind: 'idle' }, newestView: 0 });

/** Why a probe must not be obeyed, or null. */
export function probeRefusal(office: Office, probe: { view: number; ageMs: number }, maxAgeMs: number): string | null {
  if (probe.view < office.newestView) return `probe of view ${probe.view} is older than view ${office.newestView}`;
  if (probe.ageMs > maxAgeMs) return `probe sent ${Math.round(probe.ageMs)} ms ago (more than ${maxAgeMs} ms)`;
  return null;
}

/** The next office and what the controller must do now (in order). */
export function step(office: Office, event: OfficeEvent, maxProbeAgeMs: number): { office: Office; actions: OfficeAction[] } {
  const { state } = office;
  const seen = (view: number | undefined) => Math.max(office.newestView, view ?? 0);
  const to = (next: OfficeState, newestView = office.newestView, actions: OfficeAction[] = []) => ({ office: { state: next, newestView }, actions });
  const leave = (epoch: number, reason: string, newestView = office.newestView) =>
    to({ kind: 'stepping_down', epoch, reason }, newestView, [{ do: 'stop', epoch, reason }]);

  switch (event.type) {
    case 'close':
      if (state.kind === 'in_office') return { office: { state: { kind: 'closed' }, newestView: office.newestView }, actions: [{ do: 'stop', epoch: state.epoch, reason: 'shutting down' }] };
      return to({ kind: 'closed' });
    case 'probe': {
      if (state.kind === 'closed') return to(state, office.newestView, [{ do: 'ignore', reason: 'closed' }]);
      const why = probeRefusal(office, event, maxProbeAgeMs);
      if (why) return to(state, office.newestView, [{ do: 'ignore', reason: why }]);
      const newest = seen(event.view);
      if (!event.active) {
        if (event.elected && state.kind === 'in_office') return leave(state.epoch, `the viewserver names another controller in view ${event.view}`, newest);
        // Named away while taking: the answer, when it comes, is not used (see 'taken').
        if (event.elected && state.kind === 'taking') return to({ kind: 'idle' }, newest);
        return to(state, newest);
      }
      if (state.kind === 'idle') return to({ kind: 'taking', view: event.view }, newest, [{ do: 'take', view: event.view }]);
      if (state.kind === 'in_office') return to({ ...state, view: Math.max(state.view, event.view) }, newest);
      return to(state, newest); // taking or stepping down: one thing at a time
    }
    case 'taken': {
      const newest = seen(event.view);
      if (state.kind === 'taking') return to({ kind: 'in_office', epoch: event.epoch, view: event.view, ready: false }, newest, [{ do: 'load', epoch: event.epoch }]);
      // Closed or named away meanwhile: the epoch is never used, and its lease is never renewed.
      return to(state, newest, [{ do: 'ignore', reason: `took epoch ${event.epoch} after leaving the taking state` }]);
    }
    case 'take_failed':
      if (state.kind === 'taking') return to({ kind: 'idle' }, seen(event.leaseView));
      return to(state, seen(event.leaseView));
    case 'loaded':
      if (state.kind === 'in_office' && state.epoch === event.epoch && !state.ready) return to({ ...state, ready: true }, office.newestView, [{ do: 'start', epoch: event.epoch }]);
      return to(state, office.newestView, [{ do: 'ignore', reason: `epoch ${event.epoch} is not the current term` }]);
    case 'deposed':
      if (state.kind === 'in_office' && state.epoch === event.epoch) return leave(state.epoch, event.reason, seen(event.leaseView));
      return to(state, seen(event.leaseView));
    case 'stopped':
      if (state.kind === 'stepping_down') return to({ kind: 'idle' });
      return to(state);
  }
}

/**
 * How late a probe arrives, free of clock skew: (receive − signed send time) minus the smallest such
 * offset among the last `window` probes, i.e. beyond the usual skew and delay. A probe queued while
 * this process was frozen arrives with the freeze added and is refused, whatever the clocks' skew.
 */
export class ProbeLateness {
  private readonly offsets: number[] = [];

  constructor(private readonly window = 20) {}

  /** Records this probe's offset and returns its lateness (ms, ≥ 0). */
  lateness(receivedAt: number, sentAt: number): number {
    const offset = receivedAt - sentAt;
    this.offsets.push(offset);
    if (this.offsets.length > this.window) this.offsets.shift();
    return offset - Math.min(...this.offsets);
  }
}

/** The office lease by this process's monotonic clock: valid until the last renewal's start + lease − margin. */
export class LeaseClock {
  private until = -Infinity;

  constructor(private readonly leaseMs: number, private readonly marginMs = leaseMs / 4) {}

  /** A renewal (or the take) that was sent at `startedAt` (monotonic ms) succeeded. */
  renewed(startedAt: number): void {
    this.until = Math.max(this.until, startedAt + this.leaseMs - this.marginMs);
  }

  valid(now: number): boolean {
    return now < this.until;
  }

  /** Left office: nothing is valid until the next take. */
  reset(): void {
    this.until = -Infinity;
  }
}
