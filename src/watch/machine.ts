/**
 * The decisions of `gobearmon watch` (HEAT's rules, SPEC §9.1) as a pure state machine: each event
 * comes in with the current time, and `step` returns the new state and the actions the shell must
 * perform (start or kill the check, send a signal, run a script, log, push, exit). Nothing here
 * touches a process, a clock or a file, so every rule is tested with a fake clock.
 */

/** HEAT_FAIL_CODE of a check killed because it was still running at the next tick (as timeout(1)). */
export const TIMED_OUT_CODE = 124;

export interface MachineOptions {
  intervalMs: number;
  /** Consecutive failures that trigger recovery and the fault signal (≥ 1). */
  threshold: number;
  /** After a recovery, failures only count (no script, no signal) for this long; 0 = no such window. */
  recoveryTimeoutMs: number;
  hasFailScript: boolean;
  hasRecoveryScript: boolean;
  /** Signals go to `--pid`; without one none are sent. */
  hasPid: boolean;
  signal: string;
  faultSignal?: string;
  successSignal?: string;
}

export type Phase = 'idle' | 'checking' | 'fail-script' | 'recovery' | 'stopped';
export type Script = 'fail' | 'recovery';

export interface MachineState {
  phase: Phase;
  /** When the next check is due (ms). */
  nextTickAt: number;
  /** A tick fell while a script ran: one check runs as soon as it ends. */
  missedTick: boolean;
  /** Id of the latest check run; events of older runs are ignored. */
  run: number;
  checkPid: number;
  /** Failures toward the threshold; reset when the threshold is reached and on success. */
  count: number;
  /** Consecutive failures since the last success (HEAT_FAIL_CNT). */
  streak: number;
  firstFailAt: number;
  lastFailAt: number;
  lastFailCode: number;
  lastFailPid: number;
  /** After a recovery: until this time failures only count. null = not in a recovery window. */
  windowUntil: number | null;
}

/** The environment of fail and recovery scripts (HEAT's names). */
export interface FailEnv {
  HEAT_FAIL_CODE: string;
  HEAT_FAIL_TIME: string;
  HEAT_FAIL_TIME_LAST: string;
  HEAT_FAIL_INTERVAL: string;
  HEAT_FAIL_PID: string;
  HEAT_FAIL_CNT: string;
}

export type WatchEvent =
  | { type: 'start' }
  /** The timer set for `nextTickAt` fired. */
  | { type: 'tick' }
  | { type: 'check-spawned'; run: number; pid: number }
  | { type: 'check-spawn-failed'; run: number; reason: string }
  | { type: 'check-exited'; run: number; code: number }
  | { type: 'script-exited'; script: Script; ok: boolean; reason: string }
  | { type: 'pid-gone' }
  | { type: 'stop'; signal: string };

export type LogLevel = 'INFO' | 'FAIL' | 'ERR';

export type Action =
  | { type: 'run-check'; run: number }
  | { type: 'kill-check'; run: number }
  | { type: 'signal'; signal: string; why: 'failure' | 'fault' | 'success' }
  | { type: 'run-script'; script: Script; env: FailEnv }
  | { type: 'log'; level: LogLevel; text: string }
  /** A check's result, for --push: code 0 = success. */
  | { type: 'report'; run: number; code: number }
  | { type: 'exit'; code: number };

export interface Step {
  state: MachineState;
  actions: Action[];
}

export function initialState(): MachineState {
  return {
    phase: 'idle', nextTickAt: 0, missedTick: false, run: 0, checkPid: 0, count: 0, streak: 0,
    firstFailAt: 0, lastFailAt: 0, lastFailCode: 0, lastFailPid: 0, windowUntil: null,
  };
}

const unixSeconds = (ms: number) => String(Math.floor(ms / 1000));

export function failEnv(s: MachineState, o: MachineOptions): FailEnv {
  return {
    HEAT_FAIL_CODE: String(s.lastFailCode),
    HEAT_FAIL_TIME: unixSeconds(s.firstFailAt),
    HEAT_FAIL_TIME_LAST: unixSeconds(s.lastFailAt),
    HEAT_FAIL_INTERVAL: String(o.intervalMs / 1000),
    HEAT_FAIL_PID: String(s.lastFailPid),
    HEAT_FAIL_CNT: String(s.streak),
  };
}

/** The first tick strictly after `now` on the grid that `from` is on. */
function nextOnGrid(from: number, now: number, interval: number): number {
  if (from > now) return from;
  return from + (Math.floor((now - from) / interval) + 1) * interval;
}

function startCheck(s: MachineState, now: number, o: MachineOptions, actions: Action[]): MachineState {
  const run = s.run + 1;
  actions.push({ type: 'run-check', run });
  return { ...s, phase: 'checking', run, checkPid: 0, missedTick: false, nextTickAt: nextOnGrid(s.nextTickAt, now, o.intervalMs) };
}

function stop(s: MachineState, code: number, actions: Action[]): MachineState {
  actions.push({ type: 'exit', code });
  return { ...s, phase: 'stopped' };
}

