/**
 * The controller component of a worker node: idle until the viewserver names it, then it takes
 * office with a fresh fencing epoch, hands checks to workers by long-poll, applies their results,
 * records flips and drives the alert outbox. The decisions live in check-table.ts and
 * confirmation.ts; this file is the shell of timers, routes and I/O around them.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Status } from '../checks/types';
import { checkDeadlineMs, checkWarnings, validateCheck } from '../checks/registry';
import type { Config } from '../config/types';
import { mailAdmin as mailAdminDefault } from '../contacts/admin';
import { sendAlert, validateContact } from '../contacts/registry';
import type {
  Assignment, ControllerStatus, ProbeRequest, ProbeResponse, ReleaseRequest, ResultsRequest, WorkRequest, WorkResponse,
} from '../protocol/messages';
import { DUPLICATE_WORKER_NAME, schemas } from '../protocol/messages';
import { AUTH_HEADER, signedAt } from '../protocol/auth';
import { createNodeServer, listen } from '../protocol/server';
import { FencedError, StaleViewError, type CheckRow, type OutboxRow, type RecordedFlip, type Store } from '../store/store';
import { isRetryable } from '../store/mysql';
import type { Logger } from '../util/log';
import { LogThrottle } from '../util/log-throttle';
import { AdminMailer } from '../contacts/admin-mailer';
import { AlertDispatcher, type SendFn } from './alert-dispatcher';
import { CheckTable, type CheckState, type Flip } from './check-table';
import { LeaseClock, ProbeLateness, initialOffice, step, type Office, type OfficeAction, type OfficeEvent, type OfficeState } from './office';
import { NodeHealth, type StoreUse } from './health';
import { FlipRecorder, type PendingFlip } from './flip-recorder';
import { sanitizeSchedule } from './schedule';
import { ControllerMetrics, type MetricsSnapshot } from './metrics';
import { PushJudge } from './push-judge';
import { PushStore } from '../push/store';
import { RollupWriter } from './rollups';
import { OverloadMonitor, type OverloadChange, type OverloadState } from './overload';
import { RateLimiter } from '../util/rate-limit';
import { judgeQuorum, type QuorumJudgement } from './quorum';
import { WorkerRegistry } from './workers';

export interface ControllerOptions {
  store: Store;
  config: Config;
  log: Logger;
  send?: SendFn;
  mailAdmin?: (subject: string, body: string) => Promise<void>;
  /** Waits between retries of a failed admin mail (default AdminMailer's). */
  adminMailRetryMs?: readonly number[];
  clock?: () => number;
  /** The clock node-to-node signatures are checked against (default the system's; tests shift `clock` alone). */
  authClock?: () => number;
  /** Monotonic milliseconds for the office lease (never the wall clock): performance.now by default. */
  monotonic?: () => number;
}

interface Waiter {
  worker: string;
  slots: number;
  done(checks: Assignment[]): void;
}

/** Time for a worker to report a result after the check's deadline (its /results call and some slack). */
const LOCK_REPORT_SLACK_MS = 15_000;
/** At most one overload mail per this interval. */
const OVERLOAD_MAIL_EVERY_MS = 3_600_000;
/** Reload failures between two admin mails (SPEC §5: after every 10th in a row). */
const RELOAD_FAILURES_PER_MAIL = 10;
/** How often every node reads the store to know, and tell the viewserver, that it can serve. */
const HEALTH_PING_MS = 1_000;
/** At most one degraded-quorum mail in this long (a flapping worker must not flood the admin). */
const DEGRADED_MAIL_INTERVAL_MS = 10 * 60_000;

/** Rejects with `what` timed out when `work` takes longer than `ms` (the work itself is not stopped). */
function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

export class Controller {
  readonly app: FastifyInstance;
  private table: CheckTable;
  private readonly workers: WorkerRegistry;
  private readonly dispatcher: AlertDispatcher;
  private readonly flips: FlipRecorder;
  private readonly adminMailer: AdminMailer;
  /** `check:contact` links to a missing contact already logged (once each). */
  private readonly missingLogged = new Set<string>();
  private readonly clock: () => number;
  private readonly mailAdmin: (subject: string, body: string) => Promise<void>;
  /** The definition each check was last validated in: the row itself, so no copy of its data is kept. */
  private readonly validated = new Map<number, CheckRow>();
  /** Each contact's `type\ndata` when last validated, so a bad one is logged once per definition. */
  private readonly validatedContacts = new Map<number, string>();
  private readonly metrics = new ControllerMetrics();
  private readonly rollups: RollupWriter;
  private overload = new OverloadMonitor();
  private readonly overloadMails = new RateLimiter(OVERLOAD_MAIL_EVERY_MS);
  /** Office as an explicit state (see office.ts); `epoch`, `inOffice` and `view` are read from it. */
  private office: Office = initialOffice();
  private readonly monotonic: () => number;
  private readonly lease: LeaseClock;
  private readonly lateness = new ProbeLateness();
  /** When the take that led to the current term was sent (monotonic): the lease runs from there. */
  private takeSentAt = 0;
  private renewTimer: NodeJS.Timeout | null = null;
  private waiters: Waiter[] = [];
  private pumpTimer: NodeJS.Timeout | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  private reloadFailures = 0;
  private readonly storeTrouble: LogThrottle;
  private degraded = false;
  private readonly push: PushJudge;
  private readonly health: NodeHealth;
  private pingTimer: NodeJS.Timeout | null = null;
  private readonly mails = new RateLimiter(DEGRADED_MAIL_INTERVAL_MS);
  /** Worker names whose nodes the viewserver last said are live (null until a viewserver says). */
  private seenByViewserver: Set<string> | null = null;
  /** When the viewserver first reported each of them live: a worker just back is not missed yet. */
  private readonly seenSince = new Map<string, number>();
  private officeSince = 0;
  private partitioned: string | null = null;
  /** Failures to take office: logged on change, then once a minute with a count (a probe comes every 0.5 s). */
  private readonly electionLog: LogThrottle;
  /** Refusals of a second worker process under a live worker's name, logged on change. */
  private readonly workerTrouble: LogThrottle;

