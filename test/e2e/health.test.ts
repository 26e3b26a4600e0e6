/**
 * Real clusters on loopback, asserted from outside (issue 11 items 5 and 6):
 * f. the controller's store stops answering (its MySQL proxy blackholes and holds every
 *    connection): it reports itself unhealthy and the viewserver moves office to a healthy node
 *    within seconds; checks keep running; nothing flips;
 * g. the controller is cut off from the other workers (iptables drops their packets to its port,
 *    by the user id their processes run as) while the viewserver still reaches it, and its own
 *    worker sees the targets down: it flips nothing, reports itself partitioned, and office moves
 *    to a node that hears the workers. Skipped without root or iptables.
 * h. (issue 12 item 3) two of three workers have every slot held by targets that answer only at
 *    their 30 s deadline, and the third, alone free, sees a target down: nothing flips, because busy
 *    workers stay live (they poll for no slot every second and hold unexpired locks).
 * Each logs the measured time to replace the controller (`# replaced in N ms`).
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAlertSink, type AlertSink } from '../helpers/alert-sink';
import { Cluster, waitFor, type NodeProcess } from '../helpers/cluster';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { startSmtp, type TestSmtp } from '../helpers/smtp';
import { SqlProxy } from '../helpers/sql-proxy';
import { startTarget, type Target } from '../helpers/target';
import { sleep } from '../helpers/wait';

/** Interval 1 s, delay 1, alerting the sink: a flip would show there and in check_events. */
async function addChecks(db: TestDatabase, target: Target, sink: AlertSink, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const data = JSON.stringify({ url: target.url(`/h${i}`), expect_status: 200, timeout: 3 });
    const res = (await db.exec(`INSERT INTO checks (name, type, data, check_interval, delay) VALUES (?, 'http', ?, 1, 1)`, [`h${i}`, data])) as { insertId: number };
    const c = (await db.exec(`INSERT INTO contacts (type, data) VALUES ('http', ?)`, [sink.url(`/h${i}`)])) as { insertId: number };
    await db.exec(`INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, 'both')`, [res.insertId, c.insertId]);
    ids.push(res.insertId);
  }
  return ids;
}

async function eventCount(db: TestDatabase): Promise<number> {
  return Number(((await db.exec('SELECT COUNT(*) AS n FROM check_events')) as { n: number }[])[0].n);
}

/** Waits for a controller other than `old` in office with a higher epoch; returns it and how long that took. */
async function replacement(cluster: Cluster, old: NodeProcess, epoch: number, since: number) {
  const s = await waitFor('another controller in office', async () => {
    const st = await cluster.status().catch(() => null);
    return st && st.controller && st.controller !== old.addr && (st.epoch ?? 0) > epoch ? st : null;
  }, 60_000);
  return { status: s, ms: Date.now() - since };
}

