/**
 * The worker component of every worker node: follows the view, long-polls the active controller
 * for as many checks as it has free slots, runs them concurrently, and reports each result as
 * soon as it is ready (results that finish together go in one request).
 */
import { runCheck as runCheckDefault } from '../checks/registry';
import type { CheckContext, CheckResult } from '../checks/types';
import type { Config } from '../config/types';
import { mailAdmin as mailAdminDefault } from '../contacts/admin';
import { AdminMailer } from '../contacts/admin-mailer';
import { randomUUID } from 'node:crypto';
import { HostResolver } from '../net/resolver';
import { PeerClient, PeerError, dialAddr } from '../protocol/client';
import { DUPLICATE_WORKER_NAME, type Assignment, type ReportedResult, type ViewResponse, type WorkResponse } from '../protocol/messages';
import { MAX_BODY_BYTES } from '../protocol/server';
import { SkewReporter } from '../protocol/skew';
import type { Logger } from '../util/log';
import { LogThrottle } from '../util/log-throttle';
import { abortableSleep as sleep } from '../util/sleep';

export type RunCheckFn = (type: string, data: string, ctx: CheckContext) => Promise<CheckResult>;

const VIEW_WAIT_MS = 20_000;
const WORK_WAIT_MS = 10_000;
const NETWORK_SLACK_MS = 5_000;
const RESULTS_TIMEOUT_MS = 10_000;
/** A failed /results call is sent once more after this, if its controller is still the current one. */
const RESULTS_RETRY_DELAY_MS = 500;
/** A result's message is cut here: the whole batch must stay well under the peer's body bound. */
export const MAX_MESSAGE_CHARS = 8 * 1024;
/** Bytes of one /results body, below MAX_BODY_BYTES with room for the envelope. */
const MAX_BATCH_BYTES = MAX_BODY_BYTES - 64 * 1024;
/** How often a worker with every slot busy tells the controller it is alive. */
const HEARTBEAT_MS = 1_000;

export interface WorkerOptions {
  clock?: () => number;
  mailAdmin?: (subject: string, body: string) => Promise<void>;
  /** Resolves check targets; default one per worker over the system's servers. */
  resolver?: HostResolver;
}