  constructor(private readonly opts: ControllerOptions) {
    const { config, log, store } = opts;
    this.clock = opts.clock ?? Date.now;
    this.monotonic = opts.monotonic ?? (() => performance.now());
    this.lease = new LeaseClock(config.controller.leaseMs);
    this.storeTrouble = new LogThrottle(log, this.clock);
    this.adminMailer = new AdminMailer(opts.mailAdmin ?? ((s, b) => mailAdminDefault(config, s, b)), log, opts.adminMailRetryMs);
    // Failures are logged and retried by the mailer; it never rejects.
    this.mailAdmin = (s, b) => this.adminMailer.send(s, b);
    this.table = new CheckTable(this.lockMs);
    this.workers = new WorkerRegistry(config.controller.workerTimeoutMs);
    this.dispatcher = new AlertDispatcher(store, config, opts.send ?? sendAlert, log, {
      onFlipDead: (row, undo) => void this.flipDead(row, undo),
      onPermanentFailure: (row, error) => this.permanentFailure(row, error),
      onFenced: (err) => this.deposed(err.message),
      mayAct: () => this.mayAct(),
    }, this.clock);
    this.rollups = new RollupWriter(store, log, this.clock, { retentionDays: config.web.retentionDays });
    this.flips = new FlipRecorder((epoch, flip) => this.storeCall('write', 'recording a flip', () => store.recordFlip(epoch, flip)), log, {
      epoch: () => this.epoch,
      recorded: (p, result, lateMs) => this.flipRecorded(p, result, lateMs),
      failed: (p, err) => this.flipFailed(p, err),
      fenced: (err) => this.deposed(err.message),
      storeBack: (info) => this.storeBack(info),
    }, this.clock);
    this.push = new PushJudge({
      store, push: new PushStore(store), log, clock: this.clock, mailAdmin: this.mailAdmin, reloadIntervalMs: config.controller.reloadIntervalMs,
      kick: () => this.dispatcher.kick(), onFenced: (err) => this.deposed(err.message),
    });
    this.app = createNodeServer(config.default.password, log, { clock: opts.authClock, self: config.controller.addr });
    this.routes();
    this.electionLog = new LogThrottle(log, this.clock);
    this.workerTrouble = new LogThrottle(log, this.clock);
    this.health = new NodeHealth(config.controller.storeTimeoutMs + 2 * HEALTH_PING_MS, this.clock());
    this.pingTimer = setTimeout(() => void this.ping(), 0);
  }

  /** Reads the store every HEALTH_PING_MS, so even a node out of office knows whether it could serve. */
  private async ping(): Promise<void> {
    this.pingTimer = null;
    await this.storeCall('read', 'store ping', () => this.opts.store.ping()).catch(() => undefined);
    if (!this.closed) this.pingTimer = setTimeout(() => void this.ping(), HEALTH_PING_MS);
  }

  /**
   * Every store call of the controller: bounded by storeTimeout, its outcome kept for the health
   * the viewserver hears. A fenced write is an answer from the store, so it counts as reachable.
   */
  private async storeCall<T>(use: StoreUse, what: string, call: () => Promise<T>): Promise<T> {
    try {
      const result = await within(call(), this.opts.config.controller.storeTimeoutMs, what);
      this.health.succeeded(use, this.clock());
      return result;
    } catch (err) {
      if (err instanceof FencedError || err instanceof StaleViewError) this.health.succeeded(use, this.clock());
      else this.health.failed(use, `${what}: ${(err as Error).message}`, this.clock());
      throw err;
    }
  }

