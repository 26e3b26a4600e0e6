/**
 * Reminders and cancellation in the outbox (migration 7), on MySQL and SQLite: a check that stays
 * offline re-notifies each alert with `remind` seconds, once per period, never while a notice is
 * still pending, with its own idempotency key; deleting/disabling an alert or contact cancels its
 * pending rows; a dead reminder never counts as a dead flip.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { openStore } from '../../src/store/open';
import { CANCELLED_REASON, isReminderKey, reminderDue } from '../../src/store/reminders';
import type { CheckRow, Store } from '../../src/store/store';
import { ENGINES, type EngineDb } from '../helpers/engines';

const T0 = Date.parse('2024-05-01T12:00:00Z');

test('reminderDue: never with remind 0, always once the period has passed since the last notice', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 86_400 }), fc.integer({ min: 0, max: 1e9 }), (last, remind, gap) => {
    assert.equal(reminderDue(last, remind, last + gap), remind > 0 && gap >= remind * 1000);
  }));
});

for (const engine of ENGINES) {
  describe(`reminders and cancellation on ${engine.name}`, () => {
    let db: EngineDb;
    let store: Store;
    let check: CheckRow;
    let epoch: number;
    let contacts = 0;
    beforeEach(async () => {
      db = await engine.create();
      store = await openStore([db.dsn]);
      await store.migrate();
      const { insertId } = await store.driver.run("INSERT INTO checks (name, type, data) VALUES ('web', 'http', '{}')");
      check = (await store.loadChecks()).find((c) => c.id === insertId)!;
      epoch = await store.takeOffice('test', T0);
    });
    afterEach(async () => {
      await store.close();
      await db.drop();
    });

    async function contact(remind: number | null, type: 'both' | 'offline' | 'online' = 'both'): Promise<number> {
      // Distinct addresses: a flip notifies one address once.
      const { insertId } = await store.driver.run('INSERT INTO contacts (type, data) VALUES (?, ?)', ['webhook', `http://127.0.0.1:9/${++contacts}`]);
      await store.driver.run('INSERT INTO alerts (check_id, contact_id, type, remind) VALUES (?, ?, ?, ?)', [check.id, insertId, type, remind]);
      return insertId;
    }
    const outbox = () => store.outboxForCheck(check.id);
    async function deliver(id: number, ok: boolean): Promise<{ flipDead: boolean }> {
      const row = (await outbox()).find((r) => r.id === id)!;
      return store.finishAlert(epoch, row, { startedAt: T0, finishedAt: T0, ok, error: ok ? undefined : 'HTTP 404' });
    }

    test('one reminder per period while offline, only after the last notice went out, and none once online', async () => {
      const every60 = await contact(60);
      await contact(null); // no reminders for this one
      const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'HTTP 503', now: T0 });
      assert.equal(flip.outbox.length, 2);

      // Still pending: no reminder even after the period.
      assert.deepEqual((await store.outboxUpkeep(epoch, T0 + 120_000)).reminders, []);
      for (const r of flip.outbox) await deliver(r.id, true);

      assert.deepEqual((await store.outboxUpkeep(epoch, T0 + 59_999)).reminders, []);
      const first = await store.outboxUpkeep(epoch, T0 + 60_000);
      assert.deepEqual(first.reminders, [{ checkId: check.id, contactId: every60, eventId: flip.eventId, n: 1 }]);
      // Run again at once: nothing more (the reminder is pending, and the period restarts from it).
      assert.deepEqual((await store.outboxUpkeep(epoch, T0 + 60_001)).reminders, []);
      const rows = await outbox();
      const reminder = rows.at(-1)!;
      assert.ok(isReminderKey(reminder.idempotencyKey));
      assert.notEqual(reminder.idempotencyKey, flip.outbox[0].idempotencyKey);
      assert.equal(reminder.status, 'offline');
      assert.equal(reminder.message, 'HTTP 503');
      assert.equal(reminder.state, 'pending');

      // A reminder that fails for good is not a dead flip (the flip must not be undone).
      assert.equal((await deliver(reminder.id, false)).flipDead, false);
      const second = await store.outboxUpkeep(epoch, T0 + 120_000);
      assert.equal(second.reminders[0].n, 2);

      // Back online: no more reminders.
      await store.recordFlip(epoch, { check: { ...check, status: 'offline' }, status: 'online', message: '', now: T0 + 130_000 });
      const after = await outbox();
      for (const r of after.filter((x) => x.state === 'pending')) await deliver(r.id, true);
      assert.deepEqual((await store.outboxUpkeep(epoch, T0 + 10_000_000)).reminders, []);
    });

    test('online-only alerts and disabled checks get no reminders', async () => {
      await contact(60, 'online');
      const flip = await store.recordFlip(epoch, { check, status: 'offline', message: 'x', now: T0 });
      assert.equal(flip.outbox.length, 0);
      assert.deepEqual((await store.outboxUpkeep(epoch, T0 + 1e6)).reminders, []);
      await contact(60);
      await store.driver.run('UPDATE checks SET enabled = 0 WHERE id = ?', [check.id]);
      assert.deepEqual((await store.outboxUpkeep(epoch, T0 + 1e6)).reminders, []);
    });

    test('deleting a contact, deleting an alert or disabling an alert cancels its pending rows, and only those', async () => {
      const keep = await contact(null);
      const deleted = await contact(null);
      const unlinked = await contact(null);
      const disabled = await contact(null);
      await store.recordFlip(epoch, { check, status: 'offline', message: 'x', now: T0 });
      await store.driver.run('DELETE FROM contacts WHERE id = ?', [deleted]);
      await store.driver.run('DELETE FROM alerts WHERE contact_id = ?', [unlinked]);
      await store.driver.run('UPDATE alerts SET enabled = 0 WHERE contact_id = ?', [disabled]);
      assert.equal((await store.outboxUpkeep(epoch, T0)).cancelled, 3);
      const byContact = new Map((await outbox()).map((r) => [r.contactId, r]));
      assert.equal(byContact.get(keep)!.state, 'pending');
      for (const id of [deleted, unlinked, disabled]) {
        assert.equal(byContact.get(id)!.state, 'cancelled');
        assert.equal(byContact.get(id)!.lastError, CANCELLED_REASON);
      }
      // Cancelled rows are never handed to the dispatcher, and a second pass changes nothing.
      assert.deepEqual((await store.dueAlerts(epoch, T0 + 1e9, 100)).map((r) => r.contactId), [keep]);
      assert.equal((await store.outboxUpkeep(epoch, T0)).cancelled, 0);
    });

    test('a deposed controller cannot queue reminders', async () => {
      await contact(60);
      await store.recordFlip(epoch, { check, status: 'offline', message: 'x', now: T0 });
      await store.takeOffice('other', T0);
      await assert.rejects(store.outboxUpkeep(epoch, T0 + 1e6), /fenced/);
    });
  });
}
