/**
 * The Controller in-process against a real database (MySQL, and SQLite where noted), driven over
 * its signed HTTP routes as the viewserver and the workers drive it, with a real webhook receiver
 * and a real SMTP server for the admin mail: office, work, results, flips, alerts, fencing.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Status } from '../../src/checks/types';
import type { Config } from '../../src/config/types';
import { Controller } from '../../src/controller/controller';
import { AUTH_HEADER } from '../../src/protocol/auth';
import { PeerClient, PeerError } from '../../src/protocol/client';
import type { Assignment, ControllerStatus, WorkResponse } from '../../src/protocol/messages';
import { openStore } from '../../src/store/open';
import type { CheckRow, Store } from '../../src/store/store';
import {
  PASSWORD, addCheck, addContact, captureLogger, count, kitConfig, signedCaller, signedHeaders, sleep, startSelectiveWebhook, statusOf, waitFor, type Answer,
} from '../helpers/controller-kit';
import { ENGINES, type Engine, type EngineDb } from '../helpers/engines';
import { startSmtp, type TestSmtp } from '../helpers/smtp';
import { startWebhook, type TestWebhook } from '../helpers/webhook';

const MYSQL = ENGINES.find((e) => e.name === 'mysql')!;
const ADMIN = 'admin@example.org';

interface Node {
  name: string;
  config: Config;
  controller: Controller;
  store: Store;
  call: ReturnType<typeof signedCaller>;
  logs: ReturnType<typeof captureLogger>;
}

/** One test's world: a database, a webhook, an SMTP server, and the controllers it starts. */
class World {
  db!: EngineDb;
  /** The test's own connection, for seeding and for reading what the controllers wrote. */
  store!: Store;
  hook!: TestWebhook;
  smtp!: TestSmtp;
  check!: CheckRow;
  nodes: Node[] = [];

  async open(engine: Engine): Promise<void> {
    this.db = await engine.create();
    this.store = await openStore([this.db.dsn]);
    await this.store.migrate();
    this.hook = await startWebhook();
    this.smtp = await startSmtp();
    // Interval 1 s so that a second round of confirmations comes one second after the first.
    this.check = await addCheck(this.store, { name: 'web', interval: 1, delay: 1 });
  }

  /** A controller on its own Store (its own connections), as on its own host. */
  async controller(name: string, controller: Record<string, string> = {}, clock?: () => number): Promise<Node> {
    const store = await openStore([this.db.dsn]);
    const logs = captureLogger();
    const config = kitConfig({
      controller: { confirmations: '2', reloadInterval: '3600', alertRetryBase: '0.05', alertRetryMax: '0.4', alertMaxAttempts: '4', ...controller },
      worker: { name },
      smtp: { host: '127.0.0.1', port: this.smtp.port, from: 'gobearmon@example.org', admin: ADMIN },
    });
    const ctl = new Controller({ store, config, log: logs.log, clock });
    const node: Node = { name, config, controller: ctl, store, call: signedCaller(ctl.app), logs };
    this.nodes.push(node);
    return node;
  }

  async close(): Promise<void> {
    for (const n of this.nodes.splice(0)) {
      await n.controller.close();
      await n.store.close();
    }
    await this.hook?.close();
    await this.smtp?.close();
    await this.store?.close();
    await this.db?.drop();
  }

  adminMails(subject: RegExp) {
    return this.smtp.received.filter((m) => m.to.includes(ADMIN) && subject.test(m.subject));
  }
}

async function status(node: Node): Promise<ControllerStatus> {
  const res = await node.call<ControllerStatus>('GET', '/status');
  assert.equal(res.status, 200);
  return res.body;
}

/** The viewserver names `node` the active controller in `view`; resolves once it holds office and has loaded the checks. */
async function elect(node: Node, view: number): Promise<ControllerStatus> {
  const res = await node.call('POST', '/probe', { view, active: true, elected: true });
  assert.equal(res.status, 200);
  assert.equal(res.body.ok, true);
  return waitFor(`${node.name} to take office`, async () => {
    const s = await status(node);
    return s.inOffice && s.checks.length > 0 ? s : null;
  }, 20_000);
}

