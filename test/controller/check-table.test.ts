/**
 * CheckTable driven through its public API as the controller drives it, with a fake clock: every
 * time is a number passed in, nothing sleeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResultStatus } from '../../src/checks/types';
import { CheckTable, OWN_FLIP_GRACE_MS, type CheckState, type Flip, type ReportOutcome } from '../../src/controller/check-table';
import { effectiveQuorum } from '../../src/controller/confirmation';
import { WorkerRegistry } from '../../src/controller/workers';
import type { CheckRow } from '../../src/store/store';
import type { KeyedHeap } from '../../src/util/heap';

/** A realistic wall-clock start (Date.now()-like), as the controller's clock is. */
const T0 = 1_700_000_000_000;
const LOCK_MS = 120_000;
const S = 1000;

function row(id: number, over: Partial<CheckRow> = {}): CheckRow {
  return { id, name: `check ${id}`, type: 'tcp', data: '{"target":"example.com:80"}', interval: 60, delay: 1, status: 'online', ...over };
}

function table(rows: CheckRow[], now = T0): CheckTable {
  const t = new CheckTable(LOCK_MS);
  t.load(rows, now);
  return t;
}

function ids(cs: CheckState[]): number[] {
  return cs.map((c) => c.row.id).sort((a, b) => a - b);
}

function liveSet(...ws: string[]): Set<string> {
  return new Set(ws);
}

/** What an observer can see of a check; used to prove an ignored result changed nothing. */
function snapshot(t: CheckTable, id: number): unknown {
  const c = t.checks.get(id)!;
  return {
    status: c.status, turnSet: [...c.turnSet].sort(), turnCount: c.turnCount, lock: c.lock ? { ...c.lock } : null,
    lastTime: c.lastTime, lastWorker: c.lastWorker, lastStatusChange: c.lastStatusChange, lastResult: c.lastResult,
    next: t.nextEventAt(),
  };
}

/**
 * One worker turn as the controller does it: ask for work, run what was given, report each result.
 * Asserts that check `id` was handed out; returns the outcome of its report.
 */
function runOn(t: CheckTable, worker: string, id: number, status: ResultStatus, now: number, live: Set<string>, quorum: number): ReportOutcome {
  const got = t.assign(worker, 1, now, live);
  assert.deepEqual(ids(got), [id], `expected ${worker} to be given check ${id} at +${(now - T0) / S} s`);
  return t.report(worker, id, got[0].lock!.token, { status, message: `${status} from ${worker}`, durationMs: 5 }, now, quorum);
}

// ---------------------------------------------------------------------------------------------------
// The heart: confirmations and delay, the original's example.

test('original example: interval 60, confirmations 4, delay 3 → offline only after the 4th round, ≥ 180 s, 4 distinct workers per round', () => {
  const workers = ['w1', 'w2', 'w3', 'w4', 'w5'];
  const live = liveSet(...workers);
  const t = table([row(1, { interval: 60, delay: 3 })]);
  const quorum = effectiveQuorum(4, live.size);
  assert.equal(quorum, 4);

  // The controller's loop: every second, every worker (in a rotating order) asks for work and
  // reports offline for what it got, at once.
  let firstFailure: number | null = null;
  let flip: Flip | null = null;
  let flipAt = 0;
  const rounds: string[][] = [];
  let current: string[] = [];
  let lastTurnCount = 0;
  for (let now = T0; now <= T0 + 400 * S && !flip; now += S) {
    // Rotate who asks first each round, so a round may start with the last round's last worker.
    const k = (rounds.length * 3) % workers.length;
    const order = workers.slice(k).concat(workers.slice(0, k));
    for (const w of order) {
      for (const c of t.assign(w, 10, now, live)) {
        firstFailure ??= now;
        const out = t.report(w, c.row.id, c.lock!.token, { status: 'offline', message: 'refused', durationMs: 3 }, now, quorum);
        assert.ok(out.accepted);
        current.push(w);
        const state = t.checks.get(1)!;
        if (out.flip) {
          flip = out.flip;
          flipAt = now;
          rounds.push(current);
          break;
        }
        assert.equal(state.status, 'online', `flipped early at +${(now - T0) / S} s`);
        if (state.turnCount !== lastTurnCount) {
          assert.equal(state.turnCount, lastTurnCount + 1);
          lastTurnCount = state.turnCount;
          rounds.push(current);
          current = [];
        }
      }
      if (flip) break;
    }
  }
  assert.ok(flip, 'never flipped');
  assert.equal(flip.status, 'offline');
  assert.equal(flip.previous, 'online');
  assert.equal(t.checks.get(1)!.status, 'offline');
  assert.equal(firstFailure, T0);
  assert.ok(flipAt - firstFailure >= 180 * S, `flipped after ${(flipAt - firstFailure) / S} s`);
  assert.ok(flipAt - firstFailure < 181 * S, `flipped late, after ${(flipAt - firstFailure) / S} s`);
  assert.equal(rounds.length, 4, 'flips on the 4th completed round');
  for (const [i, r] of rounds.entries()) {
    assert.equal(r.length, 4, `round ${i + 1} took ${r.length} reports: ${r}`);
    assert.equal(new Set(r).size, 4, `round ${i + 1} needs 4 distinct workers: ${r}`);
  }
  assert.equal(t.checks.get(1)!.lastStatusChange, flipAt);
});

