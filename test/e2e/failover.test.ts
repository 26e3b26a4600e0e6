/**
 * End to end with real processes (SPEC §5), three worker nodes and a viewserver on loopback:
 * c. SIGKILL the controller: another is elected, checks keep running, alerts stay exactly-once;
 * d. SIGKILL the controller while a flip's webhook answers slowly: in the end one alert;
 * e. restart the viewserver: monitoring goes on and nothing flips because of it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, type NodeProcess } from '../helpers/cluster';
import { startWorld, type World } from '../helpers/e2e';
import { sleep } from '../helpers/wait';

let w: World;
const eventCount = async (checkId?: number) => (await w.events(checkId)).length;

/** Kills the active controller's node with SIGKILL; resolves once another one is in office. */
async function killController(): Promise<{ killed: NodeProcess; epoch: number }> {
  const before = await w.cluster.status();
  const killed = w.cluster.workers.find((n) => n.addr === before.controller)!;
  await killed.kill('SIGKILL');
  const after = await waitFor('a new controller in office', async () => {
    const s = await w.cluster.status().catch(() => null);
    return s && s.controller !== killed.addr && s.epoch && s.epoch > before.epoch! ? s : null;
  }, 20_000);
  return { killed, epoch: after.epoch! };
}

before(async () => {
  w = await startWorld({ workers: 3, confirmations: 2 });
});

after(() => w?.close());

test('c. SIGKILL of the controller: a new one takes over, checks keep running, alerts stay exactly-once', async () => {
  const id = await w.addCheck('steady', '/steady', ['/dave']);
  await waitFor('the check to run', () => w.target.hitCount('/steady') >= 3);
  const { killed } = await killController();
  const hits = w.target.hitCount('/steady');
  await waitFor('checks to keep running under the new controller', () => w.target.hitCount('/steady') >= hits + 3, 15_000);

  w.target.failing.add('/steady');
  await waitFor('the offline alert', () => w.sink.delivered({ checkId: id, status: 'offline' }).length >= 1, 30_000);
  w.target.failing.delete('/steady');
  await waitFor('the online alert', () => w.sink.delivered({ checkId: id, status: 'online' }).length >= 1, 30_000);
  await sleep(2_000);
  assert.equal(w.sink.delivered({ checkId: id, status: 'offline' }).length, 1);
  assert.equal(w.sink.delivered({ checkId: id, status: 'online' }).length, 1);
  assert.equal(await eventCount(id), 2);
  killed.start(); // back to three workers for what follows
  await waitFor('the restarted node to work again', async () => (await w.cluster.status()).workers.filter((n) => n.live).length === 3, 20_000);
});

test('d. SIGKILL of the controller while a flip is being alerted: exactly one alert in the end', async () => {
  const id = await w.addCheck('slow hook', '/slowpath', ['/slowhook']);
  let first = true;
  w.sink.delayFor = (req) => {
    if (req.path !== '/slowhook' || !first) return 0;
    first = false;
    return 6_000; // the first delivery hangs while its controller is killed
  };
  await waitFor('the check to run', () => w.target.hitCount('/slowpath') >= 2);
  w.target.failing.add('/slowpath');
  await waitFor('the first delivery to start', () => w.sink.requests.some((r) => r.path === '/slowhook'), 30_000);
  const { epoch } = await killController();
  await waitFor('the new controller to deliver it', () => w.sink.delivered({ path: '/slowhook' }).length >= 1, 30_000);
  await sleep(7_000); // past the first delivery's delay: it must not count, nor anything else arrive
  const requests = w.sink.requests.filter((r) => r.path === '/slowhook');
  assert.equal(w.sink.delivered({ path: '/slowhook' }).length, 1, 'one delivered alert');
  assert.ok(requests[0].aborted, 'the first attempt died with its controller');
  assert.equal(new Set(requests.map((r) => r.key)).size, 1, 'every attempt carried the same idempotency key');
  assert.equal(await eventCount(id), 1, 'the flip was recorded once');
  const [row] = (await w.db.exec('SELECT state FROM alert_outbox WHERE check_id = ?', [id])) as { state: string }[];
  assert.equal(row.state, 'sent');
  const attempts = (await w.db.exec('SELECT a.epoch, a.ok FROM alert_attempts a JOIN alert_outbox o ON o.id = a.outbox_id WHERE o.check_id = ?', [id])) as { epoch: number; ok: number }[];
  assert.deepEqual(attempts.map((a) => [Number(a.epoch), Number(a.ok)]), [[epoch, 1]], 'the successful attempt is recorded under the new epoch');
  w.target.failing.delete('/slowpath');
});

test('e. restarting the viewserver: monitoring goes on, the controller stays, nothing flips', async () => {
  await sleep(3_000); // let the previous scenario's recovery settle
  const id = await w.addCheck('calm', '/calm', ['/erin']);
  await waitFor('the check to run', () => w.target.hitCount('/calm') >= 3);
  const before = await w.cluster.status();
  const events = await eventCount();
  const linesBefore = w.cluster.viewserver.lines.length;
  await w.cluster.viewserver.kill('SIGKILL');
  const hits = w.target.hitCount('/calm');
  await waitFor('checks to keep running without a viewserver', () => w.target.hitCount('/calm') >= hits + 3, 15_000);
  w.cluster.viewserver.start();
  const afterRestart = await waitFor('the viewserver to name a controller', async () => {
    const s = await w.cluster.status().catch(() => null);
    return s?.controller ? s : null;
  }, 15_000);
  assert.equal(afterRestart.controller, before.controller, 'the same controller stays in office');
  assert.equal(afterRestart.epoch, before.epoch, 'no new election in the database');
  const hitsAfter = w.target.hitCount('/calm');
  await waitFor('checks to keep running', () => w.target.hitCount('/calm') >= hitsAfter + 3, 15_000);
  assert.equal(await eventCount(), events, 'no flip happened');
  assert.equal(w.cluster.viewserver.lines.slice(linesBefore).filter((l) => l.event === 'failover').length, 0);
  assert.equal(w.sink.requests.filter((r) => r.checkId === id).length, 0);
});
