/** A store seeded for web tests: checks with tags, rollups, flips, alert history and a push check's pings. */
import type { Store } from '../../src/store/store';

export const SECRET = 'hunter2-very-secret';
export const PUSH_TOKEN = 'push-token-abcdef';

export interface Seeded {
  api: number;
  db: number;
  xss: number;
  push: number;
  paused: number;
}

export async function seedWeb(store: Store, now: number): Promise<Seeded> {
  const add = async (name: string, type: string, data: string, tags: string, status = 'online', enabled = 1) =>
    (await store.driver.run('INSERT INTO checks (name, type, data, status, enabled, tags, check_interval) VALUES (?, ?, ?, ?, ?, ?, 60)', [name, type, data, status, enabled, tags])).insertId;
  const api = await add('api-eu', 'http', JSON.stringify({ url: `https://admin:${SECRET}@api.example/health`, headers: { Authorization: `Bearer ${SECRET}` } }), 'prod, eu web');
  const db = await add('db-us', 'tcp', '{"host":"127.0.0.1","port":3306}', 'prod us', 'offline');
  const xss = await add('<script>alert(1)</script>', 'http', JSON.stringify({ url: 'http://127.0.0.1/', password: SECRET }), 'eu <b>x</b>');
  const push = await add('nightly-backup', 'push', JSON.stringify({ token: PUSH_TOKEN }), 'prod jobs');
  const paused = await add('old-thing', 'http', '{"url":"http://127.0.0.1/"}', 'eu', 'online', 0);
  const epoch = await store.takeOffice('seed', now);
  const minute = Math.floor(now / 60_000);
  await store.writeRollups(epoch, [
    { checkId: api, minute: minute - 2, runs: 2, failures: 0, sumMs: 40, maxMs: 30, lastAt: (minute - 2) * 60_000 + 1_000, lastMs: 30, lastOk: true },
    { checkId: api, minute: minute - 1, runs: 1, failures: 1, sumMs: 90, maxMs: 90, lastAt: now - 30_000, lastMs: 90, lastOk: false },
    { checkId: db, minute: minute - 1, runs: 1, failures: 1, sumMs: 5, maxMs: 5, lastAt: now - 20_000, lastMs: 5, lastOk: false },
  ]);
  const { eventId } = await store.recordFlip(epoch, { check: { id: db, name: 'db-us', type: 'tcp', data: '{}', interval: 60, delay: 1, status: 'online' }, status: 'offline', message: `GET https://admin:${SECRET}@db.example/ refused`, now });
  const { insertId: contact } = await store.driver.run("INSERT INTO contacts (type, data) VALUES ('email', 'ops@example.com')");
  const { insertId: outbox } = await store.driver.run(
    `INSERT INTO alert_outbox (idempotency_key, event_id, check_id, contact_id, contact_type, contact_data, status, message, check_name, check_type, check_data, state, attempts, next_attempt_at, created_at, last_error)
     VALUES (?, ?, ?, ?, 'email', 'ops@example.com', 'offline', 'down', 'db-us', 'tcp', '{}', 'pending', 1, ?, ?, 'smtp 451 try later')`,
    [`k-${eventId}`, eventId, db, contact, now, now],
  );
  await store.driver.run('INSERT INTO alert_attempts (outbox_id, epoch, started_at, finished_at, ok, error) VALUES (?, ?, ?, ?, 0, ?)', [outbox, epoch, now, now + 5, 'smtp 451 try later']);
  await store.driver.run('INSERT INTO push_state (check_id, seq, created_at, last_ping_at, last_kind, last_success_at, last_outcome, last_outcome_at, pings) VALUES (?, 1, ?, ?, ?, ?, ?, ?, 1)', [
    push, now - 3_600_000, now - 10_000, 'success', now - 10_000, 'success', now - 10_000,
  ]);
  await store.driver.run("INSERT INTO pings (check_id, kind, body, received_at, remote) VALUES (?, 'success', ?, ?, '127.0.0.1')", [push, 'backup done <img src=x onerror=alert(2)>', now - 10_000]);
  return { api, db, xss, push, paused };
}