test('three agreeing workers of five never flip confirmations 4 while a fourth keeps seeing it online', () => {
  const live = liveSet('a', 'b', 'c', 'd', 'e');
  const t = table([row(1, { delay: 0 })]);
  for (let r = 0; r < 5; r++) {
    const now = T0 + r * 60 * S;
    const order = ['a', 'b', 'c', 'd', 'e'].slice(r % 5).concat(['a', 'b', 'c', 'd', 'e'].slice(0, r % 5));
    // Three see it offline, then the fourth sees it online and closes the round.
    for (const w of order.slice(0, 3)) assert.equal(runOn(t, w, 1, 'offline', now, live, 4).accepted, true);
    assert.equal(t.checks.get(1)!.turnSet.size, 3);
    const out = runOn(t, order[3], 1, 'online', now, live, 4);
    assert.deepEqual(out, { accepted: true, flip: null });
    const c = t.checks.get(1)!;
    assert.equal(c.status, 'online');
    assert.equal(c.turnSet.size, 0);
    assert.equal(c.turnCount, 0);
  }
});

test('a result equal to the current status clears the turn set and resets the turn count', () => {
  const live = liveSet('a', 'b', 'c');
  const t = table([row(1, { delay: 3 })]);
  runOn(t, 'a', 1, 'offline', T0, live, 2);
  runOn(t, 'b', 1, 'offline', T0, live, 2); // round 1 done
  runOn(t, 'c', 1, 'offline', T0 + 60 * S, live, 2); // round 2 open
  let c = t.checks.get(1)!;
  assert.equal(c.turnCount, 1);
  assert.deepEqual([...c.turnSet], ['c']);
  const out = runOn(t, 'a', 1, 'online', T0 + 60 * S, live, 2);
  assert.deepEqual(out, { accepted: true, flip: null });
  c = t.checks.get(1)!;
  assert.equal(c.turnSet.size, 0);
  assert.equal(c.turnCount, 0);
  assert.equal(c.status, 'online');
  // No fan-out any more: next due a whole interval later.
  assert.equal(t.nextEventAt(), T0 + 120 * S);
  assert.deepEqual(t.assign('b', 1, T0 + 120 * S - 1, live), []);
});

