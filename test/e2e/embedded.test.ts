/**
 * One host without MySQL (issue 7): a viewserver and two worker nodes on an embedded SQLite file;
 * `gobearmon sql` inserts a check that the running nodes then pick up and run. Also: `gobearmon
 * status --json` describes the cluster, and SIGTERM stops every node with exit code 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, waitFor } from '../helpers/cluster';
import { runGobearmon } from '../helpers/run-cli';
import { startTarget, type Target } from '../helpers/target';

let dir: string;
let cluster: Cluster;
let target: Target;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gbm-embedded-'));
  target = await startTarget();
  cluster = await Cluster.start({ dsn: `sqlite:${join(dir, 'gobearmon.db')}`, workers: 2, confirmations: 2 });
  await waitFor('an elected controller', async () => (await cluster.status().catch(() => null))?.epoch);
});

after(async () => {
  await cluster?.stop();
  await target?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a check inserted with `gobearmon sql` into the embedded database is picked up and run', async () => {
  const data = JSON.stringify({ url: target.url('/embedded'), expect_status: 200 }).replace(/\//g, '\\/');
  const insert = await runGobearmon(['sql', '--config', cluster.workers[0].cfgPath, `INSERT INTO checks (name, type, data, check_interval) VALUES ('embedded', 'http', '${data}', 1)`]);
  assert.equal(insert.code, 0, insert.stderr);
  assert.match(insert.stdout, /1 row\(s\) affected/);
  await waitFor('both workers to run the new check', () => target.hitCount('/embedded', 'w1') > 0 && target.hitCount('/embedded', 'w2') > 0, 20_000);
});

test('`gobearmon status --json` names the controller, epoch, workers and checks', async () => {
  const res = await runGobearmon(['status', '--config', cluster.viewserver.cfgPath, '--json']);
  assert.equal(res.code, 0, res.stderr);
  const status = JSON.parse(res.stdout) as { controller: string; epoch: number; workers: { name: string; live: boolean }[]; checks: { name: string; status: string; lastWorker: string }[] };
  assert.ok(cluster.workers.some((w) => w.addr === status.controller), `controller ${status.controller} is one of the workers`);
  assert.ok(status.epoch >= 1);
  assert.deepEqual(status.workers.filter((w) => w.live).map((w) => w.name).sort(), ['w1', 'w2']);
  const check = status.checks.find((c) => c.name === 'embedded');
  assert.equal(check?.status, 'online');
  assert.match(check?.lastWorker ?? '', /^w[12]$/);
  const text = await runGobearmon(['status', '--config', cluster.workers[1].cfgPath]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /controller: 127\.0\.0\.1:\d+ +view: \d+ +epoch: \d+/);
});

test('SIGTERM stops every node cleanly with exit code 0', async () => {
  for (const node of [...cluster.workers, cluster.viewserver]) {
    assert.equal(await node.kill('SIGTERM'), 0, `${node.name} exits 0`);
    assert.ok(node.lines.some((l) => l.event === 'shutdown'), `${node.name} logged its shutdown`);
  }
});