/** Splits results into batches whose JSON stays under `maxBytes`. */
export function batchBySize(results: ReportedResult[], maxBytes: number): ReportedResult[][] {
  const batches: ReportedResult[][] = [];
  let current: ReportedResult[] = [];
  let bytes = 0;
  for (const r of results) {
    const size = Buffer.byteLength(JSON.stringify(r)) + 1;
    if (current.length && bytes + size > maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
}

export class Worker {
  private readonly client: PeerClient;
  private readonly running = new Map<number, { check: Assignment; controller: string }>();
  private pending: { controller: string; result: ReportedResult }[] = [];
  private flushing = false;
  private view = 0;
  private controller: string | null = null;
  private stopped = false;
  private readonly stop = new AbortController();
  private pollAbort = new AbortController();
  private readonly resolver: HostResolver;
  private readonly skew: SkewReporter;
  private wakeWork: (() => void) | null = null;
  private loops: Promise<void>[] = [];
  /** Checks completed by this worker, for benchmarks and status. */
  completed = 0;
  /** Peer errors repeat every poll: logged on change, then once a minute, then `*_restored`. */
  private readonly peerTrouble: LogThrottle;
  /** Tells this process apart from another worker wrongly configured with the same name. */
  private readonly instance = randomUUID();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly runCheck: RunCheckFn = runCheckDefault,
    options: WorkerOptions = {},
  ) {
    const clock = options.clock ?? Date.now;
    this.client = new PeerClient(config.default.password, { clock });
    this.resolver = options.resolver ?? new HostResolver();
    // A failed admin mail is logged and retried, never dropped silently.
    const mailer = new AdminMailer(options.mailAdmin ?? ((subject: string, body: string) => mailAdminDefault(config, subject, body)), log);
    const mail = (subject: string, body: string) => mailer.send(subject, body);
    this.skew = new SkewReporter(`worker ${config.worker.name}`, log, mail, clock);
    this.peerTrouble = new LogThrottle(log, clock);
  }

  get name(): string {
    return this.config.worker.name;
  }

  start(): void {
    this.loops = [this.followView(), this.workLoop()];
  }

  // ---- the view ----------------------------------------------------------------------------------

  private async followView(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const res = await this.client.call<ViewResponse>(this.config.worker.viewAddr, '/view', { after: this.view, waitMs: VIEW_WAIT_MS }, {
          timeoutMs: VIEW_WAIT_MS + NETWORK_SLACK_MS,
          signal: this.stop.signal,
        });
        failures = 0;
        this.peerTrouble.restored('viewserver', 'the viewserver answers again');
        this.setView(res.view, res.controller);
      } catch (err) {
        if (this.stopped) return;
        // The viewserver may be restarting: keep working with the controller we know.
        failures++;
        this.logPeerError('viewserver', err);
        await sleep(Math.min(1_000, 100 * failures), this.stop.signal);
      }
    }
  }

  private setView(view: number, controller: string | null): void {
    this.view = view;
    const addr = controller ? dialAddr(controller) : null;
    if (addr === this.controller) return;
    this.log.info({ event: 'controller_changed', from: this.controller, to: addr, view }, `controller is now ${addr ?? 'none'}`);
    this.controller = addr;
    this.pending = this.pending.filter((p) => p.controller === addr); // the new controller holds no lock on them
    this.pollAbort.abort();
    this.wake();
  }

  private wake(): void {
    this.wakeWork?.();
  }

  /** Waits `ms`, or less when a slot comes free or the view changes. */
  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeWork = () => {
        this.wakeWork = null;
        done();
      };
    });
  }

  // ---- work ----------------------------------------------------------------------------------------

  private async workLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const controller = this.controller;
      const slots = Math.max(0, this.config.worker.numThreads - this.running.size);
      if (!controller) {
        await new Promise<void>((resolve) => (this.wakeWork = resolve));
        this.wakeWork = null;
        continue;
      }
      this.pollAbort = new AbortController();
      // With every slot busy the poll asks for nothing and is answered at once: it only tells the
      // controller this worker is alive (slow checks must not make it look dead).
      const heartbeat = slots === 0;
      try {
        // One signal per poll, aborted by a view change and by close(): nothing long-lived is combined per poll.
        const res = await this.client.call<WorkResponse>(controller, '/work', { worker: this.name, instance: this.instance, view: this.view, slots, waitMs: heartbeat ? 0 : WORK_WAIT_MS }, {
          timeoutMs: WORK_WAIT_MS + NETWORK_SLACK_MS,
          signal: this.pollAbort.signal,
        });
        failures = 0;
        this.peerTrouble.restored('controller', `the controller ${controller} answers again`);
        for (const check of res.checks) this.run(check, controller);
        if (heartbeat && this.running.size >= this.config.worker.numThreads) await this.idle(HEARTBEAT_MS);
      } catch (err) {
        if (this.stopped || this.pollAbort.signal.aborted) continue;
        failures++;
        this.logPeerError('controller', err);
        const unauthorized = err instanceof PeerError && err.statusCode === 401;
        await sleep(unauthorized ? 5_000 : Math.min(1_000, 50 * failures), this.pollAbort.signal);
      }
    }
  }

  private run(check: Assignment, controller: string): void {
    this.running.set(check.id, { check, controller });
    const startedAt = Date.now();
    void this.runCheck(check.type, check.data, { dnsServer: this.config.dns.server, worker: this.name, execDir: this.config.exec.dir, resolver: this.resolver })
      .catch((err: Error): CheckResult => ({ status: 'offline', message: `check crashed: ${err.message}`, durationMs: 0 }))
      .then((result) => {
        this.running.delete(check.id);
        this.completed++;
        const message = result.message.length > MAX_MESSAGE_CHARS ? `${result.message.slice(0, MAX_MESSAGE_CHARS)}…` : result.message;
        this.pending.push({ controller, result: { id: check.id, lock: check.lock, status: result.status, message, durationMs: result.durationMs, startedAt } });
        void this.flush();
        this.wake();
      });
  }

  /**
   * Sends every ready result for the current controller (in batches under the body bound); results
   * ready meanwhile go in the next. Results locked by a controller that is no longer current are
   * dropped at once: its locks died with its office, and a dead one would hold up the rest.
   */
  private async flush(): Promise<void> {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const controller = this.controller;
    const stale = this.pending.filter((p) => p.controller !== controller).length;
    if (stale) this.log.debug({ event: 'results_dropped', results: stale, reason: 'controller no longer current' }, 'dropped results for a former controller');
    const batch = this.pending.filter((p) => p.controller === controller).map((p) => p.result);
    this.pending = [];
    try {
      if (controller) for (const results of batchBySize(batch, MAX_BATCH_BYTES)) await this.sendResults(controller, results);
    } finally {
      this.flushing = false;
      if (this.pending.length) void this.flush();
    }
  }

  /** One /results call, tried again once (after a short pause) if it fails and its controller is still current. */
  private async sendResults(controller: string, results: ReportedResult[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.call(controller, '/results', { worker: this.name, view: this.view, results }, { timeoutMs: RESULTS_TIMEOUT_MS });
        this.peerTrouble.restored('controller', `the controller ${controller} answers again`);
        return;
      } catch (err) {
        const refused = err instanceof PeerError && err.statusCode !== undefined && err.statusCode < 500;
        if (attempt >= 2 || refused || this.controller !== controller) {
          this.log.warn({ event: 'results_lost', results: results.length, attempts: attempt, err: (err as Error).message }, 'could not report results; their checks run again when their locks expire');
          if (refused) this.logPeerError('controller', err);
          return;
        }
        this.log.info({ event: 'results_retry', results: results.length, err: (err as Error).message }, 'reporting results failed; trying once more');
        await sleep(RESULTS_RETRY_DELAY_MS, this.stop.signal);
        if (this.controller !== controller) return;
      }
    }
  }

  private logPeerError(peer: 'viewserver' | 'controller', err: unknown): void {
    const status = err instanceof PeerError ? err.statusCode : undefined;
    const fields = { peer, err: (err as Error).message };
    const skewMs = err instanceof PeerError ? err.skewMs : undefined;
    // Clock skew is not a wrong password: say which clocks differ and by how much.
    if (skewMs !== undefined) return this.skew.report(`the ${peer} (${peer === 'viewserver' ? this.config.worker.viewAddr : (this.controller ?? '?')})`, skewMs);
    // 409: a newly named controller not yet in office, or a deposed one; the view sorts it out.
    const refusal = (err as PeerError).body as { error?: unknown } | undefined;
    if (status === 409 && typeof refusal?.error === 'string' && refusal.error.startsWith(DUPLICATE_WORKER_NAME)) {
      return void this.peerTrouble.failing(peer, { event: DUPLICATE_WORKER_NAME, detail: this.name, level: 'error', msg: refusal.error, fields });
    }
    if (status === 409) return void this.log.debug({ ...fields, event: `${peer}_not_ready` }, `the ${peer} is not serving this view yet`);
    // The message's detail (ports, timings) may vary between polls: the identity is the kind of failure.
    const detail = status !== undefined ? `HTTP ${status}` : ((err as { code?: string }).code ?? (err as Error).name);
    if (status === 401) this.peerTrouble.failing(peer, { event: 'auth_refused', detail, level: 'error', msg: `the ${peer} refused our password`, fields });
    else this.peerTrouble.failing(peer, { event: `${peer}_unreachable`, detail, level: 'warn', msg: `cannot reach the ${peer}`, fields });
  }

  // ---- shutdown ------------------------------------------------------------------------------------

  /** Stops taking work, lets running checks finish for `graceMs`, reports them, hands back the rest. */
  async close(graceMs = 3_000): Promise<void> {
    this.stopped = true;
    this.stop.abort();
    this.pollAbort.abort();
    this.wake();
    const until = Date.now() + graceMs;
    while (this.running.size && Date.now() < until) await sleep(20);
    while (this.flushing) await sleep(10);
    await this.flush();
    while (this.flushing) await sleep(10);
    const left = [...this.running.values()];
    const controller = left[0]?.controller;
    if (controller) {
      const locks = left.filter((r) => r.controller === controller).map((r) => ({ id: r.check.id, lock: r.check.lock }));
      await this.client.call(controller, '/release', { worker: this.name, view: this.view, locks }, { timeoutMs: 2_000 }).catch(() => undefined);
    }
    await Promise.all(this.loops);
    await this.client.close();
  }
}
