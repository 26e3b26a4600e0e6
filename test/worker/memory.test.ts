/**
 * The worker's loops leave nothing behind per iteration on long-lived signals: sleeps remove their
 * abort listener when they end, PeerClient calls remove theirs, and nothing combines a long-lived
 * signal per call (AbortSignal.any with the stop signal kept ~116 B per /work long-poll on Node 20;
 * `sleep(…, stop.signal)` added a listener per retry while the viewserver was down, and Node warned
 * MaxListenersExceededWarning after eleven).
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { kitConfig, captureLogger, sleep } from '../helpers/controller-kit';
import { freePort } from '../helpers/ports';
import { PeerClient } from '../../src/protocol/client';
import { abortableSleep } from '../../src/util/sleep';
import { Worker } from '../../src/worker/worker';

test('abortableSleep removes its listener whether it times out or is aborted', async () => {
  const stop = new AbortController();
  for (let i = 0; i < 1_000; i++) await abortableSleep(0, stop.signal);
  assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
  const pending = abortableSleep(60_000, stop.signal);
  assert.equal(getEventListeners(stop.signal, 'abort').length, 1);
  stop.abort();
  await pending;
  assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
});

test('PeerClient calls leave no listener on the caller\'s signal', async () => {
  const port = await freePort(); // nothing listens: every call fails at once
  const client = new PeerClient('pw');
  const stop = new AbortController();
  try {
    for (let i = 0; i < 300; i++) {
      await client.call(`127.0.0.1:${port}`, '/view', { after: 0 }, { timeoutMs: 1_000, signal: stop.signal }).catch(() => undefined);
    }
    assert.equal(getEventListeners(stop.signal, 'abort').length, 0);
  } finally {
    await client.close();
  }
});

test('a worker whose viewserver is down retries without piling listeners (no MaxListenersExceededWarning)', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const port = await freePort();
  const worker = new Worker(kitConfig({ worker: { viewAddr: `127.0.0.1:${port}`, name: 'lonely' } }), captureLogger().log, undefined, { mailAdmin: async () => undefined });
  try {
    worker.start();
    // Retries back off to one a second: twelve or more in 9 s, past the eleven that made Node warn.
    await sleep(9_000);
  } finally {
    await worker.close(100);
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings.filter((w) => /MaxListeners/.test(w)), []);
});
