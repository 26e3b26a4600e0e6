/**
 * The viewserver: probes every candidate controller each period, names the active one (see
 * election.ts), tells it so in the next probe, and answers workers' long-polls for the view.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/types';
import { mailAdmin as mailAdminDefault } from '../contacts/admin';
import { AdminMailer } from '../contacts/admin-mailer';
import { PeerClient, PeerError } from '../protocol/client';
import { SkewReporter } from '../protocol/skew';
import { schemas, type ProbeResponse, type ViewRequest, type ViewResponse } from '../protocol/messages';
import { createNodeServer, listen } from '../protocol/server';
import type { Logger } from '../util/log';
import { LogThrottle } from '../util/log-throttle';
import { RateLimiter } from '../util/rate-limit';
import { Election, type ElectionEvent, type ProbeOutcome } from './election';

export interface ViewserverStatus {
  view: number;
  controller: string | null;
  controllers: {
    addr: string; live: boolean; successes: number; failures: number; inOffice: boolean; epoch: number;
    healthy: boolean; unhealthyRuns: number; problems: string[]; worker: string | null; lastError: string | null;
  }[];
}

/** One admin mail per kind of trouble in this long: a flapping store must not flood the admin. */
const MAIL_INTERVAL_MS = 10 * 60_000;

export class Viewserver {
  readonly app: FastifyInstance;
  readonly election: Election;
  private readonly client: PeerClient;
  private readonly mailAdmin: (subject: string, body: string) => Promise<void>;
  private readonly stopMailer: () => void;
  private readonly skew: SkewReporter;
  private readonly mails = new RateLimiter(MAIL_INTERVAL_MS);
  private readonly probeTrouble: LogThrottle;
  private watchers = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Resolved after the first probe round: until then a restarted viewserver knows no controller. */
  private firstRound!: () => void;
  private readonly ready = new Promise<void>((resolve) => (this.firstRound = resolve));

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    mailAdmin?: (subject: string, body: string) => Promise<void>,
    options: { clock?: () => number } = {},
  ) {
    const vs = config.viewserver;
    const clock = options.clock ?? Date.now;
    this.election = new Election(vs.controller, vs.probeFailures);
    this.client = new PeerClient(config.default.password, { clock });
    // A failed admin mail is logged and retried, never dropped silently; it never rejects.
    const mailer = new AdminMailer(mailAdmin ?? ((s, b) => mailAdminDefault(config, s, b)), log);
    this.stopMailer = () => mailer.stop();
    this.mailAdmin = (s, b) => mailer.send(s, b);
    this.skew = new SkewReporter(`the viewserver (${vs.addr})`, log, this.mailAdmin, clock);
    this.probeTrouble = new LogThrottle(log, clock);
    this.app = createNodeServer(config.default.password, log, { clock, self: vs.addr });
    this.app.post<{ Body: ViewRequest }>('/view', { schema: { body: schemas.view } }, (req) => this.waitForView(req.body.after, req.body.waitMs ?? 0));
    this.app.get('/status', async (): Promise<ViewserverStatus> => ({
      view: this.election.view,
      controller: this.election.active,
      controllers: this.election.candidates.map((c) => ({ ...c })),
    }));
  }

  async start(): Promise<number> {
    const port = await listen(this.app, this.config.viewserver.addr);
    this.log.info({ event: 'viewserver_started', port, candidates: this.config.viewserver.controller }, 'viewserver started');
    void this.loop();
    return port;
  }

  private current(): ViewResponse {
    return { view: this.election.view, controller: this.election.active };
  }

  private async waitForView(after: number, waitMs: number): Promise<ViewResponse> {
    await this.ready;
    if (this.election.view !== after || waitMs === 0 || this.stopped) return Promise.resolve(this.current());
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.watchers.delete(wake);
        resolve(this.current());
      };
      const timer = setTimeout(wake, waitMs);
      this.watchers.add(wake);
    });
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    const outcomes = await Promise.all(this.config.viewserver.controller.map((addr) => this.probe(addr)));
    if (this.stopped) return;
    const before = this.election.view;
    for (const event of this.election.round(outcomes)) this.report(event);
    this.firstRound();
    if (this.election.view !== before) {
      for (const wake of [...this.watchers]) wake();
      // Tell the new controller at once rather than at the next period.
      if (this.election.active) void this.probe(this.election.active);
    }
    this.timer = setTimeout(() => void this.loop(), Math.max(0, this.config.viewserver.probeIntervalMs - (Date.now() - started)));
  }

  private async probe(addr: string): Promise<ProbeOutcome> {
    try {
      const body = { view: this.election.view, active: addr === this.election.active, elected: this.election.active !== null, live: this.election.liveWorkers() };
      const res = await this.client.call<ProbeResponse>(addr, '/probe', body, { timeoutMs: this.config.viewserver.probeTimeoutMs });
      this.probeTrouble.restored(addr, `controller ${addr} answers probes again`, { controller: addr });
      return { addr, ok: res?.ok === true, inOffice: res.inOffice, epoch: res.epoch, healthy: res.healthy, problems: res.problems, worker: res.worker };
    } catch (err) {
      if (err instanceof PeerError && err.skewMs !== undefined) this.skew.report(addr, err.skewMs);
      const reason = probeFailure(err);
      // Why a candidate cannot serve, once per change (then once a minute): a wrong password and a dead node need different fixes.
      this.probeTrouble.failing(addr, { event: 'probe_failed', detail: reason.replace(/\(.*\)$/, ''), level: 'warn', msg: `controller ${addr}: ${reason}`, fields: { controller: addr, reason } });
      return { addr, ok: false, error: reason };
    }
  }

  private report(e: ElectionEvent): void {
    switch (e.kind) {
      case 'elected':
        this.log.info({ event: 'election', controller: e.addr, view: e.view }, `controller is ${e.addr}`);
        break;
      case 'failover':
        this.log.warn({ event: 'failover', from: e.from, to: e.to, view: e.view, reason: e.reason, problems: e.problems }, `failover from ${e.from} to ${e.to} (${e.reason})`);
        if (e.reason === 'unhealthy') {
          this.mail('unhealthy_failover', 'gobearmon: controller unhealthy, office moved',
            `Controller ${e.from} was unhealthy (${e.problems.join('; ') || 'no reason given'}); office moved to ${e.to} in view ${e.view}.`);
        }
        break;
      case 'no_replacement':
        this.log.error({ event: 'no_replacement', from: e.from, view: e.view }, `controller ${e.from} failed without replacement`);
        this.mail('no_replacement', 'gobearmon: controller failed without replacement', `controller ${e.from} failed without replacement`);
        break;
      case 'down':
        this.log.warn({ event: 'controller_down', controller: e.addr, reason: e.reason }, `controller ${e.addr} is down: ${e.reason}`);
        break;
      case 'up':
        this.log.info({ event: 'controller_up', controller: e.addr }, `controller ${e.addr} is up`);
        break;
      case 'unhealthy':
        this.log.warn({ event: 'controller_unhealthy', controller: e.addr, active: e.active, problems: e.problems }, `controller ${e.addr} is unhealthy: ${e.problems.join('; ')}`);
        if (e.active && !this.election.candidates.some((c) => c.addr !== e.addr && c.live && c.healthy)) {
          this.mail('unhealthy_alone', 'gobearmon: active controller unhealthy, no healthy candidate',
            `Controller ${e.addr} is unhealthy (${e.problems.join('; ') || 'no reason given'}) and no other candidate is both live and healthy; it keeps office.`);
        }
        break;
      case 'healthy':
        this.log.info({ event: 'controller_healthy', controller: e.addr }, `controller ${e.addr} is healthy again`);
        break;
    }
  }

  /** Mails the admin, at most once per kind per MAIL_INTERVAL_MS, saying how many were held back. */
  private mail(kind: string, subject: string, body: string): void {
    const held = this.mails.hit(kind, Date.now());
    if (held === null) return;
    const text = held ? `${body}\n\n(${held} similar message(s) were held back in the last ${MAIL_INTERVAL_MS / 60_000} minutes.)` : body;
    void this.mailAdmin(subject, text).catch((err: Error) => this.log.error({ event: 'admin_mail_failed', subject, err: err.message }, 'could not mail the admin'));
  }

  async close(): Promise<void> {
    this.stopMailer();
    this.stopped = true;
    this.firstRound();
    if (this.timer) clearTimeout(this.timer);
    for (const wake of [...this.watchers]) wake();
    await this.app.close();
    await this.client.close();
  }
}

/** A failed probe in an operator's words: the three causes call for three different fixes. */
export function probeFailure(err: unknown): string {
  if (err instanceof PeerError && err.skewMs !== undefined) return `clock skew of ${Math.round(err.skewMs / 1000)} s`;
  if (err instanceof PeerError && err.statusCode === 401) return 'refused our password';
  if (err instanceof PeerError && err.statusCode !== undefined) return `answered HTTP ${err.statusCode}`;
  const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return `not answering (${code ?? (err as Error).message})`;
}
