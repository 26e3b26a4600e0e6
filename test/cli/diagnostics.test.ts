/**
 * The papercuts of issue 17 §3, as real processes: `migrate` on a missing database says to create
 * it (no stack trace), `status` works while the viewserver is down (from the database), and a node
 * started before its database waits for it (logging once) instead of exiting.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { candidateWhy, duration } from '../../src/cli/status';
import { createTestDatabase, MYSQL_URL } from '../helpers/db';
import { freePort } from '../helpers/ports';
import { GOBEARMON, runGobearmon } from '../helpers/run-cli';
import { waitFor } from '../helpers/wait';

function config(dir: string, dsn: string, controllerPort: number, viewPort: number): string {
  const file = join(dir, 'w.cfg');
  writeFileSync(file, `[default]\npassword = s\n[controller]\naddr = 127.0.0.1:${controllerPort}\ndatabase = ${dsn}\nreloadInterval = 0.5\n[worker]\nviewAddr = 127.0.0.1:${viewPort}\nname = w1\n`);
  return file;
}

test('durations read as people say them; candidate reasons in words', () => {
  assert.deepEqual([850, 12_340, 245_000, 7_380_000, 273_600_000, null].map(duration), ['850ms', '12.3s', '4m05s', '2h03m', '3d04h', '-']);
  const base = { addr: 'a:1', live: true, successes: 3, failures: 0, inOffice: false, epoch: 0, healthy: true, unhealthyRuns: 0, problems: [], worker: null, lastError: null };
  assert.equal(candidateWhy(base), '');
  assert.equal(candidateWhy({ ...base, live: false, failures: 2 }), 'not answering (2 failed probes)');
  assert.equal(candidateWhy({ ...base, live: false, failures: 3, lastError: 'refused our password' }), 'refused our password (3 failed probes)');
  assert.equal(candidateWhy({ ...base, healthy: false, problems: ['store: timeout after 2 s'] }), 'unhealthy: store: timeout after 2 s');
});

test('migrate on a database that does not exist says to create it, in one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbm-diag-'));
  try {
    const url = new URL(MYSQL_URL);
    url.pathname = '/gbm_does_not_exist_17';
    const r = await runGobearmon(['migrate', '--config', config(dir, url.href, 1, 1)]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Unknown database 'gbm_does_not_exist_17'.*create it first, e\.g\. mysql -u root -e 'CREATE DATABASE `gbm_does_not_exist_17`/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stderr.trim().split('\n').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('status while the viewserver is down says so and shows the statuses from the database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbm-diag-'));
  try {
    const dsn = `sqlite:${join(dir, 'g.db')}`;
    const cfg = config(dir, dsn, 1, await freePort());
    assert.equal((await runGobearmon(['migrate', '--config', cfg])).code, 0);
    await runGobearmon(['sql', '--config', cfg, "INSERT INTO checks (name, type, data, status) VALUES ('db', 'tcp', '{\"address\":\"h:1\"}', 'offline')"]);
    const r = await runGobearmon(['status', '--config', cfg]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^warning: the viewserver 127\.0\.0\.1:\d+ did not answer: .*; statuses below are read from the database/);
    assert.match(r.stdout, /\n1 +db +tcp +offline/);
    const json = JSON.parse((await runGobearmon(['status', '--config', cfg, '--json'])).stdout) as { checks: { name: string; status: string }[] };
    assert.deepEqual(json.checks.map((c) => [c.name, c.status]), [['db', 'offline']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A TCP forwarder to MariaDB, started late: the "database comes up after the node" moment. */
function forward(port: number, to: URL): Promise<{ server: Server; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(to.port || 3306), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    server,
    close: () => new Promise<void>((done) => {
      for (const s of sockets) s.destroy();
      server.close(() => done());
    }),
  })));
}

test('a node started before its database waits, logging once, and starts when the database comes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbm-diag-'));
  const db = await createTestDatabase();
  const proxyPort = await freePort();
  const url = new URL(db.urlDsn);
  const upstream = new URL(db.urlDsn);
  url.host = `127.0.0.1:${proxyPort}`;
  const migrateCfg = config(dir, db.urlDsn, 1, 1);
  assert.equal((await runGobearmon(['migrate', '--config', migrateCfg])).code, 0);
  const cfg = join(dir, 'node.cfg');
  writeFileSync(cfg, `[default]\npassword = s\n[controller]\naddr = 127.0.0.1:${await freePort()}\ndatabase = ${url.href}\n[worker]\nviewAddr = 127.0.0.1:${await freePort()}\nname = w1\n`);
  const child = spawn(process.execPath, [GOBEARMON, cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: { event?: string }[] = [];
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  let buf = '';
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as { event?: string });
      } catch {
        // not a log line
      }
    }
  });
  const events = (e: string) => lines.filter((l) => l.event === e).length;
  let proxy: Awaited<ReturnType<typeof forward>> | null = null;
  try {
    await waitFor('the node to say the database is unreachable', () => events('database_unreachable') > 0, 30_000);
    // Several retries later (1 s, 2 s, …) it is still waiting and has not repeated itself.
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal(exited, null, 'the node did not exit');
    assert.equal(events('database_unreachable'), 1);
    assert.equal(events('node_started'), 0);
    proxy = await forward(proxyPort, upstream);
    await waitFor('the node to start', () => events('node_started') > 0, 60_000);
    assert.equal(events('database_restored'), 1);
  } finally {
    child.kill('SIGTERM');
    await waitFor('the node to stop', () => exited !== null, 20_000).catch(() => child.kill('SIGKILL'));
    await proxy?.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
