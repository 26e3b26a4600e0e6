/**
 * Overload is reported, not silent: when checks keep starting later than their own interval for a
 * minute, the controller logs `overload`, mails the admin (at most hourly) and shows it on
 * /metrics; `overload_ended` when they are on time again. The rule itself is pure (fake time).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Controller } from '../../src/controller/controller';
import { OVERLOAD_AFTER_MS, OVERLOAD_BUCKET_MS, OverloadMonitor } from '../../src/controller/overload';
import type { WorkResponse } from '../../src/protocol/messages';
import { openStore } from '../../src/store/open';
import { addCheck, captureLogger, kitConfig, signedCaller, waitFor } from '../helpers/controller-kit';
import { ENGINES } from '../helpers/engines';

test('a minute of late buckets is an overload; one on-time bucket ends it', () => {
  const m = new OverloadMonitor();
  let t = 0;
  let change = null;
  for (; t <= OVERLOAD_AFTER_MS + OVERLOAD_BUCKET_MS && !change; t += 1_000) change = m.note(30_000, 1_000, t);
  assert.deepEqual(change && change.kind, 'overloaded');
  assert.ok(t >= OVERLOAD_AFTER_MS, `not before a minute (${t} ms)`);
  assert.equal(m.snapshot.overloaded, true);
  let end = null;
  for (let i = 0; i < 20 && !end; i++, t += 1_000) end = m.note(10, 1_000, t);
  assert.equal(end?.kind, 'recovered');
  assert.equal(m.snapshot.overloaded, false);
});

test('lateness within the interval, or only now and then, is never an overload (property)', () => {
  fc.assert(fc.property(fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3_000 }), late: fc.boolean() }), { maxLength: 400 }), (steps) => {
    const m = new OverloadMonitor();
    let t = 0;
    let lateRun = 0;
    for (const s of steps) {
      t += s.gap;
      // Every other result on time: no bucket has a majority of late results.
      const change = m.note(s.late && lateRun++ % 2 === 0 ? 60_000 : 500, 1_000, t);
      assert.equal(change, null);
    }
  }));
});

test('the controller logs, mails and exports an overload of real results', async () => {
  const db = await ENGINES.find((e) => e.name === 'sqlite')!.create();
  const store = await openStore([db.dsn]);
  await store.migrate();
  const mails: string[] = [];
  let offset = 0;
  const logs = captureLogger();
  const ctl = new Controller({
    store, config: kitConfig({ controller: { database: db.dsn, reloadInterval: '3600', confirmations: '1' } }), log: logs.log,
    clock: () => Date.now() + offset, mailAdmin: async (subject) => void mails.push(subject),
  });
  const call = signedCaller(ctl.app);
  try {
    const check = await addCheck(store, { interval: 1, delay: 5 });
    assert.equal((await call('POST', '/probe', { view: 1, active: true, elected: true })).status, 200);
    await waitFor('office', async () => (await call<{ inOffice: boolean; checks: unknown[] }>('GET', '/status')).body.checks.length > 0, 20_000);
    const run = async (lateMs: number) => {
      const work = await call<WorkResponse>('POST', '/work', { worker: 'w1', view: 1, slots: 1, waitMs: 0 });
      const a = work.body.checks.find((c) => c.id === check.id);
      assert.ok(a, 'the check is due');
      await call('POST', '/results', { worker: 'w1', view: 1, results: [{ id: a.id, lock: a.lock, status: 'online', message: '', durationMs: 1, startedAt: a.due + lateMs }] });
      offset += 2_000; // two simulated seconds per run
    };
    for (let i = 0; i < 40 && logs.events('overload').length === 0; i++) await run(20_000);
    const line = logs.events('overload')[0];
    assert.ok(line, 'overload was logged');
    assert.match(String(line.msg), /later than their own interval/);
    assert.deepEqual(mails, ['gobearmon: overloaded, checks are late']);
    const metrics = await call<{ overload: { overloaded: boolean; last: { late: number } } }>('GET', '/metrics');
    assert.equal(metrics.body.overload.overloaded, true);
    for (let i = 0; i < 10 && logs.events('overload_ended').length === 0; i++) await run(0);
    assert.equal(logs.events('overload_ended').length, 1);
    assert.equal((await call<{ overload: { overloaded: boolean } }>('GET', '/metrics')).body.overload.overloaded, false);
  } finally {
    await ctl.close();
    await store.close();
    await db.drop();
  }
});