test('a disagreeing result fans out at once to workers not in the turn set, never back to its reporter', () => {
  const live = liveSet('a', 'b', 'c', 'd');
  const t = table([row(1, { delay: 1 })]);
  runOn(t, 'a', 1, 'online', T0, live, 4);
  assert.equal(t.nextEventAt(), T0 + 60 * S);

  const now = T0 + 60 * S;
  runOn(t, 'b', 1, 'offline', now, live, 4);
  assert.ok(t.nextEventAt()! <= now, 'due immediately, no waiting for the interval');
  assert.deepEqual(t.assign('b', 5, now, live), [], 'not back to the worker that reported it');
  const toC = t.assign('c', 5, now, live);
  assert.deepEqual(ids(toC), [1], 'to a worker outside the turn set, at once');
  t.report('c', 1, toC[0].lock!.token, { status: 'offline', message: '', durationMs: 1 }, now, 4);
  assert.deepEqual([...t.checks.get(1)!.turnSet].sort(), ['b', 'c']);
  assert.ok(t.nextEventAt()! <= now);
  assert.deepEqual(t.assign('c', 5, now, live), []);
  assert.deepEqual(t.assign('b', 5, now, live), []);
  // 'a' ran it last but is not in the turn set: it may run it now.
  assert.deepEqual(ids(t.assign('a', 5, now, live)), [1]);
});

test('a round can still close when every live worker is already in the turn set', () => {
  // Quorum 3 computed when three were alive; one then died: the two survivors may report again.
  const t = table([row(1, { delay: 0 })]);
  runOn(t, 'a', 1, 'offline', T0, liveSet('a', 'b', 'c'), 3);
  runOn(t, 'b', 1, 'offline', T0, liveSet('a', 'b', 'c'), 3);
  const live = liveSet('a', 'b');
  assert.deepEqual(ids(t.assign('a', 1, T0 + S, live)), [1]);
});

// ---------------------------------------------------------------------------------------------------
// Assignment.

test('a due check goes to a worker other than the last one when another is alive', () => {
  const live = liveSet('a', 'b');
  const t = table([row(1)]);
  runOn(t, 'a', 1, 'online', T0, live, 2);
  const due = T0 + 60 * S;
  assert.deepEqual(t.assign('a', 1, due - 1, live), []);
  assert.deepEqual(t.assign('b', 1, due - 1, live), [], 'not due before its interval');
  assert.deepEqual(t.assign('a', 1, due, live), [], 'a ran it last and b is alive');
  assert.ok(t.nextEventAt()! <= due, 'passing over it keeps it due');
  runOn(t, 'b', 1, 'online', due, live, 2);
  assert.deepEqual(t.assign('b', 1, due + 60 * S, live), []);
  runOn(t, 'a', 1, 'online', due + 60 * S, live, 2);
});

test('a lone worker keeps running the same check every interval (the original ran it once)', () => {
  const live = liveSet('solo');
  const t = table([row(1, { interval: 30 })]);
  for (let i = 0; i < 10; i++) {
    const now = T0 + i * 30 * S;
    if (i > 0) assert.deepEqual(t.assign('solo', 1, now - 1, live), [], 'not before its interval');
    runOn(t, 'solo', 1, 'online', now, live, effectiveQuorum(3, 1));
    assert.equal(t.nextEventAt(), now + 30 * S);
  }
  // The last worker is also allowed once the others it alternated with are gone.
  const u = table([row(2)]);
  runOn(u, 'a', 2, 'online', T0, liveSet('a', 'b'), 2);
  assert.deepEqual(u.assign('a', 1, T0 + 60 * S, liveSet('a', 'b')), []);
  assert.deepEqual(ids(u.assign('a', 1, T0 + 60 * S, liveSet('a'))), [2]);
});

test('a lone worker flips a check on its own with the degraded quorum', () => {
  const live = liveSet('solo');
  const t = table([row(1, { delay: 2, interval: 60 })]);
  const q = effectiveQuorum(3, live.size);
  const flips: number[] = [];
  for (let i = 0; i < 4; i++) {
    const out = runOn(t, 'solo', 1, 'offline', T0 + i * 60 * S, live, q);
    if (out.accepted && out.flip) flips.push(i);
  }
  assert.deepEqual(flips, [2], 'delay 2 → flips on the 3rd round');
});

