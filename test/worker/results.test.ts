/**
 * The worker's /results calls, with a real Controller, Viewserver and Worker in this process
 * (SQLite store): a call that fails is sent once more, so its checks do not stay locked until
 * lockTimeout; results locked by a controller that is no longer current are dropped, not sent to it.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, test } from 'node:test';
import { buildConfig, parseIni } from '../../src/config/load';
import { Controller } from '../../src/controller/controller';
import type { ControllerStatus } from '../../src/protocol/messages';
import { PeerClient } from '../../src/protocol/client';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { Viewserver } from '../../src/viewserver/viewserver';
import { Worker } from '../../src/worker/worker';
import { PASSWORD, captureLogger, kitConfig, waitFor } from '../helpers/controller-kit';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { freePort } from '../helpers/ports';

const SQLITE = ENGINES.find((e) => e.name === 'sqlite')!;

interface Ctl { addr: string; controller: Controller; store: Store; results: number }

let db: EngineDb;
let store: Store;
const closers: (() => Promise<void>)[] = [];
const client = new PeerClient(PASSWORD);

beforeEach(async () => {
  db = await SQLITE.create();
  store = await openStore([db.dsn]);
  await store.migrate();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await store.close();
  await db.drop();
});

async function startController(name: string, onResults?: (n: number, destroy: () => void) => void): Promise<Ctl> {
  const addr = `127.0.0.1:${await freePort()}`;
  const s = await openStore([db.dsn]);
  const controller = new Controller({ store: s, config: kitConfig({ controller: { addr, database: db.dsn, reloadInterval: '0.2', confirmations: '1' }, worker: { name } }), log: captureLogger().log });
  const ctl: Ctl = { addr, controller, store: s, results: 0 };
  controller.app.addHook('onRequest', async (req, reply) => {
    if (req.url !== '/results') return;
    ctl.results++;
    onResults?.(ctl.results, () => {
      reply.hijack();
      req.raw.socket.destroy();
    });
  });
  await controller.listen();
  closers.push(async () => {
    await controller.close();
    await s.close();
  });
  return ctl;
}

async function startViewserver(controllers: string[]): Promise<string> {
  const addr = `127.0.0.1:${await freePort()}`;
  const config = buildConfig(parseIni(['[default]', `password = ${PASSWORD}`, '[viewserver]', `addr = ${addr}`, ...controllers.map((c) => `controller = ${c}`),
    'probeInterval = 0.1', 'probeTimeout = 0.5', 'probeFailures = 1'].join('\n'), 'vs.cfg'), 'vs.cfg');
  const vs = new Viewserver(config, captureLogger().log, async () => undefined);
  await vs.start();
  closers.push(() => vs.close());
  return addr;
}

function startWorker(viewAddr: string) {
  const logs = captureLogger();
  const worker = new Worker(kitConfig({ controller: { database: db.dsn }, worker: { viewAddr, name: 'w1', numThreads: '4' } }), logs.log, undefined, { mailAdmin: async () => undefined });
  worker.start();
  closers.push(() => worker.close(200));
  return logs;
}

async function addTcpCheck(address: string, timeout: number, interval = 3600): Promise<number> {
  const data = JSON.stringify({ address, expect: 'hello', timeout });
  const { insertId } = await store.driver.run('INSERT INTO checks (name, type, data, check_interval, delay) VALUES (?, ?, ?, ?, ?)', ['t', 'tcp', data, interval, 0]);
  return insertId;
}

test('a /results call that fails is retried once, and its result counts', async () => {
  const ctl = await startController('ctl', (n, destroy) => n === 1 && destroy());
  const id = await addTcpCheck('127.0.0.1:9', 3); // refused at once: offline, reported right away
  startWorker(await startViewserver([ctl.addr]));
  const s = await waitFor('the result to be applied', async () => {
    const st = await client.call<ControllerStatus>(ctl.addr, '/status', undefined, { timeoutMs: 5_000 });
    return st.checks.find((c) => c.id === id)?.lastResult ? st : null;
  }, 20_000);
  assert.equal(s.checks.find((c) => c.id === id)?.lastResult?.status, 'offline');
  assert.equal(ctl.results, 2, 'the first call was cut, the second delivered it');
});

test('results locked by a former controller are dropped, not sent to it', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((sock) => void sockets.add(sock));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const sock of sockets) sock.destroy();
    silent.close();
  });
  const a = await startController('ctlA');
  const b = await startController('ctlB');
  await addTcpCheck(`127.0.0.1:${(silent.address() as AddressInfo).port}`, 4);
  const logs = startWorker(await startViewserver([a.addr, b.addr]));
  // A hands the check out; it hangs for 4 s on the silent target.
  await waitFor('A to hand the check out', () => sockets.size > 0, 20_000);
  const resultsToA = a.results;
  // A goes away mid-run: the viewserver names B.
  await a.controller.close();
  await waitFor('the result to be dropped', () => logs.events('results_dropped').length > 0, 20_000);
  assert.equal(a.results, resultsToA, 'nothing was sent to A');
  assert.deepEqual(logs.events('results_lost'), []);
});
