/**
 * The dispatcher's lease gate (issue 11 item 3): a controller sends only while its office lease is
 * valid by its own clock. Without a valid lease it neither claims nor sends; a lease that runs out
 * between the claim and the send stops the send, and the claimed row waits for a successor.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { sendAlert } from '../../src/contacts/registry';
import { AlertDispatcher } from '../../src/controller/alert-dispatcher';
import { openStore } from '../../src/store/open';
import type { CheckRow, Store } from '../../src/store/store';
import { addCheck, addContact, captureLogger, kitConfig, sleep, waitFor } from '../helpers/controller-kit';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { startWebhook, type TestWebhook } from '../helpers/webhook';

const sqlite = ENGINES.find((e) => e.name === 'sqlite')!;
const config = kitConfig();
let db: EngineDb;
let store: Store;
let check: CheckRow;
let hook: TestWebhook;
let dispatcher: AlertDispatcher | null = null;

beforeEach(async () => {
  db = await sqlite.create();
  store = await openStore([db.dsn]);
  await store.migrate();
  check = await addCheck(store);
  hook = await startWebhook();
  await addContact(store, check.id, 'http', hook.url);
});

afterEach(async () => {
  dispatcher?.stop();
  await dispatcher?.idle(5_000);
  await hook.close();
  await store.close();
  await db.drop();
});

const claimEpoch = async () => Number((await store.driver.all('SELECT claim_epoch FROM alert_outbox'))[0].claim_epoch);

test('without a valid lease nothing is claimed nor sent; once valid, the alert goes', async () => {
  const logs = captureLogger();
  let valid = false;
  const epoch = await store.takeOffice('me', Date.now());
  await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: Date.now() });
  dispatcher = new AlertDispatcher(store, config, sendAlert, logs.log, { onFlipDead: () => undefined, onFenced: () => undefined, mayAct: () => valid });
  dispatcher.start(epoch);
  await sleep(1_500); // more than a poll period
  assert.equal(hook.requests.length, 0, 'nothing sent without a lease');
  assert.equal(await claimEpoch(), 0, 'nothing claimed without a lease');
  valid = true;
  await waitFor('the alert once the lease is valid', () => hook.requests.length === 1, 10_000);
});

test('a lease that runs out between the claim and the send stops the send', async () => {
  const logs = captureLogger();
  let asked = 0;
  const epoch = await store.takeOffice('me', Date.now());
  await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: Date.now() });
  // Valid for the pass and for the claim, then gone (a freeze right after the claim).
  dispatcher = new AlertDispatcher(store, config, sendAlert, logs.log, { onFlipDead: () => undefined, onFenced: () => undefined, mayAct: () => ++asked <= 2 });
  dispatcher.start(epoch);
  await waitFor('the withheld send to be logged', () => logs.events('alert_withheld').length >= 1, 10_000);
  await sleep(500);
  assert.equal(hook.requests.length, 0, 'the claimed alert was not sent');
  assert.equal(await claimEpoch(), epoch, 'the row stays claimed: a successor resends it after this lease');
  assert.equal(logs.events('alert_withheld')[0].before, 'send');
});
