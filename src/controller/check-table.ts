/**
 * The controller's checks, pure and clock-free: which are due, who may run them, their locks,
 * and what each accepted result does. Due checks sit in a heap keyed by the time they are due
 * (or, while locked, by the lock's expiry), so an assignment costs O(log n), not a scan.
 */
import type { ResultStatus, Status } from '../checks/types';
import type { CheckRow } from '../store/store';
import { KeyedHeap } from '../util/heap';
import { applyResult, type ConfirmationState } from './confirmation';

/** The stored status is taken over by a reload only if this controller did not flip it this recently. */
export const OWN_FLIP_GRACE_MS = 10 * 60_000;

export interface CheckState extends ConfirmationState {
  row: CheckRow;
  /** `due`: when the check became due, so the controller can tell how late it started. */
  lock: { worker: string; token: number; until: number; due: number } | null;
  /** When this table first saw the check: a check never run is due from then. */
  addedAt: number;
  lastTime: number;
  lastWorker: string | null;
  lastStatusChange: number;
  lastResult: { status: ResultStatus; message: string; durationMs: number; worker: string; at: number } | null;
}

export interface Flip {
  check: CheckState;
  previous: Status;
  status: Status;
  message: string;
}

/**
 * Lock tokens carry their term: token = term × TERM_SPAN + n. A result holding a lock of an earlier
 * term (a controller that since lost and retook office, or a predecessor) can never match a new lock.
 */
export const TERM_SPAN = 2 ** 32;

export type ReportOutcome = { accepted: false; reason: string } | { accepted: true; flip: Flip | null };

export class CheckTable {
  readonly checks = new Map<number, CheckState>();
  private readonly heap = new KeyedHeap<CheckState>();
  private nextToken: number;
  /** Per worker: locks it holds and the latest expiry among them, so a busy worker counts as live. */
  private readonly held = new Map<string, { count: number; until: number }>();

  /**
   * `lockMs`: how long a check stays locked to its worker, the same for all or per check (from its own deadline).
   * `term`: the office epoch this table serves (0 outside office), the high part of its lock tokens.
   */
  constructor(private readonly lockMs: number | ((row: CheckRow) => number), readonly term = 0) {
    this.nextToken = term * TERM_SPAN + 1;
  }

  get size(): number {
    return this.checks.size;
  }

  /** Merges a reload: new checks appear, gone ones go, changed ones take their new definition. */
  load(rows: CheckRow[], now: number): { added: number; removed: number; changed: number } {
    const seen = new Set<number>();
    let added = 0;
    let changed = 0;
    for (const row of rows) {
      seen.add(row.id);
      const c = this.checks.get(row.id);
      if (!c) {
        const state: CheckState = {
          row, status: row.status, turnSet: new Set(), turnCount: 0, delay: row.delay,
          lock: null, addedAt: now, lastTime: 0, lastWorker: null, lastStatusChange: 0, lastResult: null,
        };
        this.checks.set(row.id, state);
        this.reschedule(state);
        added++;
        continue;
      }
      const defChanged = c.row.type !== row.type || c.row.data !== row.data || c.row.interval !== row.interval || c.row.delay !== row.delay || c.row.name !== row.name;
      if (defChanged) changed++;
      c.row = row;
      c.delay = row.delay;
      if (c.status !== row.status && now - c.lastStatusChange >= OWN_FLIP_GRACE_MS) {
        c.status = row.status;
        c.turnSet.clear();
        c.turnCount = 0;
      }
      if (!c.lock) this.reschedule(c);
    }
    let removed = 0;
    for (const [id, c] of this.checks) {
      if (seen.has(id)) continue;
      this.dropHeld(c); // its lock dies with it; the object itself is left as it was
      this.checks.delete(id);
      this.heap.delete(c);
      removed++;
    }
    return { added, removed, changed };
  }

  /** When the earliest check becomes due or lock expires; undefined when there are no checks. */
  nextEventAt(): number | undefined {
    return this.heap.peekKey();
  }

