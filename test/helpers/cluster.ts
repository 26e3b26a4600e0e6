/**
 * A real cluster on loopback for end-to-end tests and benchmarks: one viewserver and N worker
 * nodes, each its own `node dist/cmd/gobearmon.js CONFIG` process, their JSON log lines collected.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';
import { clusterStatus, type ClusterStatus } from '../../src/cli/status';
import { openStore } from '../../src/store/open';
import { freePort } from './ports';

export const PROGRAM = join(__dirname, '../../cmd/gobearmon.js');

export type LogLine = Record<string, unknown> & { event?: string; msg?: string };

export class NodeProcess {
  proc: ChildProcess | null = null;
  lines: LogLine[] = [];
  exits: (number | null)[] = [];

  constructor(
    readonly name: string,
    readonly cfgPath: string,
    readonly addr: string,
    /** Extra node flags (e.g. --cpu-prof), environment, and the user id to run as (root only) for this process. */
    readonly spawnOptions: { execArgv?: string[]; env?: NodeJS.ProcessEnv; uid?: number } = {},
  ) {}

  start(): void {
    const { execArgv = [], env, uid } = this.spawnOptions;
    const proc = spawn(process.execPath, [...execArgv, PROGRAM, this.cfgPath], {
      stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : undefined, ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    this.proc = proc;
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => {
      this.exits.push(code);
      if (this.proc === proc) this.proc = null;
    });
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get alive(): boolean {
    return this.proc !== null;
  }

  events(event: string): LogLine[] {
    return this.lines.filter((l) => l.event === event);
  }

  /** Sends `signal` and resolves with the exit code once the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const proc = this.proc;
    if (!proc) return this.exits[this.exits.length - 1] ?? null;
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill(signal);
    return exited;
  }
}

export interface ClusterOptions {
  /** DSN of a migrated-or-empty database (it is migrated here). */
  dsn: string;
  workers?: number;
  confirmations?: number;
  numThreads?: number;
  /** Extra lines for worker i's config (appended after its [worker] section). */
  workerExtra?: (i: number) => string;
  /** The password worker i uses (default: the cluster's). */
  passwordFor?: (i: number) => string;
  controllerExtra?: string;
  viewserverExtra?: string;
  /** False: leave probe, reload and timeout keys at the product's defaults (default true: fast test timings). */
  fastTimings?: boolean;
  /** Extra node flags for a node's process, by name (`viewserver`, `w1`, …), e.g. --cpu-prof. */
  execArgv?: (name: string) => string[];
  /** Extra environment for every node process. */
  env?: NodeJS.ProcessEnv;
  /** The DSN worker node i uses (default `dsn`), e.g. through a proxy the test can cut. */
  dsnFor?: (i: number) => string;
  /** A user id for worker node i's process (needs root), so iptables' owner match can cut it off alone. */
  uidFor?: (i: number) => number | undefined;
}

export class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'gbm-cluster-'));
  viewserver!: NodeProcess;
  workers: NodeProcess[] = [];
  readonly password = 'cluster-secret';

  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster();
    await cluster.init(options);
    return cluster;
  }

  private async init(o: ClusterOptions): Promise<void> {
    const n = o.workers ?? 3;
    const fast = o.fastTimings ?? true;
    const spawnFor = (name: string, uid?: number) => ({ execArgv: o.execArgv?.(name), env: o.env, uid });
    const viewPort = await freePort();
    const ports: number[] = [];
    for (let i = 0; i < n; i++) ports.push(await freePort());
    const viewCfg = join(this.dir, 'viewserver.cfg');
    writeFileSync(viewCfg, [
      '[default]', `password = ${this.password}`,
      '[viewserver]', `addr = 127.0.0.1:${viewPort}`, ...ports.map((p) => `controller = 127.0.0.1:${p}`),
      ...(fast ? ['probeInterval = 0.25', 'probeTimeout = 0.5', 'probeFailures = 2'] : []), o.viewserverExtra ?? '',
    ].join('\n'));
    this.viewserver = new NodeProcess('viewserver', viewCfg, `127.0.0.1:${viewPort}`, spawnFor('viewserver'));
    for (let i = 0; i < n; i++) {
      const cfg = join(this.dir, `worker${i + 1}.cfg`);
      writeFileSync(cfg, [
        '[default]', `password = ${o.passwordFor?.(i) ?? this.password}`,
        '[controller]', `addr = 127.0.0.1:${ports[i]}`, `database = ${o.dsnFor?.(i) ?? o.dsn}`, `confirmations = ${o.confirmations ?? 2}`,
        ...(fast ? ['reloadInterval = 0.5', 'workerTimeout = 3', 'alertRetryBase = 0.2', 'alertRetryMax = 2'] : []), o.controllerExtra ?? '',
        '[worker]', `viewAddr = 127.0.0.1:${viewPort}`, `numThreads = ${o.numThreads ?? 16}`, `name = w${i + 1}`, o.workerExtra?.(i) ?? '',
      ].join('\n'));
      this.workers.push(new NodeProcess(`w${i + 1}`, cfg, `127.0.0.1:${ports[i]}`, spawnFor(`w${i + 1}`, o.uidFor?.(i))));
    }
    if (o.uidFor) chmodSync(this.dir, 0o755); // nodes running as other users read their configs
    const store = await openStore([o.dsn]);
    await store.migrate();
    await store.close();
    this.viewserver.start();
    for (const w of this.workers) w.start();
  }

  get nodes(): NodeProcess[] {
    return [this.viewserver, ...this.workers];
  }

  status(): Promise<ClusterStatus> {
    return clusterStatus(loadConfig(this.viewserver.cfgPath));
  }

  /** The worker node whose controller component is active, per the viewserver. */
  async controller(): Promise<NodeProcess | undefined> {
    const s = await this.status();
    return this.workers.find((w) => w.addr === s.controller);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill('SIGTERM')));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export { waitFor } from './wait';
