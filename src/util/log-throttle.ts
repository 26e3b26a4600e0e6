/**
 * Log throttle: a condition that repeats (database down, viewserver unreachable, a refused password)
 * is logged when it starts or changes, then at most once per interval with how many times it recurred,
 * and once more as `<event>_restored` when it ends. Time is injected so tests drive it with a fake clock.
 */
import type { Logger } from './log';

export type ThrottleLevel = 'error' | 'warn' | 'info';

/** What is happening now under one key: `event` plus `detail` (e.g. the error text) is its identity. */
export interface Occurrence {
  event: string;
  detail: string;
  level?: ThrottleLevel;
  msg: string;
  fields?: Record<string, unknown>;
  /** Event name logged when it ends (default `<event>_restored`), e.g. `database_restored`. */
  restoredAs?: string;
}

/** What the throttle remembers about one ongoing condition. */
export interface ThrottleState {
  event: string;
  detail: string;
  restoredAs?: string;
  since: number;
  lastLogged: number;
  /** Occurrences not yet reported since the last line. */
  unreported: number;
  total: number;
}

/** One line the shell should write, or none. */
export interface Emit {
  level: ThrottleLevel;
  fields: Record<string, unknown>;
  msg: string;
}

export const DEFAULT_THROTTLE_MS = 60_000;

/** Pure step: the condition `o` happened at `now` given the previous state. */
export function occur(prev: ThrottleState | undefined, o: Occurrence, now: number, intervalMs: number): { state: ThrottleState; emit?: Emit } {
  const level = o.level ?? 'error';
  if (!prev || prev.event !== o.event || prev.detail !== o.detail) {
    const state: ThrottleState = { event: o.event, detail: o.detail, restoredAs: o.restoredAs, since: prev?.since ?? now, lastLogged: now, unreported: 0, total: (prev?.total ?? 0) + 1 };
    return { state, emit: { level, fields: { ...o.fields, event: o.event }, msg: o.msg } };
  }
  const total = prev.total + 1;
  if (now - prev.lastLogged < intervalMs) return { state: { ...prev, unreported: prev.unreported + 1, total } };
  const repeated = prev.unreported + 1;
  return {
    state: { ...prev, lastLogged: now, unreported: 0, total },
    emit: { level, fields: { ...o.fields, event: o.event, repeated, since_ms: now - prev.since }, msg: `${o.msg} (${repeated} times in the last ${Math.round((now - prev.lastLogged) / 1000)}s)` },
  };
}

/** Pure step: the condition ended at `now`; logs `<event>_restored` only if it was ongoing. */
export function restore(prev: ThrottleState | undefined, now: number, msg?: string, fields?: Record<string, unknown>): Emit | undefined {
  if (!prev) return undefined;
  return {
    level: 'info',
    fields: { ...fields, event: prev.restoredAs ?? `${prev.event}_restored`, down_ms: now - prev.since, occurrences: prev.total },
    msg: msg ?? `${prev.event.replace(/_/g, ' ')} ended after ${Math.round((now - prev.since) / 1000)}s`,
  };
}

/** The imperative shell: one per component, keyed by condition (e.g. 'database', 'viewserver:host:port'). */
export class LogThrottle {
  private readonly states = new Map<string, ThrottleState>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = DEFAULT_THROTTLE_MS,
  ) {}

  /** The condition under `key` holds now. Returns true when a line was written. */
  failing(key: string, o: Occurrence): boolean {
    const { state, emit } = occur(this.states.get(key), o, this.now(), this.intervalMs);
    this.states.set(key, state);
    if (emit) this.log[emit.level](emit.fields, emit.msg);
    return emit !== undefined;
  }

  /** The condition under `key` no longer holds; logs `<event>_restored` if it was ongoing. */
  restored(key: string, msg?: string, fields?: Record<string, unknown>): boolean {
    const emit = restore(this.states.get(key), this.now(), msg, fields);
    this.states.delete(key);
    if (emit) this.log[emit.level](emit.fields, emit.msg);
    return emit !== undefined;
  }

  /** Whether a condition is ongoing under `key`. */
  isFailing(key: string): boolean {
    return this.states.has(key);
  }
}
