/**
 * End to end with real processes (SPEC §5): a viewserver and four worker nodes on loopback against
 * the real MariaDB, checks INSERTed with SQL, targets and webhook sinks run by the test.
 * a. an outage seen by every worker pages each contact once, and its end once;
 * b. a failure seen by one worker only pages no one and changes nothing;
 * f. a worker with the wrong password is refused and gets no work.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAlertSink, type AlertSink } from '../helpers/alert-sink';
import { Cluster, waitFor } from '../helpers/cluster';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { startTarget, type Target } from '../helpers/target';

let db: TestDatabase;
let cluster: Cluster;
let target: Target;
let sink: AlertSink;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function addCheck(name: string, path: string, contacts: string[]): Promise<number> {
  const data = JSON.stringify({ url: target.url(path), expect_status: 200, timeout: 3 }).replace(/\//g, '\\/');
  const res = (await db.exec(`INSERT INTO checks (name, type, data, check_interval, delay) VALUES (?, 'http', ?, 1, 1)`, [name, data])) as { insertId: number };
  for (const contact of contacts) {
    const c = (await db.exec(`INSERT INTO contacts (type, data) VALUES ('http', ?)`, [sink.url(contact)])) as { insertId: number };
    await db.exec(`INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'both')`, [res.insertId, c.insertId]);
  }
  return res.insertId;
}

async function storedStatus(id: number): Promise<string> {
  const rows = (await db.exec('SELECT status FROM checks WHERE id = ?', [id])) as { status: string }[];
  return rows[0].status;
}

async function events(id: number): Promise<string[]> {
  return ((await db.exec('SELECT type FROM check_events WHERE check_id = ? ORDER BY id', [id])) as { type: string }[]).map((r) => r.type);
}

before(async () => {
  db = await createTestDatabase('gbm_e2e');
  target = await startTarget();
  sink = await startAlertSink();
  cluster = await Cluster.start({ dsn: db.goDsn, workers: 4, confirmations: 2, passwordFor: (i) => (i === 3 ? 'wrong-password' : 'cluster-secret') });
  await waitFor('an elected controller', async () => (await cluster.status().catch(() => null))?.epoch);
});

after(async () => {
  await cluster?.stop();
  await Promise.all([target?.close(), sink?.close()]);
  await db?.drop();
});

test('a. an outage seen from every worker alerts each contact once, and its recovery once', async () => {
  const id = await addCheck('outage', '/outage', ['/alice', '/bob']);
  await waitFor('the check to run', () => target.hitCount('/outage') >= 3);
  target.failing.add('/outage');
  await waitFor('offline alerts to both contacts', () => sink.delivered({ checkId: id, status: 'offline' }).length >= 2, 30_000);
  await sleep(3_000); // rounds keep coming: any duplicate would show up here
  for (const contact of ['/alice', '/bob']) assert.equal(sink.delivered({ checkId: id, status: 'offline', path: contact }).length, 1, `one offline alert to ${contact}`);
  assert.equal(await storedStatus(id), 'offline');

  target.failing.delete('/outage');
  await waitFor('online alerts to both contacts', () => sink.delivered({ checkId: id, status: 'online' }).length >= 2, 30_000);
  await sleep(3_000);
  for (const contact of ['/alice', '/bob']) assert.equal(sink.delivered({ checkId: id, status: 'online', path: contact }).length, 1, `one online alert to ${contact}`);
  assert.equal(await storedStatus(id), 'online');
  assert.deepEqual(await events(id), ['offline', 'online']);
  // Each alert carries the message of the failure and a stable idempotency key.
  const offline = sink.delivered({ checkId: id, status: 'offline' })[0];
  assert.match(offline.message, /status mismatch, got 500 but expected 200/);
  assert.match(offline.key, /^gobearmon-/);
});

test('b. a failure seen from one worker only alerts no one and changes nothing', async () => {
  const id = await addCheck('blip', '/blip', ['/carol']);
  target.failingFor.set('/blip', new Set(['w2']));
  await waitFor('w2 to see the failure a few times', () => target.hitCount('/blip', 'w2') >= 4, 40_000);
  await waitFor('other workers to run it too', () => target.hitCount('/blip', 'w1') + target.hitCount('/blip', 'w3') >= 8, 40_000);
  assert.equal(sink.requests.filter((r) => r.checkId === id).length, 0, 'no alert');
  assert.equal(await storedStatus(id), 'online');
  assert.deepEqual(await events(id), []);
});

test('f. a worker with the wrong password is refused and gets no work', async () => {
  const w4 = cluster.workers[3];
  await waitFor('w4 to log that it was refused', () => w4.events('auth_refused').length > 0);
  assert.ok(cluster.viewserver.events('auth_refused').length > 0, 'the viewserver logged the refusal (401)');
  const status = await cluster.status();
  assert.ok(!status.workers.some((w) => w.name === 'w4'), 'w4 never reached the controller');
  let fromW4 = 0;
  for (const perWorker of target.hits.values()) fromW4 += perWorker.get('w4') ?? 0;
  assert.equal(fromW4, 0, 'w4 ran no check');
  assert.ok(status.workers.filter((w) => w.live).length >= 3, 'the other workers are live');
});