function work(node: Node, worker: string, view: number, waitMs = 10_000): Promise<Answer<WorkResponse>> {
  return node.call<WorkResponse>('POST', '/work', { worker, view, slots: 5, waitMs });
}

function report(node: Node, worker: string, view: number, a: { id: number; lock: number }, result: Status | 'fail', message = ''): Promise<Answer<{ accepted: number }>> {
  return node.call<{ accepted: number }>('POST', '/results', { worker, view, results: [{ id: a.id, lock: a.lock, status: result, message, durationMs: 3 }] });
}

/** One worker's turn: it is handed the check (waiting for it to fall due) and reports `result`. */
async function turn(node: Node, worker: string, view: number, checkId: number, result: Status, message = ''): Promise<Assignment> {
  const res = await work(node, worker, view);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const a = res.body.checks.find((c) => c.id === checkId);
  assert.ok(a, `${worker} was handed check ${checkId}: ${JSON.stringify(res.body)}`);
  const r = await report(node, worker, view, a, result, message);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.accepted, 1, `${worker}'s result accepted`);
  return a;
}

/** `rounds` rounds in which every worker in turn reports `result`. */
async function rounds(node: Node, workers: string[], view: number, checkId: number, result: Status, n: number, message = ''): Promise<void> {
  for (let i = 0; i < n; i++) for (const w of workers) await turn(node, w, view, checkId, result, message);
}

const checkStatus = async (node: Node, id: number) => (await status(node)).checks.find((c) => c.id === id)?.status;

