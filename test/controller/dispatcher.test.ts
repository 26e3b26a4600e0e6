/**
 * The alert dispatcher against a real Store (MySQL and SQLite) and real webhook receivers on
 * loopback, with the real sendAlert: delivery, retries with backoff, the attempt history, dead
 * rows, "every contact failed" and fencing between two controllers' dispatchers.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Config } from '../../src/config/types';
import { sendAlert } from '../../src/contacts/registry';
import { AlertDispatcher, type DispatcherHooks } from '../../src/controller/alert-dispatcher';
import { openStore } from '../../src/store/open';
import { FencedError, type CheckRow, type OutboxRow, type Store } from '../../src/store/store';
import { addCheck, addContact, captureLogger, count, kitConfig, sleep, statusOf, waitFor } from '../helpers/controller-kit';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { freePort } from '../helpers/ports';
import { startWebhook, type TestWebhook } from '../helpers/webhook';

const RETRY = { alertRetryBase: '0.05', alertRetryMax: '0.4', alertMaxAttempts: '4' };
const config: Config = kitConfig({ controller: RETRY });

/** Records what the dispatcher tells its owner; `stopOnFence` mimics the controller stepping down. */
function recorder(stopOnFence?: () => AlertDispatcher) {
  const dead: OutboxRow[] = [];
  const undo: boolean[] = [];
  const permanent: { row: OutboxRow; error: string }[] = [];
  const fenced: FencedError[] = [];
  const hooks: DispatcherHooks = {
    onFlipDead: (row, undoWorthwhile) => {
      dead.push(row);
      undo.push(undoWorthwhile);
    },
    onPermanentFailure: (row, error) => void permanent.push({ row, error }),
    onFenced: (err) => {
      fenced.push(err);
      stopOnFence?.().stop();
    },
  };
  return { dead, undo, permanent, fenced, hooks };
}

/** Runs one pass of the dispatcher now and waits until it has finished. */
async function pass(d: AlertDispatcher): Promise<void> {
  d.kick();
  await d.idle(20_000);
}