  /**
   * Hands up to `slots` due checks to `worker`, never one it may not run: while a check's turn set
   * is open only workers outside it, otherwise anyone but the last worker unless it is the only
   * one alive. Looks at a bounded number of ineligible checks so a request stays cheap.
   */
  assign(worker: string, slots: number, now: number, live: ReadonlySet<string>): CheckState[] {
    const out: CheckState[] = [];
    const passed: CheckState[] = [];
    const othersAlive = [...live].some((w) => w !== worker);
    const scanLimit = slots * 4 + 64;
    while (out.length < slots && passed.length < scanLimit) {
      const key = this.heap.peekKey();
      if (key === undefined || key > now) break;
      const c = this.heap.pop()!;
      if (c.lock) {
        this.unlock(c); // expired: its worker died or lost the result
        const due = this.dueAt(c);
        if (due > now) {
          this.heap.set(c, due);
          continue;
        }
      }
      if (!this.eligible(c, worker, othersAlive, live)) {
        passed.push(c);
        continue;
      }
      c.lock = { worker, token: this.nextToken++, until: now + (typeof this.lockMs === 'number' ? this.lockMs : this.lockMs(c.row)), due: Math.min(now, this.becameDue(c)) };
      const h = this.held.get(worker) ?? { count: 0, until: 0 };
      this.held.set(worker, { count: h.count + 1, until: Math.max(h.until, c.lock.until) });
      this.heap.set(c, c.lock.until);
      out.push(c);
    }
    for (const c of passed) this.heap.set(c, this.dueAt(c));
    return out;
  }

  private eligible(c: CheckState, worker: string, othersAlive: boolean, live: ReadonlySet<string>): boolean {
    if (c.turnSet.size > 0) {
      if (!c.turnSet.has(worker)) return true;
      // Every live worker already agreed: let one of them report again so the round can close.
      return [...live].every((w) => c.turnSet.has(w));
    }
    return c.lastWorker !== worker || !othersAlive;
  }

  /** Workers holding a lock that has not expired: busy, so alive even when they say nothing. */
  lockHolders(now: number): Set<string> {
    const holders = new Set<string>();
    for (const [worker, h] of this.held) if (h.count > 0 && h.until > now) holders.add(worker);
    return holders;
  }

  /**
   * Applies a worker's result if it holds the lock; returns the flip it causes, if any. With
   * `quorum` null the result is recorded and the check rescheduled, but not judged (a partitioned
   * controller must not flip, nor count toward a later flip).
   */
  report(worker: string, id: number, token: number, result: { status: ResultStatus; message: string; durationMs: number }, now: number, quorum: number | null): ReportOutcome {
    const c = this.checks.get(id);
    if (!c) return { accepted: false, reason: 'unknown check (deleted or disabled?)' };
    const term = Math.floor(token / TERM_SPAN);
    if (term !== this.term) return { accepted: false, reason: `lock of term ${term}, not of this term ${this.term}` };
    if (!c.lock || c.lock.worker !== worker || c.lock.token !== token) return { accepted: false, reason: 'worker does not hold the lock' };
    // An expired lock is not held, whether or not an assign() has cleared it yet (SPEC §5).
    if (now >= c.lock.until) return { accepted: false, reason: 'lock expired' };
    this.unlock(c);
    c.lastTime = now;
    c.lastWorker = worker;
    // Spelled out: a spread here made a 320-byte object per check, a quarter of the table at 100,000 checks.
    c.lastResult = { status: result.status, message: result.message, durationMs: result.durationMs, worker, at: now };
    const previous = c.status;
    const flipped = quorum === null ? null : applyResult(c, worker, result.status, quorum);
    if (flipped) c.lastStatusChange = now;
    this.reschedule(c);
    return { accepted: true, flip: flipped ? { check: c, previous, status: flipped, message: result.message } : null };
  }

  /** A worker hands a check back unrun (shutdown): it is due again at once for someone else. */
  release(worker: string, id: number, token: number): boolean {
    const c = this.checks.get(id);
    if (!c?.lock || c.lock.worker !== worker || c.lock.token !== token) return false;
    this.unlock(c);
    this.heap.set(c, 0);
    return true;
  }

  /** Undoes a flip that could not be recorded or alerted, so the rule fires again later. */
  revert(flip: Flip): void {
    flip.check.status = flip.previous;
    flip.check.lastStatusChange = 0;
  }

  private unlock(c: CheckState): void {
    this.dropHeld(c);
    c.lock = null;
  }

  private dropHeld(c: CheckState): void {
    if (!c.lock) return;
    const h = this.held.get(c.lock.worker);
    if (h && --h.count <= 0) this.held.delete(c.lock.worker);
  }

  /** The heap key: while locked, when the lock expires; otherwise when the check became due. */
  private dueAt(c: CheckState): number {
    return c.lock ? c.lock.until : this.becameDue(c);
  }

  /**
   * When the check became due: a disagreement fans out to other workers at once (from the result
   * that opened the round), a check never run is due from its load, any other an interval after
   * its last result. A check whose lock expired was due long ago, and counts so for lateness.
   */
  private becameDue(c: CheckState): number {
    if (c.turnSet.size > 0) return c.lastTime;
    if (c.lastTime === 0) return c.addedAt;
    return c.lastTime + c.row.interval * 1000;
  }

  private reschedule(c: CheckState): void {
    this.heap.set(c, this.dueAt(c));
  }
}