test('degraded quorum: confirmations 3 with 2 live workers flips on 2 agreeing workers', () => {
  const live = liveSet('a', 'b');
  const q = effectiveQuorum(3, live.size);
  assert.equal(q, 2);
  const t = table([row(1, { delay: 1 })]);
  assert.deepEqual(runOn(t, 'a', 1, 'offline', T0, live, q), { accepted: true, flip: null });
  assert.deepEqual(runOn(t, 'b', 1, 'offline', T0, live, q), { accepted: true, flip: null });
  assert.equal(t.checks.get(1)!.turnCount, 1);
  runOn(t, 'a', 1, 'offline', T0 + 60 * S, live, q);
  const out = runOn(t, 'b', 1, 'offline', T0 + 60 * S, live, q);
  assert.ok(out.accepted && out.flip, 'expected a flip');
  assert.equal(out.flip.status, 'offline');
  assert.equal(out.flip.check.row.id, 1);
  assert.equal(out.flip.message, 'offline from b');
});

test('one assign hands out several due checks, at most `slots`, never the same one twice', () => {
  const live = liveSet('a', 'b');
  const t = table([1, 2, 3, 4, 5].map((id) => row(id)));
  const first = t.assign('a', 3, T0, live);
  assert.equal(first.length, 3);
  const second = t.assign('b', 10, T0, live);
  assert.equal(second.length, 2);
  assert.deepEqual([...ids(first), ...ids(second)].sort(), [1, 2, 3, 4, 5]);
  assert.deepEqual(t.assign('b', 10, T0, live), []);
  assert.deepEqual(t.assign('a', 0, T0, live), []);
  const tokens = [...first, ...second].map((c) => c.lock!.token);
  assert.equal(new Set(tokens).size, 5, 'each lock has its own token');
});

test('assignment touches only the due checks of 100,000 (heap, not a scan)', () => {
  const N = 100_000;
  const rows: CheckRow[] = [];
  for (let id = 1; id <= N; id++) rows.push(row(id, { interval: id % 20_000 === 0 ? 30 : 3600 }));
  const t = table(rows);
  const live = liveSet('a', 'b');
  // Run everything once so every check has a last result and a next due time.
  const handed = t.assign('a', N, T0, live);
  assert.equal(handed.length, N);
  for (const c of handed) t.report('a', c.row.id, c.lock!.token, { status: 'online', message: '', durationMs: 1 }, T0, 2);
  assert.equal(t.nextEventAt(), T0 + 30 * S);

  // Count how many heap entries one assign() looks at.
  const heap = (t as unknown as { heap: KeyedHeap<CheckState> }).heap;
  let pops = 0;
  const pop = heap.pop.bind(heap);
  heap.pop = () => {
    pops++;
    return pop();
  };
  const now = T0 + 30 * S;
  const started = process.hrtime.bigint();
  const got = t.assign('b', 100, now, live);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.deepEqual(ids(got), [20_000, 40_000, 60_000, 80_000, 100_000]);
  assert.equal(pops, 5, `assign looked at ${pops} entries for 5 due checks`);
  assert.ok(ms < 1000, `assign took ${ms} ms`);
  for (const c of got) t.report('b', c.row.id, c.lock!.token, { status: 'online', message: '', durationMs: 1 }, now, 2);
  // Nothing is due before those five come round again: not a single entry looked at.
  pops = 0;
  assert.deepEqual(t.assign('a', 100, now + 30 * S - 1, live), []);
  assert.equal(pops, 0);
  assert.deepEqual(ids(t.assign('a', 100, now + 30 * S, live)), [20_000, 40_000, 60_000, 80_000, 100_000]);
  assert.equal(pops, 5);
});

// ---------------------------------------------------------------------------------------------------
// Locks.

