/**
 * The Store's contract, run unchanged against MySQL and SQLite: migrations, check loading, the
 * fencing lease, atomic flips with their alert outbox, and the delivery/retry/in-doubt flow.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Status } from '../../src/checks/types';
import { LATEST_VERSION, MIGRATIONS } from '../../src/store/migrations';
import { openStore } from '../../src/store/open';
import { OUR_COLUMNS, OUR_INDEXES, OUR_TABLES, ORIGINAL_TABLES } from '../../src/store/schema';
import { FencedError, StaleViewError, type CheckRow, type Store } from '../../src/store/store';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { waitFor } from '../helpers/wait';

const T0 = Date.parse('2024-05-01T12:00:00Z');
/** Every table a controller writes; a fenced call must leave all of them as they were. */
const WRITTEN = ['checks', 'check_events', 'alert_outbox', 'alert_attempts', 'charges', 'controller_lease'];

for (const engine of ENGINES) {
  describe(`store on ${engine.name}`, () => {
    let db: EngineDb;
    let store: Store;

    beforeEach(async () => {
      db = await engine.create();
      store = await openStore([db.dsn]);
    });
    afterEach(async () => {
      await store.close();
      await db.drop();
    });

    const run = (sql: string, params: (string | number | null)[] = []) => store.driver.run(sql, params);
    const count = async (table: string, where = '1 = 1', params: (string | number)[] = []) =>
      Number((await store.driver.all(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params))[0].n);
    const statusOf = async (id: number) => String((await store.driver.all('SELECT status FROM checks WHERE id = ?', [id]))[0].status);
    const snapshot = async () => {
      const out: Record<string, unknown> = {};
      for (const t of WRITTEN) out[t] = await store.driver.all(`SELECT * FROM ${t} ORDER BY id`);
      return out;
    };

    /** A migrated database holding one check; returns the check as loadChecks maps it. */
    async function setup(name = 'web'): Promise<CheckRow> {
      await store.migrate();
      const { insertId } = await run('INSERT INTO checks (name, type, data) VALUES (?, ?, ?)', [name, 'http', '{"url":"http://127.0.0.1/"}']);
      return (await store.loadChecks()).find((c) => c.id === insertId)!;
    }
    async function contact(checkId: number, type: string, data: string, alertType: 'both' | Status, enabled = 1): Promise<number> {
      const { insertId } = await run('INSERT INTO contacts (type, data) VALUES (?, ?)', [type, data]);
      await run('INSERT INTO alerts (check_id, contact_id, type, enabled) VALUES (?, ?, ?, ?)', [checkId, insertId, alertType, enabled]);
      return insertId;
    }

    test('migrate on an empty database creates everything; a second run applies nothing', async () => {
      assert.deepEqual(await store.schemaStatus(), { current: 0, latest: LATEST_VERSION });
      const applied = await store.migrate();
      assert.equal(applied.length, MIGRATIONS.length);
      assert.match(applied[0], /^1: original gobearmon tables/);
      assert.match(applied[1], /^2: fencing lease/);
      for (const table of [...Object.keys(ORIGINAL_TABLES), ...Object.keys(OUR_TABLES)]) {
        assert.ok(await store.driver.hasTable(table), `table ${table}`);
      }
      for (const [table, column] of OUR_COLUMNS) assert.ok(await store.driver.hasColumn(table, column), `${table}.${column}`);
      for (const [table, index] of OUR_INDEXES) assert.ok(await store.driver.hasIndex(table, index), `index ${index}`);
      assert.deepEqual(await store.lease(), { epoch: 0, holder: '', takenAt: 0 });
      assert.deepEqual(await store.schemaStatus(), { current: LATEST_VERSION, latest: LATEST_VERSION });

      assert.deepEqual(await store.migrate(), []);
      assert.equal(await count('schema_migrations'), MIGRATIONS.length);
      assert.equal(await count('controller_lease'), 1);
    });

    test('loadChecks returns only enabled checks, with interval, delay and status', async () => {
      await store.migrate();
      await run("INSERT INTO checks (name, type, data) VALUES ('ping', 'icmp', '{\"target\":\"127.0.0.1\"}')");
      await run("INSERT INTO checks (name, type, data, enabled) VALUES ('off', 'tcp', '{}', 0)");
      await run(`INSERT INTO checks (name, type, data, check_interval, delay, status)
                 VALUES ('slow', 'http', '{"url":"http://127.0.0.1/"}', 120, 5, 'offline')`);
      const checks = await store.loadChecks();
      assert.deepEqual(checks, [
        { id: 1, name: 'ping', type: 'icmp', data: '{"target":"127.0.0.1"}', interval: 60, delay: 1, status: 'online' },
        { id: 3, name: 'slow', type: 'http', data: '{"url":"http://127.0.0.1/"}', interval: 120, delay: 5, status: 'offline' },
      ]);
    });

    test('takeOffice raises the epoch each time and records the holder', async () => {
      await store.migrate();
      assert.equal(await store.takeOffice('a:1', T0), 1);
      assert.equal(await store.takeOffice('b:1', T0 + 5), 2);
      assert.equal(await store.takeOffice('a:1', T0 + 9), 3);
      assert.deepEqual(await store.lease(), { epoch: 3, holder: 'a:1', takenAt: T0 + 9 });
    });

    test('the lease records the view that elected its holder; an election of an older view is refused', async () => {
      await store.migrate();
      assert.equal(await store.takeOffice('a', T0, 500), 1);
      assert.equal((await store.leaseState()).view, 500);
      await assert.rejects(store.takeOffice('stale', T0, 499), (e) => e instanceof StaleViewError && e.view === 499 && e.leaseView === 500);
      assert.deepEqual(await store.lease().then((l) => [l.epoch, l.holder]), [1, 'a'], 'the refused election changed nothing');
      assert.equal(await store.takeOffice('b', T0, 500), 2, 'the same view may elect again (a restarted node)');
      // A later view that confirms the holder is recorded by its renewal: older elections stay refused.
      await store.renewLease(2, 5_000, 900);
      await assert.rejects(store.takeOffice('c', T0, 800), StaleViewError);
      assert.equal((await store.leaseState()).view, 900);
    });

    test('the lease runs on the store clock; renewing it is fenced; a successor learns when its predecessor\'s ends', async () => {
      await store.migrate();
      const a = await store.takeOffice('a', T0, 1, 3_000);
      let lease = await store.leaseState();
      assert.ok(Math.abs(lease.expiresAt - lease.storeNow - 3_000) < 1_000, `expires ${lease.expiresAt - lease.storeNow} ms from the store's now`);
      await store.renewLease(a, 20_000, 1);
      lease = await store.leaseState();
      assert.ok(lease.expiresAt - lease.storeNow > 15_000);
      const b = await store.takeOffice('b', T0, 2, 1_000);
      const succeeded = await store.leaseState();
      assert.equal(succeeded.prevExpiresAt, lease.expiresAt, 'the predecessor\'s expiry is kept');
      await assert.rejects(store.renewLease(a, 20_000, 2), (e) => e instanceof FencedError && e.mine === a && e.current === b);
      assert.equal((await store.leaseState()).expiresAt, succeeded.expiresAt, 'the refused renewal changed nothing');
    });

    test('a fenced write is a compare-and-set: it bumps the lease\'s fence counter, a stale one changes nothing', async () => {
      const check = await setup();
      const epoch = await store.takeOffice('me', T0);
      const seq = async () => Number((await store.driver.all('SELECT fence_seq FROM controller_lease WHERE id = 1'))[0].fence_seq);
      const before = await seq();
      await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });
      assert.equal(await seq(), before + 1);
      await store.takeOffice('next', T0);
      const after = await seq();
      await assert.rejects(store.recordFlip(epoch, { check, status: 'online', message: 'up', now: T0 }), FencedError);
      assert.equal(await seq(), after);
      assert.equal(await statusOf(check.id), 'offline');
    });

    test('recordFlip writes status, event with message, and one outbox row per matching contact', async () => {
      const check = await setup();
      const both = await contact(check.id, 'email', 'both@example.org', 'both');
      const off = await contact(check.id, 'sms', '+15550001', 'offline');
      const on = await contact(check.id, 'http', 'http://127.0.0.1/hook', 'online');
      await contact(check.id, 'email', 'disabled@example.org', 'both', 0);
      const other = await setup('other');
      await contact(other.id, 'email', 'other@example.org', 'both');
      const epoch = await store.takeOffice('me', T0);

      const down = await store.recordFlip(epoch, { check, status: 'offline', message: 'timeout after 10s', now: T0 });
      assert.equal(await statusOf(check.id), 'offline');
      const events = await store.driver.all('SELECT id, check_id, type, message FROM check_events ORDER BY id');
      assert.deepEqual(events.map((e) => [Number(e.id), Number(e.check_id), e.type, e.message]), [[down.eventId, check.id, 'offline', 'timeout after 10s']]);
      assert.deepEqual(down.outbox.map((r) => r.contactId), [both, off]);
      assert.deepEqual(down.outbox[1], {
        id: down.outbox[1].id, idempotencyKey: `gobearmon-${down.eventId}-${off}-${T0}`, eventId: down.eventId, checkId: check.id,
        contactId: off, contactType: 'sms', contactData: '+15550001', status: 'offline', message: 'timeout after 10s',
        checkName: 'web', checkType: 'http', checkData: '{"url":"http://127.0.0.1/"}', state: 'pending', attempts: 0,
        nextAttemptAt: T0, createdAt: T0, sentAt: null, providerId: null, lastError: null,
      });
      assert.deepEqual(await store.outboxForCheck(check.id), down.outbox);

      const up = await store.recordFlip(epoch, { check, status: 'online', message: '', now: T0 + 60_000 });
      assert.equal(await statusOf(check.id), 'online');
      assert.deepEqual(up.outbox.map((r) => [r.contactId, r.status]), [[both, 'online'], [on, 'online']]);
      assert.equal(await count('check_events'), 2);
      assert.equal(await count('alert_outbox'), 4);
      assert.equal(await count('alert_outbox', 'check_id = ?', [other.id]), 0);
    });

    test('recordFlip on a check without contacts still writes status and event', async () => {
      const check = await setup();
      const epoch = await store.takeOffice('me', T0);
      const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'refused', now: T0 });
      assert.deepEqual(flip.outbox, []);
      assert.equal(await statusOf(check.id), 'offline');
      assert.equal(await count('check_events', "check_id = ? AND type = 'offline' AND message = 'refused'", [check.id]), 1);
      assert.equal(await count('alert_outbox'), 0);
    });

    test('a contact linked twice (two alerts rows, or two contact rows of one address) gets one alert; the flip is recorded', async () => {
      const check = await setup();
      const twice = await contact(check.id, 'email', 'ops@example.org', 'offline');
      await run("INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'both')", [check.id, twice]);
      await run("INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'both')", [check.id, twice]);
      await contact(check.id, 'email', ' ops@example.org ', 'both'); // the same address as another contact row
      const hook = await contact(check.id, 'http', 'http://127.0.0.1/hook', 'both');
      const epoch = await store.takeOffice('me', T0);
      const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });
      assert.deepEqual(flip.outbox.map((r) => r.contactId), [twice, hook]);
      assert.equal(await statusOf(check.id), 'offline');
      assert.equal(await count('check_events'), 1);
      assert.equal(new Set(flip.outbox.map((r) => r.idempotencyKey)).size, 2);
    });

    test('alerts rows pointing at a missing contact are reported, the others alerted', async () => {
      const check = await setup();
      const real = await contact(check.id, 'email', 'ops@example.org', 'both');
      await run("INSERT INTO alerts (check_id, contact_id, type) VALUES (?, 999, 'both')", [check.id]);
      const epoch = await store.takeOffice('me', T0);
      const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });
      assert.deepEqual(flip.outbox.map((r) => r.contactId), [real]);
      assert.deepEqual(flip.missingContacts, [999]);
    });

    test('a flip key is recorded once: the second call reads the first back and writes nothing', async () => {
      const check = await setup();
      await contact(check.id, 'email', 'ops@example.org', 'both');
      const epoch = await store.takeOffice('me', T0);
      const first = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0, key: 'flip-1' });
      const again = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0, key: 'flip-1' });
      assert.equal(first.replayed, false);
      assert.equal(again.replayed, true);
      assert.equal(again.eventId, first.eventId);
      assert.deepEqual(again.outbox, first.outbox);
      assert.equal(await count('check_events'), 1);
      assert.equal(await count('alert_outbox'), 1);
      // The store itself refuses a second row with the key, whoever writes it.
      await assert.rejects(run("INSERT INTO check_events (check_id, type, flip_key) VALUES (?, 'offline', 'flip-1')", [check.id]));
      const other = await store.recordFlip(epoch, { check, status: 'online', message: '', now: T0 + 1, key: 'flip-2' });
      assert.notEqual(other.eventId, first.eventId);
    });

    test('the event carries the flip\'s own time, not the time it was written', async () => {
      const check = await setup();
      const epoch = await store.takeOffice('me', T0);
      const { eventId } = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 + 1500 });
      const [row] = await store.driver.all(
        store.driver.dialect === 'mysql' ? 'SELECT UNIX_TIMESTAMP(time) AS t FROM check_events WHERE id = ?' : "SELECT strftime('%s', time) AS t FROM check_events WHERE id = ?",
        [eventId],
      );
      assert.equal(Number(row.t), Math.floor((T0 + 1500) / 1000));
    });

    test('recordFlip is atomic: a failure half-way writes nothing', async () => {
      const check = await setup();
      await contact(check.id, 'email', 'a@example.org', 'both');
      const second = await contact(check.id, 'email', 'b@example.org', 'both');
      const epoch = await store.takeOffice('me', T0);
      // The flip's first event gets id 1: a planted row with its second key breaks the last insert.
      await run(
        `INSERT INTO alert_outbox (idempotency_key, event_id, check_id, contact_id, contact_type, contact_data, status,
           check_name, check_type, check_data, next_attempt_at, created_at) VALUES (?, 0, 0, 0, 'x', 'x', 'offline', 'x', 'x', 'x', 0, 0)`,
        [`gobearmon-1-${second}-${T0}`],
      );
      const before = await snapshot();
      await assert.rejects(store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 }), /Duplicate entry|UNIQUE constraint/);
      assert.deepEqual(await snapshot(), before);
      assert.equal(await statusOf(check.id), 'online');
    });

    test('flips still record after the event history is emptied and its ids start over', async () => {
      const check = await setup();
      await contact(check.id, 'email', 'a@example.org', 'both');
      const epoch = await store.takeOffice('me', T0);
      const first = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });
      // What an operator clearing old history does; both engines then hand out event id 1 again.
      if (engine.name === 'mysql') await run('TRUNCATE TABLE check_events');
      else {
        await run('DELETE FROM check_events');
        await run("DELETE FROM sqlite_sequence WHERE name = 'check_events'");
      }
      const second = await store.recordFlip(epoch, { check, status: 'online', message: '', now: T0 + 60_000 });
      assert.equal(second.eventId, first.eventId);
      assert.deepEqual(second.outbox.map((r) => r.status), ['online'], 'only this flip\'s rows');
      assert.notEqual(second.outbox[0].idempotencyKey, first.outbox[0].idempotencyKey, 'a new alert, not a resend of the old one');
      assert.equal(await statusOf(check.id), 'online');
      // The old flip's row is still pending: it must not keep the new flip alive.
      const dead = await store.finishAlert(epoch, second.outbox[0], { startedAt: T0, finishedAt: T0 + 1, ok: false, error: 'gave up' });
      assert.deepEqual(dead, { flipDead: true, undoWorthwhile: true });
    });

    test('a controller holding a stale epoch is fenced and writes nothing', async () => {
      const check = await setup();
      await contact(check.id, 'sms', '+15550001', 'both');
      const old = await store.takeOffice('old', T0);
      const current = await store.takeOffice('new', T0 + 1);
      const { eventId, outbox: [row] } = await store.recordFlip(current, { check, status: 'offline', message: 'down', now: T0 });
      const before = await snapshot();

      const fenced = (err: unknown) => err instanceof FencedError && err.mine === old && err.current === current;
      await assert.rejects(store.recordFlip(old, { check, status: 'online', message: 'up', now: T0 + 2 }), fenced);
      await assert.rejects(store.claimAlert(old, row.id, T0 + 30_000), fenced);
      await assert.rejects(
        store.finishAlert(old, row, { startedAt: T0, finishedAt: T0 + 1, ok: true, providerId: 'SM1', charge: { type: 'sms', data: 'SM1' } }),
        fenced,
      );
      await assert.rejects(store.finishAlert(old, row, { startedAt: T0, finishedAt: T0 + 1, ok: false, error: 'x' }), fenced);
      await assert.rejects(store.revertFlip(old, check.id, eventId, 'online'), fenced);
      // An epoch nobody has taken yet is refused too.
      await assert.rejects(store.revertFlip(current + 1, check.id, eventId, 'online'), FencedError);
      assert.deepEqual(await snapshot(), before);

      // A flip that a later one superseded is never undone; the latest one is.
      const { eventId: later } = await store.recordFlip(current, { check, status: 'offline', message: 'down again', now: T0 + 3 });
      assert.equal(await store.revertFlip(current, check.id, eventId, 'online'), false);
      assert.equal(await statusOf(check.id), 'offline');
      assert.equal(await store.revertFlip(current, check.id, later, 'online'), true);
      assert.equal(await statusOf(check.id), 'online');
    });

    test('a successful send marks the row sent, writes the charge, and is never due again', async () => {
      const check = await setup();
      await contact(check.id, 'sms', '+15550001', 'both');
      const epoch = await store.takeOffice('me', T0);
      const { outbox: [row] } = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });

      assert.deepEqual((await store.dueAlerts(epoch, T0, 10)).map((r) => r.id), [row.id]);
      assert.equal(await store.claimAlert(epoch, row.id, T0 + 30_000), true);
      assert.deepEqual(await store.dueAlerts(epoch, T0 + 1_000, 10), [], 'claimed: not due for its own epoch');
      const result = await store.finishAlert(epoch, row, {
        startedAt: T0 + 10, finishedAt: T0 + 250, ok: true, providerId: 'SM123', charge: { type: 'sms', data: 'SM123' },
      });
      assert.deepEqual(result, { flipDead: false, undoWorthwhile: false });

      const [sent] = await store.outboxForCheck(check.id);
      assert.equal(sent.state, 'sent');
      assert.equal(sent.sentAt, T0 + 250);
      assert.equal(sent.providerId, 'SM123');
      assert.equal(sent.attempts, 1);
      const charges = await store.driver.all('SELECT check_id, type, data FROM charges');
      assert.deepEqual(charges.map((c) => [Number(c.check_id), c.type, c.data]), [[check.id, 'sms', 'SM123']]);
      assert.deepEqual(await store.attempts(row.id), [
        { outboxId: row.id, epoch, startedAt: T0 + 10, finishedAt: T0 + 250, ok: true, error: null, providerId: 'SM123' },
      ]);

      const later = await store.takeOffice('next', T0 + 1);
      assert.deepEqual(await store.dueAlerts(later, T0 + 86_400_000, 10), [], 'sent rows are never due, even for a new epoch');
      assert.equal(await store.claimAlert(later, row.id, T0 + 90_000), false);
    });

    test('a success without a charge writes no charges row', async () => {
      const check = await setup();
      await contact(check.id, 'email', 'a@example.org', 'both');
      const epoch = await store.takeOffice('me', T0);
      const { outbox: [row] } = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });
      await store.claimAlert(epoch, row.id, T0 + 30_000);
      await store.finishAlert(epoch, row, { startedAt: T0, finishedAt: T0 + 5, ok: true, providerId: '<id@mail>' });
      assert.equal(await count('charges'), 0);
      assert.equal((await store.outboxForCheck(check.id))[0].state, 'sent');
    });

    test('a failure with retryAt stays pending with last_error until retryAt; every attempt is recorded', async () => {
      const check = await setup();
      await contact(check.id, 'http', 'http://127.0.0.1:1/hook', 'both');
      const epoch = await store.takeOffice('me', T0);
      const { outbox: [row] } = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });

      await store.claimAlert(epoch, row.id, T0 + 30_000);
      const result = await store.finishAlert(epoch, row, { startedAt: T0, finishedAt: T0 + 20, ok: false, error: 'ECONNREFUSED', retryAt: T0 + 5_000 });
      assert.deepEqual(result, { flipDead: false, undoWorthwhile: false });
      const [waiting] = await store.outboxForCheck(check.id);
      assert.equal(waiting.state, 'pending');
      assert.equal(waiting.lastError, 'ECONNREFUSED');
      assert.equal(waiting.nextAttemptAt, T0 + 5_000);
      assert.deepEqual(await store.dueAlerts(epoch, T0 + 4_999, 10), []);
      assert.deepEqual((await store.dueAlerts(epoch, T0 + 5_000, 10)).map((r) => r.id), [row.id]);

      assert.equal(await store.claimAlert(epoch, row.id, T0 + 35_000), true);
      await store.finishAlert(epoch, waiting, { startedAt: T0 + 5_000, finishedAt: T0 + 5_030, ok: true, providerId: '200' });
      const [done] = await store.outboxForCheck(check.id);
      assert.equal(done.state, 'sent');
      assert.equal(done.attempts, 2);
      assert.equal(done.lastError, null);
      assert.deepEqual(await store.attempts(row.id), [
        { outboxId: row.id, epoch, startedAt: T0, finishedAt: T0 + 20, ok: false, error: 'ECONNREFUSED', providerId: null },
        { outboxId: row.id, epoch, startedAt: T0 + 5_000, finishedAt: T0 + 5_030, ok: true, error: null, providerId: '200' },
      ]);
    });

    test('a failure without retryAt kills the row; flipDead only once every row of the flip is dead', async () => {
      const check = await setup();
      await contact(check.id, 'email', 'a@example.org', 'both');
      await contact(check.id, 'sms', '+15550001', 'both');
      const epoch = await store.takeOffice('me', T0);
      const fail = { startedAt: T0, finishedAt: T0 + 1, ok: false, error: 'gave up' };

      const first = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });
      assert.deepEqual(await store.finishAlert(epoch, first.outbox[0], fail), { flipDead: false, undoWorthwhile: false });
      assert.deepEqual(await store.finishAlert(epoch, first.outbox[1], fail), { flipDead: true, undoWorthwhile: true });
      const dead = await store.outboxForCheck(check.id);
      assert.deepEqual(dead.map((r) => [r.state, r.lastError]), [['dead', 'gave up'], ['dead', 'gave up']]);
      assert.deepEqual(await store.dueAlerts(epoch, T0 + 86_400_000, 10), [], 'dead rows are never due');

      // One contact reached: the flip stands even though the other one died.
      const second = await store.recordFlip(epoch, { check, status: 'online', message: '', now: T0 + 10 });
      await store.finishAlert(epoch, second.outbox[0], { startedAt: T0, finishedAt: T0 + 1, ok: true, providerId: 'm1' });
      assert.deepEqual(await store.finishAlert(epoch, second.outbox[1], fail), { flipDead: false, undoWorthwhile: false });
    });

    test('a row claimed by an older epoch is due again for a newer one (in-doubt resend)', async () => {
      const check = await setup();
      await contact(check.id, 'voice', '+15550001', 'both');
      const first = await store.takeOffice('a', T0, 0, 1_000); // a one-second lease on the store's clock
      const { outbox: [row] } = await store.recordFlip(first, { check, status: 'offline', message: 'down', now: T0 });
      assert.equal(await store.claimAlert(first, row.id, T0 + 120_000), true);
      assert.deepEqual(await store.dueAlerts(first, T0 + 1_000, 10), []);

      // The first controller died mid-send (or froze): while its lease may still run it may still be
      // sending, so its successor waits for the lease, then must not wait for the claim to run out.
      const second = await store.takeOffice('b', T0 + 2_000);
      assert.deepEqual(await store.dueAlerts(second, T0 + 2_000, 10), [], 'not before the predecessor\'s lease ended');
      assert.equal(await store.claimAlert(second, row.id, T0 + 32_000), false, 'nor claimed');
      const due = await waitFor('the in-doubt row to be due', async () => {
        const rows = await store.dueAlerts(second, T0 + 2_000, 10);
        return rows.length ? rows : null;
      }, 10_000);
      assert.deepEqual(due.map((r) => [r.id, r.idempotencyKey]), [[row.id, row.idempotencyKey]]);
      assert.equal(await store.claimAlert(second, row.id, T0 + 32_000), true);
      assert.deepEqual(await store.dueAlerts(second, T0 + 3_000, 10), []);
      await store.finishAlert(second, due[0], { startedAt: T0 + 2_000, finishedAt: T0 + 2_500, ok: true, providerId: 'CA1' });

      const third = await store.takeOffice('c', T0 + 4_000);
      assert.deepEqual(await store.dueAlerts(third, T0 + 4_000, 10), []);
      assert.equal((await store.outboxForCheck(check.id))[0].attempts, 2);
      assert.deepEqual((await store.attempts(row.id)).map((a) => [a.epoch, a.ok]), [[second, true]]);
    });

    test('dueAlerts returns the oldest due rows first, up to the limit', async () => {
      const check = await setup();
      for (let i = 0; i < 3; i++) await contact(check.id, 'email', `${i}@example.org`, 'both');
      const epoch = await store.takeOffice('me', T0);
      const { outbox } = await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: T0 });
      await store.claimAlert(epoch, outbox[0].id, T0 + 60_000);
      await store.finishAlert(epoch, outbox[0], { startedAt: T0, finishedAt: T0, ok: false, error: 'x', retryAt: T0 + 500 });
      assert.deepEqual((await store.dueAlerts(epoch, T0 + 1_000, 2)).map((r) => r.id), [outbox[1].id, outbox[2].id]);
      assert.deepEqual((await store.dueAlerts(epoch, T0 + 1_000, 10)).map((r) => r.id), [outbox[1].id, outbox[2].id, outbox[0].id]);
    });
  });
}
