/**
 * Several `database` lines are replicas of one cluster (SPEC §2): a query that cannot reach one is
 * retried on another, with bounded rounds; a wrong statement is the caller's error and is not retried.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MIGRATIONS } from '../../src/store/migrations';
import { openStore } from '../../src/store/open';
import { isRetryable } from '../../src/store/mysql';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { freePort } from '../helpers/ports';

const FAST = { rounds: 2, backoffMs: 10, connectTimeoutMs: 500 };

describe('database replicas', () => {
  let db: TestDatabase;
  let dead: string[];
  before(async () => {
    db = await createTestDatabase();
    dead = [];
    for (let i = 0; i < 2; i++) dead.push(`root@tcp(127.0.0.1:${await freePort()})/${db.name}`);
  });
  after(() => db.drop());

  test('a dead first replica is skipped: queries and transactions answer from the live one', async () => {
    const store = await openStore([dead[0], db.goDsn], FAST);
    try {
      assert.deepEqual(await store.driver.all('SELECT 1 AS one'), [{ one: 1 }]);
      assert.equal((await store.migrate()).length, MIGRATIONS.length);
      assert.equal(await store.takeOffice('me', Date.now()), 1);
      let calls = 0;
      await store.driver.transaction(async (tx) => {
        calls++;
        await tx.run("INSERT INTO contacts (type, data) VALUES ('email', 'a@example.org')");
      });
      assert.equal(calls, 1, 'the dead replica fails before the transaction body runs');
      assert.deepEqual(await store.driver.all('SELECT data FROM contacts'), [{ data: 'a@example.org' }]);
    } finally {
      await store.close();
    }
  });

  test('when every replica is dead it fails after bounded retries, naming the replicas', async () => {
    const store = await openStore(dead, FAST);
    const started = Date.now();
    try {
      await assert.rejects(store.driver.all('SELECT 1'), (err: Error) => {
        assert.match(err.message, /^database unavailable after 2 rounds over 2 replica\(s\): /);
        for (const dsn of dead) assert.ok(err.message.includes(dsn.replace(/^root@tcp\((.*)\)/, '$1')), `${err.message} names ${dsn}`);
        return true;
      });
      assert.ok(Date.now() - started < 5_000, 'bounded');
    } finally {
      await store.close();
    }
  });

  test('a syntax error is not retried and surfaces as the server said it', async () => {
    const store = await openStore([db.goDsn, dead[0]], FAST);
    try {
      const parseError = (err: unknown) => {
        const e = err as { code?: string; message: string };
        assert.equal(e.code, 'ER_PARSE_ERROR');
        assert.match(e.message, /You have an error in your SQL syntax/);
        return true;
      };
      await assert.rejects(store.driver.all('SELEC 1'), parseError);
      await assert.rejects(store.driver.raw('SELEC 1'), parseError);
      let calls = 0;
      await assert.rejects(
        store.driver.transaction(async (tx) => {
          calls++;
          await tx.all('SELEC 1');
        }),
        parseError,
      );
      assert.equal(calls, 1);
    } finally {
      await store.close();
    }
  });
});

test('a read-only replica refusing a write sends it to the next replica; a wrong statement does not', () => {
  assert.equal(isRetryable({ code: 'ER_OPTION_PREVENTS_STATEMENT' }), true);
  assert.equal(isRetryable({ code: 'ECONNREFUSED' }), true);
  assert.equal(isRetryable({ code: 'ER_PARSE_ERROR' }), false);
  assert.equal(isRetryable({ code: 'ER_DUP_ENTRY' }), false);
});
