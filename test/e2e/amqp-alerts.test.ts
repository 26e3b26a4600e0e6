/**
 * Alerting from AMQP heartbeats end to end, all real processes (issue 15): `gobearmon publish`
 * (interval 1 s, so its push checks have a period of 3 s) → the real broker → a worker node with
 * [amqp] url → push checks auto-created in MariaDB → the controller's push judge → a webhook sink.
 * a. a component going `not_ok` → its push check goes down at once and its contact is alerted once
 *    (and its recovery once);
 * b. the publisher stopped → its push check `<prefix><publisher>` goes down after period + grace
 *    and its contact is alerted once.
 * The auto-created checks get the default grace (60 s); the test sets `grace` to 2 s as an operator
 * would, so the timeout shows within seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAlertSink, type AlertSink } from '../helpers/alert-sink';
import { Cluster, PROGRAM } from '../helpers/cluster';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { amqpUrl, createVhost, deleteVhost } from '../helpers/rabbitmq';
import { sleep, waitFor } from '../helpers/wait';

const GRACE_S = 2;
const publisherCheck = `al-${hostname()}`.slice(0, 64);

let db: TestDatabase;
let vhost: string;
let dir: string;
let sink: AlertSink;
let cluster: Cluster;
let target: Server;
let apiPort: number;
let publisher: ChildProcess;
const ids = new Map<string, number>();

function listen(port: number): Promise<Server> {
  const s = createServer((c) => c.end());
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

async function status(id: number): Promise<string> {
  return ((await db.exec('SELECT status FROM checks WHERE id = ?', [id])) as { status: string }[])[0].status;
}

/** Deliveries of `status` to `path`, after asserting each idempotency key was delivered only once. */
function deliveries(path: string, st: string) {
  const got = sink.delivered({ path, status: st });
  assert.equal(new Set(got.map((r) => r.key)).size, got.length, `no idempotency key delivered twice to ${path}`);
  return got;
}

before(async () => {
  db = await createTestDatabase('gbm_e2e_amqp_alerts');
  vhost = await createVhost('gbm-alerts');
  dir = mkdtempSync(join(tmpdir(), 'gbm-amqp-alerts-'));
  sink = await startAlertSink();
  target = await listen(0);
  apiPort = (target.address() as { port: number }).port;
  const amqpLines = `[amqp]\nurl = ${amqpUrl(vhost)}\nexchange = hb-ex\nqueue = hb\nroutingKey = hb\n`;
  cluster = await Cluster.start({ dsn: db.urlDsn, workers: 1, confirmations: 1, workerExtra: () => `${amqpLines}prefix = al-\n` });
  writeFileSync(join(dir, 'components.json'), JSON.stringify({ heartbeat: { hosts: [{ host: '127.0.0.1', port: apiPort, name: 'api' }], rmq_consumers: [] } }));
  writeFileSync(join(dir, 'publish.cfg'), `${amqpLines}interval = 1\ncomponents = ${join(dir, 'components.json')}\n`);
  publisher = spawn(process.execPath, [PROGRAM, 'publish', '--config', join(dir, 'publish.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });

  // Both checks are created by the first heartbeat; then an operator shortens grace and adds a contact to each.
  const rows = await waitFor('both push checks created', async () => {
    const r = (await db.exec("SELECT id, name, check_interval FROM checks WHERE type = 'push'")) as { id: number; name: string; check_interval: number }[];
    return r.length === 2 ? r : null;
  }, 60_000, 200);
  assert.deepEqual(rows.map((r) => r.name).sort(), ['al-api', publisherCheck].sort());
  assert.ok(rows.every((r) => Number(r.check_interval) === 3), 'period 3 × the 1 s interval');
  for (const r of rows) {
    ids.set(r.name, Number(r.id));
    await db.exec('UPDATE checks SET data = ? WHERE id = ?', [JSON.stringify({ grace: GRACE_S }), r.id]);
    const c = (await db.exec("INSERT INTO contacts (type, data) VALUES ('http', ?)", [sink.url(`/${r.name}`)])) as { insertId: number };
    await db.exec("INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'both')", [r.id, c.insertId]);
  }
  // Heartbeats keep coming: nothing is down, nobody is alerted (new → up alerts no one).
  await waitFor('pings after the edit', async () => {
    const n = (await db.exec('SELECT COUNT(*) AS n FROM pings WHERE check_id = ?', [ids.get('al-api')!])) as { n: number }[];
    return Number(n[0].n) >= 5;
  }, 30_000, 200);
  await sleep(GRACE_S * 1000 + 3_000);
});

after(async () => {
  publisher?.kill('SIGKILL');
  await cluster?.stop();
  if (target?.listening) await close(target);
  await sink?.close();
  if (vhost) await deleteVhost(vhost);
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a. a component going not_ok: its push check goes down and its contact is alerted once, its recovery once', async () => {
  const api = ids.get('al-api')!;
  assert.equal(sink.requests.length, 0, 'no alert while everything is ok');
  assert.equal(await status(api), 'online');

  await close(target); // the publisher's TCP check of `api` now fails: not_ok
  const [offline] = await waitFor('the offline alert for al-api', () => deliveries('/al-api', 'offline').length ? deliveries('/al-api', 'offline') : null, 30_000, 100);
  assert.equal(offline.checkId, api);
  assert.equal(await status(api), 'offline');
  await sleep(6_000); // not_ok heartbeats keep coming every second: a duplicate would show here
  assert.equal(deliveries('/al-api', 'offline').length, 1, 'one offline alert');
  assert.equal(sink.requests.filter((r) => r.path === '/al-api').length, 1, 'no other request for al-api');
  assert.equal(sink.requests.filter((r) => r.path === `/${publisherCheck}`).length, 0, 'the publisher itself stays up');

  target = await listen(apiPort); // api answers again: ok
  await waitFor('the online alert for al-api', () => deliveries('/al-api', 'online').length ? true : null, 30_000, 100);
  await sleep(4_000);
  assert.equal(deliveries('/al-api', 'online').length, 1, 'one online alert');
  assert.equal(deliveries('/al-api', 'offline').length, 1, 'still one offline alert');
  assert.equal(await status(api), 'online');
});

test('b. the publisher stopped: its push check goes down after period + grace and is alerted once', async () => {
  const pub = ids.get(publisherCheck)!;
  assert.equal(await status(pub), 'online');
  publisher.kill('SIGTERM');
  await new Promise((r) => publisher.once('close', r));
  const stopped = Date.now();
  const lastPing = Number(((await db.exec('SELECT MAX(received_at) AS t FROM pings WHERE check_id = ?', [pub])) as { t: number }[])[0].t);

  const [offline] = await waitFor('the offline alert for the publisher', () => deliveries(`/${publisherCheck}`, 'offline')[0] ? deliveries(`/${publisherCheck}`, 'offline') : null, 60_000, 100);
  console.log(`# publisher's check alerted ${offline.at - stopped} ms after the publisher stopped (period 3 s + grace ${GRACE_S} s)`);
  assert.equal(offline.checkId, pub);
  assert.ok(offline.at >= (Number.isFinite(lastPing) && lastPing > 0 ? lastPing : stopped - 1_000) + (3 + GRACE_S) * 1000 - 500, 'not before period + grace');
  assert.match(offline.message, /./);
  await sleep(5_000);
  assert.equal(deliveries(`/${publisherCheck}`, 'offline').length, 1, 'one offline alert');
  assert.equal(sink.requests.filter((r) => r.path === `/${publisherCheck}`).length, 1, 'no other request for the publisher');
  assert.equal(await status(pub), 'offline');
});
