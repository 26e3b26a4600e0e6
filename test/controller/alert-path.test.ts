/**
 * The alert path under faults (issues 11.4, 12.7, 12.11), a real Controller in-process whose store
 * connections pass through a MySQL-aware proxy (test/helpers/sql-proxy.ts), with a real webhook as
 * the sink and a real SMTP server for the admin. Asserted from outside: deliveries at the sink by
 * idempotency key, check_events rows, admin mails.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Status } from '../../src/checks/types';
import { Controller } from '../../src/controller/controller';
import type { ControllerStatus, WorkResponse } from '../../src/protocol/messages';
import { openStore } from '../../src/store/open';
import type { CheckRow, Store } from '../../src/store/store';
import { addCheck, addContact, captureLogger, count, kitConfig, signedCaller, sleep, waitFor } from '../helpers/controller-kit';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { startSmtp, type TestSmtp } from '../helpers/smtp';
import { SqlProxy } from '../helpers/sql-proxy';
import { startWebhook, type TestWebhook } from '../helpers/webhook';

const ADMIN = 'admin@example.org';

describe('alert path under store faults', () => {
  let db: TestDatabase;
  let store: Store;
  let proxy: SqlProxy;
  let hook: TestWebhook;
  let smtp: TestSmtp;
  let check: CheckRow;
  let ctlStore: Store;
  let ctl: Controller;
  let call: ReturnType<typeof signedCaller>;
  let logs: ReturnType<typeof captureLogger>;

  beforeEach(async () => {
    db = await createTestDatabase();
    store = await openStore([db.urlDsn]);
    await store.migrate();
    proxy = await SqlProxy.start();
    hook = await startWebhook();
    smtp = await startSmtp();
    check = await addCheck(store, { name: 'web', interval: 1, delay: 0 });
    await addContact(store, check.id, 'http', hook.url);
  });
  afterEach(async () => {
    proxy.blackhole = false;
    await ctl?.close();
    await ctlStore?.close();
    await proxy.close();
    await hook.close();
    await smtp.close();
    await store.close();
    await db.drop();
  });

  async function startController(): Promise<void> {
    ctlStore = await openStore([proxy.dsn(db.name)]);
    logs = captureLogger();
    const config = kitConfig({
      controller: { confirmations: '1', reloadInterval: '3600', alertRetryBase: '0.05', alertRetryMax: '0.4', alertMaxAttempts: '4', storeTimeout: '2' },
      worker: { name: 'ctl' },
      smtp: { host: '127.0.0.1', port: smtp.port, from: 'gobearmon@example.org', admin: ADMIN },
    });
    ctl = new Controller({ store: ctlStore, config, log: logs.log });
    call = signedCaller(ctl.app);
    assert.equal((await call('POST', '/probe', { view: 1, active: true, elected: true })).status, 200);
    await waitFor('office', async () => {
      const s = (await call<ControllerStatus>('GET', '/status')).body;
      return s.inOffice && s.checks.length > 0;
    }, 20_000);
  }

  /** Worker w1 is handed the check (when due) and reports `result`. */
  async function turn(result: Status, message = ''): Promise<void> {
    const res = await call<WorkResponse>('POST', '/work', { worker: 'w1', view: 1, slots: 5, waitMs: 10_000 });
    const a = res.body.checks.find((c) => c.id === check.id);
    assert.ok(a, JSON.stringify(res.body));
    const r = await call<{ accepted: number }>('POST', '/results', { worker: 'w1', view: 1, results: [{ id: a.id, lock: a.lock, status: result, message, durationMs: 3 }] });
    assert.equal(r.body.accepted, 1);
  }

  const events = async () => (await store.driver.all('SELECT type, message, UNIX_TIMESTAMP(time) AS t FROM check_events ORDER BY id')) as { type: string; message: string; t: number }[];

  test('an outage inside a store outage: both flips are kept, then recorded in order with their times and alerted; the admin hears', async () => {
    await startController();
    proxy.blackhole = true; // new connections hang, the pooled ones are cut
    proxy.dropAll();
    const downAt = Date.now();
    await turn('offline', 'connection refused');
    await sleep(1_500);
    await turn('online');
    const upAt = Date.now();
    await waitFor('a failed flip record', () => logs.events('flip_record_error').length > 0, 30_000);
    await sleep(Math.max(0, downAt + 15_000 - Date.now())); // the store stays away ~15 s
    assert.equal(hook.requests.length, 0, 'nothing alerted before the flip is recorded');
    proxy.blackhole = false;
    const backAt = Date.now();

    await waitFor('both alerts', () => hook.requests.length >= 2, 60_000);
    await sleep(1_000);
    assert.deepEqual(hook.requests.map((r) => r.form.get('status')), ['offline', 'online'], 'each flip alerted once, in order');
    assert.equal(new Set(hook.requests.map((r) => r.headers['idempotency-key'])).size, 2);
    assert.match(hook.requests[0].form.get('message') ?? '', /^connection refused \(detected .*recorded \d+ s late: the database was unreachable\)$/);
    const evs = await events();
    assert.deepEqual(evs.map((e) => e.type), ['offline', 'online']);
    assert.ok(evs[0].t * 1000 <= downAt + 1_500 && evs[0].t * 1000 >= downAt - 1_000, 'the offline event carries its decision time');
    assert.ok(evs[1].t * 1000 <= upAt && evs[1].t * 1000 < backAt, 'the online event carries its decision time, before the store returned');
    const back = await waitFor('store_back', () => logs.events('store_back')[0], 10_000);
    assert.equal(back.flips, 2);
    await waitFor('the admin mail', () => smtp.received.some((m) => m.to.includes(ADMIN) && /database was unreachable/.test(m.subject)), 20_000);
  });

  test('a COMMIT whose OK is lost: the flip is read back, recorded once and alerted once', async () => {
    await startController();
    const trapped = proxy.dropCommitAck(/INSERT INTO check_events/);
    await turn('offline', 'down');
    await trapped;
    await waitFor('the alert', () => hook.requests.length >= 1, 30_000);
    // Another round of the same verdict: a flip undone in memory would fire again here.
    await turn('offline', 'down');
    await turn('offline', 'down');
    await sleep(1_500);
    assert.equal(await count(store, 'check_events'), 1, 'one event');
    assert.equal(await count(store, 'alert_outbox'), 1, 'one outbox row');
    assert.equal(hook.requests.length, 1, 'one alert');
    assert.equal(logs.events('flip').filter((l) => l.replayed === true).length, 1, 'the second record read the first back');
  });

  test('a check_interval of 0 is clamped to 1 s (no hot loop), logged once; a link to a missing contact is logged once', async () => {
    await store.driver.run('UPDATE checks SET check_interval = 0 WHERE id = ?', [check.id]);
    await store.driver.run("INSERT INTO alerts (check_id, contact_id, type) VALUES (?, 999, 'both')", [check.id]);
    await startController();
    const started = Date.now();
    let runs = 0;
    while (Date.now() - started < 3_000) {
      await turn(runs % 2 ? 'online' : 'offline');
      runs++;
    }
    assert.ok(runs <= 6, `${runs} runs in 3 s (a hot loop makes hundreds)`);
    assert.equal(logs.events('invalid_schedule').length, 1);
    assert.match(String((logs.events('invalid_schedule')[0].reasons as string[])[0]), /check_interval 0 is below 1 s/);
    await waitFor('alerts for the flips', () => hook.requests.length >= 2, 20_000);
    assert.equal(logs.events('alert_contact_missing').length, 1, 'logged once, not per flip');
    assert.equal(logs.events('alert_contact_missing')[0].contact_id, 999);
  });
});
