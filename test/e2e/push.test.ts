/**
 * Push checks end to end on a real cluster (SPEC §8): every route through the real listener
 * processes, alerts through the real outbox, the controller killed after a ping, a sender pinging
 * two nodes with one down, gobearmon ping/run/status, and every receiver stopped for two periods.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort } from '../helpers/ports';
import { startWorld, type World } from '../helpers/e2e';
import { runGobearmon } from '../helpers/run-cli';
import { sleep, waitFor } from '../helpers/wait';

const KEY = 'e2e-ping-key-01';
let w: World;
let pushPorts: number[];
const url = (i: number, path: string) => `http://127.0.0.1:${pushPorts[i]}${path}`;

async function addPush(name: string, data: object, interval: number, contact: string): Promise<number> {
  const res = (await w.db.exec("INSERT INTO checks (name, type, data, check_interval) VALUES (?, 'push', ?, ?)", [name, JSON.stringify(data), interval])) as { insertId: number };
  const c = (await w.db.exec("INSERT INTO contacts (type, data) VALUES ('http', ?)", [w.sink.url(contact)])) as { insertId: number };
  await w.db.exec("INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'both')", [res.insertId, c.insertId]);
  return res.insertId;
}

const pingCount = async (id: number) => Number(((await w.db.exec('SELECT COUNT(*) AS n FROM pings WHERE check_id = ?', [id])) as { n: number }[])[0].n);

/** Pings until it is stored (a node may just have come up). */
async function pingOk(path: string, i = 0, init?: RequestInit): Promise<number> {
  return waitFor(`ping ${path}`, async () => {
    const res = await fetch(url(i, path), init).catch(() => null);
    return res && res.status < 300 ? res.status : null;
  }, 20_000, 200);
}

before(async () => {
  pushPorts = [await freePort(), await freePort()];
  w = await startWorld({ workers: 2, confirmations: 1, workerExtra: (i) => `[push]\naddr = 127.0.0.1:${pushPorts[i]}\nkey = ${KEY}` });
});

after(() => w?.close());

test('every route through the real listeners, the way their clients send them', async () => {
  const id = await addPush('routes', { token: 'e2e-routes-tok', grace: 60 }, 3600, '/routes');
  assert.equal(await pingOk('/ping/e2e-routes-tok'), 200);
  assert.equal(await pingOk('/ping/e2e-routes-tok/start?rid=r1', 1), 200);
  assert.equal(await pingOk('/ping/e2e-routes-tok/0?rid=r1', 1, { method: 'POST', body: 'done' }), 200);
  assert.equal(await pingOk('/ping/e2e-routes-tok/log', 0, { method: 'HEAD' }), 200);
  assert.equal(await pingOk('/api/pings/?service=e2e-routes-tok&&data=', 0, { method: 'POST' }), 200);
  const kuma = await fetch(url(1, '/api/push/e2e-routes-tok?status=up&msg=OK&ping='));
  assert.deepEqual(await kuma.json(), { ok: true });
  const mesh = await fetch(url(0, '/heartbeat'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: KEY, resource: 'host1:backup', payload: 'up 3 days', timeout: 60 }) });
  assert.equal(mesh.status, 201);
  assert.equal((await fetch(url(0, `/ping/${KEY}/made-by-ping?create=1&period=3600`))).status, 201);
  assert.equal((await fetch(url(0, '/ping/e2e-routes-tok/256'))).status, 400);
  assert.equal((await fetch(url(0, '/ping/no-such-token-1'))).status, 404);
  assert.equal(await pingCount(id), 6);
  const kinds = (await w.db.exec("SELECT kind FROM check_events WHERE kind IS NOT NULL ORDER BY id")) as { kind: string }[];
  assert.deepEqual(kinds.map((k) => k.kind), ['new', 'new']);
  // gobearmon status shows push checks (the controller saw them at its next reload).
  await waitFor('status to list the push check', async () => {
    const r = await runGobearmon(['status', '--config', w.cluster.viewserver.cfgPath]);
    return /PUSH CHECK/.test(r.stdout) && /routes\s+up/.test(r.stdout);
  }, 20_000, 500);
});

