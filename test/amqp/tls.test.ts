/**
 * amqps:// and [amqp] ca against a local TLS server: with the CA the handshake succeeds and the
 * AMQP 0-9-1 protocol header arrives encrypted; without it the certificate is refused. Plus how URLs
 * name vhosts (an empty path and %2F are '/').
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { connectBroker } from '../../src/amqp/broker';
import { brokerParts, type AmqpConfig } from '../../src/amqp/config';
import { makeCert } from '../helpers/certs';

const dir = mkdtempSync(join(tmpdir(), 'gbm-amqps-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('amqps with [amqp] ca: the handshake verifies against the CA file; without it the certificate is refused', async () => {
  const cert = makeCert('mq.test');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, cert.cert);
  const received: Buffer[] = [];
  const server = createServer({ key: cert.key, cert: cert.cert }, (socket: TLSSocket) => {
    socket.once('data', (chunk: Buffer) => {
      received.push(chunk);
      socket.destroy();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const cfg = (ca: string): AmqpConfig => ({
    url: `amqps://guest:guest@127.0.0.1:${port}/%2F`, exchange: 'x', routingKey: 'q', queue: 'q', ca, prefix: '', intervalMs: 60_000, components: '', managementUrl: '',
  });
  try {
    await assert.rejects(connectBroker(cfg(caFile), 'tls-test', 5_000));
    assert.equal(received.length, 1, 'the client got through the TLS handshake');
    assert.equal(received[0].subarray(0, 8).toString('latin1'), 'AMQP\x00\x00\x09\x01');

    await assert.rejects(connectBroker(cfg(''), 'tls-test', 5_000), /self[- ]signed certificate/);
    assert.equal(received.length, 1, 'nothing sent over an unverified connection');
  } finally {
    server.close();
  }
});

test('vhosts in URLs: an empty path and %2F are "/", others are URL-decoded; credentials default to guest', () => {
  assert.equal(brokerParts('amqp://u:p@h:5672').vhost, '/');
  assert.equal(brokerParts('amqp://u:p@h:5672/').vhost, '/');
  assert.equal(brokerParts('amqp://u:p@h:5672/%2F').vhost, '/');
  assert.equal(brokerParts('amqps://u:p@h/tsd%2Fpipeline').vhost, 'tsd/pipeline');
  assert.deepEqual(brokerParts('amqps://h/v'), { host: 'h', vhost: 'v', username: 'guest', password: 'guest', tls: true });
  assert.deepEqual(brokerParts('amqp://us%40er:p%3Ass@h/v').username, 'us@er');
});

test('a worker config with [amqp] url needs exchange and queue: the error names the key', async () => {
  const { loadConfig } = await import('../../src/config/load');
  const file = join(dir, 'w.cfg');
  const base = '[default]\npassword = x\n[controller]\naddr = :1\ndatabase = sqlite:/tmp/x.db\n[worker]\nviewAddr = 127.0.0.1:2\n';
  writeFileSync(file, `${base}[amqp]\nurl = amqp://guest:guest@127.0.0.1:5672/\nqueue = hb\n`);
  assert.throws(() => loadConfig(file), /\[amqp\] exchange is missing: required when \[amqp\] url is set/);
  writeFileSync(file, `${base}[amqp]\nurl = amqp://127.0.0.1/\nexchange = ex\nqueue = hb\nprefix = tsd-\n`);
  const c = loadConfig(file).amqp;
  assert.deepEqual([c.exchange, c.queue, c.routingKey, c.prefix, c.managementUrl], ['ex', 'hb', 'hb', 'tsd-', 'http://127.0.0.1:15672']);
  writeFileSync(file, `${base}[amqp]\nurl = amqp://127.0.0.1/\nexchange = ex\nqueue = hb\nca = ${join(dir, 'missing.pem')}\n`);
  assert.throws(() => loadConfig(file), /\[amqp\] ca = ".*missing\.pem" is invalid: allowed: a readable file/);
});