describe('f. a controller whose store stops answering', () => {
  let db: TestDatabase;
  let target: Target;
  let sink: AlertSink;
  let cluster: Cluster;
  let smtp: TestSmtp;
  const proxies: SqlProxy[] = [];

  before(async () => {
    db = await createTestDatabase('gbm_e2e_health');
    target = await startTarget();
    sink = await startAlertSink();
    smtp = await startSmtp();
    for (let i = 0; i < 3; i++) proxies.push(await SqlProxy.start());
    cluster = await Cluster.start({
      dsn: db.goDsn, dsnFor: (i) => proxies[i].dsn(db.name), workers: 3, confirmations: 2, controllerExtra: 'storeTimeout = 1',
      viewserverExtra: ['[smtp]', 'host = 127.0.0.1', `port = ${smtp.port}`, 'admin = admin@example.org'].join('\n'),
    });
    await waitFor('an elected controller', async () => (await cluster.status().catch(() => null))?.epoch);
  });

  after(async () => {
    await cluster?.stop();
    for (const p of proxies) {
      p.blackhole = false;
      p.releaseAll();
      await p.close();
    }
    await Promise.all([target?.close(), sink?.close(), smtp?.close()]);
    await db?.drop();
  });

  test('is replaced by a healthy node within seconds and the admin is told; checks keep running, nothing flips', async () => {
    await addChecks(db, target, sink, 3);
    await waitFor('the checks to run', () => target.hitCount('/h0') >= 3 && target.hitCount('/h2') >= 3, 30_000);
    const before = await cluster.status();
    const old = cluster.workers.find((w) => w.addr === before.controller)!;
    const proxy = proxies[cluster.workers.indexOf(old)];
    const events = await eventCount(db);

    const cut = Date.now();
    proxy.blackhole = true;
    proxy.holdAll();
    const { status, ms } = await replacement(cluster, old, before.epoch!, cut);
    console.log(`# controller with an unreachable store replaced in ${ms} ms`);
    assert.notEqual(status.controller, old.addr);
    const failover = cluster.viewserver.events('failover').at(-1)!;
    assert.equal(failover.reason, 'unhealthy');
    assert.match(JSON.stringify(failover.problems), /store/);
    assert.ok(cluster.viewserver.events('controller_unhealthy').some((l) => l.controller === old.addr));
    const [mail] = await waitFor('the admin mail', () => {
      const m = smtp.received.filter((r) => r.subject === 'gobearmon: controller unhealthy, office moved');
      return m.length ? m : null;
    }, 20_000);
    assert.deepEqual(mail.to, ['admin@example.org']);
    assert.match(mail.text, new RegExp(`Controller ${old.addr} was unhealthy \\(.*store`));

    const hits = target.hitCount('/h1');
    await waitFor('checks to keep running under the new controller', () => target.hitCount('/h1') >= hits + 3, 30_000);
    await sleep(2_000);
    assert.equal(await eventCount(db), events, 'nothing flipped');
    assert.equal(sink.requests.length, 0, 'nothing alerted');

    // The store comes back: the old node is healthy again but office stays where it is.
    proxy.blackhole = false;
    proxy.releaseAll();
    proxy.dropAll();
    await waitFor('the old node healthy again', async () => {
      const vs = await fetchViewserver(cluster);
      return vs.controllers.find((c) => c.addr === old.addr)?.healthy === true;
    }, 30_000);
    assert.equal((await cluster.status()).controller, status.controller, 'no move back');
  });
});

async function fetchViewserver(cluster: Cluster): Promise<{ controllers: { addr: string; healthy: boolean }[] }> {
  const { PeerClient } = await import('../../src/protocol/client');
  const client = new PeerClient(cluster.password);
  try {
    return await client.call(cluster.viewserver.addr, '/status', undefined, { timeoutMs: 5_000 });
  } finally {
    await client.close();
  }
}

