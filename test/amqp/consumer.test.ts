/**
 * The worker's heartbeat consumer on the real broker and a real store (both engines): heartbeats
 * become pings of push checks created on the fly; malformed messages are acked and counted; two
 * consumers share a queue; a consumer whose store stalls holds its messages unacked and, when its
 * connection dies, another node records them (nothing lost).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { HeartbeatConsumer, PREFETCH } from '../../src/amqp/consumer';
import type { AmqpConfig } from '../../src/amqp/config';
import { PingIngest } from '../../src/push/ingest';
import { PushStore } from '../../src/push/store';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { silentLogger } from '../../src/util/log';
import { createTestDatabase } from '../helpers/db';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { amqpUrl, createVhost, deleteVhost, management, MANAGEMENT_URL } from '../helpers/rabbitmq';
import { SqlProxy } from '../helpers/sql-proxy';
import { waitFor } from '../helpers/wait';

let vhost = '';
let conn: amqp.ChannelModel;
let pub: amqp.ConfirmChannel;

before(async () => {
  vhost = await createVhost('gbm-consume');
  conn = await amqp.connect(amqpUrl(vhost));
  pub = await conn.createConfirmChannel();
});
after(async () => {
  await conn.close().catch(() => undefined);
  await deleteVhost(vhost);
});

const config = (queue: string, prefix = ''): AmqpConfig => ({
  url: amqpUrl(vhost), exchange: `ex-${queue}`, routingKey: queue, queue, ca: '', prefix, intervalMs: 60_000, components: '', managementUrl: MANAGEMENT_URL,
});

interface Node {
  store: Store;
  ingest: PingIngest;
  consumer: HeartbeatConsumer;
  close(): Promise<void>;
}

async function startNode(dsn: string, cfg: AmqpConfig, name: string, migrate = true): Promise<Node> {
  const store = await openStore([dsn]);
  if (migrate) await store.migrate();
  const ingest = new PingIngest({ store: new PushStore(store), node: name, log: silentLogger });
  await ingest.start();
  const consumer = new HeartbeatConsumer(cfg, ingest, name, silentLogger);
  consumer.start();
  return {
    store, ingest, consumer,
    async close() {
      await consumer.close();
      await ingest.close().catch(() => undefined);
      await store.close().catch(() => undefined);
    },
  };
}

function heartbeat(publisher: string, interval: number, components: Record<string, 'ok' | 'not_ok'>): Buffer {
  const ts = '2026-11-22 04:00:00 UTC';
  const entries = Object.entries(components).map(([name, status]) => ({ name, status, timestamp: ts }));
  return Buffer.from(JSON.stringify({
    status: 'heartbeat', service: 'publisher', timestamp: ts, publisher, interval,
    hosts: entries.slice(0, 1), rmq_consumers: { queues_status: entries.slice(1, 2), services_status: entries.slice(2) },
  }));
}

async function publish(cfg: AmqpConfig, body: Buffer): Promise<void> {
  pub.publish(cfg.exchange, cfg.routingKey, body, { persistent: true });
  await pub.waitForConfirms();
}

async function queueDepth(queue: string): Promise<{ ready: number; unacked: number }> {
  const q = await (await management('GET', `queues/${encodeURIComponent(vhost)}/${queue}`)).json() as { messages_ready?: number; messages_unacknowledged?: number };
  return { ready: q.messages_ready ?? -1, unacked: q.messages_unacknowledged ?? -1 };
}

const pushChecks = async (store: Store) =>
  (await store.driver.all("SELECT id, name, check_interval FROM checks WHERE type = 'push' ORDER BY name")).map((r) => ({ id: Number(r.id), name: String(r.name), interval: Number(r.check_interval) }));

for (const engine of ENGINES) {
  describe(`heartbeat consumer on ${engine.name}`, () => {
    let db: EngineDb;
    before(async () => {
      db = await engine.create();
    });
    after(async () => {
      await db.drop();
    });

    test('a heartbeat becomes pings of push checks named <prefix><name>, created with 3 × interval; a malformed message is acked and counted', async () => {
      const cfg = config(`hb-${engine.name}-basic`, 'tsd-');
      const node = await startNode(db.dsn, cfg, 'node-a');
      try {
        // The binding comes after the queue: a heartbeat published before it would be unroutable.
        await waitFor('the binding declared by the consumer', async () => {
          const res = await fetch(`${MANAGEMENT_URL}/api/bindings/${encodeURIComponent(vhost)}/e/${cfg.exchange}/q/${cfg.queue}`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
          return res.status === 200 && ((await res.json()) as unknown[]).length > 0;
        }, 30_000, 200);
        await publish(cfg, Buffer.from('this is not json'));
        await publish(cfg, Buffer.from('{"status":"heartbeat","hosts":[{"name":"x","status":"maybe"}]}'));
        await publish(cfg, heartbeat('gw1', 20, { 'sda-doa': 'ok', ingest: 'ok', 'sda-verify': 'not_ok' }));
        await waitFor('the heartbeat recorded', () => node.consumer.counters.heartbeats === 1, 30_000);
        assert.equal(node.consumer.counters.malformed, 2);
        const checks = await pushChecks(node.store);
        assert.deepEqual(checks.map((c) => [c.name, c.interval]), [['tsd-gw1', 60], ['tsd-ingest', 60], ['tsd-sda-doa', 60], ['tsd-sda-verify', 60]]);
        const push = new PushStore(node.store);
        const kinds = Object.fromEntries(await Promise.all(checks.map(async (c) => [c.name, (await push.recentPings(c.id, 5)).map((p) => `${p.kind}/${p.route}`)])));
        assert.deepEqual(kinds, { 'tsd-gw1': ['success/amqp'], 'tsd-ingest': ['success/amqp'], 'tsd-sda-doa': ['success/amqp'], 'tsd-sda-verify': ['fail/amqp'] });
        // A second heartbeat reuses the checks.
        await publish(cfg, heartbeat('gw1', 20, { 'sda-doa': 'ok', ingest: 'ok', 'sda-verify': 'ok' }));
        await waitFor('the second heartbeat', () => node.consumer.counters.heartbeats === 2, 30_000);
        assert.equal((await pushChecks(node.store)).length, 4);
        await waitFor('nothing left in the queue, nothing unacked', async () => {
          const d = await queueDepth(cfg.queue);
          return d.ready === 0 && d.unacked === 0;
        }, 30_000, 500);
      } finally {
        await node.close();
      }
    });
  });
}

test('two nodes consuming one queue share the work and record every heartbeat', async () => {
  const db = await ENGINES[0].create();
  const cfg = config('hb-shared');
  const a = await startNode(db.dsn, cfg, 'node-a');
  const b = await startNode(db.dsn, cfg, 'node-b', false);
  try {
    await waitFor('both consuming', async () => {
      const q = await (await management('GET', `queues/${encodeURIComponent(vhost)}/${cfg.queue}`).catch(() => null))?.json() as { consumers?: number } | undefined;
      return q?.consumers === 2;
    }, 30_000, 300);
    const n = 3 * PREFETCH;
    for (let i = 0; i < n; i++) pub.publish(cfg.exchange, cfg.routingKey, heartbeat(`pub-${i}`, 60, {}), { persistent: true });
    await pub.waitForConfirms();
    await waitFor('every heartbeat recorded', () => a.consumer.counters.heartbeats + b.consumer.counters.heartbeats === n, 60_000);
    assert.ok(a.consumer.counters.heartbeats > 0 && b.consumer.counters.heartbeats > 0, `shared: ${a.consumer.counters.heartbeats} / ${b.consumer.counters.heartbeats}`);
    assert.equal((await pushChecks(a.store)).length, n);
  } finally {
    await a.close();
    await b.close();
    await db.drop();
  }
});

test('a node whose store stalls holds its heartbeats unacked; when its connection dies another node records them', async () => {
  const db = await createTestDatabase();
  const proxy = await SqlProxy.start();
  const cfg = config('hb-stall');
  const healthy = await openStore([db.urlDsn]);
  await healthy.migrate();
  await healthy.close();
  const stalled = await startNode(proxy.dsn(db.name), cfg, 'node-stalled', false);
  try {
    await waitFor('the stalled node consuming', async () => {
      const q = await (await management('GET', `queues/${encodeURIComponent(vhost)}/${cfg.queue}`).catch(() => null))?.json() as { consumers?: number } | undefined;
      return q?.consumers === 1;
    }, 30_000, 300);
    // Its database stops answering: every write (and new connection) hangs.
    proxy.blackhole = true;
    proxy.holdAll();
    for (let i = 0; i < 5; i++) pub.publish(cfg.exchange, cfg.routingKey, heartbeat(`stall-${i}`, 60, { c: 'ok' }), { persistent: true });
    await pub.waitForConfirms();
    await waitFor('the five held unacked by the stalled node', async () => (await queueDepth(cfg.queue)).unacked === 5, 30_000, 500);
    assert.equal(stalled.consumer.counters.heartbeats, 0);

    // The node "dies" for the broker: its connection is cut. Another node takes over.
    const other = await startNode(db.urlDsn, cfg, 'node-other', false);
    try {
      const conns = await waitFor('the stalled node\'s connection', async () => {
        const all = await (await management('GET', `vhosts/${encodeURIComponent(vhost)}/connections`)).json() as { name: string; user_provided_name?: string }[];
        const mine = all.filter((c) => c.user_provided_name === 'gobearmon worker node-stalled');
        return mine.length ? mine : null;
      }, 30_000, 300);
      // The stalled node must not reconnect and grab them again: stop it for the broker first.
      const closing = stalled.consumer.close();
      for (const c of conns) await management('DELETE', `connections/${encodeURIComponent(c.name)}`);
      await closing;
      await waitFor('the other node recorded all five', () => other.consumer.counters.heartbeats === 5, 60_000);
      assert.deepEqual((await pushChecks(other.store)).map((c) => c.name), ['c', 'stall-0', 'stall-1', 'stall-2', 'stall-3', 'stall-4']);
      await waitFor('the queue empty', async () => {
        const d = await queueDepth(cfg.queue);
        return d.ready === 0 && d.unacked === 0;
      }, 30_000, 500);
    } finally {
      await other.close();
    }
  } finally {
    proxy.blackhole = false;
    proxy.releaseAll();
    proxy.dropAll();
    await stalled.close().catch(() => undefined);
    await proxy.close();
    await db.drop();
  }
});
