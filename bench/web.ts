/**
 * `npm run bench:web`: the web role with 10,000 checks on a fresh MariaDB database — 30 minutes of
 * per-minute history each, two flips each, tags — timing over loopback HTTP the first dashboard
 * page (cold, then the median of 20), a two-tag filter, the live rows fragment, the API list and
 * /metrics. Writes bench/results/web.json. It reports; it never fails on a missed target.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { buildConfig, parseIni } from '../src/config/load';
import { openStore } from '../src/store/open';
import type { RollupRow } from '../src/store/rollups';
import { WebServer } from '../src/web/server';
import { createTestDatabase } from '../test/helpers/db';
import { freePort } from '../test/helpers/ports';

const CHECKS = Number(process.env.WEB_BENCH_CHECKS ?? 10_000);
const MINUTES = 30;
const RESULTS = join(__dirname, '../../bench/results');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const db = await createTestDatabase('gbm_bench_web');
  const store = await openStore([db.urlDsn]);
  let web: WebServer | null = null;
  try {
    await store.migrate();
    const seedStart = performance.now();
    const regions = ['eu', 'us', 'asia'];
    for (let i = 0; i < CHECKS; i += 500) {
      const rows = Array.from({ length: Math.min(500, CHECKS - i) }, (_, j) => i + j);
      await store.driver.run(
        `INSERT INTO checks (name, type, data, status, tags, check_interval) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, 60)').join(', ')}`,
        rows.flatMap((n) => [`service-${n}`, n % 3 ? 'http' : 'tcp', JSON.stringify({ url: `http://10.0.${n >> 8}.${n & 255}/`, password: 'x' }), n % 97 === 0 ? 'offline' : 'online', `${n % 2 ? 'prod' : 'staging'} ${regions[n % 3]} team${n % 10}`]),
      );
    }
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const epoch = await store.takeOffice('bench', now);
    const ids = (await store.driver.all('SELECT id FROM checks ORDER BY id')).map((r) => Number(r.id));
    let batch: RollupRow[] = [];
    for (const id of ids) {
      for (let m = minute - MINUTES + 1; m <= minute; m++) {
        const ms = 20 + ((id * 7 + m) % 50);
        batch.push({ checkId: id, minute: m, runs: 1, failures: 0, sumMs: ms, maxMs: ms, lastAt: m * 60_000 + 1_000, lastMs: ms, lastOk: true });
      }
      if (batch.length >= 3_000) {
        await store.writeRollups(epoch, batch);
        batch = [];
      }
    }
    if (batch.length) await store.writeRollups(epoch, batch);
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      await store.driver.run(
        `INSERT INTO check_events (check_id, type, message, time) VALUES ${part.map(() => "(?, 'offline', 'down', NOW() - INTERVAL 3 DAY), (?, 'online', 'up', NOW() - INTERVAL 2 DAY)").join(', ')}`,
        part.flatMap((id) => [id, id]),
      );
    }
    const seedS = (performance.now() - seedStart) / 1000;

    const port = await freePort();
    const text = `[default]\npassword = bench\n[controller]\naddr = 127.0.0.1:1\ndatabase = ${db.urlDsn}\n[worker]\nviewAddr = 127.0.0.1:1\n[web]\naddr = 127.0.0.1:${port}\nuser = admin\npassword = pw\napiKey = key\npublic = on\n`;
    const config = buildConfig(parseIni(text, 'bench.cfg'), 'bench.cfg');
    web = new WebServer({ store, config, log: pino({ level: 'silent' }) });
    await web.listen();
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/login`, { method: 'POST', body: 'user=admin&password=pw', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const time = async (path: string, headers: Record<string, string>) => {
      const t = performance.now();
      const res = await fetch(`${base}${path}`, { headers });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
      return { ms: performance.now() - t, bytes: body.length };
    };
    const measure = async (path: string, headers: Record<string, string>) => {
      const first = await time(path, headers);
      const runs: number[] = [];
      for (let i = 0; i < 20; i++) runs.push((await time(path, headers)).ms);
      return { path, firstMs: round(first.ms), medianMs: round(median(runs)), maxMs: round(Math.max(...runs)), bytes: first.bytes };
    };
    const results = [
      await measure('/', { cookie }),
      await measure('/?tags=prod+eu&status=online', { cookie }),
      await measure('/?page=100', { cookie }),
      await measure('/ui/rows?page=1&per=50', { cookie }),
      await measure('/api/v1/checks?tag=prod&per=100', { authorization: 'Bearer key' }),
      await measure('/status/team3', {}),
      await measure('/metrics', {}),
    ];
    const report = { at: new Date().toISOString(), checks: CHECKS, rollupRows: CHECKS * MINUTES, flips: CHECKS * 2, seedSeconds: round(seedS), results };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'web.json'), JSON.stringify(report, null, 2) + '\n');
    console.log(`web bench: ${CHECKS} checks, ${CHECKS * MINUTES} rollup rows, ${CHECKS * 2} flips (seeded in ${round(seedS)} s), MariaDB, loopback HTTP`);
    console.log('path'.padEnd(44) + 'first ms'.padStart(10) + 'median ms'.padStart(11) + 'max ms'.padStart(9) + 'bytes'.padStart(10));
    for (const r of results) console.log(r.path.padEnd(44) + String(r.firstMs).padStart(10) + String(r.medianMs).padStart(11) + String(r.maxMs).padStart(9) + String(r.bytes).padStart(10));
  } finally {
    await web?.close();
    await store.close();
    await db.drop();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
