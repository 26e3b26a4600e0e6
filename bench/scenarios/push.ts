/**
 * Push checks: durable pings/s into one worker node's listener on MariaDB from 200 concurrent
 * senders, the same listener's bare `GET /` in the same run, and ping acknowledgement latency at
 * half the measured rate. The node is a real process; the senders run here.
 */
import { Pool } from 'undici';
import { Cluster } from '../../test/helpers/cluster';
import { createTestDatabase } from '../../test/helpers/db';
import { freePort } from '../../test/helpers/ports';
import { sleep, waitFor } from '../../test/helpers/wait';

export interface PushBenchResult {
  pingsPerS: number;
  barePerS: number;
  ackP50Ms: number;
  ackP99Ms: number;
}

const SENDERS = 200;

async function hammer(pool: Pool, paths: string[], seconds: number): Promise<number> {
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(paths.map(async (path) => {
    while (Date.now() < until) {
      const res = await pool.request({ method: 'GET', path });
      await res.body.dump();
      if (res.statusCode === 200) done++;
    }
  }));
  return done / seconds;
}

export async function pushBench(quick: boolean, say: (m: string) => void): Promise<PushBenchResult> {
  const db = await createTestDatabase('gbm_bench_push');
  const port = await freePort();
  const cluster = await Cluster.start({ dsn: db.goDsn, workers: 1, confirmations: 1, workerExtra: () => `[push]\naddr = 127.0.0.1:${port}` });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: SENDERS, pipelining: 1 });
  try {
    for (let i = 0; i < SENDERS; i += 50) {
      const values = Array.from({ length: 50 }, (_, j) => `('bench-${i + j}', 'push', '{"token":"bench-token-${String(i + j).padStart(4, '0')}","grace":3600}', 3600)`).join(', ');
      await db.exec(`INSERT INTO checks (name, type, data, check_interval) VALUES ${values}`);
    }
    const paths = Array.from({ length: SENDERS }, (_, i) => `/ping/bench-token-${String(i).padStart(4, '0')}`);
    await waitFor('the listener to know the checks', async () => {
      const res = await pool.request({ method: 'GET', path: paths[SENDERS - 1] }).catch(() => null);
      await res?.body.dump();
      return res?.statusCode === 200;
    }, 60_000, 200);
    const seconds = quick ? 4 : 10;
    await hammer(pool, paths, 1); // warm up
    const pingsPerS = await hammer(pool, paths, seconds);
    say(`push: ${Math.round(pingsPerS)} durable pings/s from ${SENDERS} senders`);
    const barePerS = await hammer(pool, Array.from({ length: SENDERS }, () => '/'), seconds);
    say(`push: bare GET ${Math.round(barePerS)}/s on the same listener`);
    // Acknowledgement latency at half the measured rate, paced.
    const rate = Math.max(1, pingsPerS / 2);
    const latencies: number[] = [];
    const total = Math.round(rate * (quick ? 3 : 8));
    const t0 = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.push((async () => {
        const start = performance.now();
        const res = await pool.request({ method: 'POST', path: paths[i % SENDERS], body: 'ok' });
        await res.body.dump();
        if (res.statusCode === 200) latencies.push(performance.now() - start);
      })());
    }
    await Promise.all(inflight);
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
    return { pingsPerS, barePerS, ackP50Ms: pct(0.5), ackP99Ms: pct(0.99) };
  } finally {
    await pool.close();
    await cluster.stop();
    await db.drop();
  }
}
