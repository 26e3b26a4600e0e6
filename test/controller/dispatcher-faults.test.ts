/**
 * The alert dispatcher under faults (issues 12.5, 12.6, 12.11), against a real MySQL store (through
 * the MySQL-aware proxy where the store must fail) and real webhook receivers: a permanent contact
 * error ends the delivery at once; a failed record of a delivered alert is retried, not the send;
 * a contact that never answers does not hold the others' alerts.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { sendAlert } from '../../src/contacts/registry';
import { AlertDispatcher, PER_CONTACT_PARALLEL, type DispatcherHooks } from '../../src/controller/alert-dispatcher';
import { openStore } from '../../src/store/open';
import type { CheckRow, OutboxRow, Store } from '../../src/store/store';
import { addCheck, addContact, captureLogger, kitConfig, sleep, waitFor } from '../helpers/controller-kit';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { SqlProxy } from '../helpers/sql-proxy';
import { startWebhook } from '../helpers/webhook';

const config = kitConfig({ controller: { alertRetryBase: '0.05', alertRetryMax: '0.4', alertMaxAttempts: '4' } });

describe('alert dispatcher under faults', () => {
  let db: TestDatabase;
  let store: Store;
  let check: CheckRow;
  const closers: (() => Promise<void>)[] = [];
  let logs = captureLogger();
  const dead: [OutboxRow, boolean][] = [];
  const permanent: [OutboxRow, string][] = [];
  const hooks: DispatcherHooks = {
    onFlipDead: (row, undo) => void dead.push([row, undo]),
    onPermanentFailure: (row, error) => void permanent.push([row, error]),
    onFenced: () => undefined,
  };

  const webhook = async (status = 200) => {
    const h = await startWebhook();
    h.status = status;
    closers.push(() => h.close());
    return h;
  };
  const dispatcher = (s: Store) => {
    const d = new AlertDispatcher(s, config, sendAlert, logs.log, hooks);
    closers.unshift(async () => {
      d.stop();
      await d.idle(15_000);
    });
    return d;
  };
  const row = async (id: number) => (await store.outboxForCheck(check.id)).find((r) => r.id === id)!;

  beforeEach(async () => {
    logs = captureLogger();
    dead.length = permanent.length = 0;
    db = await createTestDatabase();
    store = await openStore([db.urlDsn]);
    await store.migrate();
    check = await addCheck(store);
  });
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await store.close();
    await db.drop();
  });

  test('a 404 is permanent: one attempt, the row dies at once, the admin hook hears; the other contact is sent; no undo', async () => {
    const gone = await webhook(404);
    const good = await webhook(200);
    const goneId = await addContact(store, check.id, 'http', gone.url);
    await addContact(store, check.id, 'http', good.url);
    const epoch = await store.takeOffice('A', Date.now());
    const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: Date.now() });
    const goneRow = flip.outbox.find((r) => r.contactId === goneId)!;
    dispatcher(store).start(epoch);
    await waitFor('the refused row to die', async () => (await row(goneRow.id)).state === 'dead', 20_000);
    await waitFor('the good contact', () => good.requests.length === 1, 20_000);
    await sleep(1_000);
    assert.equal(gone.requests.length, 1, 'not retried');
    assert.equal((await row(goneRow.id)).attempts, 1);
    assert.equal((await store.attempts(goneRow.id)).length, 1);
    assert.equal(permanent.length, 1);
    assert.match(permanent[0][1], /answered HTTP 404/);
    assert.equal(dead.length, 0, 'a contact succeeded: the flip is not dead');
    assert.equal(logs.events('alert_failed')[0].permanent, true);
  });

  test('every contact refuses for good: the flip is dead but not worth undoing', async () => {
    const gone = await webhook(410);
    await addContact(store, check.id, 'http', gone.url);
    await addContact(store, check.id, 'pigeon', 'coo');
    const epoch = await store.takeOffice('A', Date.now());
    await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: Date.now() });
    dispatcher(store).start(epoch);
    await waitFor('the flip to die', () => dead.length === 1, 20_000);
    assert.equal(dead[0][1], false, 'undoing would only fire the same refusals again');
    assert.equal(permanent.length, 2);
    assert.equal(gone.requests.length, 1);
  });

  test('the store fails while a send is under way: the record is retried, the alert is not sent twice', async () => {
    const proxy = await SqlProxy.start();
    closers.push(() => proxy.close());
    const viaProxy = await openStore([proxy.dsn(db.name)], { rounds: 1, connectTimeoutMs: 500 });
    closers.push(() => viaProxy.close());
    const hook = await webhook(200);
    hook.delayMs = 1_500;
    await addContact(store, check.id, 'http', hook.url);
    const epoch = await store.takeOffice('A', Date.now());
    const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: Date.now() });
    dispatcher(viaProxy).start(epoch);
    await waitFor('the send to start', () => hook.requests.length === 1, 20_000);
    proxy.blackhole = true; // the store goes away while the receiver is answering
    proxy.dropAll();
    await waitFor('a failed record', () => logs.events('outbox_record_error').length > 0, 30_000);
    await sleep(2_000);
    proxy.blackhole = false;
    await waitFor('the row to be recorded as sent', async () => (await row(flip.outbox[0].id)).state === 'sent', 30_000);
    await sleep(1_500);
    assert.equal(hook.requests.length, 1, 'sent once');
    const attempts = await store.attempts(flip.outbox[0].id);
    assert.deepEqual(attempts.map((a) => a.ok), [true], 'one attempt, recorded as the success it was');
  });

  test('a contact that never answers does not hold another contact\'s 40 alerts', async () => {
    const stuck = await webhook(200);
    stuck.delayMs = 60_000; // answers after the 10 s webhook deadline, i.e. never in time
    const fast = await webhook(200);
    await addContact(store, check.id, 'http', stuck.url);
    await addContact(store, check.id, 'http', fast.url);
    const epoch = await store.takeOffice('A', Date.now());
    let now = Date.now();
    for (let i = 0; i < 40; i++) await store.recordFlip(epoch, { check, status: i % 2 ? 'online' : 'offline', message: `flip ${i}`, now: (now += 1) });
    const started = Date.now();
    dispatcher(store).start(epoch);
    // Generous: normally well under a second; the original took 30-50 s behind the stuck contact.
    await waitFor('all 40 alerts at the fast contact', () => fast.requests.length >= 40, 15_000);
    const elapsed = Date.now() - started;
    assert.equal(new Set(fast.requests.map((r) => r.headers['idempotency-key'])).size, 40, 'each flip once');
    assert.ok(stuck.requests.length <= PER_CONTACT_PARALLEL, 'the stuck contact has at most its per-contact share in flight');
    console.log(`# 40 alerts to the fast contact beside a stuck one: ${elapsed} ms`);
  });
});
