/**
 * `gobearmon publish` as a real process against the real broker, in a throwaway vhost: it declares
 * exchange, queue and binding, publishes persistent heartbeats in pipeline-heartbeat's format with
 * the current time, judges hosts and listeners, and reconnects when its connection is killed.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { readHeartbeat, type HeartbeatMessage } from '../../src/amqp/heartbeat';
import { freePort } from '../helpers/ports';
import { amqpUrl, createVhost, deleteVhost, management, MANAGEMENT_URL } from '../helpers/rabbitmq';
import { GOBEARMON, runGobearmon } from '../helpers/run-cli';
import { waitFor } from '../helpers/wait';

const dir = mkdtempSync(join(tmpdir(), 'gbm-publish-'));
let vhost = '';
let conn: amqp.ChannelModel;
let server: Server;
let upPort = 0;
let downPort = 0;
const children: ChildProcess[] = [];

before(async () => {
  vhost = await createVhost('gbm-pub');
  conn = await amqp.connect(amqpUrl(vhost));
  server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  upPort = (server.address() as { port: number }).port;
  downPort = await freePort();
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await conn.close().catch(() => undefined);
  server.close();
  await deleteVhost(vhost);
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, amqpLines: Record<string, string>, components?: unknown): string {
  const componentsPath = join(dir, `${name}.json`);
  if (components !== undefined) writeFileSync(componentsPath, typeof components === 'string' ? components : JSON.stringify(components));
  const lines = Object.entries({ components: componentsPath, ...amqpLines }).filter(([, v]) => v !== '').map(([k, v]) => `${k} = ${v}`);
  const file = join(dir, `${name}.cfg`);
  writeFileSync(file, `[amqp]\n${lines.join('\n')}\n`);
  return file;
}

function startPublisher(cfg: string): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [GOBEARMON, 'publish', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out, exit: new Promise((r) => child.once('close', (code) => r(code))) };
}

/** Consumes `queue` in the test's vhost, keeping every message. */
async function collect(queue: string, inVhost = vhost, via = conn): Promise<{ messages: amqp.ConsumeMessage[]; stop: () => Promise<void> }> {
  const ch = await via.createChannel();
  const messages: amqp.ConsumeMessage[] = [];
  await waitFor(`queue ${queue} to exist`, async () => {
    const res = await fetch(`${MANAGEMENT_URL}/api/queues/${encodeURIComponent(inVhost)}/${queue}`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
    return res.status === 200;
  }, 30_000, 200);
  await ch.consume(queue, (m) => {
    if (m) {
      messages.push(m);
      ch.ack(m);
    }
  }, { consumerTag: `collector-${queue}` });
  return { messages, stop: () => ch.close() };
}

const body = (m: amqp.ConsumeMessage) => JSON.parse(m.content.toString()) as HeartbeatMessage;

describe('gobearmon publish on the real broker', { concurrency: 3 }, () => {
  test('declares the topology and publishes persistent heartbeats in the original format, with the current time', async () => {
    // A listener the publisher must see: a consumer tagged like the pipeline's service, on a queue of its own.
    const ch = await conn.createChannel();
    await ch.assertQueue('ingest');
    await ch.consume('ingest', () => undefined, { consumerTag: 'sda-ingest-7f3a' });
    const cfg = writeConfig('format', {
      url: amqpUrl(vhost), exchange: 'heartbeats', routingKey: 'hb.key', queue: 'heartbeat', interval: '1',
    }, {
      heartbeat: {
        hosts: [{ host: '127.0.0.1', port: String(upPort), name: 'sda-doa' }, { host: '127.0.0.1', port: downPort, name: 'sda-db' }],
        rmq_consumers: [{ queue: 'ingest', listeners: [{ tag: 'sda-ingest', name: 'ingest-svc' }, { tag: 'sda-verify', name: 'verify-svc' }] }],
      },
    });
    const pub = startPublisher(cfg);
    const { messages, stop } = await collect('heartbeat');
    const ready = await waitFor('a heartbeat that sees the ingest listener', () => messages.find((m) => body(m).rmq_consumers.services_status[0]?.status === 'ok'), 30_000);
    await waitFor('one more heartbeat', () => messages.indexOf(ready) < messages.length - 1, 30_000);
    pub.child.kill('SIGTERM');
    assert.equal(await pub.exit, 0, pub.output());
    await stop();

    const m = body(ready);
    assert.equal(ready.properties.deliveryMode, 2, 'persistent');
    assert.equal(ready.fields.exchange, 'heartbeats');
    assert.equal(ready.fields.routingKey, 'hb.key');
    assert.equal(m.status, 'heartbeat');
    assert.equal(m.service, 'publisher');
    assert.match(m.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    assert.ok(Math.abs(Date.parse(m.timestamp.replace(' UTC', 'Z').replace(' ', 'T')) - Date.now()) < 60_000, 'the current time');
    assert.deepEqual(m.hosts.map((h) => [h.name, h.status]), [['sda-doa', 'ok'], ['sda-db', 'not_ok']]);
    assert.deepEqual(m.rmq_consumers.services_status.map((s) => [s.name, s.status]), [['ingest-svc', 'ok'], ['verify-svc', 'not_ok']]);
    assert.deepEqual(m.rmq_consumers.queues_status.map((s) => [s.name, s.status]), [['ingest', 'not_ok']]);
    assert.equal(m.interval, 1);
    const stamps = messages.map((x) => body(x).timestamp);
    assert.notEqual(stamps[0], stamps.at(-1), 'the top-level timestamp moves (the original froze it at start)');
    // What a consumer makes of it.
    const pings = readHeartbeat(ready.content, 60);
    assert.equal(pings.intervalS, 1);
    assert.deepEqual(pings.components.map((c) => `${c.name}:${c.ok}`), ['sda-doa:true', 'sda-db:false', 'ingest:false', 'ingest-svc:true', 'verify-svc:false']);
    // The topology it declared: a durable topic exchange and a durable queue bound with the key.
    const ex = await (await management('GET', `exchanges/${encodeURIComponent(vhost)}/heartbeats`)).json() as { type: string; durable: boolean };
    assert.deepEqual([ex.type, ex.durable], ['topic', true]);
    const bindings = await (await management('GET', `exchanges/${encodeURIComponent(vhost)}/heartbeats/bindings/source`)).json() as { destination: string; routing_key: string }[];
    assert.deepEqual(bindings.map((b) => [b.destination, b.routing_key]), [['heartbeat', 'hb.key']]);
    await ch.close();
  });

  test('an existing exchange of another type is used as it is; the routing key defaults to the queue', async () => {
    const ch = await conn.createChannel();
    await ch.assertExchange('direct-ex', 'direct', { durable: false });
    await ch.close();
    const cfg = writeConfig('existing', { url: amqpUrl(vhost), exchange: 'direct-ex', queue: 'hb-direct', interval: '0.5' }, { heartbeat: { hosts: [], rmq_consumers: [] } });
    const pub = startPublisher(cfg);
    const { messages, stop } = await collect('hb-direct');
    await waitFor('a heartbeat', () => messages.length > 0, 30_000);
    pub.child.kill('SIGINT');
    assert.equal(await pub.exit, 0);
    await stop();
    assert.equal(messages[0].fields.routingKey, 'hb-direct');
  });

  test('its connection killed by the broker: it reconnects and goes on publishing', async () => {
    // A vhost of its own, so the connections killed are only this publisher's.
    const own = await createVhost('gbm-pub-reconnect');
    const ownConn = await amqp.connect(amqpUrl(own));
    const cfg = writeConfig('reconnect', { url: amqpUrl(own), exchange: 'heartbeats-r', queue: 'hb-reconnect', interval: '0.5' }, { heartbeat: { hosts: [], rmq_consumers: [] } });
    const pub = startPublisher(cfg);
    const { messages, stop } = await collect('hb-reconnect', own, ownConn);
    await waitFor('a heartbeat', () => messages.length > 0, 30_000);
    const ours = await waitFor('the publisher\'s connection in the API', async () => {
      const all = await (await management('GET', `vhosts/${encodeURIComponent(own)}/connections`)).json() as { name: string; user_provided_name?: string }[];
      const list = all.filter((c) => c.user_provided_name?.startsWith('gobearmon publish'));
      return list.length ? list : null;
    }, 30_000, 300);
    for (const c of ours) await management('DELETE', `connections/${encodeURIComponent(c.name)}`);
    await waitFor('the reconnect in the log', () => (pub.output().match(/amqp_connected/g) ?? []).length >= 2, 30_000);
    const before = messages.length;
    await waitFor('heartbeats after the reconnect', () => messages.length > before + 1, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${pub.output()}`);
    });
    pub.child.kill('SIGTERM');
    assert.equal(await pub.exit, 0);
    await stop();
    await ownConn.close();
    await deleteVhost(own);
  });

  test('bad config exits 2 naming the key: no components, bad JSON, a bad url, a bad tag regex', async () => {
    const cases: [string, RegExp][] = [
      [writeConfig('c1', { url: amqpUrl(vhost), exchange: 'x', queue: 'q', components: '' }), /\[amqp\] components is missing: required by gobearmon publish/],
      [writeConfig('c2', { url: amqpUrl(vhost), exchange: 'x', queue: 'q' }, '{"heartbeat": '), /\[amqp\] components = ".*c2\.json" is invalid: allowed: pipeline-heartbeat's publisher JSON; not JSON/],
      [writeConfig('c3', { url: 'http://x', exchange: 'x', queue: 'q' }, { heartbeat: {} }), /\[amqp\] url = "http:\/\/x" is invalid: allowed: amqp:\/\//],
      [writeConfig('c4', { url: amqpUrl(vhost), exchange: 'x', queue: 'q' }, { heartbeat: { rmq_consumers: [{ queue: 'q', listeners: [{ tag: 'a(' }] }] } }), /listeners\[0\]\.tag is not a valid regular expression/],
      [writeConfig('c5', { url: amqpUrl(vhost), queue: 'q' }, { heartbeat: {} }), /\[amqp\] exchange is missing/],
    ];
    const results = await Promise.all(cases.map(([cfg]) => runGobearmon(['publish', '--config', cfg])));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, cases[i][1]);
    });
  });
});