  /**
   * How long a check stays locked to its worker: `lockTimeout`, but never less than the check's own
   * deadline plus the time to report, or a slow target's result would always come too late and a
   * hanging target could never flip. Cached per row (a reload brings new rows).
   */
  private readonly lockMs = (row: CheckRow): number => {
    let ms = this.lockByRow.get(row);
    if (ms === undefined) {
      ms = Math.max(this.opts.config.controller.lockTimeoutMs, checkDeadlineMs(row.type, row.data) + LOCK_REPORT_SLACK_MS);
      this.lockByRow.set(row, ms);
    }
    return ms;
  };
  private readonly lockByRow = new WeakMap<CheckRow, number>();

  get inOffice(): boolean {
    return this.office.state.kind === 'in_office';
  }

  /** The state of office: idle, taking, in_office, stepping_down or closed. */
  get officeState(): OfficeState['kind'] {
    return this.office.state.kind;
  }

  private get epoch(): number {
    return this.office.state.kind === 'in_office' ? this.office.state.epoch : 0;
  }

  /** The newest view this controller has heard of: a worker of an older one is told so. */
  private get view(): number {
    return this.office.newestView;
  }

  private get closed(): boolean {
    return this.office.state.kind === 'closed';
  }

  /** In office with a lease still valid by this process's own monotonic clock (with a margin). */
  mayAct(): boolean {
    return this.inOffice && this.lease.valid(this.monotonic());
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  listen(): Promise<number> {
    return listen(this.app, this.opts.config.controller.addr);
  }

  private routes(): void {
    this.app.post<{ Body: ProbeRequest }>('/probe', { schema: { body: schemas.probe } }, async (req): Promise<ProbeResponse> => {
      const header = req.headers[AUTH_HEADER];
      const sentAt = signedAt(typeof header === 'string' ? header : undefined);
      this.onProbe(req.body, sentAt === null ? 0 : this.lateness.lateness(this.clock(), sentAt));
      if (this.inOffice) this.judge(this.clock()); // a partition shows in this very answer
      const { healthy, problems } = this.health.report(this.clock());
      return { ok: true, epoch: this.epoch, inOffice: this.inOffice, healthy, problems, worker: this.opts.config.worker.name };
    });
    // Worker routes are refused (409) unless this controller is in office for the worker's view.
    const inOffice = async (req: { body: unknown }, reply: FastifyReply) => {
      const refusal = this.refuse((req.body as { view: number }).view);
      if (refusal) return reply.code(409).send({ error: refusal });
    };
    this.app.post<{ Body: WorkRequest }>('/work', { schema: { body: schemas.work }, preHandler: inOffice }, async (req, reply) => {
      const { worker, instance } = req.body;
      if (!this.workers.claim(worker, instance, this.clock())) {
        const msg = `${DUPLICATE_WORKER_NAME}: another live worker process is named "${worker}"; give each worker node its own [worker] name`;
        this.workerTrouble.failing(worker, { event: DUPLICATE_WORKER_NAME, detail: worker, msg, fields: { worker } });
        return reply.code(409).send({ error: msg });
      }
      return this.work(req.body, (cb) => reply.raw.on('close', cb));
    });
    this.app.post<{ Body: ResultsRequest }>('/results', { schema: { body: schemas.results }, preHandler: inOffice }, async (req) => ({
      accepted: this.results(req.body),
    }));
    this.app.post<{ Body: ReleaseRequest }>('/release', { schema: { body: schemas.release }, preHandler: inOffice }, async (req) => {
      const released = req.body.locks.filter((l) => this.table.release(req.body.worker, l.id, l.lock)).length;
      // Only a worker shutting down releases: counted live, it would keep its checks from the last one.
      this.workers.forget(req.body.worker);
      this.pump();
      return { released };
    });
    this.app.get('/status', async (): Promise<ControllerStatus> => this.status());
    this.app.get('/metrics', async (): Promise<MetricsSnapshot & { overload: OverloadState }> => ({
      ...this.metrics.snapshot(this.clock(), this.epoch, this.table.size),
      overload: this.overload.snapshot,
    }));
  }

  /** Why a worker's request must be refused, or null. */
  private refuse(view: number): string | null {
    if (!this.inOffice) return 'not the active controller';
    if (view > this.view) return `stale controller: worker is at view ${view}, this controller at ${this.view}`;
    return null;
  }

  // ---- office ----------------------------------------------------------------------------------

  private onProbe({ view, active, elected, live }: ProbeRequest, ageMs: number): void {
    if (live) this.viewserverSees(live);
    // Not named: a failed takeOffice of an earlier naming says nothing about the next one.
    if (!active && this.office.state.kind === 'idle') this.health.clearWrites();
    this.apply({ type: 'probe', view, active, elected, ageMs });
  }

  /** Feeds the office state machine and does what it answers: the only place office changes. */
  private apply(event: OfficeEvent): void {
    const from = this.office.state.kind;
    const { office, actions } = step(this.office, event, this.opts.config.controller.maxProbeAgeMs);
    this.office = office;
    if (office.state.kind !== from) this.opts.log.debug({ event: 'office_state', from, to: office.state.kind, cause: event.type }, 'office state changed');
    for (const action of actions) this.perform(action);
  }

  private perform(action: OfficeAction): void {
    const { log } = this.opts;
    switch (action.do) {
      case 'take':
        void this.takeOffice(action.view);
        break;
      case 'load':
        this.beginTerm(action.epoch);
        break;
      case 'start':
        this.dispatcher.start(action.epoch);
        this.rollups.start(action.epoch);
        this.startPush(action.epoch);
        break;
      case 'stop':
        this.stopAll(action.epoch, action.reason);
        break;
      case 'ignore':
        log.debug({ event: 'office_ignored', reason: action.reason }, 'ignored');
        if (/^probe /.test(action.reason)) log.warn({ event: 'probe_refused', reason: action.reason, view: this.view }, 'stale probe not obeyed');
        break;
    }
  }

  private viewserverSees(live: string[]): void {
    const now = this.clock();
    const seen = new Set(live);
    for (const w of seen) if (!this.seenSince.has(w)) this.seenSince.set(w, now);
    for (const w of this.seenSince.keys()) if (!seen.has(w)) this.seenSince.delete(w);
    this.seenByViewserver = seen;
  }

  private async takeOffice(view: number): Promise<void> {
    const { store, log, config } = this.opts;
    const sentAt = this.monotonic();
    try {
      const epoch = await this.storeCall('write', 'taking office', () => store.takeOffice(config.worker.name || config.controller.addr, this.clock(), view, config.controller.leaseMs));
      this.takeSentAt = sentAt;
      this.apply({ type: 'taken', epoch, view });
    } catch (err) {
      const reason = (err as Error).message;
      const leaseView = err instanceof StaleViewError ? err.leaseView : undefined;
      if (leaseView !== undefined) log.warn({ event: 'election_refused', view, lease_view: leaseView }, 'not taking office for an older view than the lease records');
      else this.electionLog.failing('office', { event: 'election_failed', detail: reason, msg: 'could not take office', fields: { view, err: reason } });
      this.apply({ type: 'take_failed', reason, leaseView });
    }
  }

  /** Push judging starts from the store: a store that fails then is retried, never an unhandled rejection (it would end the process). */
  private startPush(epoch: number): void {
    this.push.start(epoch).catch((err: Error) => {
      if (this.epoch !== epoch) return;
      this.opts.log.error({ event: 'push_start_error', epoch, err: err.message }, 'could not start judging push checks; trying again');
      setTimeout(() => this.epoch === epoch && this.startPush(epoch), this.opts.config.controller.reloadIntervalMs).unref();
    });
  }

  /** A new term: fresh state (a predecessor's is not ours), the lease clock started, the first reload. */
  private beginTerm(epoch: number): void {
    const { log } = this.opts;
    this.table = new CheckTable(this.lockMs, epoch);
    this.metrics.reset(this.clock());
    this.overload = new OverloadMonitor();
    this.officeSince = this.clock();
    this.lease.reset();
    this.lease.renewed(this.takeSentAt);
    this.electionLog.restored('office', 'took office after failing to');
    log.info({ event: 'election', epoch, view: this.view }, 'took office as the active controller');
    this.scheduleRenewal(epoch);
    void this.reload().then(() => this.apply({ type: 'loaded', epoch }));
  }

  private scheduleRenewal(epoch: number): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(epoch), this.opts.config.controller.leaseMs / 3);
  }

  /** Renews the lease on the store's clock; its validity here runs from when the renewal was sent. */
  private async renew(epoch: number): Promise<void> {
    const { store, config, log } = this.opts;
    if (this.epoch !== epoch) return;
    const sentAt = this.monotonic();
    try {
      await this.storeCall('write', 'renewing the lease', () => store.renewLease(epoch, config.controller.leaseMs, this.view));
      if (this.epoch === epoch) this.lease.renewed(sentAt);
    } catch (err) {
      if (err instanceof FencedError) return this.deposed(err.message, epoch);
      log.warn({ event: 'lease_renew_error', epoch, err: (err as Error).message, valid: this.mayAct() }, 'could not renew the office lease');
    } finally {
      if (this.epoch === epoch) this.scheduleRenewal(epoch);
    }
  }

  /** The store refused our epoch (or a reload found another): leave office. */
  private deposed(reason: string, epoch = this.epoch, leaseView?: number): void {
    this.apply({ type: 'deposed', epoch, reason, leaseView });
  }

  /** Leaves office now (the viewserver or an operator says so). */
  stepDown(reason: string): void {
    if (this.inOffice) this.deposed(reason);
  }

  /**
   * The one exit path out of office: stops the dispatcher, rollups, push judge, pump, reload and
   * lease timers, drops unrecorded flips and answers waiting workers.
   */
  private stopAll(epoch: number, reason: string): void {
    this.opts.log.warn({ event: 'step_down', epoch, reason }, 'stepped down as controller');
    this.setPartitioned(null);
    this.dispatcher.stop();
    this.rollups.stop();
    const dropped = this.flips.clear();
    if (dropped) this.opts.log.warn({ event: 'flips_dropped', flips: dropped }, 'flips not yet recorded are left to the next controller to decide again');
    this.push.stop();
    this.lease.reset();
    for (const t of [this.reloadTimer, this.pumpTimer, this.renewTimer]) if (t) clearTimeout(t);
    this.reloadTimer = this.pumpTimer = this.renewTimer = null;
    for (const w of this.waiters.splice(0)) w.done([]);
    this.apply({ type: 'stopped' });
  }

  private async reload(): Promise<void> {
    const { store, log, config } = this.opts;
    const epoch = this.epoch;
    if (!epoch) return;
    try {
      const [stored, lease] = await this.storeCall('read', 'reload', () => Promise.all([store.loadChecks(), store.leaseState()]));
      if (this.epoch !== epoch) return;
      if (lease.epoch !== epoch) return this.deposed(`deposed: the lease is at epoch ${lease.epoch} (held by ${lease.holder})`, epoch, lease.view);
      // Flips still waiting to be recorded are newer than the stored statuses: reload after them.
      if (this.flips.pending) return;
      // Push checks are judged by PushJudge from their pings; nothing runs them.
      const rows = stored.filter((r) => r.type !== 'push').map((row) => this.sanitize(row));
      const change = this.table.load(rows, this.clock());
      this.reloadFailures = 0;
      this.storeTrouble.restored('database');
      for (const row of rows) this.logInvalid(row);
      await this.upkeepOutbox(epoch);
      await this.validateContacts();
      for (const id of this.validated.keys()) if (!this.table.checks.has(id)) this.validated.delete(id);
      if (change.added || change.removed || change.changed) log.info({ event: 'reload', checks: this.table.size, ...change }, 'checks reloaded');
      this.pump();
    } catch (err) {
      this.reloadFailures++;
      const message = (err as Error).message;
      // Every reload fails while the database is down: one line, then one a minute, then `database_restored`.
      this.storeTrouble.failing('database', isRetryable(err)
        ? { event: 'database_unreachable', detail: (err as { code?: string }).code ?? message, restoredAs: 'database_restored', msg: 'cannot reach the database; checks keep their last definitions', fields: { failures: this.reloadFailures, err: message } }
        : { event: 'reload_error', detail: message, restoredAs: 'reload_restored', msg: 'could not reload checks', fields: { failures: this.reloadFailures, err: message } });
      if (this.reloadFailures % RELOAD_FAILURES_PER_MAIL === 0) {
        void this.mailAdmin('gobearmon: successive reload errors', `Got ${this.reloadFailures} successive reload errors!\nLast: ${(err as Error).message}`).catch(() => undefined);
      }
    } finally {
      if (this.epoch === epoch) this.reloadTimer = setTimeout(() => void this.reload(), config.controller.reloadIntervalMs);
    }
  }

  /** A check whose interval or delay cannot be used runs with a clamped one, logged once per definition. */
  private sanitize(row: CheckRow): CheckRow {
    const { row: fixed, reasons } = sanitizeSchedule(row);
    const last = this.validated.get(row.id);
    const changed = !last || last.interval !== row.interval || last.delay !== row.delay;
    if (reasons.length && changed) {
      this.opts.log.warn({ event: 'invalid_schedule', check_id: row.id, check: row.name, reasons }, `check schedule clamped: ${reasons.join('; ')}`);
    }
    return fixed;
  }

  /** Logs a contact whose data can never work once per definition (like a bad check). */
  private async validateContacts(): Promise<void> {
    const { store, log, config } = this.opts;
    const contacts = await store.listContacts();
    const seen = new Set<number>();
    for (const c of contacts) {
      seen.add(c.id);
      const key = `${c.type}\n${c.data}`;
      if (this.validatedContacts.get(c.id) === key) continue;
      this.validatedContacts.set(c.id, key);
      const why = validateContact(c.type, c.data, config);
      if (why) log.warn({ event: 'invalid_contact', contact_id: c.id, contact_type: c.type, reason: why }, 'contact cannot be sent to');
    }
    for (const id of this.validatedContacts.keys()) if (!seen.has(id)) this.validatedContacts.delete(id);
  }

  /** Queues due reminders and cancels rows of deleted/disabled alerts; a failure waits for the next reload. */
  private async upkeepOutbox(epoch: number): Promise<void> {
    const { store, log } = this.opts;
    try {
      const { reminders, cancelled } = await store.outboxUpkeep(epoch, this.clock());
      for (const r of reminders) log.info({ event: 'reminder_queued', check_id: r.checkId, contact_id: r.contactId, event_id: r.eventId, n: r.n }, 'check still offline: reminder queued');
      if (cancelled) log.info({ event: 'alerts_cancelled', count: cancelled }, `${cancelled} pending alert(s) cancelled: their alert or contact was deleted or disabled`);
      if (reminders.length) this.dispatcher.kick();
    } catch (err) {
      // Deposed meanwhile: nothing was written, and the next reload's lease check steps down naming the holder.
      if (err instanceof FencedError) return;
      log.warn({ event: 'outbox_upkeep_error', err: (err as Error).message }, 'could not queue reminders or cancel alerts');
    }
  }

  /** Logs a check whose parameters are bad once per definition; its runs will say why it is offline. */
  private logInvalid(row: CheckRow): void {
    const last = this.validated.get(row.id);
    this.validated.set(row.id, row);
    if (last && last.type === row.type && last.data === row.data) return;
    const why = validateCheck(row.type, row.data);
    if (why) this.opts.log.warn({ event: 'invalid_check', check_id: row.id, reason: why }, 'check has invalid parameters');
    else for (const warning of checkWarnings(row.type, row.data)) this.opts.log.warn({ event: 'check_warning', check_id: row.id, warning }, warning);
  }

  // ---- work --------------------------------------------------------------------------------------

  /** Workers this controller hears: a recent request, an open poll, or an unexpired lock (busy is alive). */
  private liveWorkers(now: number): Set<string> {
    const live = this.workers.live(now);
    for (const w of this.waiters) live.add(w.worker);
    for (const w of this.table.lockHolders(now)) live.add(w);
    return live;
  }

  /** The quorum for a result now, and whether this controller may judge at all. */
  private judge(now: number): QuorumJudgement {
    const { confirmations, workerTimeoutMs } = this.opts.config.controller;
    // Workers need a moment to find a new controller, and one the viewserver just saw come back to poll it.
    const settling = now - this.officeSince < workerTimeoutMs
      ? 'all'
      : new Set([...this.seenSince].filter(([, since]) => now - since < workerTimeoutMs).map(([w]) => w));
    const j = judgeQuorum({ confirmations, heard: this.liveWorkers(now), talking: this.workers.live(now), seenByViewserver: this.seenByViewserver, settling });
    this.setPartitioned(j.partitioned);
    if (j.degraded !== this.degraded) {
      this.degraded = j.degraded;
      const live = j.counted;
      const fields = { event: j.degraded ? 'quorum_degraded' : 'quorum_restored', live_workers: live, confirmations };
      if (j.degraded) {
        this.opts.log.warn(fields, `only ${live} live worker(s) for ${confirmations} confirmations: flipping on ${j.quorum}`);
        const held = this.mails.hit('degraded', now);
        const more = held ? ` (${held} more change(s) of the quorum were not mailed in the last ${DEGRADED_MAIL_INTERVAL_MS / 60_000} minutes.)` : '';
        if (held !== null) void this.mailAdmin('gobearmon: degraded quorum', `Only ${live} worker(s) are alive but confirmations = ${confirmations}; checks flip on the agreement of ${j.quorum}.${more}`).catch(() => undefined);
      } else this.opts.log.info(fields, 'quorum restored');
    }
    return j;
  }

  /** A partitioned controller stops judging and says so in its health, so office moves. */
  private setPartitioned(why: string | null): void {
    if (why === this.partitioned) return;
    const was = this.partitioned;
    this.partitioned = why;
    this.health.setPartition(why);
    if (why && !was) this.opts.log.error({ event: 'partitioned', reason: why }, 'cut off from workers the viewserver sees: not judging any check');
    else if (!why && was) this.opts.log.info({ event: 'partition_healed' }, 'hears the workers again: judging checks');
  }

  /** The wire form of checks just locked to `worker`; counts them, and logs the office's first. */
  private handOut(worker: string, checks: CheckState[]): Assignment[] {
    const m = this.metrics;
    if (checks.length && m.firstAssignmentAt === null) {
      m.firstAssignmentAt = this.clock();
      // How long the cluster ran no check after an election: the figure a failover is judged by.
      this.opts.log.info({ event: 'first_assignment', epoch: this.epoch, worker, checks: checks.length, ms_since_office: m.firstAssignmentAt - m.since }, 'first check handed out');
    }
    m.assigned += checks.length;
    return checks.map((c) => ({ id: c.row.id, name: c.row.name, type: c.row.type, data: c.row.data, lock: c.lock!.token, due: c.lock!.due }));
  }

  private work(req: WorkRequest, onClose: (cb: () => void) => void): Promise<WorkResponse> | WorkResponse {
    const now = this.clock();
    this.workers.seen(req.worker, now);
    this.metrics.workRequests++;
    const epoch = this.epoch;
    const checks = this.handOut(req.worker, this.table.assign(req.worker, req.slots, now, this.liveWorkers(now)));
    // A poll with no free slot is a worker saying it is alive while its checks run: answered at once.
    if (checks.length || !req.waitMs || req.slots === 0) return { epoch, checks };
    return new Promise((resolve) => {
      const waiter: Waiter = {
        worker: req.worker,
        slots: req.slots,
        done: (assigned) => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve({ epoch: this.epoch, checks: assigned });
        },
      };
      // Answered within half the worker timeout, so a worker that stops asking is soon missed (a
      // silent, dropped connection keeps no one "live" for the whole long-poll).
      const timer = setTimeout(() => waiter.done([]), Math.min(req.waitMs, Math.max(100, this.opts.config.controller.workerTimeoutMs / 2)));
      onClose(() => {
        // The worker went away: forget the waiter so nothing is locked to a dead socket.
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Gives due checks to waiting workers, then sleeps until the next check is due. */
  private pump(): void {
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    if (!this.inOffice || this.waiters.length === 0) return;
    const now = this.clock();
    const live = this.liveWorkers(now);
    for (const w of [...this.waiters]) {
      const checks = this.table.assign(w.worker, w.slots, now, live);
      if (checks.length) w.done(this.handOut(w.worker, checks));
    }
    if (this.waiters.length === 0) return;
    const next = this.table.nextEventAt();
    if (next === undefined) return;
    // Due now but no waiting worker may take it: look again shortly (locks expire, workers come).
    const delay = next > now ? next - now : 250;
    this.pumpTimer = setTimeout(() => this.pump(), Math.min(delay, 60_000));
  }

  private results(req: ResultsRequest): number {
    const now = this.clock();
    this.workers.seen(req.worker, now);
    const { quorum, partitioned } = this.judge(now);
    let accepted = 0;
    for (const r of req.results) {
      const checked = this.table.checks.get(r.id);
      const due = checked?.lock?.due;
      const intervalMs = (checked?.row.interval ?? 0) * 1000;
      const outcome = this.table.report(req.worker, r.id, r.lock, { status: r.status, message: r.message ?? '', durationMs: r.durationMs ?? 0 }, now, partitioned ? null : quorum);
      if (!outcome.accepted) {
        this.metrics.ignored++;
        this.opts.log.debug({ event: 'result_ignored', check_id: r.id, worker: req.worker, reason: outcome.reason }, 'result ignored');
        continue;
      }
      accepted++;
      this.metrics.results++;
      this.rollups.add(r.id, now, r.status, r.durationMs ?? 0);
      // Started on the worker's clock: exact on one host, as good as NTP across hosts.
      if (due !== undefined) {
        const lateness = (r.startedAt ?? now) - due;
        this.metrics.lateness(lateness);
        this.reportOverload(this.overload.note(lateness, intervalMs, now), now);
      }
      if (outcome.flip) {
        this.metrics.flips++;
        this.recordFlip(outcome.flip);
      }
    }
    this.pump();
    return accepted;
  }

  /** Overload is said out loud: a log line when it starts and ends, and a mail (at most hourly). */
  private reportOverload(change: OverloadChange | null, now: number): void {
    if (!change) return;
    const { log } = this.opts;
    if (change.kind === 'recovered') {
      log.info({ event: 'overload_ended', lasted_s: Math.round(change.lastedMs / 1000) }, 'checks start on time again');
      return;
    }
    const late = Math.round(change.lateness / 1000);
    const text = `Checks have been starting later than their own interval for ${Math.round((now - change.since) / 1000)} s (worst lateness ${late} s): the workers cannot keep up. Add workers or threads ([worker] numThreads), or lengthen check intervals.`;
    log.warn({ event: 'overload', since: change.since, lateness_s: late, checks: this.table.size }, text);
    if (this.overloadMails.hit('overload', now) !== null) {
      void this.mailAdmin('gobearmon: overloaded, checks are late', text).catch((err: Error) => log.error({ event: 'admin_mail_failed', err: err.message }, 'could not mail the admin about overload'));
    }
  }

  // ---- flips ---------------------------------------------------------------------------------------

  /** Queues a flip for recording (in order, kept while the store is unreachable). */
  private recordFlip(flip: Flip): void {
    if (this.flips.add(flip, this.clock())) return;
    this.table.revert(flip); // queue full: let the rule fire again later
    this.opts.log.error({ event: 'flip_error', check_id: flip.check.row.id, to: flip.status, err: 'too many flips waiting for the store' },
      'could not keep a flip; it will happen again');
  }

  private flipRecorded(p: PendingFlip, result: RecordedFlip, lateMs: number): void {
    const { log } = this.opts;
    const ids = { check_id: p.row.id, check: p.row.name, from: p.flip.previous, to: p.status, epoch: this.epoch, flip_key: p.key };
    log.info({ event: 'flip', ...ids, event_id: result.eventId, contacts: result.outbox.length, message: p.message, late_ms: lateMs, replayed: result.replayed },
      `check is now ${p.status}`);
    for (const contactId of result.missingContacts) {
      const link = `${p.row.id}:${contactId}`;
      if (this.missingLogged.has(link)) continue;
      this.missingLogged.add(link);
      log.warn({ event: 'alert_contact_missing', check_id: p.row.id, contact_id: contactId },
        `an alerts row of check ${p.row.id} points at contact ${contactId}, which does not exist: nobody is alerted through it`);
    }
    if (result.outbox.length) this.dispatcher.kick();
  }

  private flipFailed(p: PendingFlip, err: Error): void {
    if (this.table.checks.get(p.row.id) === p.flip.check && p.flip.check.status === p.status) this.table.revert(p.flip);
    this.opts.log.error({ event: 'flip_error', check_id: p.row.id, to: p.status, flip_key: p.key, err: err.message }, 'could not record a flip; it will happen again');
  }

  private storeBack({ since, until, flips }: { since: number; until: number; flips: number }): void {
    const seconds = Math.round((until - since) / 1000);
    this.opts.log.warn({ event: 'store_back', since, until, down_ms: until - since, flips }, `the database answers again after ${seconds} s; ${flips} flip(s) recorded late`);
    void this.mailAdmin('gobearmon: the database was unreachable',
      `The controller could not write to the database from ${new Date(since).toISOString()} to ${new Date(until).toISOString()} (${seconds} s).\n` +
      `${flips} flip(s) decided meanwhile were kept, then recorded and alerted with their own times.`);
  }

  /** A contact refused an alert for good: the admin hears at once (the delivery is not retried). */
  private permanentFailure(row: OutboxRow, error: string): void {
    void this.mailAdmin(`gobearmon: contact ${row.contactId} refused an alert for check ${row.checkName}`,
      `Contact ${row.contactId} (${row.contactType} ${row.contactData}) refused the alert for check [${row.checkName}] (id ${row.checkId}) ` +
      `going ${row.status}, with an error that a retry cannot fix:\n${error}\nThe alert is not retried; fix or remove the contact.`);
  }

  /**
   * Every contact of a flip failed for good: as the original, undo it so it happens again later,
   * unless a later flip has superseded it. The admin hears of it either way.
   */
  private async flipDead(row: OutboxRow, undoWorthwhile: boolean): Promise<void> {
    const previous: Status = row.status === 'online' ? 'offline' : 'online';
    const ids = { check_id: row.checkId, status: row.status, event_id: row.eventId };
    let undone = false;
    try {
      // Contacts that refused for good would refuse again: undoing only helps temporary failures.
      if (undoWorthwhile) undone = await this.storeCall('write', 'undoing a flip', () => this.opts.store.revertFlip(this.epoch, row.checkId, row.eventId, previous));
    } catch (err) {
      if (err instanceof FencedError) this.deposed(err.message);
      else this.opts.log.error({ event: 'flip_undo_error', ...ids, err: (err as Error).message }, 'could not undo a flip whose alerts all failed');
      return;
    }
    const check = this.table.checks.get(row.checkId);
    if (undone && check && check.status === row.status) {
      check.status = previous;
      check.lastStatusChange = 0;
    }
    const outcome = undone ? `The flip was undone and will happen again if the check stays ${row.status}.`
      : undoWorthwhile ? 'A later flip of the check already superseded it.' : 'The contacts refused it for good, so the flip stands.';
    this.opts.log.error({ event: undone ? 'flip_undone' : 'alerts_dead', ...ids }, `every contact failed for good; ${undone ? 'flip undone' : 'a later flip stands'}`);
    void this.mailAdmin(`gobearmon: alerts failed for check ${row.checkName}`, `Every contact of check [${row.checkName}] (id ${row.checkId}) failed for the flip to ${row.status}; last error: ${row.lastError ?? 'see alert_attempts'}. ${outcome}`).catch(() => undefined);
  }

  // ---- status and shutdown -----------------------------------------------------------------------

  status(): ControllerStatus {
    const now = this.clock();
    const { healthy, problems } = this.health.report(now);
    const heard = this.liveWorkers(now);
    const { quorum } = judgeQuorum({ confirmations: this.opts.config.controller.confirmations, heard, seenByViewserver: this.seenByViewserver, settling: 'all' });
    return {
      inOffice: this.inOffice,
      epoch: this.epoch,
      view: this.view,
      healthy,
      problems,
      workers: this.workers.list(now).map((w) => ({ ...w, live: heard.has(w.name) })),
      quorum,
      checks: [...this.table.checks.values()].map((c) => ({
        id: c.row.id, name: c.row.name, type: c.row.type, status: c.status, lastResult: c.lastResult, lastWorker: c.lastWorker,
        ageMs: c.lastResult ? now - c.lastResult.at : null,
      })),
      push: this.push.status(),
    };
  }

  /**
   * Leaves office through the one exit path and stops serving. Never waits for a take or a reload in
   * flight (a hung store must not keep the process alive): their answers find the office closed.
   */
  async close(): Promise<void> {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = null;
    const epoch = this.epoch;
    // A successor starts with an empty buffer: write ours while still in office, but not for long.
    if (epoch) await Promise.race([this.rollups.flush().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.apply({ type: 'close' });
    if (this.pingTimer) clearTimeout(this.pingTimer);
    if (epoch) await this.dispatcher.idle(5_000);
    this.adminMailer.stop();
    await this.app.close();
  }
}
