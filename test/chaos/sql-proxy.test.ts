/** The chaos suite's MySQL proxy does what it says: pass, hold, drop, blackhole, lose a COMMIT's OK. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { SqlProxy } from '../helpers/sql-proxy';
import { sleep, waitFor } from '../helpers/wait';

let db: TestDatabase;
let proxy: SqlProxy;

const through = () => mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root', database: db.name, connectTimeout: 1_000 });

before(async () => {
  db = await createTestDatabase('gbm_proxy');
  await db.exec('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
  await db.exec('INSERT INTO t VALUES (1, 0)');
  proxy = await SqlProxy.start();
});

after(async () => {
  await proxy?.close();
  await db?.drop();
});

test('passes queries and prepared statements through, naming each by its text', async () => {
  const c = await through();
  const [rows] = await c.execute('SELECT v FROM t WHERE id = ?', [1]);
  assert.deepEqual(rows, [{ v: 0 }]);
  await c.execute('SELECT v FROM t WHERE id = ?', [1]); // cached: an execute without a prepare
  const link = proxy.connections.at(-1)!;
  assert.equal(link.statements.filter((s) => s === 'SELECT v FROM t WHERE id = ?').length, 3, 'prepare + two executes');
  await c.end();
});

test('hold stops a connection until released; drop cuts it', async () => {
  const c = await through();
  const link = proxy.connections.at(-1)!;
  proxy.hold(link);
  let answered = false;
  const pending = c.query('SELECT 1 AS one').then(() => (answered = true));
  await sleep(300);
  assert.equal(answered, false);
  proxy.release(link);
  await pending;
  assert.equal(answered, true);
  proxy.drop(link);
  await assert.rejects(c.query('SELECT 1'));
});

test('holdAfter freezes a transaction that holds a row lock; the server keeps the lock', async () => {
  const frozen = await through();
  const held = proxy.holdAfter(/FOR UPDATE/);
  await frozen.beginTransaction();
  await frozen.query('SELECT v FROM t WHERE id = 1 FOR UPDATE');
  const link = await held;
  void frozen.query('UPDATE t SET v = 5 WHERE id = 1').catch(() => undefined); // never reaches the server
  const other = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: db.name });
  await other.query('SET SESSION innodb_lock_wait_timeout = 1');
  await assert.rejects(other.query('UPDATE t SET v = 1 WHERE id = 1'), /Lock wait timeout/);
  assert.equal(link.held, true);
  proxy.drop(link);
  await waitFor('the lock to go with the connection', async () => {
    try {
      await other.query('UPDATE t SET v = 1 WHERE id = 1');
      return true;
    } catch {
      return false;
    }
  }, 15_000);
  await other.end();
  frozen.destroy();
});

test('blackhole: a new connection is never answered', async () => {
  proxy.blackhole = true;
  await assert.rejects(through(), /timeout|ETIMEDOUT/i);
  proxy.blackhole = false;
  const c = await through();
  await c.query('SELECT 1');
  await c.end();
});

test('dropCommitAck: the COMMIT lands, its OK is lost and the connection cut', async () => {
  const c = await through();
  const trapped = proxy.dropCommitAck();
  await c.beginTransaction();
  await c.query('UPDATE t SET v = 42 WHERE id = 1');
  await assert.rejects(c.commit());
  const link = await trapped;
  assert.equal(link.closed, true);
  const rows = (await db.exec('SELECT v FROM t WHERE id = 1')) as { v: number }[];
  assert.equal(rows[0].v, 42, 'the commit landed');
  c.destroy();
});
