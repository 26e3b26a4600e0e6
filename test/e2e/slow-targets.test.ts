/**
 * A lockTimeout shorter than a check's deadline: each lock lasts at least the check's own deadline
 * plus time to report, so a result from a target that hangs until the deadline still counts and
 * the check flips. (At 9d4662d every such result came after its lock expired and was ignored: a
 * hanging target never flipped.)
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { waitFor } from '../helpers/wait';
import { startWorld, type World } from '../helpers/e2e';

let world: World;
const sockets = new Set<Socket>();
// Accepts and never says a word: a tcp check with `expect` waits for its whole deadline.
const silent = createServer((s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

before(async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  world = await startWorld({ workers: 2, confirmations: 1, controllerExtra: 'lockTimeout = 1' });
});
after(async () => {
  for (const s of sockets) s.destroy();
  silent.close();
  await world.close();
});

test('lockTimeout 1 s and a target that hangs for the check\'s 3 s deadline: the check still flips offline', async () => {
  const { port } = silent.address() as AddressInfo;
  const data = JSON.stringify({ address: `127.0.0.1:${port}`, expect: 'hello', timeout: 3 });
  const res = (await world.db.exec(`INSERT INTO checks (name, type, data, check_interval, delay) VALUES ('silent', 'tcp', ?, 1, 0)`, [data])) as { insertId: number };
  const id = res.insertId;
  await waitFor('the hanging check to flip offline', async () => (await world.storedStatus(id)) === 'offline', 60_000, 250);
  assert.deepEqual(await world.events(id), ['offline']);
});