test('results from a worker without the lock are ignored and change nothing', () => {
  const live = liveSet('a', 'b', 'c');
  const t = table([row(1, { delay: 0 })]);
  runOn(t, 'a', 1, 'offline', T0, live, 2); // open turn set {a}
  const got = t.assign('b', 1, T0 + S, live);
  assert.deepEqual(ids(got), [1]);
  const token = got[0].lock!.token;
  const before = snapshot(t, 1);
  const r = { status: 'offline' as const, message: 'x', durationMs: 1 };

  const other = t.report('c', 1, token, r, T0 + 2 * S, 2);
  assert.deepEqual(other, { accepted: false, reason: 'worker does not hold the lock' });
  assert.deepEqual(snapshot(t, 1), before, 'another worker with the right token');

  const stale = t.report('b', 1, token + 1000, r, T0 + 2 * S, 2);
  assert.equal(stale.accepted, false);
  assert.deepEqual(snapshot(t, 1), before, 'the right worker with a wrong token');

  const previous = t.report('a', 1, token - 1, r, T0 + 2 * S, 2);
  assert.equal(previous.accepted, false);
  assert.deepEqual(snapshot(t, 1), before, 'the previous holder with its old token');

  const unknown = t.report('b', 99, token, r, T0 + 2 * S, 2);
  assert.deepEqual(unknown, { accepted: false, reason: 'unknown check (deleted or disabled?)' });
  assert.deepEqual(snapshot(t, 1), before);

  // The holder's own result is taken, and with it the flip (delay 0, quorum 2).
  const mine = t.report('b', 1, token, r, T0 + 2 * S, 2);
  assert.ok(mine.accepted && mine.flip);
  // A second delivery of the same result is ignored (the lock is gone).
  assert.deepEqual(t.report('b', 1, token, r, T0 + 3 * S, 2), { accepted: false, reason: 'worker does not hold the lock' });
});

test('a stale token of the same worker is ignored after the check was handed to it again', () => {
  const live = liveSet('a', 'b');
  const t = table([row(1)]);
  const [first] = t.assign('a', 1, T0, live);
  const oldToken = first.lock!.token;
  assert.equal(t.release('a', 1, oldToken), true);
  const [second] = t.assign('a', 1, T0, live);
  assert.notEqual(second.lock!.token, oldToken);
  const before = snapshot(t, 1);
  assert.equal(t.report('a', 1, oldToken, { status: 'offline', message: '', durationMs: 1 }, T0, 2).accepted, false);
  assert.deepEqual(snapshot(t, 1), before);
  assert.equal(t.report('a', 1, second.lock!.token, { status: 'offline', message: '', durationMs: 1 }, T0, 2).accepted, true);
});

test('fail results are accepted but never count toward a flip, nor clear an open turn set', () => {
  const live = liveSet('a', 'b', 'c', 'd');
  const t = table([row(1, { delay: 0 })]);
  // Fails alone: never a flip, however many.
  for (let i = 0; i < 8; i++) {
    const w = ['a', 'b', 'c', 'd'][i % 4];
    const out = runOn(t, w, 1, 'fail', T0 + i * 60 * S, live, 1);
    assert.deepEqual(out, { accepted: true, flip: null });
  }
  let c = t.checks.get(1)!;
  assert.equal(c.status, 'online');
  assert.equal(c.turnSet.size, 0);
  assert.equal(c.turnCount, 0);
  assert.equal(c.lastResult?.status, 'fail', 'the result is still recorded for the status page');
  // A fail leaves the check waiting a whole interval, like any result.
  const last = T0 + 7 * 60 * S;
  assert.equal(t.nextEventAt(), last + 60 * S);

  // With a turn set open, a fail neither joins it nor clears it; the fan-out goes on.
  const now = last + 60 * S;
  runOn(t, 'a', 1, 'offline', now, live, 3);
  runOn(t, 'b', 1, 'fail', now, live, 3);
  c = t.checks.get(1)!;
  assert.deepEqual([...c.turnSet], ['a']);
  assert.equal(c.status, 'online');
  assert.ok(t.nextEventAt()! <= now, 'still fanning out');
  runOn(t, 'c', 1, 'offline', now, live, 3);
  const out = runOn(t, 'd', 1, 'offline', now, live, 3);
  assert.ok(out.accepted && out.flip, 'the two fails in between did not break the round');
});

