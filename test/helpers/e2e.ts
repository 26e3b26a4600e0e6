/**
 * The world of an end-to-end test: a fresh MySQL database, an HTTP target and an alert sink run by
 * the test, and a real cluster of node processes on loopback with an elected controller.
 */
import { startAlertSink, type AlertSink } from './alert-sink';
import { Cluster, waitFor, type ClusterOptions } from './cluster';
import { createTestDatabase, type TestDatabase } from './db';
import { startTarget, type Target } from './target';

export interface World {
  db: TestDatabase;
  cluster: Cluster;
  target: Target;
  sink: AlertSink;
  /** INSERTs an http check of `path` (interval 1 s, delay 1) alerting each sink path; returns its id. */
  addCheck(name: string, path: string, contacts: string[]): Promise<number>;
  /** The check's flips, oldest first, as check_events types; every flip of every check without `id`. */
  events(id?: number): Promise<string[]>;
  storedStatus(id: number): Promise<string>;
  close(): Promise<void>;
}

/** `dsnOf`: the DSN the nodes use (default the database's own; e.g. through a test/helpers/sql-proxy). */
export async function startWorld(options: Omit<ClusterOptions, 'dsn'>, dsnOf: (db: TestDatabase) => string = (d) => d.goDsn): Promise<World> {
  const db = await createTestDatabase('gbm_e2e');
  const target = await startTarget();
  const sink = await startAlertSink();
  const cluster = await Cluster.start({ dsn: dsnOf(db), ...options });
  await waitFor('an elected controller', async () => (await cluster.status().catch(() => null))?.epoch);
  return {
    db, cluster, target, sink,
    async addCheck(name, path, contacts) {
      // Written with \/ escapes, as operators copy them from the original README.
      const data = JSON.stringify({ url: target.url(path), expect_status: 200, timeout: 3 }).replace(/\//g, '\\/');
      const res = (await db.exec(`INSERT INTO checks (name, type, data, check_interval, delay) VALUES (?, 'http', ?, 1, 1)`, [name, data])) as { insertId: number };
      for (const contact of contacts) {
        const c = (await db.exec(`INSERT INTO contacts (type, data) VALUES ('http', ?)`, [sink.url(contact)])) as { insertId: number };
        await db.exec(`INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'both')`, [res.insertId, c.insertId]);
      }
      return res.insertId;
    },
    async events(id) {
      const rows = (await db.exec(`SELECT type FROM check_events${id ? ' WHERE check_id = ?' : ''} ORDER BY id`, id ? [id] : [])) as { type: string }[];
      return rows.map((r) => r.type);
    },
    async storedStatus(id) {
      const rows = (await db.exec('SELECT status FROM checks WHERE id = ?', [id])) as { status: string }[];
      return rows[0].status;
    },
    async close() {
      await cluster.stop();
      await Promise.all([target.close(), sink.close()]);
      await db.drop();
    },
  };
}
