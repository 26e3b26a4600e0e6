/**
 * The push rules (SPEC §8.3), pure: a ping + facts → new facts (what receivers store), and
 * facts + parameters + time → state (what the controller judges). No I/O, time is an argument.
 */
import type { PushParams } from './params';
import { extendForGaps, nextExpected, type Gap } from './schedule';

export type PingKind = 'success' | 'start' | 'fail' | 'log' | 'deregister';

export interface Ping {
  kind: PingKind;
  /** When a listener received it (epoch ms). */
  at: number;
  /** Exit status for `/ping/<token>/<N>`; N ≠ 0 makes the kind `fail`. */
  exitStatus?: number | null;
  rid?: string | null;
  body?: string;
}

/** What a check's pings established; stored in push_state. */
export interface PushFacts {
  createdAt: number;
  lastPingAt: number | null;
  lastKind: PingKind | null;
  lastSuccessAt: number | null;
  lastOutcome: 'success' | 'fail' | null;
  lastOutcomeAt: number | null;
  lastMessage: string;
  /** How many failures ever: the controller sees a failure even when a success followed it. */
  fails: number;
  runStartedAt: number | null;
  runRid: string | null;
  deregisteredAt: number | null;
}

export function newFacts(createdAt: number): PushFacts {
  return {
    createdAt, lastPingAt: null, lastKind: null, lastSuccessAt: null, lastOutcome: null, lastOutcomeAt: null,
    lastMessage: '', fails: 0, runStartedAt: null, runRid: null, deregisteredAt: null,
  };
}

const MESSAGE_MAX = 1024;

/** The reason a failure ping gives: its text, or what it was. */
export function failMessage(ping: Ping): string {
  const text = (ping.body ?? '').trim();
  const what = ping.exitStatus ? `exit status ${ping.exitStatus}` : 'failure signalled';
  return (text ? `${what}: ${text}` : what).slice(0, MESSAGE_MAX);
}

/** Whether an end (success/fail) closes the open run: it names that run, or names none. */
function endsRun(f: PushFacts, rid: string | null | undefined): boolean {
  return f.runStartedAt !== null && (!rid || !f.runRid || rid === f.runRid);
}

/** Applies one ping. A ping older than the last one seen still counts but never moves times back. */
export function applyPing(facts: PushFacts, ping: Ping): PushFacts {
  const f: PushFacts = { ...facts };
  const at = ping.at;
  f.lastPingAt = Math.max(f.lastPingAt ?? at, at);
  f.lastKind = ping.kind;
  switch (ping.kind) {
    case 'success':
      if (endsRun(f, ping.rid)) f.runStartedAt = f.runRid = null;
      f.lastSuccessAt = Math.max(f.lastSuccessAt ?? at, at);
      f.lastOutcome = 'success';
      f.lastOutcomeAt = at;
      f.lastMessage = (ping.body ?? '').slice(0, MESSAGE_MAX);
      f.deregisteredAt = null;
      break;
    case 'fail':
      if (endsRun(f, ping.rid)) f.runStartedAt = f.runRid = null;
      f.lastOutcome = 'fail';
      f.lastOutcomeAt = at;
      f.lastMessage = failMessage(ping);
      f.fails++;
      f.deregisteredAt = null;
      break;
    case 'start':
      // Only the newest started run is timed.
      if (f.runStartedAt === null || at >= f.runStartedAt) {
        f.runStartedAt = at;
        f.runRid = ping.rid || null;
      }
      f.deregisteredAt = null;
      break;
    case 'deregister':
      f.deregisteredAt = at;
      f.runStartedAt = f.runRid = null;
      break;
    case 'log':
      break;
  }
  return f;
}

export type PushStateName = 'new' | 'up' | 'late' | 'down' | 'running' | 'paused';

export interface Judgement {
  state: PushStateName;
  /** Down's reason, or a short description of the state. */
  message: string;
  /** When the state will next change by itself (Infinity: only a ping changes it). */
  nextAt: number;
  /** When the check is expected next (for status); null when not waiting on a time. */
  deadline: number | null;
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

/**
 * The state of a push check at `now`. `gaps` are spans the cluster could not receive pings;
 * deadlines move by them (see extendForGaps). A paused (disabled) check is judged by the caller.
 */
export function judge(params: PushParams, facts: PushFacts, now: number, gaps: readonly Gap[] = []): Judgement {
  const never = Number.POSITIVE_INFINITY;
  if (facts.lastOutcome === 'fail') return { state: 'down', message: facts.lastMessage || 'failure signalled', nextAt: never, deadline: null };
  if (facts.runStartedAt !== null) {
    const end = extendForGaps(params, facts.runStartedAt, facts.runStartedAt + params.maxRuntimeMs, gaps);
    if (now < end) return { state: 'running', message: `run started at ${iso(facts.runStartedAt)}`, nextAt: end, deadline: end };
    return {
      state: 'down',
      message: `a run started at ${iso(facts.runStartedAt)}${facts.runRid ? ` (rid ${facts.runRid})` : ''} did not end within max_runtime (${params.maxRuntimeMs / 1000} s)`,
      nextAt: never, deadline: end,
    };
  }
  const from = facts.lastSuccessAt ?? facts.createdAt;
  const expected = extendForGaps(params, from, nextExpected(params, from), gaps);
  const downAt = expected + params.graceMs;
  const fresh = facts.lastSuccessAt === null;
  if (now < expected) return { state: fresh ? 'new' : 'up', message: fresh ? 'never pinged' : `last ping ${iso(from)}`, nextAt: expected, deadline: expected };
  if (now < downAt) return { state: fresh ? 'new' : 'late', message: `expected by ${iso(expected)}`, nextAt: downAt, deadline: expected };
  const message = fresh
    ? `not registered: no ping since the check was created (${iso(from)}); expected by ${iso(expected)}, grace ${params.graceMs / 1000} s`
    : `no ping since ${iso(from)}; expected by ${iso(expected)}, grace ${params.graceMs / 1000} s`;
  return { state: 'down', message, nextAt: never, deadline: expected };
}

/** The stored status a state maps to: only down is offline. */
export const statusOf = (state: PushStateName): 'online' | 'offline' => (state === 'down' ? 'offline' : 'online');
