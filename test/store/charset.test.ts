/**
 * No text can stop a flip (SPEC §12): on a latin1 database (the default of MySQL 5.7 and older
 * MariaDB) our tables and text columns are utf8mb4 however they were made (migrate from empty,
 * install.sql, an upgraded version-2 database), and messages of any characters, bytes or length
 * are recorded, fitted to their columns. A column that still cannot hold a text gets it escaped.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { openStore } from '../../src/store/open';
import { ORIGINAL_TABLES } from '../../src/store/schema';
import type { CheckRow, Store } from '../../src/store/store';
import { fitText } from '../../src/store/text';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { sqlStatements } from '../helpers/sqlscript';

const HOSTILE: [string, string][] = [
  ['a check mark', 'banner: ✓ ready'],
  ['emoji beyond the BMP, longer than the column', '🐻'.repeat(3000)],
  ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]).toString('utf8')],
  ['latin1 bytes read as UTF-8', Buffer.from('Gr\xfc\xdfe aus M\xfcnchen', 'latin1').toString('utf8')],
  ['a lone surrogate and a NUL', 'half \uD83D pair \u0000 nul'],
  ['a long ASCII text', 'x'.repeat(5000)],
  ['CJK and RTL', '接続が拒否されました — الاتصال مرفوض'],
];

async function utf8mb4Report(db: TestDatabase): Promise<string[]> {
  const rows = (await db.exec(
    `SELECT table_name AS t, column_name AS c, character_set_name AS cs FROM information_schema.columns
     WHERE table_schema = ? AND character_set_name IS NOT NULL ORDER BY table_name, ordinal_position`,
    [db.name],
  )) as { t: string; c: string; cs: string }[];
  const ours = rows.filter((r) => !(r.t in ORIGINAL_TABLES) || (r.t === 'check_events' && ['message', 'flip_key'].includes(r.c)));
  assert.ok(ours.length > 10);
  return ours.filter((r) => r.cs !== 'utf8mb4').map((r) => `${r.t}.${r.c} is ${r.cs}`);
}

/** Records one flip per hostile message, alternating status; each must land with its message fitted. */
async function flipsRecordEverything(store: Store): Promise<void> {
  const { insertId } = await store.driver.run("INSERT INTO checks (name, type, data) VALUES ('bänner', 'tcp', '{}')");
  const { insertId: contactId } = await store.driver.run("INSERT INTO contacts (type, data) VALUES ('http', 'http://127.0.0.1:9/')");
  await store.driver.run("INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'both')", [insertId, contactId]);
  const check = (await store.loadChecks()).find((c) => c.id === insertId) as CheckRow;
  const epoch = await store.takeOffice('A', Date.now());
  let now = Date.now();
  for (const [i, [what, message]] of HOSTILE.entries()) {
    const status = i % 2 === 0 ? 'offline' : 'online';
    const { eventId, outbox } = await store.recordFlip(epoch, { check, status, message, now: (now += 1000), key: `k${i}` });
    const [event] = await store.driver.all('SELECT type, message FROM check_events WHERE id = ?', [eventId]);
    assert.equal(event.type, status, what);
    assert.equal(event.message, fitText(message, 1024), `${what}: the message is stored, fitted to 1024 characters`);
    assert.equal(outbox.length, 1, what);
    assert.equal(outbox[0].message, fitText(message, 1024), what);
    assert.equal(outbox[0].checkName, 'bänner');
  }
  assert.equal((await store.driver.all('SELECT status FROM checks WHERE id = ?', [insertId]))[0].status, HOSTILE.length % 2 ? 'offline' : 'online');
}

describe('a latin1 database', () => {
  const dbs: TestDatabase[] = [];
  const stores: Store[] = [];
  const open = async (db: TestDatabase) => {
    const store = await openStore([db.urlDsn]);
    stores.push(store);
    return store;
  };
  const latin1 = async () => {
    const db = await createTestDatabase('gbm_latin1', 'latin1');
    dbs.push(db);
    return db;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const db of dbs.splice(0)) await db.drop();
  });

  test('migrated from empty: our columns are utf8mb4 and no message stops a flip', async () => {
    const db = await latin1();
    const store = await open(db);
    await store.migrate();
    assert.deepEqual(await utf8mb4Report(db), []);
    await flipsRecordEverything(store);
  });

  test('made by install.sql: the same', async () => {
    const db = await latin1();
    for (const statement of sqlStatements('install.sql')) await db.exec(statement);
    assert.deepEqual(await utf8mb4Report(db), []);
    const store = await open(db);
    assert.deepEqual(await store.migrate(), []);
    await flipsRecordEverything(store);
  });

  test('made at schema version 2 (latin1 tables) and upgraded: migration 3 converts them, keeping their rows', async () => {
    const db = await latin1();
    for (const statement of sqlStatements('test/fixtures/v2-install.sql')) await db.exec(statement);
    await db.exec("INSERT INTO alert_attempts (outbox_id, epoch, started_at, finished_at, ok, error) VALUES (1, 1, 1, 2, 0, 'caf\xe9 down')");
    assert.notDeepEqual(await utf8mb4Report(db), [], 'the version-2 schema inherited latin1');
    const store = await open(db);
    const applied = await store.migrate();
    assert.match(applied[0], /^3: alert path: utf8mb4/);
    assert.deepEqual(await utf8mb4Report(db), []);
    assert.equal((await store.driver.all('SELECT error FROM alert_attempts'))[0].error, 'caf\xe9 down', 'rows survive the conversion');
    await flipsRecordEverything(store);
  });

  test('a message column left latin1 by hand still records every flip, the text escaped to ASCII', async () => {
    const db = await latin1();
    const store = await open(db);
    await store.migrate();
    await db.exec('ALTER TABLE check_events MODIFY COLUMN message VARCHAR(1024) CHARACTER SET latin1 NULL');
    await db.exec('ALTER TABLE alert_outbox MODIFY COLUMN message VARCHAR(1024) CHARACTER SET latin1 NOT NULL DEFAULT \'\'');
    const { insertId } = await store.driver.run("INSERT INTO checks (name, type, data) VALUES ('web', 'http', '{}')");
    const check = (await store.loadChecks()).find((c) => c.id === insertId) as CheckRow;
    const epoch = await store.takeOffice('A', Date.now());
    const { eventId } = await store.recordFlip(epoch, { check, status: 'offline', message: 'banner ✓ 🐻', now: Date.now() });
    assert.equal((await store.driver.all('SELECT message FROM check_events WHERE id = ?', [eventId]))[0].message, 'banner \\u{2713} \\u{1f43b}');
    assert.equal((await store.driver.all('SELECT status FROM checks WHERE id = ?', [insertId]))[0].status, 'offline');
  });
});
