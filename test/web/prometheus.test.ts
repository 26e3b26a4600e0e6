/**
 * A real Prometheus (Debian's /usr/bin/prometheus) scrapes the web's /metrics with the bearer
 * token: the target is up and per-check series arrive with their labels.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { WebServer } from '../../src/web/server';
import { captureLogger, kitConfig } from '../helpers/controller-kit';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';
import { seedWeb, type Seeded } from '../helpers/web';

const TOKEN = 'scrape-token-789';

describe('Prometheus scrapes /metrics', () => {
  let db: EngineDb;
  let store: Store;
  let web: WebServer;
  let ids: Seeded;
  let prom: ChildProcess;
  let dir: string;
  let promUrl: string;

  before(async () => {
    db = await ENGINES.find((e) => e.name === 'sqlite')!.create();
    store = await openStore([db.dsn]);
    await store.migrate();
    ids = await seedWeb(store, Date.now());
    const webPort = await freePort();
    web = new WebServer({ store, config: kitConfig({ web: { addr: `127.0.0.1:${webPort}`, metricstoken: TOKEN } }), log: captureLogger().log });
    await web.listen();
    dir = mkdtempSync(join(tmpdir(), 'gbm-prom-'));
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gobearmon\n    authorization:\n      credentials: ${TOKEN}\n    static_configs:\n      - targets: ['127.0.0.1:${webPort}']\n`);
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prom = spawn('/usr/bin/prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
  });
  after(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    await web?.close();
    await store?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const query = async (q: string) => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => null);
    if (!res?.ok) return [];
    return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  };

  test('the target is up and gobearmon_check_up carries id, name, type and tags', async () => {
    const up = await waitFor('Prometheus to scrape the target', async () => {
      const r = await query('up{job="gobearmon"}');
      return r.length && r[0].value[1] === '1' ? r : null;
    }, 60_000, 500);
    assert.equal(up[0].metric.instance.startsWith('127.0.0.1:'), true);
    const checks = await waitFor('check series', async () => {
      const r = await query('gobearmon_check_up');
      return r.length >= 4 ? r : null;
    }, 30_000, 500);
    const db = checks.find((r) => r.metric.id === String(ids.db))!;
    assert.deepEqual([db.metric.name, db.metric.type, db.metric.tags, db.value[1]], ['db-us', 'tcp', 'prod,us', '0']);
    const xss = checks.find((r) => r.metric.id === String(ids.xss))!;
    assert.equal(xss.metric.name, '<script>alert(1)</script>', 'label values round-trip exactly');
    assert.deepEqual(Object.keys(db.metric).sort(), ['__name__', 'id', 'instance', 'job', 'name', 'tags', 'type']);
  });
});
