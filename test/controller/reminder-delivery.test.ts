/**
 * A reminder travels the same path as a flip's alert: queued in the outbox, claimed and sent by the
 * real dispatcher with the real `webhook` contact to a local receiver, whose JSON says
 * `event: "reminder"` under its own idempotency key (MySQL and SQLite).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { sendAlert } from '../../src/contacts/registry';
import { AlertDispatcher } from '../../src/controller/alert-dispatcher';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { startChatProviders, type ChatProviders } from '../helpers/chat-providers';
import { captureLogger, kitConfig } from '../helpers/controller-kit';
import { ENGINES, type EngineDb } from '../helpers/engines';

const T0 = Date.parse('2026-01-01T00:00:00Z');

for (const engine of ENGINES) {
  describe(`reminder delivery on ${engine.name}`, () => {
    let db: EngineDb;
    let store: Store;
    let providers: ChatProviders;
    let dispatcher: AlertDispatcher | null = null;
    beforeEach(async () => {
      db = await engine.create();
      store = await openStore([db.dsn]);
      await store.migrate();
      providers = await startChatProviders();
    });
    afterEach(async () => {
      dispatcher?.stop();
      await dispatcher?.idle(5_000);
      await providers.close();
      await store.close();
      await db.drop();
    });

    test('flip alert, then a reminder with event "reminder" and its own key', async () => {
      const { insertId: checkId } = await store.driver.run("INSERT INTO checks (name, type, data) VALUES ('api', 'http', '{\"url\":\"http://x/\"}')");
      const { insertId: contactId } = await store.driver.run("INSERT INTO contacts (type, data) VALUES ('webhook', ?)", [`${providers.base}/hook`]);
      await store.driver.run("INSERT INTO alerts (check_id, contact_id, type, remind) VALUES (?, ?, 'both', 60)", [checkId, contactId]);
      const check = (await store.loadChecks()).find((c) => c.id === checkId)!;
      const epoch = await store.takeOffice('t', T0);
      const clock = { now: T0 };
      const logs = captureLogger();
      dispatcher = new AlertDispatcher(store, kitConfig(), sendAlert, logs.log, { onFlipDead: () => undefined, onPermanentFailure: () => undefined, onFenced: () => undefined }, () => clock.now);
      dispatcher.start(epoch);

      await store.recordFlip(epoch, { check, status: 'offline', message: 'HTTP 502', now: T0 });
      dispatcher.kick();
      const waitRequests = async (n: number) => {
        for (let i = 0; i < 400 && providers.requests.length < n; i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(providers.requests.length, n);
      };
      await waitRequests(1);
      clock.now = T0 + 60_000;
      await dispatcher.idle(10_000);
      const { reminders } = await store.outboxUpkeep(epoch, clock.now);
      assert.equal(reminders.length, 1);
      dispatcher.kick();
      await waitRequests(2);
      const [flip, reminder] = providers.requests.map((r) => r.json as { event: string; status: string; idempotency_key: string; message: string; time: string });
      assert.equal(flip.event, 'alert');
      assert.equal(reminder.event, 'reminder');
      assert.equal(reminder.status, 'offline');
      assert.equal(reminder.message, 'HTTP 502');
      assert.equal(reminder.time, new Date(T0 + 60_000).toISOString());
      assert.notEqual(reminder.idempotency_key, flip.idempotency_key);
      assert.equal(providers.requests[1].headers['idempotency-key'], reminder.idempotency_key);
    });
  });
}
