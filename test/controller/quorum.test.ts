/**
 * The quorum judgement (issue 11 item 6, issue 12 item 3) and the node health a probe answer
 * carries (item 5), pure: the quorum shrinks only for workers the viewserver also finds down,
 * a controller hearing too few of the workers the viewserver sees is partitioned, a store that
 * fails or stops answering makes the node unhealthy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NodeHealth } from '../../src/controller/health';
import { judgeQuorum } from '../../src/controller/quorum';

const set = (...w: string[]) => new Set(w);
const none = set();

test('workers the viewserver still sees keep counting: slowness or silence never lowers the quorum', () => {
  const j = judgeQuorum({ confirmations: 2, heard: set('w3'), seenByViewserver: set('w1', 'w2', 'w3'), settling: none });
  assert.equal(j.counted, 3);
  assert.equal(j.quorum, 2, 'not 1: w1 and w2 are only silent');
  assert.equal(j.degraded, false);
  assert.deepEqual(j.missing, ['w1', 'w2']);
  assert.match(j.partitioned ?? '', /partitioned: hears 1 of 3 live workers; the viewserver sees w1, w2/);
});

test('a worker silent but holding locks keeps the quorum, yet counts as missing for the partition (a busy worker polls every second)', () => {
  const j = judgeQuorum({ confirmations: 2, heard: set('w1', 'w2', 'w3'), talking: set('w1'), seenByViewserver: set('w1', 'w2', 'w3'), settling: none });
  assert.equal(j.quorum, 2);
  assert.deepEqual(j.missing, ['w2', 'w3']);
  assert.ok(j.partitioned);
});

test('workers the viewserver also finds down do not count: the quorum shrinks and the admin is told (degraded)', () => {
  const j = judgeQuorum({ confirmations: 3, heard: set('w1'), seenByViewserver: set('w1'), settling: none });
  assert.deepEqual([j.counted, j.quorum, j.degraded, j.partitioned], [1, 1, true, null]);
});

test('one silent worker among many is not a partition of the controller', () => {
  const j = judgeQuorum({ confirmations: 2, heard: set('w1', 'w2'), seenByViewserver: set('w1', 'w2', 'w3'), settling: none });
  assert.deepEqual([j.quorum, j.missing, j.partitioned], [2, ['w3'], null]);
  // Not a strict majority of five: partitioned although it hears enough for the quorum.
  const k = judgeQuorum({ confirmations: 2, heard: set('w1', 'w2'), seenByViewserver: set('w1', 'w2', 'w3', 'w4', 'w5'), settling: none });
  assert.ok(k.partitioned);
});

test('workers just seen, or a controller just in office, are not missed yet; without a viewserver word it judges on its own', () => {
  assert.equal(judgeQuorum({ confirmations: 2, heard: set('w1'), seenByViewserver: set('w1', 'w2', 'w3'), settling: 'all' }).partitioned, null);
  assert.equal(judgeQuorum({ confirmations: 2, heard: set('w1'), seenByViewserver: set('w1', 'w2', 'w3'), settling: set('w2', 'w3') }).partitioned, null);
  const old = judgeQuorum({ confirmations: 3, heard: set('w1', 'w2'), seenByViewserver: null, settling: none });
  assert.deepEqual([old.quorum, old.degraded, old.partitioned], [2, true, null]);
});

test('property: the quorum is never below what the viewserver sees allows, and a partitioned controller hears a minority or less than the quorum', () => {
  const names = ['w1', 'w2', 'w3', 'w4', 'w5'];
  const subset = fc.subarray(names).map((a) => new Set(a));
  fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), subset, subset, (confirmations, heard, seen) => {
    const j = judgeQuorum({ confirmations, heard, seenByViewserver: seen, settling: none });
    assert.ok(j.quorum >= Math.min(confirmations, Math.max(1, seen.size)), 'never lowered for workers the viewserver sees');
    assert.ok(j.quorum >= 1 && j.quorum <= confirmations);
    if (j.partitioned) assert.ok(heard.size < j.quorum || heard.size * 2 <= j.counted);
    if ([...seen].every((w) => heard.has(w))) assert.equal(j.partitioned, null, 'hearing everyone the viewserver sees is never a partition');
  }), { numRuns: 500 });
});

test('health: a failed or silent store read, a failed write, a partition each make the node unhealthy, with the reason', () => {
  const t0 = 1_000;
  const h = new NodeHealth(5_000, t0);
  assert.deepEqual(h.report(t0 + 1), { healthy: true, problems: [] });
  h.failed('read', 'store ping: connect ETIMEDOUT', t0 + 100);
  assert.equal(h.report(t0 + 150).healthy, true, 'one slow read on a loaded host is not an outage');
  h.failed('read', 'store ping: connect ETIMEDOUT', t0 + 200);
  assert.deepEqual(h.report(t0 + 200), { healthy: false, problems: ['store read failing: store ping: connect ETIMEDOUT'] });
  h.succeeded('read', t0 + 300);
  assert.equal(h.report(t0 + 400).healthy, true);
  assert.match(h.report(t0 + 300 + 5_001).problems[0], /store has not answered a read for 5 s/, 'a ping that hangs is a failure too');
  h.succeeded('read', t0 + 6_000);
  h.failed('write', 'taking office: lock wait timeout', t0 + 6_100);
  assert.deepEqual(h.report(t0 + 6_200).problems, ['store write failing: taking office: lock wait timeout']);
  h.clearWrites();
  h.setPartition('partitioned: hears 1 of 3');
  assert.deepEqual(h.report(t0 + 6_300), { healthy: false, problems: ['partitioned: hears 1 of 3'] });
  h.setPartition(null);
  h.succeeded('write', t0 + 6_400);
  assert.equal(h.report(t0 + 6_500).healthy, true);
});