for (const engine of ENGINES) {
  describe(`controller in-process on ${engine.name}`, () => {
    const world = new World();
    beforeEach(() => world.open(engine));
    afterEach(() => world.close());

    test('takes office on a probe, hands out work, ignores results without the lock, flips on 2 workers × (delay+1) rounds, alerts once', async () => {
      const { store, hook, check } = world;
      await addContact(store, check.id, 'http', world.hook.url);
      const a = await world.controller('ctlA');

      const idle = await status(a);
      assert.deepEqual([idle.inOffice, idle.epoch], [false, 0]);
      const refused = await work(a, 'w1', 1, 0);
      assert.equal(refused.status, 409);
      assert.match(String((refused.body as unknown as { error: string }).error), /not the active controller/);

      const s = await elect(a, 1);
      const lease = await store.lease();
      assert.equal(s.epoch, lease.epoch, 'the epoch comes from the database');
      assert.equal(lease.epoch, 1);
      assert.equal(lease.holder, 'ctlA');
      assert.equal(s.checks.length, 1);

      // w1 gets the check; results from anyone without w1's lock change nothing.
      const got = await work(a, 'w1', 1);
      assert.equal(got.status, 200);
      assert.equal(got.body.epoch, 1);
      assert.deepEqual(got.body.checks.map((c) => [c.id, c.name, c.type, c.data]), [[check.id, 'web', 'http', check.data]]);
      const lock = got.body.checks[0];
      assert.equal((await report(a, 'w2', 1, lock, 'offline')).body.accepted, 0, "w2 holds no lock");
      assert.equal((await report(a, 'w1', 1, { id: check.id, lock: lock.lock + 1000 }, 'offline')).body.accepted, 0, 'wrong lock token');
      assert.equal((await report(a, 'w1', 1, { id: check.id + 1000, lock: lock.lock }, 'offline')).body.accepted, 0, 'unknown check');
      assert.equal((await status(a)).checks[0].lastResult, null, 'an ignored result is not recorded');
      assert.ok(a.logs.events('result_ignored').length >= 3);

      assert.equal((await report(a, 'w1', 1, lock, 'offline', 'connection refused')).body.accepted, 1);
      assert.equal((await report(a, 'w1', 1, lock, 'offline')).body.accepted, 0, 'a lock is good for one result');
      const after1 = (await status(a)).checks[0];
      assert.deepEqual([after1.status, after1.lastWorker, after1.lastResult?.status], ['online', 'w1', 'offline']);

      // Round 1 completes with w2; round 2 (one interval later) with both: turn count 2 > delay 1.
      await turn(a, 'w2', 1, check.id, 'offline', 'connection refused');
      assert.equal(await checkStatus(a, check.id), 'online', 'one round is not enough with delay 1');
      await rounds(a, ['w1', 'w2'], 1, check.id, 'offline', 1, 'connection refused');

      await waitFor('the flip to be recorded', async () => (await statusOf(store, check.id)) === 'offline', 20_000);
      await waitFor('the webhook', () => hook.requests.length >= 1, 20_000);
      await waitFor('the outbox row to be sent', async () => (await store.outboxForCheck(check.id))[0]?.state === 'sent', 20_000);
      assert.equal(await checkStatus(a, check.id), 'offline');
      const events = await store.driver.all('SELECT check_id, type, message FROM check_events');
      assert.deepEqual(events.map((e) => [Number(e.check_id), e.type, e.message]), [[check.id, 'offline', 'connection refused']]);
      const outbox = await store.outboxForCheck(check.id);
      assert.equal(outbox.length, 1);
      assert.deepEqual([outbox[0].status, outbox[0].contactData, outbox[0].attempts], ['offline', hook.url, 1]);
      const form = hook.requests[0].form;
      assert.deepEqual([form.get('check_id'), form.get('name'), form.get('status'), form.get('message')], [String(check.id), 'web', 'offline', 'connection refused']);
      assert.equal(a.logs.events('flip').length, 1);
      await sleep(1_500); // more than a dispatcher poll: no second POST
      assert.equal(hook.requests.length, 1);
    });

    test('a second controller taking office deposes the first: its next write is fenced, it steps down and alerts no more', async () => {
      const { store, hook, check } = world;
      await addContact(store, check.id, 'http', hook.url);
      const a = await world.controller('ctlA');
      await elect(a, 1);
      await rounds(a, ['w1', 'w2'], 1, check.id, 'offline', 2, 'down');
      await waitFor('the first alert', async () => (await store.outboxForCheck(check.id))[0]?.state === 'sent', 20_000);
      assert.equal(hook.requests.length, 1);

      const b = await world.controller('ctlB');
      const sb = await elect(b, 2);
      assert.equal(sb.epoch, 2);
      assert.deepEqual(await store.lease().then((l) => [l.epoch, l.holder]), [2, 'ctlB']);
      assert.equal(sb.checks.find((c) => c.id === check.id)?.status, 'offline', 'B starts from the stored status');
      // A's next lease renewal (a third of its lease later) is a fenced write: A learns it was deposed.
      await waitFor('A to step down', async () => !(await status(a)).inOffice, 20_000);
      const down = a.logs.events('step_down');
      assert.equal(down.length, 1);
      assert.match(String(down[0].reason), /fenced: this controller holds epoch 1 but the lease is at epoch 2/);
      assert.equal((await status(a)).epoch, 0);
      const stale = await work(a, 'w3', 2, 0);
      assert.equal(stale.status, 409, 'a worker already at view 2 is refused by the old controller');
      // Workers still at view 1 are refused too: A writes and sends nothing more.
      const refused = await work(a, 'w1', 1, 0);
      assert.equal(refused.status, 409);
      assert.equal((await report(a, 'w1', 1, { id: check.id, lock: 1 }, 'online')).status, 409);

      assert.equal(await statusOf(store, check.id), 'offline', "A's flip was not written");
      assert.equal(await count(store, 'check_events'), 1);
      assert.equal(await count(store, 'alert_outbox'), 1);
      await sleep(1_500);
      assert.equal(hook.requests.length, 1, 'no alert from the deposed controller, and B resends nothing');

      // The cluster goes on under B.
      await rounds(b, ['w1', 'w2'], 2, check.id, 'online', 2, '');
      await waitFor('B to alert the flip back', () => hook.requests.length >= 2, 20_000);
      assert.equal(await statusOf(store, check.id), 'online');
      assert.deepEqual(hook.requests.map((r) => r.form.get('status')), ['offline', 'online']);
      const epochs = (await store.driver.all('SELECT epoch FROM alert_attempts ORDER BY id')).map((r) => Number(r.epoch));
      assert.deepEqual(epochs, [1, 2]);
    });

    test('after 10 reload failures in a row (the checks table is gone) the admin gets a mail', async () => {
      const a = await world.controller('ctlA', { reloadInterval: '0.1' });
      await elect(a, 1);
      await world.store.driver.run('DROP TABLE checks');
      const [mail] = await waitFor('the reload-errors mail', () => {
        const m = world.adminMails(/successive reload errors/);
        return m.length ? m : null;
      }, 60_000);
      assert.equal(mail.subject, 'gobearmon: successive reload errors');
      assert.match(mail.text, /^Got 10 successive reload errors!/);
      assert.match(mail.text, /checks/, 'the last error is quoted');
      // The same error every 0.1 s is logged once (then once a minute with a count), not ten times.
      const failures = a.logs.events('reload_error');
      assert.equal(failures[0].failures, 1);
      assert.ok(failures.length < 10, `${failures.length} reload_error lines for 10 identical failures`);
      assert.equal((await status(a)).inOffice, true, 'a failing reload does not give up office');
    });
  });
}