test('lock expiry: a check never reported is handed out again after lockTimeoutMs; the old token is then ignored', () => {
  const live = liveSet('a', 'b');
  const t = table([row(1, { interval: 60 })]);
  const [held] = t.assign('a', 1, T0, live);
  const oldToken = held.lock!.token;
  assert.equal(t.nextEventAt(), T0 + LOCK_MS, 'next event is the lock expiry, not the interval');
  assert.deepEqual(t.assign('b', 1, T0 + 60 * S, live), [], 'locked: not handed out although its interval passed');
  assert.deepEqual(t.assign('b', 1, T0 + LOCK_MS - 1, live), []);
  const [again] = t.assign('b', 1, T0 + LOCK_MS, live);
  assert.ok(again, 'handed out again once the lock expired');
  assert.equal(again.row.id, 1);
  const before = snapshot(t, 1);
  assert.equal(t.report('a', 1, oldToken, { status: 'offline', message: 'late', durationMs: 1 }, T0 + LOCK_MS + S, 2).accepted, false);
  assert.deepEqual(snapshot(t, 1), before);
  assert.equal(t.report('b', 1, again.lock!.token, { status: 'online', message: '', durationMs: 1 }, T0 + LOCK_MS + S, 2).accepted, true);
});

test('lock expiry: a result arriving after the lock expired is ignored even if nobody took the check yet', () => {
  const live = liveSet('a', 'b');
  const t = table([row(1, { delay: 0 })]);
  const [held] = t.assign('a', 1, T0, live);
  const token = held.lock!.token;
  const late = T0 + LOCK_MS + 5 * 60 * S; // e.g. a worker cut off for minutes delivers a stale result
  const before = snapshot(t, 1);
  const out = t.report('a', 1, token, { status: 'offline', message: 'stale', durationMs: 1 }, late, 1);
  assert.equal(out.accepted, false);
  assert.deepEqual(snapshot(t, 1), before, 'a stale result must not count toward a flip');
  // The check is due for someone, including the worker whose lock expired.
  assert.deepEqual(ids(t.assign('a', 1, late, live)), [1]);
  // Just before expiry the holder is still heard.
  const u = table([row(2)]);
  const [h2] = u.assign('a', 1, T0, live);
  assert.equal(u.report('a', 2, h2.lock!.token, { status: 'online', message: '', durationMs: 1 }, T0 + LOCK_MS - 1, 1).accepted, true);
});

test('release hands a check back: due at once, for someone else', () => {
  const live = liveSet('a', 'b', 'c');
  const t = table([row(1)]);
  runOn(t, 'c', 1, 'online', T0, live, 2);
  const now = T0 + 60 * S;
  const [held] = t.assign('a', 1, now, live);
  const token = held.lock!.token;
  assert.equal(t.release('b', 1, token), false, 'only the holder may release');
  assert.equal(t.release('a', 1, token + 1), false, 'with its own token');
  assert.equal(t.release('a', 99, token), false, 'unknown check');
  assert.deepEqual(t.assign('b', 1, now, live), [], 'still locked after refused releases');
  assert.equal(t.release('a', 1, token), true);
  assert.ok(t.nextEventAt()! <= now, 'due at once');
  assert.equal(t.release('a', 1, token), false, 'releasing twice does nothing');
  assert.equal(t.report('a', 1, token, { status: 'offline', message: '', durationMs: 1 }, now, 1).accepted, false, 'a released lock is gone');
  assert.deepEqual(ids(t.assign('b', 1, now, live)), [1]);
});

// ---------------------------------------------------------------------------------------------------
// Reloads.

