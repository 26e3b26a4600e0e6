/**
 * The web role's HTTP surface on a real store (MySQL and SQLite): every API route, auth failures and
 * bad parameters, health, badges, public pages without secrets, escaping, and Prometheus text that
 * promtool accepts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { WebServer } from '../../src/web/server';
import { captureLogger, kitConfig } from '../helpers/controller-kit';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { PUSH_TOKEN, SECRET, seedWeb, type Seeded } from '../helpers/web';

const API_KEY = 'api-key-123';
const METRICS_TOKEN = 'metrics-token-456';
const NOW = Date.now();

function webConfig(extra: Record<string, string> = {}) {
  return kitConfig({ web: { addr: '127.0.0.1:1', user: 'admin', password: 'pw', apikey: API_KEY, metricstoken: METRICS_TOKEN, public: 'on', ...extra } });
}

for (const engine of ENGINES) {
  describe(`web on ${engine.name}`, () => {
    let db: EngineDb;
    let store: Store;
    let web: WebServer;
    let ids: Seeded;
    beforeEach(async () => {
      db = await engine.create();
      store = await openStore([db.dsn]);
      await store.migrate();
      ids = await seedWeb(store, NOW);
      // A minute on: flips are stamped by the database's clock, after NOW.
      web = new WebServer({ store, config: webConfig(), log: captureLogger().log, clock: () => NOW + 60_000 });
    });
    afterEach(async () => {
      await web?.close();
      await store?.close();
      await db.drop();
    });

    const get = (url: string, auth: string | null = `Bearer ${API_KEY}`) => web.app.inject({ method: 'GET', url, headers: auth ? { authorization: auth } : {} });
    const post = (url: string, auth: string | null = `Bearer ${API_KEY}`) => web.app.inject({ method: 'POST', url, headers: auth ? { authorization: auth } : {} });

    test('API: list with filters (tags all must match, status, type, name), pages', async () => {
      const all = await get('/api/v1/checks');
      assert.equal(all.statusCode, 200);
      const body = all.json<{ checks: { id: number; name: string; status: string; tags: string[]; last: unknown; uptime: Record<string, number> }[]; total: number }>();
      assert.equal(body.total, 5);
      assert.equal(body.checks[0].name, 'db-us', 'offline first');
      assert.ok(!JSON.stringify(body).includes(SECRET), 'no data in the list');
      const names = async (q: string) => (await get(`/api/v1/checks?${q}`)).json<{ checks: { name: string }[] }>().checks.map((c) => c.name).sort();
      assert.deepEqual(await names('tag=prod&tag=eu'), ['api-eu']);
      assert.deepEqual(await names('tags=prod%20us'), ['db-us']);
      assert.deepEqual(await names('tag=eu'), ['<script>alert(1)</script>', 'api-eu', 'old-thing']);
      assert.deepEqual(await names('status=offline'), ['db-us']);
      assert.deepEqual(await names('status=paused'), ['old-thing']);
      assert.deepEqual(await names('type=push'), ['nightly-backup']);
      assert.deepEqual(await names('q=API'), ['api-eu']);
      const paged = (await get('/api/v1/checks?per=2&page=3')).json<{ checks: unknown[]; page: number; pages: number }>();
      assert.deepEqual([paged.checks.length, paged.page, paged.pages], [1, 3, 3]);
      const apiEu = body.checks.find((c) => c.name === 'api-eu')!;
      assert.deepEqual(apiEu.last, { at: NOW - 30_000, ms: 90, ok: false });
      assert.deepEqual(body.checks.find((c) => c.name === 'nightly-backup')!.last, { at: NOW - 10_000, ms: 0, ok: true }, "a push check's last ping");
      const dbUs = body.checks.find((c) => c.name === 'db-us')!;
      assert.ok(dbUs.uptime['24h'] > 0.99 && dbUs.uptime['24h'] < 1, `flipped down a minute ago: up the rest of the day (${dbUs.uptime['24h']})`);
      assert.equal(dbUs.uptime['30d'] > dbUs.uptime['24h'], true);
    });

    test('API: one check (data masked), flips, history, pings, pause and resume', async () => {
      const one = await get(`/api/v1/checks/${ids.api}`);
      assert.equal(one.statusCode, 200);
      const c = one.json<{ name: string; data: string; tags: string[] }>();
      assert.equal(c.name, 'api-eu');
      assert.deepEqual(c.tags, ['prod', 'eu', 'web']);
      assert.ok(!c.data.includes(SECRET), c.data);
      assert.match(c.data, /admin:••••••@api\.example/);

      const flips = (await get(`/api/v1/checks/${ids.db}/flips`)).json<{ flips: { status: string; message: string }[] }>().flips;
      assert.deepEqual(flips.map((f) => f.status), ['offline']);
      assert.ok(!flips[0].message.includes(SECRET));

      const history = (await get(`/api/v1/checks/${ids.api}/history?minutes=10`)).json<{ minutes: { runs: number; failures: number; meanMs: number; maxMs: number }[] }>().minutes;
      assert.deepEqual(history.map((m) => [m.runs, m.failures, m.meanMs, m.maxMs]), [[2, 0, 20, 30], [1, 1, 90, 90]]);

      const pings = (await get(`/api/v1/checks/${ids.push}/pings`)).json<{ pings: { kind: string; body: string }[]; state: string; deadline: number }>();
      assert.deepEqual(pings.pings.map((p) => p.kind), ['success']);
      assert.equal(pings.state, 'late', 'a minute after NOW the ping expected 50 s after NOW is late (grace 60 s)');
      assert.equal(pings.deadline, NOW - 10_000 + 60_000, 'next expected one interval after the last success');
      const notPush = await get(`/api/v1/checks/${ids.api}/pings`);
      assert.equal(notPush.statusCode, 400);
      assert.match(notPush.json<{ error: string }>().error, /only push checks have pings/);

      assert.deepEqual((await post(`/api/v1/checks/${ids.api}/pause`)).json(), { id: ids.api, enabled: false });
      assert.equal((await get(`/api/v1/checks/${ids.api}`)).json<{ status: string }>().status, 'paused');
      assert.deepEqual((await post(`/api/v1/checks/${ids.api}/pause`)).json(), { id: ids.api, enabled: false }, 'pausing twice is fine');
      assert.deepEqual((await post(`/api/v1/checks/${ids.api}/resume`)).json(), { id: ids.api, enabled: true });
      assert.equal((await store.loadChecks()).some((x) => x.id === ids.api), true, 'the controller loads it again');
    });

    test('API: 401 without or with a wrong key, 404 for unknown checks, 400 with a reason for bad parameters', async () => {
      for (const [url, method] of [['/api/v1/checks', 'GET'], [`/api/v1/checks/${ids.api}`, 'GET'], [`/api/v1/checks/${ids.api}/flips`, 'GET'],
        [`/api/v1/checks/${ids.api}/history`, 'GET'], [`/api/v1/checks/${ids.push}/pings`, 'GET'], [`/api/v1/checks/${ids.api}/pause`, 'POST'], [`/api/v1/checks/${ids.api}/resume`, 'POST']] as const) {
        for (const auth of [null, 'Bearer wrong', `Basic ${API_KEY}`, `Bearer ${METRICS_TOKEN}`]) {
          const res = method === 'GET' ? await get(url, auth) : await post(url, auth);
          assert.equal(res.statusCode, 401, `${method} ${url} with ${auth}`);
          assert.match(res.json<{ error: string }>().error, /unauthorized/);
        }
      }
      assert.equal((await store.loadChecks()).some((x) => x.id === ids.api), true, 'a refused pause changed nothing');
      const bad: [string, RegExp][] = [
        ['/api/v1/checks?status=down', /"status" must be one of online, offline, paused/],
        ['/api/v1/checks?page=0', /"page" must be a whole number from 1/],
        ['/api/v1/checks?per=abc', /"per" must be a whole number/],
        ['/api/v1/checks?color=red', /unknown parameter "color"/],
        ['/api/v1/checks?type=%3Cx%3E', /"type" must be a check type/],
        ['/api/v1/checks?status=online&status=offline', /"status" given more than once/],
        ['/api/v1/checks/abc', /check id must be a positive whole number/],
        ['/api/v1/checks/0/flips', /check id must be a positive whole number/],
        [`/api/v1/checks/${ids.api}/history?minutes=999999999`, /"minutes" must be a whole number from 1 to 129600/],
        [`/api/v1/checks/${ids.api}/flips?days=-1`, /"days" must be a whole number/],
      ];
      for (const [url, why] of bad) {
        const res = await get(url);
        assert.equal(res.statusCode, 400, url);
        assert.match(res.json<{ error: string }>().error, why, url);
      }
      for (const url of ['/api/v1/checks/999999', '/api/v1/checks/999999/flips', '/api/v1/checks/999999/history', '/api/v1/checks/999999/pings']) {
        const res = await get(url);
        assert.equal(res.statusCode, 404, url);
        assert.match(res.json<{ error: string }>().error, /no check with id 999999/);
      }
      assert.equal((await post('/api/v1/checks/999999/pause')).statusCode, 404);
    });

    test('health per tag, badges by token and tag, public pages show no data, messages or secrets', async () => {
      const ok = await get('/health/web', null);
      assert.deepEqual([ok.statusCode, ok.json()], [200, { tag: 'web', status: 'ok', checks: 1, failing: [] }]);
      const failing = await get('/health/prod', null);
      assert.deepEqual([failing.statusCode, failing.json<{ failing: string[] }>().failing], [503, ['db-us']]);
      assert.equal((await get('/health/nope', null)).statusCode, 404);

      const tagBadge = await get('/badge/prod.svg', null);
      assert.equal(tagBadge.statusCode, 200);
      assert.match(tagBadge.headers['content-type'] as string, /image\/svg\+xml/);
      assert.match(tagBadge.body, />down</);
      assert.match((await get('/badge/web.svg?uptime=24h', null)).body, /100\.00%/);
      assert.equal((await get('/badge/web.svg?uptime=1y', null)).statusCode, 400);
      assert.equal((await get('/badge/zzz.svg', null)).statusCode, 404);

      const page = await get('/status', null);
      assert.equal(page.statusCode, 200);
      for (const secret of [SECRET, PUSH_TOKEN, 'api.example', 'refused', 'old-thing', 'ops@example.com']) assert.ok(!page.body.includes(secret), `public page shows ${secret}`);
      assert.ok(page.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'a name is text');
      assert.ok(!page.body.includes('<script>alert(1)'), 'never markup');
      assert.match(page.body, /went down/);
      const tagged = await get('/status/us', null);
      assert.equal(tagged.statusCode, 200);
      assert.ok(tagged.body.includes('db-us') && !tagged.body.includes('api-eu'));
      assert.equal((await get('/status/nope', null)).statusCode, 404);
    });

    test('with public off: status pages 404, health and tag badges need the API key, token badges still work', async () => {
      await web.close();
      web = new WebServer({ store, config: webConfig({ public: 'off' }), log: captureLogger().log, clock: () => NOW });
      assert.equal((await get('/status', null)).statusCode, 404);
      assert.equal((await get('/health/prod', null)).statusCode, 401);
      assert.equal((await get('/health/prod')).statusCode, 503);
      assert.equal((await get('/badge/prod.svg', null)).statusCode, 404);
      // The token shown on the check page.
      const login = await web.app.inject({ method: 'POST', url: '/login', payload: 'user=admin&password=pw', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      const cookie = String(login.headers['set-cookie']).split(';')[0];
      const checkPage = await web.app.inject({ method: 'GET', url: `/check/${ids.api}`, headers: { cookie } });
      const token = /\/badge\/([A-Za-z0-9_-]+)\.svg/.exec(checkPage.body)?.[1];
      assert.ok(token);
      const badge = await get(`/badge/${token}.svg`, null);
      assert.equal(badge.statusCode, 200);
      assert.match(badge.body, />api-eu</);
    });

    test('dashboard: login required, wrong password refused, pages escape names and mask data', async () => {
      const anon = await web.app.inject({ method: 'GET', url: '/' });
      assert.equal(anon.statusCode, 303);
      assert.equal(anon.headers.location, '/login?next=%2F');
      assert.equal((await web.app.inject({ method: 'GET', url: '/ui/rows' })).statusCode, 401);
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const wrong = await web.app.inject({ method: 'POST', url: '/login', payload: 'user=admin&password=nope', headers: form });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.headers['set-cookie'], undefined);
      const forged = await web.app.inject({ method: 'GET', url: '/', headers: { cookie: `gbm_session=${NOW + 100_000}.AAAA` } });
      assert.equal(forged.statusCode, 303);
      const login = await web.app.inject({ method: 'POST', url: '/login', payload: 'user=admin&password=pw&next=//evil.example/', headers: form });
      assert.equal(login.statusCode, 303);
      assert.equal(login.headers.location, '/', 'no open redirect');
      const cookie = String(login.headers['set-cookie']).split(';')[0];
      const dash = await web.app.inject({ method: 'GET', url: '/', headers: { cookie } });
      assert.equal(dash.statusCode, 200);
      assert.ok(dash.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;') && !dash.body.includes('<script>alert(1)'));
      assert.ok(dash.body.includes('&lt;b&gt;x&lt;/b&gt;') || dash.body.includes('&lt;b&gt;'), 'tags escaped');
      assert.ok(!dash.body.includes(SECRET));
      for (const id of [ids.api, ids.db, ids.xss, ids.push]) {
        const page = await web.app.inject({ method: 'GET', url: `/check/${id}`, headers: { cookie } });
        assert.equal(page.statusCode, 200, `check ${id}`);
        assert.ok(!page.body.includes(SECRET), `check ${id} page shows the secret`);
        assert.ok(!page.body.includes('<script>alert(1)') && !page.body.includes('<img src=x'), `check ${id} page has markup from the database`);
      }
      const push = await web.app.inject({ method: 'GET', url: `/check/${ids.push}`, headers: { cookie } });
      assert.match(push.body, /backup done &lt;img src=x/);
      assert.match(push.body, /next deadline/);
      const dbPage = await web.app.inject({ method: 'GET', url: `/check/${ids.db}`, headers: { cookie } });
      assert.match(dbPage.body, /smtp 451 try later/);
      assert.equal((await web.app.inject({ method: 'GET', url: '/check/999999', headers: { cookie } })).statusCode, 404);
      assert.equal((await web.app.inject({ method: 'GET', url: '/?status=bogus', headers: { cookie } })).statusCode, 400);
    });

    test('the login is rate-limited', async () => {
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const codes: number[] = [];
      for (let i = 0; i < 12; i++) codes.push((await web.app.inject({ method: 'POST', url: '/login', payload: 'user=admin&password=guess', headers: form })).statusCode);
      assert.deepEqual(codes.slice(0, 10), Array(10).fill(401));
      assert.deepEqual(codes.slice(10), [429, 429]);
    });

    test('/metrics: token required, text format 0.0.4 that promtool accepts, no check data in labels', async () => {
      assert.equal((await get('/metrics', null)).statusCode, 401);
      assert.equal((await get('/metrics', `Bearer ${API_KEY}`)).statusCode, 401);
      const res = await get('/metrics', `Bearer ${METRICS_TOKEN}`);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      const text = res.body;
      assert.match(text, new RegExp(`gobearmon_check_up\\{id="${ids.db}",name="db-us",type="tcp",tags="prod,us"\\} 0`));
      assert.match(text, new RegExp(`gobearmon_check_duration_seconds\\{id="${ids.api}",[^}]*\\} 0.09`));
      assert.match(text, new RegExp(`gobearmon_push_last_ping_timestamp_seconds\\{id="${ids.push}",[^}]*\\} ${(NOW - 10_000) / 1000}`));
      assert.match(text, /^gobearmon_flips_total 1$/m);
      assert.match(text, /^gobearmon_alerts_failed_total 1$/m);
      assert.match(text, /^gobearmon_results_total 4$/m);
      assert.match(text, /^gobearmon_controller_epoch 1$/m);
      assert.match(text, /^gobearmon_process_resident_memory_bytes \d+/m);
      assert.ok(!text.includes(SECRET) && !text.includes('api.example') && !text.includes('old-thing'));
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
    });
  });
}