describe('controller in-process on mysql: auth, stepping down, undone flips, degraded quorum', () => {
  const world = new World();
  beforeEach(() => world.open(MYSQL));
  afterEach(() => world.close());

  test('requests without or with a bad signature are refused with 401 and change nothing', async () => {
    const a = await world.controller('ctlA');
    const probe = JSON.stringify({ view: 1, active: true, elected: true });
    const inject = (headers: Record<string, string>, payload = probe, url = '/probe', method: 'GET' | 'POST' = 'POST') =>
      a.controller.app.inject({ method, url, headers: { 'content-type': 'application/json', ...headers }, payload: method === 'POST' ? payload : undefined });

    const cases: [string, Record<string, string>, RegExp][] = [
      ['no header', {}, /missing authentication header/],
      ['wrong password', signedHeaders(a.controller.app, 'POST', '/probe', probe, { password: 'not-the-password' }), /bad signature/],
      ['signed for another body', signedHeaders(a.controller.app, 'POST', '/probe', JSON.stringify({ view: 9, active: true, elected: true })), /bad signature/],
      ['signed for another path', signedHeaders(a.controller.app, 'POST', '/work', probe), /bad signature/],
      ['signed for another node', signedHeaders(a.controller.app, 'POST', '/probe', probe, { to: '127.0.0.1:2' }), /another node/],
      ['a minute old', signedHeaders(a.controller.app, 'POST', '/probe', probe, { now: Date.now() - 60_000 }), /clock skew/],
      ['malformed', { [AUTH_HEADER]: 'abc' }, /malformed/],
    ];
    for (const [what, headers, why] of cases) {
      const res = await inject(headers);
      assert.equal(res.statusCode, 401, what);
      assert.match(String(res.json().error), why, what);
    }
    assert.equal((await inject({}, '', '/status', 'GET')).statusCode, 401);
    assert.equal((await inject({}, JSON.stringify({ worker: 'w1', view: 0, slots: 1 }), '/work')).statusCode, 401);
    // Rate-limited: at least one line per kind of refusal (missing, bad signature, recipient, skew, malformed).
    assert.ok(a.logs.events('auth_refused').length >= 5);
    await sleep(300);
    assert.equal((await status(a)).inOffice, false, 'an unsigned probe does not elect');
    assert.equal((await world.store.lease()).epoch, 0);

    // The same over a real socket with the client the nodes use.
    a.config.controller.addr = '127.0.0.1:0';
    const port = await a.controller.listen();
    const good = new PeerClient(PASSWORD);
    const bad = new PeerClient('not-the-password');
    try {
      const s = await good.call<ControllerStatus>(`127.0.0.1:${port}`, '/status', undefined, { timeoutMs: 10_000 });
      assert.equal(s.inOffice, false);
      const err = await bad.call(`127.0.0.1:${port}`, '/probe', { view: 1, active: true, elected: true }, { timeoutMs: 10_000 }).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof PeerError);
      assert.equal(err.statusCode, 401);
      const p = await good.call<{ ok: boolean }>(`127.0.0.1:${port}`, '/probe', { view: 1, active: true, elected: true }, { timeoutMs: 10_000 });
      assert.equal(p.ok, true);
      await waitFor('office through the socket', async () => (await status(a)).inOffice, 20_000);
    } finally {
      await good.close();
      await bad.close();
    }
  });

  test('a deposed controller notices at its next reload; a probe naming another controller makes it step down', async () => {
    const a = await world.controller('ctlA', { reloadInterval: '0.1' });
    const b = await world.controller('ctlB', { reloadInterval: '0.1' });
    await elect(a, 1);
    await elect(b, 2);
    await waitFor('A to notice', async () => !(await status(a)).inOffice, 20_000);
    assert.match(String(a.logs.events('step_down')[0].reason), /deposed: the lease is at epoch 2 \(held by ctlB\)/);

    const res = await b.call('POST', '/probe', { view: 3, active: false, elected: true });
    assert.equal(res.status, 200);
    assert.equal((await status(b)).inOffice, false);
    assert.match(String(b.logs.events('step_down')[0].reason), /names another controller in view 3/);
    // A probe while the viewserver names nobody (elected false) deposes nobody.
    await elect(a, 4);
    await a.call('POST', '/probe', { view: 4, active: false, elected: false });
    assert.equal((await status(a)).inOffice, true);
    assert.equal((await world.store.lease()).epoch, 3);
  });

  test("a deposed controller's dispatcher is fenced at its next claim: it steps down and sends nothing more; the next one delivers", async () => {
    const { store, hook, check } = world;
    hook.status = 500;
    await addContact(store, check.id, 'http', hook.url);
    const a = await world.controller('ctlA', { alertMaxAttempts: '50' });
    await elect(a, 1);
    await rounds(a, ['w1', 'w2'], 1, check.id, 'offline', 2, 'down');
    await waitFor('a failed attempt', async () => (await store.attempts((await store.outboxForCheck(check.id))[0]?.id ?? 0)).length >= 1, 20_000);

    // Another controller takes office behind A's back; A's only write is its next claim.
    assert.equal(await store.takeOffice('usurper', Date.now(), 1), 2);
    await waitFor('A to step down', async () => !(await status(a)).inOffice, 20_000);
    assert.match(String(a.logs.events('step_down')[0].reason), /fenced: this controller holds epoch 1 but the lease is at epoch 2/);
    const sentByA = hook.requests.length;
    hook.status = 200;
    await sleep(2_500);
    assert.equal(hook.requests.length, sentByA, 'A sends nothing once deposed');
    const [row] = await store.outboxForCheck(check.id);
    assert.equal(row.state, 'pending');
    assert.ok((await store.attempts(row.id)).every((t) => t.epoch === 1 && !t.ok));

    const b = await world.controller('ctlB');
    assert.equal((await elect(b, 2)).epoch, 3);
    await waitFor('B to deliver', async () => (await store.outboxForCheck(check.id))[0].state === 'sent', 20_000);
    assert.equal(hook.requests.length, sentByA + 1);
    assert.deepEqual((await store.attempts(row.id)).filter((t) => t.ok).map((t) => t.epoch), [3]);
  });

  test('every contact fails for good: the flip is undone (status written back, admin mailed) and happens again later', async () => {
    const { store, hook, check } = world;
    hook.status = 500;
    await addContact(store, check.id, 'http', hook.url);
    const a = await world.controller('ctlA', { alertMaxAttempts: '2' });
    await elect(a, 1);
    await rounds(a, ['w1', 'w2'], 1, check.id, 'offline', 2, 'down');
    await waitFor('the admin mail about the failed alerts', () => world.adminMails(/alerts failed for check web/).length > 0, 30_000);
    await waitFor('the stored status to be put back', async () => (await statusOf(store, check.id)) === 'online', 20_000);
    assert.equal(await checkStatus(a, check.id), 'online', 'undone in memory too');
    assert.match(world.adminMails(/alerts failed/)[0].text, /answered HTTP 500/);
    assert.equal(a.logs.events('flip_undone').length, 1);
    const [dead] = await store.outboxForCheck(check.id);
    assert.deepEqual([dead.state, dead.attempts], ['dead', 2]);
    assert.equal(hook.requests.length, 2);

    // The check is still down: the same rule fires again, and this time the contact answers.
    hook.status = 200;
    await rounds(a, ['w1', 'w2'], 1, check.id, 'offline', 2, 'still down');
    await waitFor('the second flip to be alerted', async () => (await store.outboxForCheck(check.id))[1]?.state === 'sent', 30_000);
    assert.equal(await statusOf(store, check.id), 'offline');
    const events = await store.driver.all('SELECT type, message FROM check_events ORDER BY id');
    assert.deepEqual(events.map((e) => [e.type, e.message]), [['offline', 'down'], ['offline', 'still down']]);
    assert.deepEqual(hook.requests.map((r) => r.form.get('message')), ['down', 'down', 'still down']);
    assert.equal((await status(a)).inOffice, true);
  });

  test('an old flip whose contacts die after two later flips does not undo the latest one', async () => {
    const { store, check } = world;
    // Alerts of the first outage always fail; every other alert is delivered.
    const sink = await startSelectiveWebhook((form) => (/first outage/.test(form.get('message') ?? '') ? 500 : 200));
    try {
      await addContact(store, check.id, 'http', sink.url);
      let offset = 0;
      const a = await world.controller('ctlA', { alertRetryBase: '600', alertRetryMax: '600', alertMaxAttempts: '2' }, () => Date.now() + offset);
      await elect(a, 1);
      await rounds(a, ['w1', 'w2'], 1, check.id, 'offline', 2, 'first outage');
      await waitFor('the first outage alert to fail once', () => sink.requests.length === 1, 20_000);
      await rounds(a, ['w1', 'w2'], 1, check.id, 'online', 2, '');
      await rounds(a, ['w1', 'w2'], 1, check.id, 'offline', 2, 'second outage');
      await waitFor('the later flips to be alerted', async () => {
        const rows = await store.outboxForCheck(check.id);
        return rows.length === 3 && rows[1].state === 'sent' && rows[2].state === 'sent';
      }, 20_000);
      assert.equal(await statusOf(store, check.id), 'offline');

      offset = 3_600_000; // the first outage's retry falls due, fails, and its flip is dead
      await waitFor('the first outage alert to die', async () => (await store.outboxForCheck(check.id))[0].state === 'dead', 20_000);
      await sleep(1_000);
      assert.equal(await checkStatus(a, check.id), 'offline', 'the newest flip stands in memory');
      assert.equal(await statusOf(store, check.id), 'offline', 'and in the database');
    } finally {
      await sink.close();
    }
  });

  test('a check with no contacts flips silently: status and event written, no outbox row, nothing sent', async () => {
    const { store, hook, check } = world;
    const other = await addCheck(store, { name: 'other' });
    await addContact(store, other.id, 'http', hook.url); // another check's contact is not this check's
    const a = await world.controller('ctlA');
    await elect(a, 1);
    await rounds(a, ['w1', 'w2'], 1, check.id, 'offline', 2, 'down');
    await waitFor('the flip', async () => (await statusOf(store, check.id)) === 'offline', 20_000);
    assert.equal(await count(store, 'check_events', 'check_id = ?', [check.id]), 1);
    assert.equal(await count(store, 'alert_outbox'), 0);
    await sleep(1_500);
    assert.equal(hook.requests.length, 0);
    assert.equal(await checkStatus(a, check.id), 'offline');
  });

  test('degraded quorum: confirmations 3 but one live worker: it flips on that worker alone and mails the admin', async () => {
    const { store, hook, check } = world;
    await addContact(store, check.id, 'http', hook.url);
    const a = await world.controller('ctlA', { confirmations: '3' });
    await elect(a, 1);
    await rounds(a, ['w1'], 1, check.id, 'offline', 2, 'timeout');
    await waitFor('the flip', async () => (await statusOf(store, check.id)) === 'offline', 20_000);
    await waitFor('the alert', () => hook.requests.length === 1, 20_000);
    const [mail] = await waitFor('the degraded-quorum mail', () => {
      const m = world.adminMails(/degraded quorum/);
      return m.length ? m : null;
    }, 30_000);
    assert.equal(mail.subject, 'gobearmon: degraded quorum');
    assert.deepEqual(mail.to, [ADMIN]);
    assert.match(mail.text, /Only 1 worker\(s\) are alive but confirmations = 3/);
    const s = await status(a);
    assert.equal(s.quorum, 1);
    assert.deepEqual(s.workers.map((w) => [w.name, w.live]), [['w1', true]]);
    assert.equal(a.logs.events('quorum_degraded').length, 1);
    assert.equal(await count(store, 'check_events'), 1);
    await sleep(500);
    assert.equal(world.adminMails(/degraded quorum/).length, 1, 'mailed once while it stays degraded');
  });
});
