/**
 * The ping API (SPEC §8.2) on a real listener and a real store, both engines: every route, the
 * compatibility routes as their clients send them, bad input refused with nothing stored, body
 * limits, basic auth, and the group commit under concurrency.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PingIngest } from '../../src/push/ingest';
import { PushListener } from '../../src/push/listener';
import { PINGS_KEPT, PushStore } from '../../src/push/store';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { silentLogger } from '../../src/util/log';
import { ENGINES, type EngineDb } from '../helpers/engines';

const KEY = 'cluster-ping-key-1';
const TOKEN = 'tok-backup-0001';
const KUMA = 'kumaPushToken01';

interface Rig {
  db: EngineDb;
  store: Store;
  push: PushStore;
  open: PushListener;
  authed: PushListener;
  url: string;
  authUrl: string;
}

async function rig(engine: (typeof ENGINES)[number]): Promise<Rig> {
  const db = await engine.create();
  const store = await openStore([db.dsn]);
  await store.migrate();
  const push = new PushStore(store);
  await store.driver.run("INSERT INTO checks (name, type, data, check_interval) VALUES ('backup', 'push', ?, 3600)", [JSON.stringify({ token: TOKEN, grace: 300 })]);
  await store.driver.run("INSERT INTO checks (name, type, data, check_interval) VALUES ('kuma', 'push', ?, 60)", [JSON.stringify({ token: KUMA })]);
  const make = async (basicAuth: string) => {
    const ingest = new PingIngest({ store: push, node: 'node-a', log: silentLogger });
    await ingest.start();
    const l = new PushListener({ addr: '127.0.0.1:0', key: KEY, basicAuth, ingest, store: push, node: 'node-a', log: silentLogger });
    await l.start();
    return l;
  };
  const open = await make('');
  const authed = await make('root:s3cret pass');
  return { db, store, push, open, authed, url: `http://127.0.0.1:${open.port}`, authUrl: `http://127.0.0.1:${authed.port}` };
}

const idOf = async (r: Rig, name: string) => Number((await r.store.driver.all('SELECT id FROM checks WHERE name = ? ORDER BY id', [name]))[0]?.id);
const count = async (r: Rig, sql = 'SELECT COUNT(*) AS n FROM pings') => Number((await r.store.driver.all(sql))[0].n);

for (const engine of ENGINES) {
  describe(`ping API on ${engine.name}`, () => {
    let r: Rig;
    before(async () => {
      r = await rig(engine);
    });
    after(async () => {
      await r.open.close();
      await r.authed.close();
      await r.store.close();
      await r.db.drop();
    });

    test('/ping/<token>: 200 OK, durable before the answer, facts updated', async () => {
      const res = await fetch(`${r.url}/ping/${TOKEN}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK\n');
      const id = await idOf(r, 'backup');
      const [p] = await r.push.recentPings(id);
      assert.deepEqual([p.kind, p.node, p.route, p.remote], ['success', 'node-a', 'ping', '127.0.0.1']);
      const state = (await r.push.states()).find((s) => s.checkId === id)!;
      assert.equal(state.lastSuccessAt, p.receivedAt);
    });

    test('start / fail / exit status / log, with rid and data, GET HEAD POST alike', async () => {
      const id = await idOf(r, 'backup');
      assert.equal((await fetch(`${r.url}/ping/${TOKEN}/start?rid=run-1`, { method: 'HEAD' })).status, 200);
      let s = (await r.push.states()).find((x) => x.checkId === id)!;
      assert.deepEqual([s.runRid, s.runStartedAt !== null], ['run-1', true]);
      assert.equal((await fetch(`${r.url}/ping/${TOKEN}/0?rid=run-1`, { method: 'POST', body: 'all good' })).status, 200);
      s = (await r.push.states()).find((x) => x.checkId === id)!;
      assert.equal(s.runStartedAt, null);
      assert.equal((await fetch(`${r.url}/ping/${TOKEN}/fail`, { method: 'POST', body: 'disk full ✗' })).status, 200);
      assert.equal((await fetch(`${r.url}/ping/${TOKEN}/3?data=partial`)).status, 200);
      assert.equal((await fetch(`${r.url}/ping/${TOKEN}/log`, { method: 'POST', body: 'just saying' })).status, 200);
      s = (await r.push.states()).find((x) => x.checkId === id)!;
      assert.deepEqual([s.lastOutcome, s.lastMessage, s.fails, s.lastKind], ['fail', 'exit status 3: partial', 2, 'log']);
      const kinds = (await r.push.recentPings(id, 5)).map((p) => [p.kind, p.exitStatus, p.body]);
      assert.deepEqual(kinds, [['log', null, 'just saying'], ['fail', 3, 'partial'], ['fail', null, 'disk full ✗'], ['success', 0, 'all good'], ['start', null, '']]);
    });

    test('bad tokens, unknown tokens and exit status 256: 4xx, nothing stored', async () => {
      const before = await count(r);
      const cases: [string, number][] = [
        [`/ping/short`, 400], [`/ping/unknown-token-1`, 404], [`/ping/${TOKEN}/256`, 400], [`/ping/${TOKEN}/reboot`, 400],
        [`/ping/${TOKEN}/start/extra`, 404], [`/ping/${TOKEN}?rid=${'x'.repeat(65)}`, 400], ['/nothing/here', 404], ['/api/push/nope', 400],
        ['/api/pings/?service=unknown-svc-1', 404], [`/ping/${KEY}/no-such-check`, 404], ['/ping/%E0%A4%A', 400],
      ];
      for (const [path, status] of cases) {
        const res = await fetch(`${r.url}${path}`, { method: 'POST' });
        assert.equal(res.status, status, path);
        assert.ok((await res.text()).length > 1, `${path} says why`);
      }
      assert.equal(await count(r), before);
    });

    test('/ping/<key>/<name>?create=1 creates the check (201) and raises new; then 200', async () => {
      const first = await fetch(`${r.url}/ping/${KEY}/nightly%20report?create=1&period=120`);
      assert.equal(first.status, 201);
      const id = await idOf(r, 'nightly report');
      const [row] = await r.store.driver.all('SELECT type, data, check_interval, enabled FROM checks WHERE id = ?', [id]);
      assert.deepEqual([row.type, row.data, Number(row.check_interval), Number(row.enabled)], ['push', '{}', 120, 1]);
      assert.deepEqual((await r.push.lifecycleEvents(id)).map((e) => e.kind), ['new']);
      assert.equal((await fetch(`${r.url}/ping/${KEY}/nightly%20report/start?create=1`)).status, 200);
      assert.equal((await fetch(`${r.url}/ping/${KEY}/nightly%20report`)).status, 200);
      assert.equal((await r.store.driver.all("SELECT id FROM checks WHERE name = 'nightly report'")).length, 1);
      assert.deepEqual((await r.push.lifecycleEvents(id)).map((e) => e.kind), ['new']);
    });

    test('deregister disables the check with an event; a later ping brings it back', async () => {
      const res = await fetch(`${r.url}/ping/${KEY}/nightly%20report/deregister`, { method: 'POST' });
      assert.equal(res.status, 200);
      const id = await idOf(r, 'nightly report');
      const enabled = async () => Number((await r.store.driver.all('SELECT enabled FROM checks WHERE id = ?', [id]))[0].enabled);
      assert.equal(await enabled(), 0);
      assert.deepEqual((await r.push.lifecycleEvents(id)).map((e) => e.kind), ['new', 'deregistered']);
      assert.equal((await fetch(`${r.url}/ping/${KEY}/nightly%20report`)).status, 200);
      assert.equal(await enabled(), 1);
    });

    test('Heartbeats: curl -u user:pass -X POST \'…/api/pings/?service=…&&data=…\' (401 without auth)', async () => {
      const id = await idOf(r, 'backup');
      const auth = `Basic ${Buffer.from('root:s3cret pass').toString('base64')}`;
      const before = await count(r);
      const refused = await fetch(`${r.authUrl}/api/pings/?service=${TOKEN}&&data=`, { method: 'POST' });
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /Basic/);
      const wrong = await fetch(`${r.authUrl}/ping/${TOKEN}`, { headers: { authorization: `Basic ${Buffer.from('root:nope').toString('base64')}` } });
      assert.equal(wrong.status, 401);
      assert.equal(await count(r), before);
      assert.equal((await fetch(`${r.authUrl}/api/pings/?service=${TOKEN}&&data=`, { method: 'POST', headers: { authorization: auth } })).status, 200);
      assert.equal((await r.push.recentPings(id, 1))[0].kind, 'success');
      assert.equal((await fetch(`${r.authUrl}/api/pings/?service=${TOKEN}&&data=123`, { method: 'POST', headers: { authorization: auth } })).status, 200);
      const [p] = await r.push.recentPings(id, 1);
      assert.deepEqual([p.kind, p.body, p.route], ['fail', '123', 'heartbeats']);
    });

    test('Uptime Kuma: GET /api/push/<token>?status=&msg=&ping= answers its JSON', async () => {
      const id = await idOf(r, 'kuma');
      const up = await fetch(`${r.url}/api/push/${KUMA}?status=up&msg=OK&ping=12`);
      assert.equal(up.status, 200);
      assert.deepEqual(await up.json(), { ok: true });
      const down = await fetch(`${r.url}/api/push/${KUMA}?status=down&msg=queue%20stuck&ping=`);
      assert.equal(down.status, 200);
      assert.deepEqual((await r.push.recentPings(id, 2)).map((p) => [p.kind, p.body]), [['fail', 'queue stuck'], ['success', 'OK (ping 12 ms)']]);
      const missing = await fetch(`${r.url}/api/push/notAKumaToken?status=up`);
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { ok: false, msg: 'no push check has this token' });
    });

    test('heartbeat-mesh: POST /heartbeat JSON creates the resource with timeout minutes; deregister', async () => {
      const body = JSON.stringify({ token: KEY, resource: 'host1.example.com:service', payload: { uptime: '3 days' }, timeout: 10 });
      const first = await fetch(`${r.url}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(first.status, 201);
      const id = await idOf(r, 'host1.example.com:service');
      assert.equal(Number((await r.store.driver.all('SELECT check_interval FROM checks WHERE id = ?', [id]))[0].check_interval), 600);
      assert.equal((await r.push.recentPings(id, 1))[0].body, '{"uptime":"3 days"}');
      const wrongKey = await fetch(`${r.url}/heartbeat`, { method: 'POST', body: JSON.stringify({ token: 'wrong-key-123', resource: 'x' }) });
      assert.equal(wrongKey.status, 404);
      assert.equal((await fetch(`${r.url}/heartbeat`, { method: 'POST', body: '{not json' })).status, 400);
      assert.equal((await fetch(`${r.url}/heartbeat`)).status, 405);
      const dereg = await fetch(`${r.url}/heartbeat`, { method: 'POST', body: JSON.stringify({ token: KEY, resource: 'host1.example.com:service', deregister: true }) });
      assert.equal(dereg.status, 200);
      assert.deepEqual((await r.push.lifecycleEvents(id)).map((e) => e.kind), ['new', 'deregistered']);
    });

    test('a body over 10 kB is kept cut at 10 KiB (whole characters); over 1 MiB is refused 413 and not stored', async () => {
      const id = await idOf(r, 'backup');
      const big = 'é'.repeat(8000); // 16,000 bytes
      assert.equal((await fetch(`${r.url}/ping/${TOKEN}/log`, { method: 'POST', body: big })).status, 200);
      const [p] = await r.push.recentPings(id, 1);
      assert.equal(p.body, 'é'.repeat(5120));
      const before = await count(r);
      const huge = await fetch(`${r.url}/ping/${TOKEN}/log`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
      assert.equal(huge.status, 413);
      assert.equal(await count(r), before);
    });

    test('200 concurrent pings: all acknowledged in fewer transactions; the last 100 kept', async () => {
      const id = await idOf(r, 'kuma');
      const ingest = (r.open as unknown as { opts: { ingest: PingIngest } }).opts.ingest;
      const batches = ingest.counters.batches;
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => fetch(`${r.url}/api/push/${KUMA}?msg=n${i}`).then((res) => res.status)));
      assert.deepEqual(new Set(answers), new Set([200]));
      // Pings that arrive together share a transaction (over HTTP that depends on timing, so asked directly).
      const before = ingest.counters.batches;
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ingest.record([{ target: { token: KUMA }, kind: 'log', body: `c${i}`, route: 'test' }])));
      assert.equal(results.flat().filter((x) => x.status === 200).length, 50);
      assert.ok(ingest.counters.batches - before <= 3, `group commit: ${ingest.counters.batches - before} transactions for 50 concurrent pings`);
      assert.ok(batches > 0);
      const kept = await count(r, `SELECT COUNT(*) AS n FROM pings WHERE check_id = ${id}`);
      assert.ok(kept >= PINGS_KEPT && kept < PINGS_KEPT + 20, `kept ${kept}`);
    });

    test('the bare route answers without the store', async () => {
      const res = await fetch(`${r.url}/`);
      assert.equal(res.status, 200);
    });
  });
}
