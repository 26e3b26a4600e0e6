/** What the scenarios share: the processes of a run, SQL seeding, metrics windows and statistics. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { quantileOf, type MetricsSnapshot } from '../src/controller/metrics';
import { PeerClient } from '../src/protocol/client';
import type { ViewserverStatus } from '../src/viewserver/viewserver';
import type { Cluster, NodeProcess } from '../test/helpers/cluster';
import type { TestDatabase } from '../test/helpers/db';
import { ProcWindow, type ProcCost } from './proc-stats';
import type { AlertSink } from '../test/helpers/alert-sink';
import { sleep } from '../test/helpers/wait';

export { sleep };

export interface BenchOptions {
  quick: boolean;
  /** Write CPU profiles of every node (node --cpu-prof) and print their top entries. */
  profile: boolean;
  workers: number;
  numThreads: number;
  /** Offered load of the paced phase, checks per second. */
  rate: number;
}

export interface Context {
  opts: BenchOptions;
  db: TestDatabase;
  target: TargetProcess;
  sink: AlertSink;
  cluster: Cluster;
  client: PeerClient;
  /** Progress line on stderr (the table goes to stdout). */
  say(msg: string): void;
}

// ---- the target process ------------------------------------------------------------------------

export interface TargetStats {
  now: number;
  total: number;
  bucketMs: number;
  from: number;
  series: number[];
  firstFail: Record<string, number>;
  hits: Record<string, number>;
}

