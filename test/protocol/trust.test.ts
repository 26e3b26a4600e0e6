/**
 * Node-to-node trust over real sockets: real Controllers (SQLite stores) and a real Viewserver in
 * this process. A request is authenticated before its body is parsed (a bad body unsigned is a
 * 401, never a schema 400), bodies are bounded, a captured signed probe replayed to another node or
 * to the same node is refused, and a viewserver whose clock is off says so and mails the admin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { buildConfig, parseIni } from '../../src/config/load';
import { Controller } from '../../src/controller/controller';
import { AUTH_HEADER, TO_HEADER } from '../../src/protocol/auth';
import { PeerClient, PeerError } from '../../src/protocol/client';
import type { ControllerStatus } from '../../src/protocol/messages';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { Viewserver } from '../../src/viewserver/viewserver';
import { PASSWORD, captureLogger, kitConfig, sleep, waitFor } from '../helpers/controller-kit';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { freePort } from '../helpers/ports';
import { startSmtp, type TestSmtp } from '../helpers/smtp';

const SQLITE = ENGINES.find((e) => e.name === 'sqlite')!;
const ADMIN = 'admin@example.org';

interface Ctl {
  addr: string;
  controller: Controller;
  store: Store;
  logs: ReturnType<typeof captureLogger>;
  /** Signed requests this controller received, as a sniffer on the wire would see them. */
  seen: { url: string; headers: Record<string, string>; body: string }[];
}