test('reload: new checks appear due at once, deleted ones go and their results are ignored', () => {
  const live = liveSet('a', 'b');
  const t = new CheckTable(LOCK_MS);
  assert.equal(t.nextEventAt(), undefined);
  assert.deepEqual(t.load([row(1), row(2)], T0), { added: 2, removed: 0, changed: 0 });
  assert.ok(t.nextEventAt()! <= T0, 'new checks are due at once');
  const held = t.assign('a', 2, T0, live);
  assert.deepEqual(ids(held), [1, 2]);
  const c1 = held.find((c) => c.row.id === 1)!;
  const c2 = held.find((c) => c.row.id === 2)!;
  t.report('a', 2, c2.lock!.token, { status: 'online', message: '', durationMs: 1 }, T0, 2);

  const later = T0 + 10 * S;
  assert.deepEqual(t.load([row(2), row(3)], later), { added: 1, removed: 1, changed: 0 });
  assert.equal(t.size, 2);
  assert.equal(t.checks.has(1), false);
  assert.ok(t.nextEventAt()! <= later, 'the new check is due at once');
  assert.deepEqual(ids(t.assign('b', 10, later, live)), [3], 'the deleted check is not handed out; 2 is not due');
  const out = t.report('a', c1.row.id, c1.lock!.token, { status: 'offline', message: '', durationMs: 1 }, later, 1);
  assert.equal(out.accepted, false, 'result for a deleted check is ignored');
  assert.equal(t.checks.has(1), false);

  // Re-enabled later: it comes back as a new check; the old lock means nothing.
  t.load([row(1), row(2), row(3)], later + S);
  assert.equal(t.report('a', 1, c1.lock!.token, { status: 'offline', message: '', durationMs: 1 }, later + S, 1).accepted, false);
  assert.equal(t.checks.get(1)!.status, 'online');

  // Everything gone.
  assert.deepEqual(t.load([], later + 2 * S), { added: 0, removed: 3, changed: 0 });
  assert.equal(t.nextEventAt(), undefined);
  assert.deepEqual(t.assign('a', 10, later + 2 * S, live), []);
});

test('reload: a changed definition is taken (interval, data, delay), even while locked', () => {
  const live = liveSet('a', 'b');
  const t = table([row(1, { interval: 60, delay: 1 })]);
  runOn(t, 'a', 1, 'online', T0, live, 2);
  assert.equal(t.nextEventAt(), T0 + 60 * S);
  const change = t.load([row(1, { interval: 300, delay: 4, data: '{"target":"example.org:443"}', name: 'renamed' })], T0 + S);
  assert.deepEqual(change, { added: 0, removed: 0, changed: 1 });
  const c = t.checks.get(1)!;
  assert.equal(c.row.data, '{"target":"example.org:443"}');
  assert.equal(c.row.name, 'renamed');
  assert.equal(c.delay, 4);
  assert.equal(t.nextEventAt(), T0 + 300 * S, 'the new interval counts from the last result');
  assert.deepEqual(t.assign('b', 1, T0 + 60 * S, live), []);
  const [got] = t.assign('b', 1, T0 + 300 * S, live);
  assert.equal(got.row.data, '{"target":"example.org:443"}', 'workers are given the new definition');

  // While locked: the definition changes, the lock stays, the holder's result still counts.
  assert.deepEqual(t.load([row(1, { interval: 30 })], T0 + 301 * S).changed, 1);
  assert.deepEqual(t.assign('a', 1, T0 + 302 * S, live), [], 'still locked');
  assert.equal(t.report('b', 1, got.lock!.token, { status: 'online', message: '', durationMs: 1 }, T0 + 302 * S, 2).accepted, true);
  assert.equal(t.nextEventAt(), T0 + 332 * S);

  // An unchanged reload counts nothing.
  assert.deepEqual(t.load([row(1, { interval: 30 })], T0 + 303 * S), { added: 0, removed: 0, changed: 0 });
});

