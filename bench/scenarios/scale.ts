/**
 * Scale: one worker node (the real program) whose controller holds 100,000 checks, driven by
 * synthetic workers in this process over the real protocol: they take whatever is handed out and
 * report it online at once. Measures how long the controller takes from being named to its first
 * check handed out, its RSS, and its CPU per /work request — with 1,000 checks due every second,
 * first alone, then beside 99,000 that are not due — to show a request's cost does not grow with
 * checks that are not due. No viewserver: this process plays it (one probe names the node).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsSnapshot } from '../../src/controller/metrics';
import type { WorkResponse } from '../../src/protocol/messages';
import { openStore } from '../../src/store/open';
import { NodeProcess } from '../../test/helpers/cluster';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db';
import { freePort } from '../../test/helpers/ports';
import { insertChecks, PeerClient, sleep, type BenchOptions } from '../lib';
import { sampleProc } from '../proc-stats';

const PASSWORD = 'bench-scale-secret';
const VIEW = 1;
const DUE = 1_000;
const TOTAL = 100_000;
const SYNTHETIC_WORKERS = 4;
/** Large batches drain the load burst; one check per request makes a request's cost plain. */
const BURST_SLOTS = 200;
const MEASURE_SLOTS = 1;

export interface ScaleResult {
  checks: number;
  /** Seconds from the probe that names the controller to its first check handed out. */
  loadS: number;
  /** Seconds until every one of the 100,000 checks (all due at load) was handed out and reported. */
  firstPassS: number;
  /** RSS of the node before it took office, after the first pass, and the highest seen. */
  idleRssMb: number;
  rssMb: number;
  peakRssMb: number;
  /** Live JS heap after the first pass (what the checks hold; RSS adds the engine's headroom). */
  heapUsedMb: number;
  /** Controller CPU per /work request (one check each, its /results included), µs: 1,000 checks, then 100,000. */
  cpuPerRequestUs1k: number;
  cpuPerRequestUs100k: number;
  requestsPerS1k: number;
  requestsPerS100k: number;
}

class Driver {
  readonly client = new PeerClient(PASSWORD);
  private stopped = false;
  private loops: Promise<void>[] = [];
  slots = BURST_SLOTS;

  constructor(readonly node: NodeProcess) {}

  metrics(): Promise<MetricsSnapshot> {
    return this.client.call<MetricsSnapshot>(this.node.addr, '/metrics', undefined, { timeoutMs: 10_000 });
  }

  /** What the viewserver would send: you are the controller of view 1. */
  probe(): Promise<unknown> {
    return this.client.call(this.node.addr, '/probe', { view: VIEW, active: true, elected: true }, { timeoutMs: 10_000 });
  }

  startWorkers(): void {
    this.stopped = false;
    this.loops = Array.from({ length: SYNTHETIC_WORKERS }, (_, i) => this.work(`synthetic${i + 1}`));
  }

