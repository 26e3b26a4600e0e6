/**
 * End to end with real processes (SPEC §5): a viewserver and four worker nodes on loopback against
 * the real MariaDB, checks INSERTed with SQL, targets and webhook sinks run by the test.
 * a. an outage seen by every worker pages each contact once, and its end once;
 * b. a failure seen by one worker only pages no one and changes nothing;
 * f. a worker with the wrong password is refused and gets no work.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../helpers/cluster';
import { startWorld, type World } from '../helpers/e2e';
import { sleep } from '../helpers/wait';

let w: World;

before(async () => {
  w = await startWorld({ workers: 4, confirmations: 2, passwordFor: (i) => (i === 3 ? 'wrong-password' : 'cluster-secret') });
});

after(() => w?.close());

test('a. an outage seen from every worker alerts each contact once, and its recovery once', async () => {
  const id = await w.addCheck('outage', '/outage', ['/alice', '/bob']);
  await waitFor('the check to run', () => w.target.hitCount('/outage') >= 3);
  w.target.failing.add('/outage');
  await waitFor('offline alerts to both contacts', () => w.sink.delivered({ checkId: id, status: 'offline' }).length >= 2, 30_000);
  await sleep(3_000); // rounds keep coming: any duplicate would show up here
  for (const contact of ['/alice', '/bob']) assert.equal(w.sink.delivered({ checkId: id, status: 'offline', path: contact }).length, 1, `one offline alert to ${contact}`);
  assert.equal(await w.storedStatus(id), 'offline');

  w.target.failing.delete('/outage');
  await waitFor('online alerts to both contacts', () => w.sink.delivered({ checkId: id, status: 'online' }).length >= 2, 30_000);
  await sleep(3_000);
  for (const contact of ['/alice', '/bob']) assert.equal(w.sink.delivered({ checkId: id, status: 'online', path: contact }).length, 1, `one online alert to ${contact}`);
  assert.equal(await w.storedStatus(id), 'online');
  assert.deepEqual(await w.events(id), ['offline', 'online']);
  // Each alert carries the message of the failure and a stable idempotency key.
  const offline = w.sink.delivered({ checkId: id, status: 'offline' })[0];
  assert.match(offline.message, /status mismatch, got 500 but expected 200/);
  assert.match(offline.key, /^gobearmon-/);
});

test('b. a failure seen from one worker only alerts no one and changes nothing', async () => {
  const id = await w.addCheck('blip', '/blip', ['/carol']);
  w.target.failingFor.set('/blip', new Set(['w2']));
  await waitFor('w2 to see the failure a few times', () => w.target.hitCount('/blip', 'w2') >= 4, 40_000);
  await waitFor('other workers to run it too', () => w.target.hitCount('/blip', 'w1') + w.target.hitCount('/blip', 'w3') >= 8, 40_000);
  assert.equal(w.sink.requests.filter((r) => r.checkId === id).length, 0, 'no alert');
  assert.equal(await w.storedStatus(id), 'online');
  assert.deepEqual(await w.events(id), []);
});

test('f. a worker with the wrong password is refused and gets no work', async () => {
  const w4 = w.cluster.workers[3];
  await waitFor('w4 to log that it was refused', () => w4.events('auth_refused').length > 0);
  assert.ok(w.cluster.viewserver.events('auth_refused').length > 0, 'the viewserver logged the refusal (401)');
  const status = await w.cluster.status();
  assert.ok(!status.workers.some((n) => n.name === 'w4'), 'w4 never reached the controller');
  let fromW4 = 0;
  for (const perWorker of w.target.hits.values()) fromW4 += perWorker.get('w4') ?? 0;
  assert.equal(fromW4, 0, 'w4 ran no check');
  assert.ok(status.workers.filter((n) => n.live).length >= 3, 'the other workers are live');
});
