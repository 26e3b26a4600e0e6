/**
 * The controller's push judge on a real store (both engines) with a fake clock: timeouts, fail at
 * once, recovery with comeback, not registered, paused, deregister, invalid parameters; a ping
 * received before the deadline never judged late by a successor; a deposed judge writes nothing;
 * listener outages and lost activity move deadlines instead of alerting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PushJudge } from '../../src/controller/push-judge';
import { PingIngest, type PingRequest } from '../../src/push/ingest';
import { PushStore } from '../../src/push/store';
import { openStore } from '../../src/store/open';
import { FencedError, type Store } from '../../src/store/store';
import { createLogger, silentLogger } from '../../src/util/log';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { count, statusOf } from '../helpers/controller-kit';

const MIN = 60_000;
const T0 = Date.parse('2026-01-01T12:00:00Z');

interface Rig {
  db: EngineDb;
  store: Store;
  push: PushStore;
  ingest: PingIngest;
  now: { t: number };
  mails: string[];
  fenced: FencedError[];
  judge(): PushJudge;
}

async function rig(engine: (typeof ENGINES)[number]): Promise<Rig> {
  const db = await engine.create();
  const store = await openStore([db.dsn]);
  await store.migrate();
  const push = new PushStore(store);
  const now = { t: T0 };
  const clock = () => now.t;
  const mails: string[] = [];
  const fenced: FencedError[] = [];
  const ingest = new PingIngest({ store: push, node: 'a', log: silentLogger, clock });
  return {
    db, store, push, ingest, now, mails, fenced,
    judge: () => new PushJudge({
      store, push, log: process.env.DEBUG_JUDGE ? createLogger(true) : silentLogger, clock, reloadIntervalMs: 0, kick: () => undefined,
      mailAdmin: async (subject) => void mails.push(subject), onFenced: (err) => void fenced.push(err),
    }),
  };
}

async function addPush(r: Rig, name: string, data: object, interval: number, enabled = 1): Promise<number> {
  const { insertId } = await r.store.driver.run('INSERT INTO checks (name, type, data, check_interval, enabled) VALUES (?, ?, ?, ?, ?)', [name, 'push', JSON.stringify(data), interval, enabled]);
  const { insertId: contact } = await r.store.driver.run("INSERT INTO contacts (type, data) VALUES ('webhook', 'http://127.0.0.1:9/hook')");
  await r.store.driver.run('INSERT INTO alerts (check_id, contact_id) VALUES (?, ?)', [insertId, contact]);
  return insertId;
}

const ping = (r: Rig, token: string, kind: PingRequest['kind'] = 'success', body = '') => r.ingest.record([{ target: { token }, kind, body, route: 'test' }]);

async function round(j: PushJudge): Promise<void> {
  await j.tick();
  await j.idle();
}

const events = async (r: Rig, id: number) =>
  (await r.store.driver.all('SELECT type, kind, message FROM check_events WHERE check_id = ? ORDER BY id', [id])).map((e) => String(e.type ?? e.kind));

for (const engine of ENGINES) {
  describe(`push judge on ${engine.name}`, () => {
    let r: Rig;
    let j: PushJudge;
    let epoch: number;
    before(async () => {
      r = await rig(engine);
    });
    after(async () => {
      j?.stop();
      await r.ingest.close();
      await r.store.close();
      await r.db.drop();
    });

    test('timeout, fail at once, recovery with comeback, not registered, paused, invalid', async () => {
      const period = await addPush(r, 'period', { token: 'tok-period-1', grace: 300 }, 3600);
      const fresh = await addPush(r, 'fresh', { token: 'tok-fresh-01', grace: 60 }, 600);
      const paused = await addPush(r, 'paused', { token: 'tok-paused-1', grace: 60 }, 60, 0);
      const invalid = await addPush(r, 'invalid', { token: 'tok-invalid1', schedule: 'every day' }, 60);
      await r.ingest.start();
      await ping(r, 'tok-period-1');
      epoch = await r.store.takeOffice('judge-1', r.now.t);
      j = r.judge();
      await j.start(epoch);
      await j.idle();
      assert.equal(await statusOf(r.store, invalid), 'offline');
      assert.match(j.status().find((s) => s.id === invalid)!.message, /5-field cron/);
      assert.equal(await statusOf(r.store, period), 'online');

      r.now.t = T0 + 60 * MIN + 1000; // late, within grace
      await round(j);
      assert.equal(j.status().find((s) => s.id === period)!.state, 'late');
      assert.equal(await statusOf(r.store, period), 'online');

      r.now.t = T0 + 65 * MIN + 1000; // deadline + grace (+ the judge's settle time)
      await round(j);
      assert.equal(await statusOf(r.store, period), 'offline');
      const [row] = await r.store.outboxForCheck(period);
      assert.match(row.message, /no ping since 2026-01-01T12:00:00Z; expected by 2026-01-01T13:00:00Z/);

      await ping(r, 'tok-period-1', 'success', 'back');
      await round(j);
      assert.equal(await statusOf(r.store, period), 'online');
      assert.deepEqual(await events(r, period), ['offline', 'online', 'comeback']);
      await round(j);
      assert.ok(r.mails.some((m) => m.includes('[period] comeback')), r.mails.join(' | '));

      await ping(r, 'tok-period-1', 'fail', 'disk full');
      await round(j);
      assert.equal(await statusOf(r.store, period), 'offline');
      assert.equal((await r.store.outboxForCheck(period)).at(-1)!.message, 'failure signalled: disk full');

      // Never pinged: down after period + grace from when the judge first saw it.
      assert.equal(await statusOf(r.store, fresh), 'offline', 'not registered within 65 min (period 10 min + 1 min)');
      assert.match((await r.store.outboxForCheck(fresh))[0].message, /^not registered/);
      assert.equal(await statusOf(r.store, paused), 'online');
      assert.equal(j.status().find((s) => s.id === paused)!.state, 'paused');
      assert.equal(await count(r.store, 'alert_outbox', 'check_id = ?', [paused]), 0);
    });

    test('a ping received a second before the deadline is never judged late by a successor', async () => {
      const id = await addPush(r, 'handover', { token: 'tok-handover', grace: 10 }, 60);
      await r.ingest.reload();
      await round(j);
      await ping(r, 'tok-handover');
      const pingedAt = r.now.t;
      r.now.t = pingedAt + 69_000; // one second before deadline + grace
      await ping(r, 'tok-handover');
      j.stop(); // the controller dies
      const successorEpoch = await r.store.takeOffice('judge-2', r.now.t);
      r.now.t = pingedAt + 75_000;
      const successor = r.judge();
      await successor.start(successorEpoch);
      await successor.idle();
      assert.equal(await statusOf(r.store, id), 'online');
      assert.equal(successor.status().find((s) => s.id === id)!.state, 'up');

      // The deposed judge, resumed, writes nothing.
      r.now.t = pingedAt + 200_000;
      const outbox = await count(r.store, 'alert_outbox');
      await j.start(epoch);
      await j.idle();
      assert.ok(r.fenced.length > 0, 'the old epoch was fenced');
      assert.equal(await count(r.store, 'alert_outbox'), outbox, 'the deposed judge wrote no alert');
      j.stop();
      j = successor;
      epoch = successorEpoch;
      await round(j);
      const before = await r.store.driver.all("SELECT COUNT(*) AS n FROM check_events WHERE check_id = ? AND type = 'offline'", [id]);
      assert.equal(Number(before[0].n), 1, 'only the successor recorded the timeout at +200 s');
    });

    test('deregister: disabled, lifecycle event mailed, no timeout follows', async () => {
      const id = await addPush(r, 'gone', { token: 'tok-gone-001', grace: 10 }, 60);
      await r.ingest.reload();
      await round(j);
      await ping(r, 'tok-gone-001');
      await ping(r, 'tok-gone-001', 'deregister');
      await round(j);
      r.now.t += 10 * MIN;
      await round(j);
      await round(j);
      assert.equal(await statusOf(r.store, id), 'online');
      assert.equal(j.status().find((s) => s.id === id)!.state, 'paused');
      assert.ok(r.mails.some((m) => m.includes('[gone] deregistered')));
    });

    test('listeners down for two periods: no timeout for a sender that pings a period after they return', async () => {
      const id = await addPush(r, 'outage', { token: 'tok-outage-1', grace: 30 }, 600);
      await r.ingest.reload();
      await round(j);
      const t = r.now.t;
      const s1 = await r.push.listening('a', null, t);
      await ping(r, 'tok-outage-1');
      await r.push.listening('a', s1, t + MIN);
      r.now.t = t + 21 * MIN; // no listener for 20 minutes
      await round(j);
      assert.equal(await statusOf(r.store, id), 'online');
      await r.push.listening('a', null, r.now.t); // back
      r.now.t += 9 * MIN; // within a period of coming back
      await round(j);
      assert.equal(await statusOf(r.store, id), 'online');
      assert.equal(j.status().find((s) => s.id === id)!.state, 'up');
    });

    test('no ping reaches the cluster while several checks are up: timeouts held, admin mailed once, resumed', async () => {
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await addPush(r, `quiet-${i}`, { token: `tok-quiet-00${i}`, grace: 30 }, 60));
      await r.ingest.reload();
      await round(j);
      for (let i = 0; i < 3; i++) await ping(r, `tok-quiet-00${i}`);
      await round(j);
      const t = r.now.t;
      const session = await r.push.listening('a', null, t);
      for (const dt of [61_000, 91_000, 150_000, 300_000]) {
        r.now.t = t + dt;
        await r.push.listening('a', session, r.now.t); // the listener is up all along
        await round(j);
      }
      for (const id of ids) assert.equal(await statusOf(r.store, id), 'online');
      assert.equal(r.mails.filter((m) => m.includes('receiver activity lost')).length, 1);
      await ping(r, 'tok-quiet-000');
      await round(j);
      assert.equal(r.mails.filter((m) => m.includes('receiver activity ok')).length, 1);
      r.now.t += 50_000; // within a period of pings flowing again
      await r.push.listening('a', session, r.now.t);
      await round(j);
      for (const id of ids) assert.equal(await statusOf(r.store, id), 'online');
      r.now.t += 60_000; // the two that stay silent time out now
      await r.push.listening('a', session, r.now.t);
      await ping(r, 'tok-quiet-000');
      await round(j);
      assert.deepEqual(await Promise.all(ids.map((id) => statusOf(r.store, id))), ['online', 'offline', 'offline']);
    });
  });
}