export interface TargetProcess {
  pid: number;
  url(path: string): string;
  stats(query?: { from?: number; to?: number; hits?: string[] }): Promise<TargetStats>;
  fail(path: string): Promise<void>;
  heal(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts `node dist/bench/target-server.js` and waits for the port it prints. */
export async function startTargetProcess(): Promise<TargetProcess> {
  const proc = spawn(process.execPath, [join(__dirname, 'target-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`target server exited with ${code}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  const base = `http://127.0.0.1:${port}`;
  const control = async <T>(path: string, params: Record<string, string | string[]>): Promise<T> => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
    const res = await fetch(`${base}/_bench/${path}?${q}`);
    return (await res.json()) as T;
  };
  return {
    pid: proc.pid!,
    url: (path) => `${base}${path}`,
    stats: (query = {}) => control<TargetStats>('stats', {
      ...(query.from !== undefined ? { from: String(query.from) } : {}), ...(query.to !== undefined ? { to: String(query.to) } : {}), hits: query.hits ?? [],
    }),
    fail: async (path) => void (await control('fail', { path })),
    heal: async (path) => void (await control('heal', { path })),
    close: () => stopChild(proc),
  };
}

export function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

export interface CeilingResult {
  cps: number;
  errors: number;
  /** CPU of all loop processes together, % of one core. */
  cpuPct: number;
  processes: number;
}

/** Runs one ceiling loop in its own process (see ceiling.ts). */
function ceilingProcess(url: string, concurrency: number, seconds: number, expect?: string): Promise<{ cps: number; errors: number; cpuPct: number }> {
  const args = [join(__dirname, 'ceiling.js'), url, String(concurrency), String(seconds), ...(expect ? [expect] : [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { cps: number; errors: number; cpuPct: number }));
    proc.once('exit', (code) => (code ? reject(new Error(`ceiling loop exited with ${code}`)) : undefined));
  });
}

/**
 * The bare-undici ceiling with as many processes as the cluster has workers, each with a worker's
 * concurrency: the same parallelism the cluster gets, so the ceiling bounds what it can do.
 * With `expect`, the loops drive a prober instead (see ceiling.ts).
 */
export async function runCeiling(url: string, processes: number, concurrencyEach: number, seconds: number, expect?: string): Promise<CeilingResult> {
  const runs = await Promise.all(Array.from({ length: processes }, () => ceilingProcess(url, concurrencyEach, seconds, expect)));
  return {
    cps: runs.reduce((a, r) => a + r.cps, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    cpuPct: runs.reduce((a, r) => a + r.cpuPct, 0),
    processes,
  };
}

export function mariadbPid(): number | undefined {
  for (const name of ['mariadbd', 'mysqld']) {
    try {
      const pid = Number(execFileSync('pidof', ['-s', name], { encoding: 'utf8' }).trim());
      if (pid) return pid;
    } catch {
      // not running under this name
    }
  }
  return undefined;
}

// ---- seeding -----------------------------------------------------------------------------------

export interface NewCheck {
  name: string;
  url: string;
  interval: number;
  delay?: number;
}

/** INSERTs checks in batches; returns their ids in order. JSON is written as the original README does. */
export async function insertChecks(db: TestDatabase, checks: NewCheck[], batch = 2_000): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < checks.length; i += batch) {
    const part = checks.slice(i, i + batch);
    const values: (string | number)[] = [];
    for (const c of part) {
      const data = JSON.stringify({ url: c.url, method: 'GET', expect_status: 200, timeout: 10 }).replace(/\//g, '\\/');
      values.push(c.name, data, c.interval, c.delay ?? 1);
    }
    const res = (await db.exec(`INSERT INTO checks (name, type, data, check_interval, delay) VALUES ${part.map(() => "(?, 'http', ?, ?, ?)").join(', ')}`, values)) as { insertId: number };
    for (let j = 0; j < part.length; j++) ids.push(res.insertId + j);
  }
  return ids;
}

// ---- the cluster's view and metrics --------------------------------------------------------------

export async function viewStatus(ctx: Context): Promise<ViewserverStatus | null> {
  return ctx.client.call<ViewserverStatus>(ctx.cluster.viewserver.addr, '/status', undefined, { timeoutMs: 2_000 }).catch(() => null);
}

/** The worker node whose controller the viewserver names, once it is in office. */
export async function controllerNode(ctx: Context): Promise<NodeProcess | undefined> {
  const s = await viewStatus(ctx);
  return ctx.cluster.workers.find((w) => w.addr === s?.controller && w.alive);
}

export function metricsOf(ctx: Context, node: NodeProcess): Promise<MetricsSnapshot> {
  return ctx.client.call<MetricsSnapshot>(node.addr, '/metrics', undefined, { timeoutMs: 5_000 });
}

// ---- windows -----------------------------------------------------------------------------------

export interface Lateness {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

/** Lateness percentiles of the results accepted between two snapshots of one office. */
export function latenessBetween(a: MetricsSnapshot, b: MetricsSnapshot): Lateness {
  const counts = b.lateness.counts.map((n, i) => n - (a.lateness.counts[i] ?? 0));
  let top = counts.length - 1;
  while (top > 0 && counts[top] === 0) top--;
  const bounds = b.lateness.boundsMs;
  return {
    p50: quantileOf(counts, 0.5, bounds),
    p99: quantileOf(counts, 0.99, bounds),
    // The window's max is known to its bucket; the office-wide max is exact and no larger.
    max: Math.min(top < bounds.length ? bounds[top] : Infinity, b.lateness.maxMs),
    count: counts.reduce((x, y) => x + y, 0),
  };
}

export interface WindowResult {
  seconds: number;
  /** Checks completed per second: results the controller accepted. */
  cps: number;
  /** Requests per second the target saw (every check run, accepted or not). */
  targetCps: number;
  workRequestsPerS: number;
  lateness: Lateness;
  cost: Record<string, ProcCost>;
  machineCpuPct: number;
  loadavg1: number;
}

/** Measures the running cluster for `seconds`: throughput, lateness and what each process costs. */
export async function measureWindow(ctx: Context, seconds: number): Promise<WindowResult> {
  const ctl = await controllerNode(ctx);
  if (!ctl) throw new Error('no controller in office');
  const pids = new Map<string, number>();
  pids.set('controller', ctl.pid!);
  for (const w of ctx.cluster.workers) if (w !== ctl && w.pid) pids.set(`worker ${w.name}`, w.pid);
  if (ctx.cluster.viewserver.pid) pids.set('viewserver', ctx.cluster.viewserver.pid);
  pids.set('target', ctx.target.pid);
  const db = mariadbPid();
  if (db) pids.set('mariadb', db);
  const m0 = await metricsOf(ctx, ctl);
  const t0 = await ctx.target.stats({ from: Date.now() });
  const procs = new ProcWindow(pids);
  await sleep(seconds * 1000);
  const m1 = await metricsOf(ctx, ctl);
  const t1 = await ctx.target.stats({ from: Date.now() });
  const { procs: cost, machineCpuPct, loadavg1 } = procs.stop();
  if (m1.epoch !== m0.epoch) throw new Error('the controller changed during a measurement window');
  const dt = (m1.at - m0.at) / 1000;
  return {
    seconds: dt,
    cps: (m1.results - m0.results) / dt,
    targetCps: (t1.total - t0.total) / ((t1.now - t0.now) / 1000),
    workRequestsPerS: (m1.workRequests - m0.workRequests) / dt,
    lateness: latenessBetween(m0, m1),
    cost,
    machineCpuPct,
    loadavg1,
  };
}

// ---- statistics ----------------------------------------------------------------------------------

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export { PeerClient };
