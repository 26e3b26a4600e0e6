/**
 * Upgrading in place (SPEC §4): a database made by the original Go install.sql is migrated by the
 * real `gobearmon migrate`, and the original README's statements still work. Also keeps our
 * install.sql and src/store/schema.ts from drifting apart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MIGRATIONS } from '../../src/store/migrations';
import { openStore } from '../../src/store/open';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { runGobearmon, writeWorkerConfig } from '../helpers/run-cli';
import { sqlStatements } from '../helpers/sqlscript';

type Rows = Record<string, unknown>[];

async function runScript(db: TestDatabase, relPath: string): Promise<void> {
  for (const statement of sqlStatements(relPath)) await db.exec(statement);
}

/** Columns and indexes of a database as information_schema sees them, in a stable order. */
async function describeSchema(db: TestDatabase): Promise<{ columns: Rows; indexes: Rows }> {
  const columns = (await db.exec(
    `SELECT table_name AS t, column_name AS c, column_type AS type, column_default AS dflt, is_nullable AS nullable, extra,
       character_set_name AS cs, collation_name AS coll
     FROM information_schema.columns WHERE table_schema = ? ORDER BY table_name, ordinal_position`,
    [db.name],
  )) as Rows;
  const indexes = (await db.exec(
    `SELECT table_name AS t, index_name AS i, seq_in_index AS seq, column_name AS c, non_unique AS nu
     FROM information_schema.statistics WHERE table_schema = ? ORDER BY table_name, index_name, seq_in_index`,
    [db.name],
  )) as Rows;
  return { columns, indexes };
}

async function migrateFromEmpty(db: TestDatabase): Promise<void> {
  const store = await openStore([db.urlDsn]);
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
}

describe('a database made by the original install.sql', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'gbm-migrate-'));
  });
  after(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('is upgraded by `gobearmon migrate`, then takes the original README statements verbatim', async () => {
    await runScript(db, 'test/fixtures/original-install.sql');
    const config = writeWorkerConfig(dir, db.goDsn);

    const first = await runGobearmon(['migrate', '--config', config]);
    assert.equal(first.code, 0, first.stderr);
    // Every migration after the original schema (1), one line each, in order.
    assert.equal(first.stdout, MIGRATIONS.filter((m) => m.version > 1).map((m) => `applied migration ${m.version}: ${m.description}\n`).join(''));
    assert.match(first.stdout, /^applied migration 2: fencing lease, alert outbox and attempt history, check_events\.message, indexes\n/);
    const second = await runGobearmon(['migrate', '--config', config]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, 'schema is up to date\n');

    const inserts = sqlStatements('test/fixtures/original-readme-inserts.sql');
    assert.equal(inserts.length, 4);
    assert.ok(inserts[1].includes(String.raw`"https:\/\/example.com"`), 'the fixture keeps the README escapes');
    for (const statement of inserts) await db.exec(statement);

    const checks = (await db.exec('SELECT id, name, type, data, check_interval, delay, status, enabled FROM checks ORDER BY id')) as Rows;
    assert.deepEqual(checks, [
      { id: 1, name: 'ping ipv6', type: 'icmp', data: '{"target":"example.com","force_ip":6}', check_interval: 60, delay: 1, status: 'online', enabled: 1 },
      {
        id: 2, name: 'my http check', type: 'http', data: '{"url":"https://example.com","method":"GET","expect_status":200,"timeout":15}',
        check_interval: 120, delay: 5, status: 'online', enabled: 1,
      },
    ]);
    assert.deepEqual(await db.exec('SELECT id, type, data FROM contacts'), [{ id: 1, type: 'email', data: 'admin@example.com' }]);
    assert.deepEqual(await db.exec('SELECT check_id, contact_id, type, enabled FROM alerts'), [{ check_id: 1, contact_id: 1, type: 'both', enabled: 1 }]);

    const tables = ((await db.exec('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [db.name])) as Rows).map((r) => String(r.t)).sort();
    assert.deepEqual(tables, ['alert_attempts', 'alert_outbox', 'alerts', 'charges', 'check_events', 'check_rollups', 'checks', 'contacts', 'controller_lease', 'pings', 'push_clock', 'push_listening', 'push_state', 'schema_migrations']);
    const message = (await db.exec(
      "SELECT 1 FROM information_schema.columns WHERE table_schema = ? AND table_name = 'check_events' AND column_name = 'message'",
      [db.name],
    )) as Rows;
    assert.equal(message.length, 1);

    const store = await openStore([db.goDsn]);
    try {
      assert.deepEqual((await store.loadChecks()).map((c) => [c.name, c.interval, c.delay]), [['ping ipv6', 60, 1], ['my http check', 120, 5]]);
      assert.deepEqual(await store.lease(), { epoch: 0, holder: '', takenAt: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('one schema, three ways', () => {
  const dbs: TestDatabase[] = [];
  after(async () => {
    for (const db of dbs) await db.drop();
  });

  test('our install.sql, migrate from empty, and migrate from the original install.sql make the same schema', async () => {
    const [installed, fromEmpty, upgraded] = await Promise.all([0, 1, 2].map(() => createTestDatabase()));
    dbs.push(installed, fromEmpty, upgraded);
    await runScript(installed, 'install.sql');
    await migrateFromEmpty(fromEmpty);
    await runScript(upgraded, 'test/fixtures/original-install.sql');
    await migrateFromEmpty(upgraded);

    const expected = await describeSchema(fromEmpty);
    assert.ok(expected.columns.length > 40 && expected.indexes.length > 10);
    assert.deepEqual(await describeSchema(installed), expected, 'install.sql differs from src/store/schema.ts');
    assert.deepEqual(await describeSchema(upgraded), expected, 'an upgraded original database differs from a new one');

    // install.sql also seeds what the migrations seed, so migrate finds nothing to do there.
    const seeded = 'SELECT version, description FROM schema_migrations ORDER BY version';
    assert.deepEqual(await installed.exec(seeded), await fromEmpty.exec(seeded));
    assert.deepEqual(await installed.exec('SELECT id, epoch FROM controller_lease'), [{ id: 1, epoch: 0 }]);
    const store = await openStore([installed.urlDsn]);
    try {
      assert.deepEqual(await store.migrate(), []);
    } finally {
      await store.close();
    }
  });

  test('the five original tables keep the original columns exactly', async () => {
    const [original, ours] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    dbs.push(original, ours);
    await runScript(original, 'test/fixtures/original-install.sql');
    await runScript(ours, 'install.sql');
    const ourColumns = (await describeSchema(ours)).columns.filter(
      (c) => ['checks', 'contacts', 'alerts', 'check_events', 'charges'].includes(String(c.t)) && !(c.t === 'check_events' && ['message', 'flip_key', 'kind'].includes(String(c.c))) && !(c.t === 'checks' && c.c === 'tags') && !(c.t === 'alerts' && c.c === 'remind'),
    );
    assert.deepEqual(ourColumns, (await describeSchema(original)).columns);
  });
});