test('reload: the stored status is taken over unless this table flipped the check in the last 10 minutes', () => {
  assert.equal(OWN_FLIP_GRACE_MS, 10 * 60_000);
  const live = liveSet('a', 'b');

  // Never flipped here: an operator's UPDATE of checks.status is taken over, and clears an open round.
  const u = table([row(2)]);
  runOn(u, 'a', 2, 'offline', T0, live, 2);
  assert.equal(u.checks.get(2)!.turnSet.size, 1);
  u.load([row(2, { status: 'offline' })], T0 + S);
  assert.equal(u.checks.get(2)!.status, 'offline');
  assert.equal(u.checks.get(2)!.turnSet.size, 0);
  assert.equal(u.checks.get(2)!.turnCount, 0);
  assert.ok(u.nextEventAt()! > T0 + S, 'no fan-out once the round is cleared');

  const t = table([row(1, { delay: 0 })]);

  // Flipped here at `flipAt`; the database still says online (its write is in flight).
  runOn(t, 'a', 1, 'offline', T0 + 2 * S, live, 2);
  const out = runOn(t, 'b', 1, 'offline', T0 + 2 * S, live, 2);
  assert.ok(out.accepted && out.flip);
  const flipAt = T0 + 2 * S;
  assert.equal(t.checks.get(1)!.lastStatusChange, flipAt);
  const stale = [row(1, { delay: 0, status: 'online' })];
  t.load(stale, flipAt + 60 * S);
  assert.equal(t.checks.get(1)!.status, 'offline', 'own flip kept 1 min later');
  t.load(stale, flipAt + OWN_FLIP_GRACE_MS - 1);
  assert.equal(t.checks.get(1)!.status, 'offline', 'own flip kept just under 10 min later');
  t.load(stale, flipAt + OWN_FLIP_GRACE_MS);
  assert.equal(t.checks.get(1)!.status, 'online', 'stored status taken over after 10 min');
});

test('revert undoes a flip; the stored status is then taken over at the next reload and the rule can fire again', () => {
  const live = liveSet('a', 'b');
  const t = table([row(1, { delay: 0 })]);
  runOn(t, 'a', 1, 'offline', T0, live, 2);
  const out = runOn(t, 'b', 1, 'offline', T0, live, 2);
  assert.ok(out.accepted && out.flip);
  assert.equal(t.checks.get(1)!.status, 'offline');
  t.revert(out.flip);
  const c = t.checks.get(1)!;
  assert.equal(c.status, 'online');
  assert.equal(c.lastStatusChange, 0);
  // No grace after a reverted flip: the reload takes the stored status at once.
  t.load([row(1, { delay: 0, status: 'offline' })], T0 + S);
  assert.equal(t.checks.get(1)!.status, 'offline');
  t.load([row(1, { delay: 0, status: 'online' })], T0 + 2 * S);
  assert.equal(t.checks.get(1)!.status, 'online');
  // Still failing: it flips again at the next round.
  runOn(t, 'a', 1, 'offline', T0 + 60 * S, live, 2);
  const again = runOn(t, 'b', 1, 'offline', T0 + 60 * S, live, 2);
  assert.ok(again.accepted && again.flip, 'the flip happens again');
});

// ---------------------------------------------------------------------------------------------------
// Live workers.

test('WorkerRegistry: a worker is live while heard from within the timeout', () => {
  const reg = new WorkerRegistry(15 * S);
  assert.deepEqual([...reg.live(T0)], []);
  reg.seen('a', T0);
  reg.seen('b', T0 + 5 * S);
  assert.deepEqual([...reg.live(T0 + 15 * S)].sort(), ['a', 'b']);
  assert.deepEqual([...reg.live(T0 + 15 * S + 1)], ['b'], 'a timed out');
  reg.seen('a', T0 + 16 * S);
  assert.deepEqual([...reg.live(T0 + 16 * S)].sort(), ['a', 'b']);
  assert.deepEqual(reg.list(T0 + 21 * S).sort((x, y) => x.name.localeCompare(y.name)), [
    { name: 'a', lastSeenMs: 5 * S, live: true },
    { name: 'b', lastSeenMs: 16 * S, live: false },
  ]);
});

test('WorkerRegistry: a worker that handed its checks back (shutting down) no longer counts', () => {
  const reg = new WorkerRegistry(15 * S);
  reg.seen('a', T0);
  reg.seen('b', T0);
  reg.forget('a');
  assert.deepEqual([...reg.live(T0 + S)], ['b']);
});
