/** Migration versions are assigned ahead and may land out of order: migrate applies every missing one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../../src/store/open';
import { ENGINES } from '../helpers/engines';

for (const engine of ENGINES) {
  test(`a version recorded as missing below the highest is applied (${engine.name})`, async () => {
    const db = await engine.create();
    const store = await openStore([db.dsn]);
    try {
      await store.migrate();
      // As if migration 7 had landed and run before migration 5 existed.
      await store.driver.run('DELETE FROM schema_migrations WHERE version = 5');
      assert.deepEqual(await store.migrate(), ['5: push checks: pings, push_state, push_clock, push_listening, check_events.kind']);
      assert.deepEqual(await store.migrate(), []);
    } finally {
      await store.close();
      await db.drop();
    }
  });
}
