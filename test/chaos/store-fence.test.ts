/**
 * Issue 11 item 1: a controller frozen or cut off inside a fenced transaction must not block its
 * successor for long. The frozen one's connection is held by a MySQL proxy right after its first
 * statement on the lease row (the original: SELECT … FOR UPDATE; now: the compare-and-set), so the
 * server keeps its transaction and row lock; the successor must still take office within seconds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { CONTROLLER_SESSION } from '../../src/store/session';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { SqlProxy } from '../helpers/sql-proxy';
import { waitFor } from '../helpers/wait';

let db: TestDatabase;
let proxy: SqlProxy;
const stores: Store[] = [];

before(async () => {
  db = await createTestDatabase('gbm_fence');
  proxy = await SqlProxy.start();
  const s = await openStore([db.urlDsn]);
  await s.migrate();
  await s.close();
});

after(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  await proxy?.close();
  await db?.drop();
});

test('a transaction frozen while it locks the lease row blocks a successor only for seconds, and commits nothing', async (t) => {
  const frozen = await openStore([proxy.dsn(db.name)], { session: CONTROLLER_SESSION, rounds: 1 });
  const successor = await openStore([db.urlDsn], { session: CONTROLLER_SESSION });
  stores.push(frozen, successor);
  await db.exec(`INSERT INTO checks (name, type, data) VALUES ('web', 'http', '{}')`);
  const [check] = await frozen.loadChecks();
  const epoch = await frozen.takeOffice('frozen', Date.now(), 1, 60_000);

  const held = proxy.holdAfter(/controller_lease/);
  const write = frozen.recordFlip(epoch, { check, status: 'offline', message: 'down', now: Date.now() }).then(
    () => 'committed',
    (err: Error) => err.message,
  );
  const link = await held;
  const started = Date.now();
  const next = await waitFor('the successor to take office', () => successor.takeOffice('successor', Date.now(), 2).catch(() => 0), 40_000, 10);
  const blockedMs = Date.now() - started;
  t.diagnostic(`successor took office ${blockedMs} ms after the holder froze (idle-transaction bound ${CONTROLLER_SESSION.idleTransactionS} s)`);
  assert.equal(next, epoch + 1);

  proxy.release(link); // the server already ended the frozen transaction; its client learns it now
  assert.notEqual(await write, 'committed');
  assert.deepEqual(await db.exec('SELECT COUNT(*) AS n FROM check_events'), [{ n: 0 }], 'the frozen write left nothing');
  assert.equal((await successor.leaseState()).holder, 'successor');
});
