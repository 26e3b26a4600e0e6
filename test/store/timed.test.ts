/**
 * Store deadlines (issue 11 item 5): every query and transaction of a worker node's store fails
 * after `timeoutMs` instead of hanging, and a transaction past its deadline rolls back rather than
 * committing behind its caller's back (the caller was already told it failed).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { StoreTimeoutError } from '../../src/store/timed';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { sleep } from '../helpers/wait';

let db: TestDatabase;
let store: Store;

before(async () => {
  db = await createTestDatabase('gbm_timed');
  await db.exec('CREATE TABLE t (id INT PRIMARY KEY)');
  store = await openStore([db.urlDsn], { timeoutMs: 300 });
});

after(async () => {
  await store?.close();
  await db?.drop();
});

test('a query past the deadline fails with StoreTimeoutError naming it', async () => {
  const err = await store.driver.all('SELECT SLEEP(1) AS s').then(() => null, (e: unknown) => e);
  assert.ok(err instanceof StoreTimeoutError);
  assert.equal(err.code, 'STORE_TIMEOUT');
  assert.match(err.message, /store query "SELECT SLEEP\(1\) AS s" took longer than 300 ms/);
  assert.deepEqual(await store.driver.all('SELECT 1 AS one'), [{ one: 1 }], 'the store works on');
});

test('a transaction past the deadline rolls back: none of its writes land, even those before the stall', async () => {
  const err = await store.driver.transaction(async (tx) => {
    await tx.run('INSERT INTO t (id) VALUES (1)');
    await tx.all('SELECT SLEEP(1)');
    await tx.run('INSERT INTO t (id) VALUES (2)');
  }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof StoreTimeoutError, String(err));
  await sleep(1_500); // the stalled statement has ended; the transaction went on, or not
  assert.deepEqual(await db.exec('SELECT id FROM t'), [], 'nothing committed after the caller was told it failed');
});