for (const engine of ENGINES) {
  describe(`alert dispatcher on ${engine.name}`, () => {
    let db: EngineDb;
    let store: Store;
    let check: CheckRow;
    const hooks: TestWebhook[] = [];
    const dispatchers: AlertDispatcher[] = [];
    const stores: Store[] = [];
    let logs = captureLogger();

    const webhook = async (status = 200) => {
      const h = await startWebhook();
      h.status = status;
      hooks.push(h);
      return h;
    };
    const dispatcher = (d: AlertDispatcher) => {
      dispatchers.push(d);
      return d;
    };
    const row = async (id: number, s = store) => (await s.outboxForCheck(check.id)).find((r) => r.id === id)!;
    const claimEpoch = async (id: number) => Number((await store.driver.all('SELECT claim_epoch FROM alert_outbox WHERE id = ?', [id]))[0].claim_epoch);

    beforeEach(async () => {
      logs = captureLogger();
      db = await engine.create();
      store = await openStore([db.dsn]);
      await store.migrate();
      check = await addCheck(store);
    });
    afterEach(async () => {
      for (const d of dispatchers.splice(0)) {
        d.stop();
        await d.idle(10_000);
      }
      for (const h of hooks.splice(0)) await h.close();
      for (const s of stores.splice(0)) await s.close();
      await store.close();
      await db.drop();
    });

    test('one contact answers 200, the other 500: sent once; the other retried with backoff until dead; the flip stands', async () => {
      const good = await webhook(200);
      const bad = await webhook(500);
      const goodId = await addContact(store, check.id, 'http', good.url);
      const badId = await addContact(store, check.id, 'http', bad.url);
      const epoch = await store.takeOffice('A', Date.now());
      const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'connection refused', now: Date.now() });
      const goodRow = flip.outbox.find((r) => r.contactId === goodId)!;
      const badRow = flip.outbox.find((r) => r.contactId === badId)!;

      const rec = recorder();
      const d = dispatcher(new AlertDispatcher(store, config, sendAlert, logs.log, rec.hooks));
      d.start(epoch);
      await waitFor('the failing contact to die', async () => (await row(badRow.id)).state === 'dead', 60_000);
      d.stop();
      await d.idle(10_000);

      const sent = await row(goodRow.id);
      assert.equal(sent.state, 'sent');
      assert.equal(sent.attempts, 1);
      assert.equal(sent.providerId, 'HTTP 200');
      assert.equal(sent.lastError, null);
      assert.equal(good.requests.length, 1, 'the good contact is posted exactly once');
      assert.equal(good.requests[0].form.get('status'), 'offline');
      assert.equal(good.requests[0].form.get('message'), 'connection refused');
      assert.equal(good.requests[0].headers['idempotency-key'], goodRow.idempotencyKey);
      const goodAttempts = await store.attempts(goodRow.id);
      assert.deepEqual(goodAttempts.map((a) => [a.ok, a.error, a.providerId, a.epoch]), [[true, null, 'HTTP 200', epoch]]);

      const deadRow = await row(badRow.id);
      assert.equal(deadRow.attempts, 4, 'alertMaxAttempts = 4');
      assert.match(deadRow.lastError ?? '', /answered HTTP 500/);
      const badAttempts = await store.attempts(badRow.id);
      assert.equal(badAttempts.length, 4, 'every attempt is in alert_attempts');
      for (const a of badAttempts) {
        assert.equal(a.ok, false);
        assert.equal(a.epoch, epoch);
        assert.match(a.error ?? '', /^webhook http:\/\/127\.0\.0\.1:\d+: answered HTTP 500$/);
        assert.ok(a.finishedAt >= a.startedAt);
      }
      // Each retry waited at least the jittered backoff (0.8 × base × 2^(n-1), capped) after the failure before it.
      for (let i = 1; i < badAttempts.length; i++) {
        const minWait = 0.8 * Math.min(400, 50 * 2 ** (i - 1));
        assert.ok(badAttempts[i].startedAt - badAttempts[i - 1].finishedAt >= minWait - 1, `attempt ${i + 1} waited its backoff`);
      }
      assert.equal(bad.requests.length, 4);
      assert.ok(bad.requests.every((r) => r.headers['idempotency-key'] === badRow.idempotencyKey), 'every resend carries the same key');

      assert.equal(rec.dead.length, 0, 'one contact succeeded: onFlipDead is not called');
      assert.equal(rec.fenced.length, 0);
      assert.equal(await statusOf(store, check.id), 'offline', 'the flip stands');
      assert.equal(await count(store, 'check_events'), 1);
      assert.equal(logs.events('alert_sent').filter((l) => l.outbox_id === goodRow.id).length, 1);
      assert.equal(logs.events('alert_failed').filter((l) => l.outbox_id === badRow.id).length, 4);
    });

    test('every contact fails for good: onFlipDead is called once, for this flip', async () => {
      const bad = await webhook(500);
      const refused = `http://127.0.0.1:${await freePort()}/hook`;
      await addContact(store, check.id, 'http', bad.url);
      await addContact(store, check.id, 'http', refused);
      const epoch = await store.takeOffice('A', Date.now());
      const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: Date.now() });

      const rec = recorder();
      const d = dispatcher(new AlertDispatcher(store, config, sendAlert, logs.log, rec.hooks));
      d.start(epoch);
      await waitFor('onFlipDead', () => rec.dead.length > 0, 60_000);
      d.stop();
      await d.idle(10_000);

      assert.equal(rec.dead.length, 1, 'called once, not once per contact');
      assert.equal(rec.dead[0].eventId, flip.eventId);
      assert.equal(rec.dead[0].checkId, check.id);
      assert.equal(rec.dead[0].status, 'offline');
      const rows = await store.outboxForCheck(check.id);
      assert.deepEqual(rows.map((r) => [r.state, r.attempts]), [['dead', 4], ['dead', 4]]);
      const refusedRow = rows.find((r) => r.contactData === refused)!;
      assert.match(refusedRow.lastError ?? '', /connection refused/);
      for (const r of rows) assert.equal((await store.attempts(r.id)).length, 4);
      assert.equal(bad.requests.length, 4);
    });

    test('backoff: base × 2^(n-1) with jitter, capped at alertRetryMax; not retried before it is due (fake clock)', async () => {
      const bad = await webhook(500);
      await addContact(store, check.id, 'http', bad.url);
      const T0 = Date.now();
      let now = T0;
      const epoch = await store.takeOffice('A', T0);
      const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });
      const id = flip.outbox[0].id;
      const cfg = kitConfig({ controller: { ...RETRY, alertMaxAttempts: '6' } });
      const rec = recorder();
      const d = dispatcher(new AlertDispatcher(store, cfg, sendAlert, logs.log, rec.hooks, () => now));
      d.start(epoch);
      await d.idle(20_000);

      // Expected un-jittered waits after attempts 1..5: 50, 100, 200, 400 (= cap), 400 (capped from 800).
      for (const [n, wait] of [[1, 50], [2, 100], [3, 200], [4, 400], [5, 400]]) {
        const r = await row(id);
        assert.equal(r.attempts, n);
        assert.equal(r.state, 'pending');
        assert.equal(await claimEpoch(id), 0, 'a known failure releases the claim');
        const backoff = r.nextAttemptAt - now;
        assert.ok(backoff >= 0.8 * wait && backoff <= 1.2 * wait, `after attempt ${n}: waited ${backoff} ms, expected ${wait} ± 20%`);
        now = r.nextAttemptAt - 1;
        await pass(d);
        assert.equal((await row(id)).attempts, n, 'not retried before next_attempt_at');
        assert.equal(bad.requests.length, n);
        now = r.nextAttemptAt;
        await pass(d);
      }
      const r = await row(id);
      assert.equal(r.state, 'dead');
      assert.equal(r.attempts, 6);
      assert.equal(bad.requests.length, 6);
      assert.equal(rec.dead.length, 1, 'its only contact died: the flip is dead');
      now += 3_600_000;
      await pass(d);
      assert.equal(bad.requests.length, 6, 'a dead row is never sent again');
    });

    test('a contact that starts answering before the limit: sent, history is failures then one success', async () => {
      const flaky = await webhook(500);
      await addContact(store, check.id, 'http', flaky.url);
      const epoch = await store.takeOffice('A', Date.now());
      const flip = await store.recordFlip(epoch, { check, status: 'online', message: '', now: Date.now() });
      const id = flip.outbox[0].id;

      const rec = recorder();
      const d = dispatcher(new AlertDispatcher(store, config, sendAlert, logs.log, rec.hooks));
      d.start(epoch);
      await waitFor('two failed attempts', async () => (await store.attempts(id)).length >= 2, 60_000);
      flaky.status = 200;
      await waitFor('the alert to be sent', async () => (await row(id)).state === 'sent', 60_000);
      d.stop();
      await d.idle(10_000);

      const history = await store.attempts(id);
      const failures = history.slice(0, -1);
      assert.ok(failures.length >= 2 && failures.length <= 3, `${failures.length} failures before the limit of 4`);
      assert.ok(failures.every((a) => !a.ok && /answered HTTP 500/.test(a.error ?? '')), 'failures first, each with its error');
      assert.deepEqual([history.at(-1)!.ok, history.at(-1)!.error, history.at(-1)!.providerId], [true, null, 'HTTP 200']);
      const r = await row(id);
      assert.equal(r.attempts, history.length);
      assert.equal(r.lastError, null, 'a success clears the last error');
      assert.equal(r.providerId, 'HTTP 200');
      assert.equal(flaky.requests.length, history.length);
      assert.equal(rec.dead.length, 0);
      await sleep(1_500); // more than one poll period: nothing is sent after the success
      assert.equal(flaky.requests.length, history.length);
    });

    test('fencing: a deposed dispatcher cannot claim; the new one delivers what is pending and never resends what was sent', async () => {
      const hook = await webhook(200);
      await addContact(store, check.id, 'http', hook.url);
      const storeA = await openStore([db.dsn]);
      const storeB = await openStore([db.dsn]);
      stores.push(storeA, storeB);

      const epoch1 = await storeA.takeOffice('A', Date.now());
      // A's clock runs two minutes behind, so a flip it records can be not yet due for A but due for B.
      const T0 = Date.now() - 120_000;
      let clockA = T0;
      let dA: AlertDispatcher | undefined = undefined;
      const recA = recorder(() => dA!);
      dA = dispatcher(new AlertDispatcher(storeA, config, sendAlert, logs.log, recA.hooks, () => clockA));
      const first = await storeA.recordFlip(epoch1, { check, status: 'offline', message: 'down', now: T0 });
      dA.start(epoch1);
      await dA.idle(20_000);
      assert.equal((await row(first.outbox[0].id)).state, 'sent');
      assert.equal(hook.requests.length, 1);

      // A records a second flip whose alert is not due yet for A, then B takes office.
      const second = await storeA.recordFlip(epoch1, { check, status: 'online', message: '', now: T0 + 60_000 });
      const pendingId = second.outbox[0].id;
      const epoch2 = await storeB.takeOffice('B', Date.now());
      assert.equal(epoch2, epoch1 + 1);

      clockA = T0 + 60_000;
      await pass(dA);
      assert.equal(recA.fenced.length, 1, 'A is told it was fenced');
      assert.ok(recA.fenced[0] instanceof FencedError);
      assert.deepEqual([recA.fenced[0].mine, recA.fenced[0].current], [epoch1, epoch2]);
      assert.equal(hook.requests.length, 1, 'A sent nothing after it was deposed');
      const refused = await row(pendingId);
      assert.deepEqual([refused.state, refused.attempts], ['pending', 0], 'the refused claim changed nothing');
      assert.equal(await claimEpoch(pendingId), 0);
      assert.equal((await store.attempts(pendingId)).length, 0);
      // Every other write of A's is refused too.
      await assert.rejects(storeA.recordFlip(epoch1, { check, status: 'offline', message: 'x', now: T0 + 90_000 }), FencedError);
      await assert.rejects(storeA.claimAlert(epoch1, pendingId, T0 + 120_000), FencedError);
      await assert.rejects(storeA.revertFlip(epoch1, check.id, 1, 'offline'), FencedError);
      assert.equal(await count(store, 'check_events'), 2);

      const recB = recorder();
      const dB = dispatcher(new AlertDispatcher(storeB, config, sendAlert, logs.log, recB.hooks));
      dB.start(epoch2);
      await waitFor('B to deliver the pending alert', async () => (await row(pendingId)).state === 'sent', 30_000);
      await sleep(1_500); // a further poll period of B's
      await pass(dB);
      assert.deepEqual(hook.requests.map((r) => [r.headers['idempotency-key'], r.form.get('status')]), [
        [first.outbox[0].idempotencyKey, 'offline'],
        [second.outbox[0].idempotencyKey, 'online'],
      ], 'each alert reached the receiver exactly once');
      assert.deepEqual((await store.attempts(pendingId)).map((a) => [a.epoch, a.ok]), [[epoch2, true]]);
      assert.deepEqual((await store.attempts(first.outbox[0].id)).map((a) => [a.epoch, a.ok]), [[epoch1, true]]);
      assert.equal(recB.fenced.length, 0);
    });

    test('fencing mid-send: A deposed while its request is in flight cannot record it; B resends under the same key', async () => {
      const hook = await webhook(200);
      await addContact(store, check.id, 'http', hook.url);
      const storeA = await openStore([db.dsn]);
      const storeB = await openStore([db.dsn]);
      stores.push(storeA, storeB);
      const epoch1 = await storeA.takeOffice('A', Date.now());
      const flip = await storeA.recordFlip(epoch1, { check, status: 'offline', message: 'down', now: Date.now() });
      const id = flip.outbox[0].id;

      hook.delayMs = 1_500;
      let dA: AlertDispatcher | undefined = undefined;
      const recA = recorder(() => dA!);
      dA = dispatcher(new AlertDispatcher(storeA, config, sendAlert, logs.log, recA.hooks));
      dA.start(epoch1);
      await waitFor('A to be mid-send', () => hook.requests.length === 1, 20_000);
      hook.delayMs = 0;
      const epoch2 = await storeB.takeOffice('B', Date.now());
      await dA.idle(20_000);
      assert.equal(recA.fenced.length, 1, 'A could not record its attempt');
      const inDoubt = await row(id);
      assert.deepEqual([inDoubt.state, inDoubt.attempts], ['pending', 1], 'claimed by A, outcome unknown');
      assert.equal(await claimEpoch(id), epoch1);
      assert.equal((await store.attempts(id)).length, 0);

      const recB = recorder();
      const dB = dispatcher(new AlertDispatcher(storeB, config, sendAlert, logs.log, recB.hooks));
      dB.start(epoch2);
      await waitFor('B to resend the in-doubt alert', async () => (await row(id)).state === 'sent', 30_000);
      assert.equal(hook.requests.length, 2);
      assert.ok(hook.requests.every((r) => r.headers['idempotency-key'] === flip.outbox[0].idempotencyKey), 'the resend can be dropped by the receiver');
      assert.deepEqual((await store.attempts(id)).map((a) => [a.epoch, a.ok]), [[epoch2, true]]);
      await sleep(1_500);
      assert.equal(hook.requests.length, 2);
    });
  });
}