function onSuccess(s: MachineState, o: MachineOptions, actions: Action[]): MachineState {
  actions.push({ type: 'report', run: s.run, code: 0 });
  if (s.streak > 0) {
    actions.push({ type: 'log', level: 'INFO', text: `check succeeded after ${s.streak} consecutive failure(s)` });
    if (o.hasPid && o.successSignal) actions.push({ type: 'signal', signal: o.successSignal, why: 'success' });
  }
  return { ...s, phase: 'idle', count: 0, streak: 0, firstFailAt: 0, windowUntil: null };
}

function onFailure(s0: MachineState, now: number, code: number, why: string, o: MachineOptions, actions: Action[]): MachineState {
  let s: MachineState = {
    ...s0,
    phase: 'idle',
    count: s0.count + 1,
    streak: s0.streak + 1,
    firstFailAt: s0.streak === 0 ? now : s0.firstFailAt,
    lastFailAt: now,
    lastFailCode: code,
    lastFailPid: s0.checkPid,
  };
  actions.push({ type: 'report', run: s.run, code });
  if (s.windowUntil !== null && now < s.windowUntil) {
    actions.push({ type: 'log', level: 'FAIL', text: `${why}; failure ${s.streak} in a row, within the recovery timeout: no script, no signal` });
    return s;
  }
  s = { ...s, windowUntil: null };
  if (s.count >= o.threshold) {
    actions.push({ type: 'log', level: 'FAIL', text: `${why}; failure ${s.streak} in a row reached the threshold ${o.threshold}` });
    if (o.hasPid && o.faultSignal) actions.push({ type: 'signal', signal: o.faultSignal, why: 'fault' });
    s = { ...s, count: 0 };
    if (o.hasRecoveryScript) {
      actions.push({ type: 'run-script', script: 'recovery', env: failEnv(s, o) });
      return { ...s, phase: 'recovery' };
    }
  } else {
    actions.push({ type: 'log', level: 'FAIL', text: `${why}; failure ${s.streak} in a row (threshold ${o.threshold})` });
    if (o.hasPid) actions.push({ type: 'signal', signal: o.signal, why: 'failure' });
  }
  if (o.hasFailScript) {
    actions.push({ type: 'run-script', script: 'fail', env: failEnv(s, o) });
    return { ...s, phase: 'fail-script' };
  }
  return s;
}

/** Applies one event at time `now` (ms). Never throws; events that do not apply are ignored. */
export function step(s: MachineState, event: WatchEvent, now: number, o: MachineOptions): Step {
  const actions: Action[] = [];
  if (s.phase === 'stopped') return { state: s, actions };
  switch (event.type) {
    case 'start':
      return { state: startCheck({ ...s, nextTickAt: now }, now, o, actions), actions };
    case 'tick': {
      if (now < s.nextTickAt) return { state: s, actions };
      if (s.phase === 'fail-script' || s.phase === 'recovery') {
        return { state: { ...s, missedTick: true, nextTickAt: nextOnGrid(s.nextTickAt, now, o.intervalMs) }, actions };
      }
      let next = s;
      if (s.phase === 'checking') {
        actions.push({ type: 'kill-check', run: s.run });
        next = onFailure(s, now, TIMED_OUT_CODE, 'check still running at the next tick, killed', o, actions);
        if (next.phase !== 'idle') {
          return { state: { ...next, missedTick: true, nextTickAt: nextOnGrid(s.nextTickAt, now, o.intervalMs) }, actions };
        }
      }
      return { state: startCheck(next, now, o, actions), actions };
    }
    case 'check-spawned':
      if (s.phase !== 'checking' || event.run !== s.run) return { state: s, actions };
      return { state: { ...s, checkPid: event.pid }, actions };
    case 'check-spawn-failed':
      if (event.run !== s.run) return { state: s, actions };
      actions.push({ type: 'log', level: 'ERR', text: `the check cannot start: ${event.reason}` });
      return { state: stop(s, 1, actions), actions };
    case 'check-exited':
      if (s.phase !== 'checking' || event.run !== s.run) return { state: s, actions };
      if (event.code === 0) return { state: onSuccess(s, o, actions), actions };
      return { state: onFailure(s, now, event.code, `check exited with status ${event.code}`, o, actions), actions };
    case 'script-exited': {
      const expected = event.script === 'fail' ? 'fail-script' : 'recovery';
      if (s.phase !== expected) return { state: s, actions };
      if (!event.ok) {
        actions.push({ type: 'log', level: 'ERR', text: `the ${event.script} script failed: ${event.reason}` });
        return { state: stop(s, 1, actions), actions };
      }
      let next: MachineState = { ...s, phase: 'idle' };
      if (event.script === 'recovery' && o.recoveryTimeoutMs > 0) next = { ...next, windowUntil: now + o.recoveryTimeoutMs };
      // However many ticks were missed, one check runs now and the grid restarts from here.
      if (next.missedTick) next = startCheck({ ...next, nextTickAt: now }, now, o, actions);
      return { state: next, actions };
    }
    case 'pid-gone':
      actions.push({ type: 'log', level: 'ERR', text: 'the watched process (--pid) is gone' });
      return { state: stop(s, 1, actions), actions };
    case 'stop':
      actions.push({ type: 'log', level: 'INFO', text: `stopped by ${event.signal}` });
      return { state: stop(s, 0, actions), actions };
  }
}