const canIptables = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('iptables', ['-w', '-S', 'OUTPUT'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('g. a controller cut off from the other workers', { skip: canIptables ? false : 'needs root and iptables' }, () => {
  let db: TestDatabase;
  let target: Target;
  let sink: AlertSink;
  let cluster: Cluster;
  const rules: string[][] = [];
  // Each worker node runs as its own user, so iptables can cut its packets alone.
  const base = 42_000 + (process.pid % 1_000) * 4;
  const uid = (i: number) => base + i;

  before(async () => {
    db = await createTestDatabase('gbm_e2e_partition');
    target = await startTarget();
    sink = await startAlertSink();
    cluster = await Cluster.start({ dsn: db.goDsn, workers: 3, confirmations: 2, uidFor: uid });
    await waitFor('an elected controller', async () => (await cluster.status().catch(() => null))?.epoch);
  });

  after(async () => {
    for (const r of rules) execFileSync('iptables', ['-w', '-D', ...r]);
    await cluster?.stop();
    await Promise.all([target?.close(), sink?.close()]);
    await db?.drop();
  });

  test('flips nothing, says it is partitioned, and office moves to a node that hears the workers', async () => {
    const ids = await addChecks(db, target, sink, 6);
    await waitFor('three live workers', async () => (await cluster.status()).workers.filter((w) => w.live).length === 3, 30_000);
    await waitFor('the checks to run', () => ids.every((_, i) => target.hitCount(`/h${i}`) >= 3), 30_000);
    const before = await cluster.status();
    const old = cluster.workers.find((w) => w.addr === before.controller)!;
    const port = old.addr.split(':')[1];
    const events = await eventCount(db);

    const cut = Date.now();
    for (const [i, w] of cluster.workers.entries()) {
      if (w === old) continue;
      const rule = ['OUTPUT', '-p', 'tcp', '-d', '127.0.0.1', '--dport', port, '-m', 'owner', '--uid-owner', String(uid(i)), '-j', 'DROP'];
      execFileSync('iptables', ['-w', '-I', ...rule]);
      rules.push(rule);
    }
    // The cut-off node's own worker sees every target down (it is cut off from them too).
    for (let i = 0; i < ids.length; i++) target.failingFor.set(`/h${i}`, new Set([old.name]));

    const { status, ms } = await replacement(cluster, old, before.epoch!, cut);
    console.log(`# partitioned controller replaced in ${ms} ms`);
    assert.ok(old.events('partitioned').length >= 1, 'the old controller knew it was cut off');
    const failover = cluster.viewserver.events('failover').at(-1)!;
    assert.equal(failover.reason, 'unhealthy');
    assert.match(JSON.stringify(failover.problems), /partitioned/);

    // Under the new controller the cut-off node's worker is one voice of three: still nothing flips.
    await sleep(6_000);
    assert.equal(await eventCount(db), events, 'no healthy check flipped');
    assert.equal(sink.requests.length, 0, 'no alert');
    const hits = target.hitCount('/h0');
    await waitFor('checks to keep running', () => target.hitCount('/h0') >= hits + 3, 30_000);
    assert.notEqual(status.controller, old.addr);
  });
});

describe('h. busy workers and a target only the free worker sees down', () => {
  let db: TestDatabase;
  let target: Target;
  let sink: AlertSink;
  let cluster: Cluster;
  const sockets = new Set<Socket>();
  // Accepts and never says a word: a tcp check with `expect` waits for its whole deadline.
  const silent = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });

  before(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    db = await createTestDatabase('gbm_e2e_busy');
    target = await startTarget();
    sink = await startAlertSink();
    cluster = await Cluster.start({ dsn: db.goDsn, workers: 3, confirmations: 2, numThreads: 2 });
    await waitFor('an elected controller', async () => (await cluster.status().catch(() => null))?.epoch);
  });

  after(async () => {
    for (const sock of sockets) sock.destroy();
    silent.close();
    await cluster?.stop();
    await Promise.all([target?.close(), sink?.close()]);
    await db?.drop();
  });

  test('two workers held by slow targets stay live: a check only the free worker runs does not flip', async () => {
    const ctl = await cluster.controller();
    const free = cluster.workers.find((w) => w !== ctl)!;
    await free.kill('SIGTERM'); // the two others take every slow check first
    await waitFor('two live workers', async () => (await cluster.status()).workers.filter((w) => w.live).length === 2, 30_000);
    const slowData = JSON.stringify({ address: `127.0.0.1:${(silent.address() as AddressInfo).port}`, expect: 'never', timeout: 30 });
    for (let i = 0; i < 4; i++) await db.exec(`INSERT INTO checks (name, type, data, check_interval, delay) VALUES (?, 'tcp', ?, 1, 1)`, [`slow${i}`, slowData]);
    await waitFor('all four slots held by slow checks', () => sockets.size >= 4, 30_000);

    const [down] = await addChecks(db, target, sink, 1);
    target.failingFor.set('/h0', new Set([free.name])); // down as the free worker sees it
    free.start();
    await waitFor('the free worker to run the down check', () => target.hitCount('/h0', free.name) >= 1, 30_000);
    // It may not run it again while the others are live (never twice in a row on one worker), and
    // they cannot: the check waits. At 9d4662d they were dropped after workerTimeout (3 s) and the
    // free worker flipped it alone within a few seconds.
    await sleep(10_000);
    assert.ok(sockets.size >= 4, 'the busy workers are still busy (their checks end at 30 s)');
    assert.equal(await eventCount(db), 0, 'no flip on one worker');
    assert.equal(sink.requests.length, 0, 'no false page');
    const s = await cluster.status();
    assert.equal(s.quorum, 2, 'slowness never lowers the quorum');
    assert.equal(s.workers.filter((w) => w.live).length, 3, 'busy workers are live');
    assert.equal(s.checks.find((c) => c.id === down)?.status, 'online');
  });
});
