/**
 * The viewserver says why a candidate cannot serve, in its log (once per change, not per probe) and
 * in its status (what `gobearmon status` prints under WHY NOT): a node that refuses our password
 * needs a config fix, a node that does not answer needs a restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig, parseIni } from '../../src/config/load';
import { PeerClient } from '../../src/protocol/client';
import { createNodeServer, listen } from '../../src/protocol/server';
import { Viewserver, type ViewserverStatus } from '../../src/viewserver/viewserver';
import { PASSWORD, captureLogger, sleep, waitFor } from '../helpers/controller-kit';
import { freePort } from '../helpers/ports';

test('a candidate refusing our password and one not answering are each named with their reason, logged once', async () => {
  const wrongPassword = createNodeServer('another-secret', captureLogger().log);
  const refusing = `127.0.0.1:${await listen(wrongPassword, '127.0.0.1:0')}`;
  const silent = `127.0.0.1:${await freePort()}`;
  const vsAddr = `127.0.0.1:${await freePort()}`;
  const config = buildConfig(parseIni([
    '[default]', `password = ${PASSWORD}`,
    '[viewserver]', `addr = ${vsAddr}`, `controller = ${refusing}`, `controller = ${silent}`, 'probeInterval = 0.1', 'probeTimeout = 1',
  ].join('\n'), 'vs.cfg'), 'vs.cfg');
  const logs = captureLogger();
  const vs = new Viewserver(config, logs.log, async () => undefined);
  const client = new PeerClient(PASSWORD);
  await vs.start();
  try {
    const reasonOf = (addr: string) => logs.events('probe_failed').filter((l) => l.controller === addr).map((l) => String(l.reason));
    await waitFor('both reasons logged', () => reasonOf(refusing).length > 0 && reasonOf(silent).length > 0, 20_000);
    assert.deepEqual(reasonOf(refusing), ['refused our password']);
    assert.match(reasonOf(silent)[0], /^not answering \(.*ECONNREFUSED/);
    await sleep(1_000); // about ten more rounds of probes
    assert.equal(reasonOf(refusing).length, 1, 'logged on change, not at every probe');
    assert.equal(reasonOf(silent).length, 1, 'logged on change, not at every probe');

    const status = await client.call<ViewserverStatus>(vsAddr, '/status', undefined, { timeoutMs: 5_000 });
    const byAddr = new Map(status.controllers.map((c) => [c.addr, c]));
    assert.equal(byAddr.get(refusing)?.lastError, 'refused our password');
    assert.match(String(byAddr.get(silent)?.lastError), /^not answering/);
    assert.equal(status.controller, null, 'neither is elected');
  } finally {
    await client.close();
    await vs.close();
    await wrongPassword.close();
  }
});
