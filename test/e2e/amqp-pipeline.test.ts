/**
 * Heartbeats over AMQP end to end, all real processes: `gobearmon publish` → the real broker → two
 * worker nodes of a cluster with [amqp] url → push checks in MariaDB. One worker is killed -9 mid-run
 * and every broker connection is cut (as a broker restart does): both sides reconnect and every
 * heartbeat the broker confirmed is recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, PROGRAM } from '../helpers/cluster';
import { createTestDatabase } from '../helpers/db';
import { freePort } from '../helpers/ports';
import { amqpUrl, createVhost, deleteVhost, management } from '../helpers/rabbitmq';
import { waitFor } from '../helpers/wait';

test('publish → broker → two worker nodes → push checks; a worker killed -9 and connections cut lose nothing', async () => {
  const db = await createTestDatabase();
  const vhost = await createVhost('gbm-e2e');
  const dir = mkdtempSync(join(tmpdir(), 'gbm-amqp-e2e-'));
  const target = createServer((s) => s.end());
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const upPort = (target.address() as { port: number }).port;
  const downPort = await freePort();
  const amqpLines = `[amqp]\nurl = ${amqpUrl(vhost)}\nexchange = hb-ex\nqueue = hb\nrouting key = hb\n`.replace('routing key', 'routingKey');
  const cluster = await Cluster.start({ dsn: db.urlDsn, workers: 2, workerExtra: () => `${amqpLines}prefix = e2e-\n` });
  writeFileSync(join(dir, 'components.json'), JSON.stringify({ heartbeat: { hosts: [{ host: '127.0.0.1', port: upPort, name: 'api' }, { host: '127.0.0.1', port: downPort, name: 'db' }], rmq_consumers: [] } }));
  writeFileSync(join(dir, 'publish.cfg'), `${amqpLines}interval = 0.5\ncomponents = ${join(dir, 'components.json')}\n`);
  const publisher = spawn(process.execPath, [PROGRAM, 'publish', '--config', join(dir, 'publish.cfg')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  publisher.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const published = () => out.split('\n').filter((l) => l.includes('"heartbeat_published"')).map((l) => (JSON.parse(l) as { messageId: string }).messageId);
  const publisherCheck = `e2e-${hostname()}`.slice(0, 64);
  const pings = async () => db.exec('SELECT p.body, p.node, p.kind, c.name FROM pings p JOIN checks c ON c.id = p.check_id') as Promise<{ body: string; node: string; kind: string; name: string }[]>;
  try {
    await waitFor('both workers recording heartbeats', async () => new Set((await pings()).filter((p) => p.name === publisherCheck).map((p) => p.node)).size === 2, 60_000, 300);

    await cluster.workers[0].kill('SIGKILL');
    const afterKill = published().length;
    await waitFor('heartbeats after the kill', () => published().length >= afterKill + 3, 30_000);

    // Cut every connection of the vhost, the publisher's and the surviving worker's, as a broker restart would.
    const connections = await waitFor('the publisher\'s and w2\'s connections in the API', async () => {
      const all = await (await management('GET', `vhosts/${encodeURIComponent(vhost)}/connections`)).json() as { name: string; user_provided_name?: string }[];
      const names = all.map((c) => c.user_provided_name ?? '');
      return names.some((n) => n.startsWith('gobearmon publish')) && names.includes('gobearmon worker w2') ? all : null;
    }, 30_000, 300);
    for (const c of connections) await management('DELETE', `connections/${encodeURIComponent(c.name)}`);
    const afterCut = published().length;
    await waitFor('heartbeats after the cut', () => published().length >= afterCut + 3, 60_000);

    publisher.kill('SIGTERM');
    await new Promise((r) => publisher.once('close', r));
    const sent = published();
    await waitFor('every confirmed heartbeat recorded', async () => {
      const seen = new Set((await pings()).filter((p) => p.name === publisherCheck).map((p) => p.body.split(' ')[1]));
      return sent.every((id) => seen.has(id));
    }, 60_000, 500).catch(async (err: Error) => {
      const seen = new Set((await pings()).filter((p) => p.name === publisherCheck).map((p) => p.body.split(' ')[1]));
      throw new Error(`${err.message}: missing ${sent.filter((id) => !seen.has(id)).join(', ')}`);
    });

    const checks = await db.exec("SELECT name, check_interval FROM checks WHERE type = 'push' ORDER BY name") as { name: string; check_interval: number }[];
    assert.deepEqual(checks.map((c) => c.name).sort(), ['e2e-api', 'e2e-db', publisherCheck].sort());
    assert.ok(checks.every((c) => Number(c.check_interval) === 2), 'period 3 × 0.5 s, rounded');
    const all = await pings();
    assert.ok(all.filter((p) => p.name === 'e2e-api').every((p) => p.kind === 'success'));
    assert.ok(all.filter((p) => p.name === 'e2e-db').every((p) => p.kind === 'fail'));
    assert.ok(all.some((p) => p.node === 'w2' && p.name === publisherCheck));
  } finally {
    publisher.kill('SIGKILL');
    await cluster.stop();
    target.close();
    await deleteVhost(vhost);
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