test('a silent sender times out and alerts; its next ping recovers it with a comeback', async () => {
  const id = await addPush('silent', { token: 'e2e-silent-tok', grace: 1 }, 2, '/silent');
  await pingOk('/ping/e2e-silent-tok');
  await waitFor('the timeout alert', () => w.sink.delivered({ checkId: id, status: 'offline' }).length >= 1, 30_000);
  await pingOk('/ping/e2e-silent-tok', 1);
  await waitFor('the recovery alert', () => w.sink.delivered({ checkId: id, status: 'online' }).length >= 1, 30_000);
  const events = await waitFor('the comeback event', async () => {
    const rows = (await w.db.exec('SELECT type, kind FROM check_events WHERE check_id = ? ORDER BY id', [id])) as { type: string | null; kind: string | null }[];
    return rows.length >= 3 ? rows : null;
  }, 10_000);
  assert.deepEqual(events.slice(0, 3).map((e) => e.type ?? e.kind), ['offline', 'online', 'comeback']);
  await w.db.exec('UPDATE checks SET enabled = 0 WHERE id = ?', [id]); // paused from now on
});

test('gobearmon ping to two nodes with one down stores it; gobearmon run sends start and the exit status', async () => {
  const id = await addPush('cli', { token: 'e2e-cli-token1', grace: 60 }, 3600, '/cli');
  const dead = `http://127.0.0.1:${await freePort()}`;
  await pingOk('/ping/e2e-cli-token1'); // the listeners know the check
  const sent = await runGobearmon(['ping', `${dead}/ping/e2e-cli-token1`, url(1, '/ping/e2e-cli-token1'), '--data', 'hello', '--timeout', '3']);
  assert.equal(sent.code, 0, sent.stderr);
  const none = await runGobearmon(['ping', `${dead}/ping/e2e-cli-token1`, '--timeout', '3']);
  assert.equal(none.code, 1);
  const ran = await runGobearmon(['run', url(0, '/ping/e2e-cli-token1'), '--', 'sh', '-c', 'echo working; exit 3']);
  assert.equal(ran.code, 3);
  const pings = (await w.db.exec('SELECT kind, exit_status, body FROM pings WHERE check_id = ? ORDER BY id', [id])) as { kind: string; exit_status: number | null; body: string }[];
  assert.deepEqual(pings.slice(1).map((p) => [p.kind, p.exit_status, p.body.trim()]), [['success', null, 'hello'], ['start', null, ''], ['fail', 3, 'working']]);
});

test('a ping to node A, then the controller killed: the successor does not alert', async () => {
  const id = await addPush('handover', { token: 'e2e-handover-1', grace: 2 }, 6, '/handover');
  await pingOk('/ping/e2e-handover-1', 0);
  await sleep(1_000);
  const controller = (await w.cluster.controller())!;
  await pingOk('/ping/e2e-handover-1', 0);
  await controller.kill('SIGKILL');
  const other = w.cluster.workers.indexOf(controller) === 0 ? 1 : 0;
  await waitFor('a successor in office', async () => {
    const s = await w.cluster.status().catch(() => null);
    return s?.epoch && s.controller !== controller.addr;
  }, 20_000);
  for (let i = 0; i < 3; i++) {
    await sleep(3_000);
    await pingOk('/ping/e2e-handover-1', other);
  }
  assert.equal(w.sink.delivered({ checkId: id, status: 'offline' }).length, 0);
  assert.equal(await w.storedStatus(id), 'online');
  controller.start();
  await pingOk('/ping/e2e-handover-1', w.cluster.workers.indexOf(controller));
  await w.db.exec('UPDATE checks SET enabled = 0 WHERE id = ?', [id]);
});

test('every receiver stopped for two periods, then restarted: no timeout alert for a sender that kept trying', async () => {
  const id = await addPush('outage', { token: 'e2e-outage-tok', grace: 3 }, 5, '/outage');
  await pingOk('/ping/e2e-outage-tok');
  await sleep(2_500); // every listener has recorded a session since
  await Promise.all(w.cluster.workers.map((n) => n.kill('SIGKILL')));
  let trying = true;
  const sender = (async () => {
    while (trying) {
      await fetch(url(0, '/ping/e2e-outage-tok')).catch(() => null);
      await fetch(url(1, '/ping/e2e-outage-tok')).catch(() => null);
      await sleep(5_000);
    }
  })();
  await sleep(10_000); // two periods
  for (const n of w.cluster.workers) n.start();
  await waitFor('a controller again', async () => (await w.cluster.status().catch(() => null))?.epoch, 30_000);
  await sleep(12_000);
  trying = false;
  await sender;
  assert.equal(w.sink.delivered({ checkId: id, status: 'offline' }).length, 0);
  assert.ok((await pingCount(id)) >= 2, 'pings got through after the restart');
});
