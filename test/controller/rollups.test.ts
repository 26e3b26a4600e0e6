/**
 * Per-minute result history (SPEC §11): totals are exact whatever flushes fail, a retried flush
 * changes nothing, and a failover mid-minute neither loses what was flushed nor doubles a minute.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { RollupBuffer, RollupWriter } from '../../src/controller/rollups';
import { openStore } from '../../src/store/open';
import type { RollupRow } from '../../src/store/rollups';
import type { Store } from '../../src/store/store';
import { captureLogger } from '../helpers/controller-kit';
import { ENGINES, type EngineDb } from '../helpers/engines';

const key = (r: { checkId: number; minute: number }) => `${r.checkId}/${r.minute}`;

describe('RollupBuffer', () => {
  test('whatever flushes fail or succeed, the stored totals end equal to the results (property)', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), check: fc.integer({ min: 1, max: 4 }), dt: fc.integer({ min: 0, max: 40_000 }), ok: fc.boolean(), ms: fc.integer({ min: 0, max: 5_000 }) }),
      fc.record({ kind: fc.constant('flush' as const), fails: fc.boolean() }),
    );
    fc.assert(fc.property(fc.array(step, { maxLength: 200 }), fc.integer({ min: 1, max: 30 }), (steps, maxMinutes) => {
      const buffer = new RollupBuffer(1_000 + maxMinutes);
      const stored = new Map<string, RollupRow>();
      const truth = new Map<string, { runs: number; failures: number; sumMs: number; maxMs: number }>();
      let now = 1_700_000_000_000;
      const flush = (fails: boolean) => {
        const rows = buffer.dirty();
        if (fails) return;
        for (const r of rows) stored.set(key(r), r); // whole totals overwrite, like the upsert
        buffer.written(rows, Math.floor(now / 60_000));
      };
      for (const s of steps) {
        if (s.kind === 'flush') {
          flush(s.fails);
          continue;
        }
        now += s.dt; // the controller's clock only moves forward
        buffer.add(s.check, now, s.ok, s.ms);
        const k = key({ checkId: s.check, minute: Math.floor(now / 60_000) });
        const t = truth.get(k) ?? { runs: 0, failures: 0, sumMs: 0, maxMs: 0 };
        truth.set(k, { runs: t.runs + 1, failures: t.failures + (s.ok ? 0 : 1), sumMs: t.sumMs + s.ms, maxMs: Math.max(t.maxMs, s.ms) });
      }
      flush(false);
      assert.deepEqual(
        new Map([...stored].map(([k, r]) => [k, { runs: r.runs, failures: r.failures, sumMs: r.sumMs, maxMs: r.maxMs }])),
        truth,
      );
      assert.deepEqual(buffer.dirty(), [], 'nothing left to write');
    }));
  });

  test('memory is bounded: old minutes are forgotten once written, and dropped past maxMinutes while the store is down', () => {
    const buffer = new RollupBuffer(5);
    for (let m = 0; m < 20; m++) for (let c = 1; c <= 10; c++) buffer.add(c, m * 60_000, true, 1);
    assert.equal(buffer.size, 50, 'five minutes of ten checks');
    buffer.written(buffer.dirty(), 19);
    assert.equal(buffer.size, 20, 'the current and the last closed minute stay');
  });
});

const MINUTE = 60_000;

for (const engine of ENGINES) {
  describe(`RollupWriter on ${engine.name}`, () => {
    let db: EngineDb;
    let store: Store;
    beforeEach(async () => {
      db = await engine.create();
      store = await openStore([db.dsn]);
      await store.migrate();
      await store.driver.run("INSERT INTO checks (id, name, type, data) VALUES (1, 'a', 'http', '{}'), (2, 'b', 'http', '{}')");
    });
    afterEach(async () => {
      await store.close();
      await db.drop();
    });

    const totals = async () => (await store.driver.all(
      'SELECT check_id, minute, SUM(runs) AS runs, SUM(failures) AS failures, SUM(sum_ms) AS sum_ms, MAX(max_ms) AS max_ms FROM check_rollups GROUP BY check_id, minute ORDER BY check_id, minute',
    )).map((r) => [Number(r.check_id), Number(r.minute), Number(r.runs), Number(r.failures), Number(r.sum_ms), Number(r.max_ms)]);

    test('a retried flush changes nothing; a failover mid-minute adds the successor beside the predecessor, never on top', async () => {
      let now = 1_000 * MINUTE + 5_000;
      const clock = () => now;
      const logs = captureLogger();
      const opts = { retentionDays: 90, flushMs: 3_600_000 };
      const a = new RollupWriter(store, logs.log, clock, opts);
      const epochA = await store.takeOffice('a', now);
      a.start(epochA);
      a.add(1, now, 'online', 10);
      a.add(1, now + 1_000, 'offline', 30);
      a.add(2, now, 'fail', 7);
      await a.flush();
      await a.flush(); // nothing dirty
      a.add(1, now + 2_000, 'online', 20);
      await a.flush();
      await store.writeRollups(epochA, [{ checkId: 1, minute: 1_000, runs: 3, failures: 1, sumMs: 60, maxMs: 30, lastAt: now + 2_000, lastMs: 20, lastOk: true }]);
      assert.deepEqual(await totals(), [[1, 1_000, 3, 1, 60, 30], [2, 1_000, 1, 1, 7, 7]], 'the same totals written twice count once');

      // B takes office in the same minute; A does not know yet and applies one more result.
      const b = new RollupWriter(store, logs.log, clock, opts);
      const epochB = await store.takeOffice('b', now);
      b.start(epochB);
      a.add(1, now + 3_000, 'offline', 500);
      await a.flush();
      assert.equal(logs.events('rollup_write_error').length, 1, "the deposed controller's write is fenced");
      assert.match(String(logs.events('rollup_write_error')[0].err), /fenced/);
      b.add(1, now + 4_000, 'online', 40);
      now += MINUTE;
      b.add(1, now, 'online', 50);
      await b.flush();
      assert.deepEqual(await totals(), [[1, 1_000, 4, 1, 100, 40], [1, 1_001, 1, 0, 50, 50], [2, 1_000, 1, 1, 7, 7]]);
      const epochs = await store.driver.all('SELECT epoch, runs FROM check_rollups WHERE check_id = 1 AND minute = 1000 ORDER BY epoch');
      assert.deepEqual(epochs.map((r) => [Number(r.epoch), Number(r.runs)]), [[epochA, 3], [epochB, 1]]);
      a.stop();
      b.stop();
    });

    test('rollups older than retentionDays are pruned when the writer flushes', async () => {
      const now = 200_000 * MINUTE;
      const w = new RollupWriter(store, captureLogger().log, () => now, { retentionDays: 2, flushMs: 3_600_000 });
      const epoch = await store.takeOffice('a', now);
      const row = (minute: number): RollupRow => ({ checkId: 1, minute, runs: 1, failures: 0, sumMs: 1, maxMs: 1, lastAt: minute * MINUTE, lastMs: 1, lastOk: true });
      await store.writeRollups(epoch, [row(200_000 - 3 * 1440), row(200_000 - 2 * 1440 - 1), row(200_000 - 2 * 1440), row(200_000 - 5)]);
      w.start(epoch);
      await w.flush();
      const left = await store.driver.all('SELECT minute FROM check_rollups ORDER BY minute');
      assert.deepEqual(left.map((r) => Number(r.minute)), [200_000 - 2 * 1440, 200_000 - 5]);
      w.stop();
    });
  });
}
