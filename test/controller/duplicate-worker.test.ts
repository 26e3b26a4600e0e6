/**
 * Two worker processes configured with one name would count as one worker toward every quorum and
 * steal each other's locks. The controller keeps the name for the live process and refuses the other
 * with a 409 that says what to fix; once the first has been silent for the worker timeout, the name is free.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Controller } from '../../src/controller/controller';
import { WorkerRegistry } from '../../src/controller/workers';
import { DUPLICATE_WORKER_NAME } from '../../src/protocol/messages';
import { openStore } from '../../src/store/open';
import { captureLogger, kitConfig, signedCaller, waitFor } from '../helpers/controller-kit';
import { ENGINES } from '../helpers/engines';

test('the registry keeps a live name for its first process and frees it after the timeout', () => {
  const r = new WorkerRegistry(15_000);
  assert.equal(r.claim('w1', 'a', 0), true);
  r.seen('w1', 0);
  assert.equal(r.claim('w1', 'b', 10_000), false, 'a second process under a live name');
  assert.equal(r.claim('w1', 'a', 10_000), true, 'the holder itself');
  assert.equal(r.claim('w1', undefined, 10_000), true, 'a worker of an older release sends no instance');
  assert.equal(r.claim('w1', 'b', 15_001), true, 'the holder has been silent past the timeout');
  r.seen('w1', 15_001);
  r.forget('w1');
  assert.equal(r.claim('w1', 'c', 15_002), true, 'a worker that handed its checks back frees its name');
});

test('a second worker process under a live name is refused with a message naming the key, and logged once', async () => {
  const db = await ENGINES.find((e) => e.name === 'sqlite')!.create();
  const store = await openStore([db.dsn]);
  await store.migrate();
  const logs = captureLogger();
  const ctl = new Controller({ store, config: kitConfig({ controller: { database: db.dsn, reloadInterval: '3600' } }), log: logs.log });
  const call = signedCaller(ctl.app);
  try {
    assert.equal((await call('POST', '/probe', { view: 1, active: true, elected: true })).status, 200);
    const poll = (instance: string) => call<{ error?: string }>('POST', '/work', { worker: 'dup', instance, view: 1, slots: 1, waitMs: 0 });
    await waitFor('office', async () => (await poll('first')).status === 200, 20_000);
    for (let i = 0; i < 3; i++) {
      const refused = await poll('second');
      assert.equal(refused.status, 409);
      assert.match(String(refused.body.error), new RegExp(`^${DUPLICATE_WORKER_NAME}: .*"dup".*\\[worker\\] name`));
    }
    assert.equal((await poll('first')).status, 200, 'the first process keeps working');
    assert.equal(logs.events(DUPLICATE_WORKER_NAME).length, 1, 'logged on change, not per poll');
  } finally {
    await ctl.close();
    await store.close();
    await db.drop();
  }
});
