import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResultStatus, Status } from '../../src/checks/types';
import { applyResult, effectiveQuorum, type ConfirmationState } from '../../src/controller/confirmation';

function state(status: Status, delay: number): ConfirmationState {
  return { status, turnSet: new Set(), turnCount: 0, delay };
}

/** One complete round: every worker reports `result`; returns the flip of the last report (if any). */
function round(s: ConfirmationState, workers: string[], result: ResultStatus, quorum: number): (Status | null)[] {
  return workers.map((w) => applyResult(s, w, result, quorum));
}

test('original example: confirmations 4, delay 3 → flips on the 4th completed round, not before', () => {
  const s = state('online', 3);
  const workers = ['a', 'b', 'c', 'd'];
  for (let r = 1; r <= 3; r++) {
    const out = round(s, workers, 'offline', 4);
    assert.deepEqual(out, [null, null, null, null], `round ${r} must not flip`);
    assert.equal(s.status, 'online');
    assert.equal(s.turnCount, r);
    assert.equal(s.turnSet.size, 0, 'a completed round clears the turn set');
  }
  const out = round(s, workers, 'offline', 4);
  assert.deepEqual(out, [null, null, null, 'offline']);
  assert.equal(s.status, 'offline');
  assert.equal(s.turnCount, 0, 'the count restarts after a flip');
  assert.equal(s.turnSet.size, 0);
});

test('turn set counts distinct workers: one worker reporting many times is one vote', () => {
  const s = state('online', 0);
  for (let i = 0; i < 10; i++) assert.equal(applyResult(s, 'a', 'offline', 2), null);
  assert.deepEqual([...s.turnSet], ['a']);
  assert.equal(s.turnCount, 0);
  assert.equal(applyResult(s, 'b', 'offline', 2), 'offline', 'delay 0: the first completed round flips');
});

test('a result equal to the current status clears the turn set and resets the turn count', () => {
  const s = state('online', 3);
  round(s, ['a', 'b'], 'offline', 2);
  round(s, ['a', 'b'], 'offline', 2);
  applyResult(s, 'c', 'offline', 2);
  assert.equal(s.turnCount, 2);
  assert.equal(s.turnSet.size, 1);
  assert.equal(applyResult(s, 'd', 'online', 2), null);
  assert.equal(s.turnCount, 0);
  assert.equal(s.turnSet.size, 0);
  assert.equal(s.status, 'online');
  // It takes the full delay+1 rounds again afterwards.
  for (let r = 0; r < 3; r++) assert.deepEqual(round(s, ['a', 'b'], 'offline', 2), [null, null]);
  assert.deepEqual(round(s, ['a', 'b'], 'offline', 2), [null, 'offline']);
});

test('flips both ways: offline → online needs the same quorum and delay', () => {
  const s = state('offline', 1);
  assert.deepEqual(round(s, ['a', 'b', 'c'], 'online', 3), [null, null, null]);
  assert.deepEqual(round(s, ['a', 'b', 'c'], 'online', 3), [null, null, 'online']);
  assert.equal(s.status, 'online');
  // And one round right after a flip cannot flip it straight back.
  assert.deepEqual(round(s, ['a', 'b', 'c'], 'offline', 3), [null, null, null]);
  assert.equal(s.status, 'online');
});

test('fail never counts toward a flip and leaves an open round as it is', () => {
  const s = state('online', 0);
  for (const w of ['a', 'b', 'c', 'd', 'e']) assert.equal(applyResult(s, w, 'fail', 1), null);
  assert.equal(s.status, 'online');
  assert.equal(s.turnSet.size, 0);
  assert.equal(s.turnCount, 0);

  const t = state('online', 2);
  round(t, ['a', 'b', 'c'], 'offline', 3);
  round(t, ['a', 'b'], 'offline', 3);
  assert.equal(t.turnCount, 1);
  assert.deepEqual([...t.turnSet].sort(), ['a', 'b']);
  assert.equal(applyResult(t, 'c', 'fail', 3), null);
  // `fail` is neither agreement nor disagreement: the turn set and count stay as they were.
  assert.deepEqual([...t.turnSet].sort(), ['a', 'b']);
  assert.equal(t.turnCount, 1);
  assert.equal(t.status, 'online');
});

test('effectiveQuorum = min(confirmations, live), never below 1', () => {
  assert.equal(effectiveQuorum(4, 10), 4);
  assert.equal(effectiveQuorum(4, 4), 4);
  assert.equal(effectiveQuorum(3, 2), 2);
  assert.equal(effectiveQuorum(3, 1), 1);
  assert.equal(effectiveQuorum(3, 0), 1);
  assert.equal(effectiveQuorum(1, 0), 1);
  assert.equal(effectiveQuorum(0, 5), 1);
});

test('degraded quorum: confirmations 3 with 2 live workers flips on 2 agreeing workers', () => {
  const s = state('online', 1);
  const q = effectiveQuorum(3, 2);
  assert.deepEqual(round(s, ['a', 'b'], 'offline', q), [null, null]);
  assert.deepEqual(round(s, ['a', 'b'], 'offline', q), [null, 'offline']);
  // With the undegraded quorum the same two workers never flip it (the original's dead end).
  const t = state('online', 1);
  for (let r = 0; r < 10; r++) assert.deepEqual(round(t, ['a', 'b'], 'offline', 3), [null, null]);
  assert.equal(t.status, 'online');
});