  async stopWorkers(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async work(worker: string): Promise<void> {
    while (!this.stopped) {
      try {
        const res = await this.client.call<WorkResponse>(this.node.addr, '/work', { worker, view: VIEW, slots: this.slots, waitMs: 500 }, { timeoutMs: 10_000 });
        if (res.checks.length === 0) continue;
        const startedAt = Date.now();
        const results = res.checks.map((c) => ({ id: c.id, lock: c.lock, status: 'online', message: 'HTTP 200', durationMs: 1, startedAt }));
        await this.client.call(this.node.addr, '/results', { worker, view: VIEW, results }, { timeoutMs: 10_000 });
      } catch {
        await sleep(20); // not in office yet, or restarting
      }
    }
  }
}

async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`scale: timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Controller CPU µs per /work request over `seconds` of steady state. */
async function costPerRequest(d: Driver, seconds: number): Promise<{ us: number; perS: number }> {
  d.slots = MEASURE_SLOTS;
  await sleep(3_000); // batches already handed out come back, and the code is warm
  const pid = d.node.pid!;
  const m0 = await d.metrics();
  const p0 = sampleProc(pid)!;
  await sleep(seconds * 1000);
  const m1 = await d.metrics();
  const p1 = sampleProc(pid)!;
  const requests = m1.workRequests - m0.workRequests;
  d.slots = BURST_SLOTS;
  return { us: ((p1.cpuS - p0.cpuS) * 1e6) / Math.max(1, requests), perS: requests / ((m1.at - m0.at) / 1000) };
}

async function startNode(node: NodeProcess): Promise<void> {
  node.lines.length = 0;
  node.start();
  await waitUntil('the node to start', () => node.lines.some((l) => l.event === 'node_started'), 30_000);
}

export async function scale(opts: BenchOptions, dir: string, say: (m: string) => void): Promise<ScaleResult> {
  const db: TestDatabase = await createTestDatabase('gbm_bench_scale');
  const store = await openStore([db.goDsn]);
  await store.migrate();
  await store.close();
  const port = await freePort();
  const deadPort = await freePort(); // a viewserver address nobody listens on: the node's worker stays idle
  const cfg = join(dir, 'scale-node.cfg');
  writeFileSync(cfg, [
    '[default]', `password = ${PASSWORD}`,
    // Reloads of 100,000 rows would blur the per-request figures; the load itself is what is timed.
    '[controller]', `addr = 127.0.0.1:${port}`, `database = ${db.goDsn}`, 'confirmations = 2', 'reloadInterval = 600',
    '[worker]', `viewAddr = 127.0.0.1:${deadPort}`, 'numThreads = 1', 'name = scale-node',
  ].join('\n'));
  const node = new NodeProcess('scale', cfg, `127.0.0.1:${port}`, { execArgv: opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'profiles', 'scale')}`] : [] });
  const d = new Driver(node);
  const window = opts.quick ? 5 : 10;
  try {
    const url = 'http://127.0.0.1:9/never-run';
    await insertChecks(db, Array.from({ length: DUE }, (_, i) => ({ name: `due ${i}`, url, interval: 1 })));
    say(`scale: ${DUE} checks due every second`);
    await startNode(node);
    d.startWorkers();
    await d.probe();
    await waitUntil('the first pass of 1,000', async () => (await d.metrics()).results >= DUE, 60_000);
    const small = await costPerRequest(d, window);
    await d.stopWorkers();
    await node.kill('SIGTERM');

    say(`scale: adding ${TOTAL - DUE} checks that are not due (interval 1 h)`);
    await insertChecks(db, Array.from({ length: TOTAL - DUE }, (_, i) => ({ name: `idle ${i}`, url, interval: 3600 })), 5_000);
    await startNode(node);
    const idleRssMb = sampleProc(node.pid!)?.rssMb ?? NaN;
    d.startWorkers();
    const probedAt = Date.now();
    await d.probe();
    await waitUntil('the first check handed out', () => node.lines.some((l) => l.event === 'first_assignment'), 120_000);
    const first = node.lines.find((l) => l.event === 'first_assignment')!;
    const loadS = (Number(first.time) - probedAt) / 1000;
    say(`scale: ${TOTAL} checks loaded, first check handed out after ${loadS.toFixed(2)} s`);
    let peakRssMb = 0;
    await waitUntil('the first pass of 100,000', async () => {
      peakRssMb = Math.max(peakRssMb, sampleProc(node.pid!)?.rssMb ?? 0);
      return (await d.metrics()).results >= TOTAL;
    }, 300_000);
    const firstPassS = (Date.now() - probedAt) / 1000;
    const big = await costPerRequest(d, window);
    const rssMb = sampleProc(node.pid!)?.rssMb ?? NaN;
    const { heapUsedMb } = (await d.metrics()).memory;
    peakRssMb = Math.max(peakRssMb, rssMb);
    return {
      checks: TOTAL, loadS, firstPassS, idleRssMb, rssMb, peakRssMb, heapUsedMb,
      cpuPerRequestUs1k: small.us, cpuPerRequestUs100k: big.us, requestsPerS1k: small.perS, requestsPerS100k: big.perS,
    };
  } finally {
    await d.stopWorkers();
    await node.kill('SIGTERM');
    await d.client.close();
    await db.drop();
  }
}