describe('node-to-node trust', () => {
  let db: EngineDb;
  let smtp: TestSmtp;
  const ctls: Ctl[] = [];
  const client = new PeerClient(PASSWORD);

  before(async () => {
    db = await SQLITE.create();
    const store = await openStore([db.dsn]);
    await store.migrate();
    await store.close();
    smtp = await startSmtp();
  });
  after(async () => {
    for (const c of ctls) {
      await c.controller.close();
      await c.store.close();
    }
    await client.close();
    await smtp.close();
    await db.drop();
  });

  async function startController(name: string): Promise<Ctl> {
    const port = await freePort();
    const addr = `127.0.0.1:${port}`;
    const store = await openStore([db.dsn]);
    const logs = captureLogger();
    const config = kitConfig({ controller: { addr, database: db.dsn, reloadInterval: '3600' }, worker: { name } });
    const controller = new Controller({ store, config, log: logs.log });
    const ctl: Ctl = { addr, controller, store, logs, seen: [] };
    controller.app.addHook('preHandler', async (req) => {
      ctl.seen.push({ url: req.url, headers: { ...(req.headers as Record<string, string>) }, body: req.rawBody ?? '' });
    });
    await controller.listen();
    ctls.push(ctl);
    return ctl;
  }

  const status = (c: Ctl) => client.call<ControllerStatus>(c.addr, '/status', undefined, { timeoutMs: 10_000 });

  /** Sends exactly these headers and body (as a replaying attacker would). */
  async function raw(addr: string, url: string, headers: Record<string, string>, body: string | Buffer) {
    const res = await request(`http://${addr}${url}`, { method: 'POST', headers, body });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  }

  test('an unsigned request is refused before its body is looked at: 401, never a schema 400', async () => {
    const a = await startController('trustA');
    const headers = { 'content-type': 'application/json' };
    for (const body of ['{}', '{"worker": 5}', 'not json at all', JSON.stringify({ worker: 'w', view: 0, slots: -1 })]) {
      const res = await raw(a.addr, '/work', headers, body);
      assert.equal(res.status, 401, body);
      assert.doesNotMatch(res.text, /body|must have|should|required|schema/i, `no schema details for ${body}`);
    }
    // Signed but malformed: now the schema may speak.
    const bad = await client.call(a.addr, '/work', { worker: 'w', view: 0, slots: -1 }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    assert.ok(bad instanceof PeerError);
    assert.equal(bad.statusCode, 400);
    // Signed and larger than 1 MiB: 413 (the worker splits its batches below it).
    const big = await client.call(a.addr, '/results', { worker: 'w', view: 0, results: [], pad: 'x'.repeat(1_100_000) }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    assert.ok(big instanceof PeerError);
    assert.equal(big.statusCode, 413);
    // Refusals are logged, and a flood of one kind is one line with a count, not one line each.
    const before = a.logs.events('auth_refused').length;
    for (let i = 0; i < 200; i++) assert.equal((await raw(a.addr, '/probe', headers, '{}')).status, 401);
    assert.ok(a.logs.events('auth_refused').length - before <= 1, `${a.logs.events('auth_refused').length - before} lines for 200 refusals`);
  });

  test('a captured signed probe replayed to another node, or to the same node, is refused', async () => {
    const a = await startController('replayA');
    const b = await startController('replayB');
    const vsPort = await freePort();
    const vsConfig = buildConfig(parseIni([
      '[default]', `password = ${PASSWORD}`,
      '[viewserver]', `addr = 127.0.0.1:${vsPort}`, `controller = ${a.addr}`, 'probeInterval = 0.2', 'probeTimeout = 1',
    ].join('\n'), 'vs.cfg'), 'vs.cfg');
    const vs = new Viewserver(vsConfig, captureLogger().log, async () => undefined);
    await vs.start();
    try {
      // The real viewserver elects A; a sniffer on A's wire keeps one of its probes naming A active.
      const captured = await waitFor('a probe naming A active', () => a.seen.find((r) => r.url === '/probe' && /"active":true/.test(r.body)), 20_000);
      await waitFor('A in office', async () => (await status(a)).inOffice, 20_000);
      const epochB = (await status(b)).epoch;
      const headers = { 'content-type': 'application/json', [AUTH_HEADER]: captured.headers[AUTH_HEADER], [TO_HEADER]: captured.headers[TO_HEADER] };

      const toB = await raw(b.addr, '/probe', headers, captured.body);
      assert.equal(toB.status, 401);
      assert.match(toB.text, /another node/);
      const toA = await raw(a.addr, '/probe', headers, captured.body);
      assert.equal(toA.status, 401);
      assert.match(toA.text, /replayed/);
      // Rewriting the recipient breaks the signature.
      const rewritten = await raw(b.addr, '/probe', { ...headers, [TO_HEADER]: b.addr }, captured.body);
      assert.equal(rewritten.status, 401);
      assert.match(rewritten.text, /bad signature/);

      for (let i = 0; i < 20; i++) await raw(b.addr, '/probe', headers, captured.body);
      await sleep(500);
      const sb = await status(b);
      assert.equal(sb.inOffice, false, 'a replayed probe does not make B take office');
      assert.equal(sb.epoch, epochB);
    } finally {
      await vs.close();
    }
  });

  test('a viewserver whose clock is 60 s off logs "clock skew of N s between A and B" and mails the admin once', async () => {
    const a = await startController('skewA');
    const vsPort = await freePort();
    const vsConfig = buildConfig(parseIni([
      '[default]', `password = ${PASSWORD}`,
      '[viewserver]', `addr = 127.0.0.1:${vsPort}`, `controller = ${a.addr}`, 'probeInterval = 0.1', 'probeTimeout = 1',
      '[smtp]', 'host = 127.0.0.1', `port = ${smtp.port}`, `admin = ${ADMIN}`,
    ].join('\n'), 'vs.cfg'), 'vs.cfg');
    const logs = captureLogger();
    const vs = new Viewserver(vsConfig, logs.log, undefined, { clock: () => Date.now() + 60_000 });
    await vs.start();
    try {
      const line = await waitFor('a clock_skew line', () => logs.events('clock_skew')[0], 20_000);
      assert.match(String(line.msg), new RegExp(`^clock skew of -60 s between the viewserver \\(127\\.0\\.0\\.1:${vsPort}\\) and ${a.addr.replace(/\./g, '\\.')}`));
      assert.equal(line.skew_s, -60);
      const mail = await waitFor('the admin mail', () => smtp.received.find((m) => m.to.includes(ADMIN) && /clock skew/.test(m.subject)), 20_000);
      assert.match(mail.text, /Check NTP/);
      await sleep(1_500); // ~15 more refused probes
      assert.equal(logs.events('clock_skew').length, 1, 'the log line is rate-limited');
      assert.equal(smtp.received.filter((m) => /clock skew/.test(m.subject)).length, 1, 'so is the mail');
      assert.equal((await status(a)).inOffice, false, 'nothing is elected on skewed probes');
      // The controller's side says why too.
      assert.match(String(a.logs.events('auth_refused').at(-1)?.reason), /clock skew/);
    } finally {
      await vs.close();
    }
  });
});

