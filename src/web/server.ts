/**
 * The web role (SPEC §11) on a worker node's `[web] addr`: dashboard (session login), public status
 * pages, health aggregate, badges, JSON API (bearer apiKey) and Prometheus metrics. Everything is
 * read from the store, so every node serving it shows the same truth.
 */
import { dirname } from 'node:path';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { clusterStatus } from '../cli/status';
import type { Config } from '../config/types';
import { listen } from '../protocol/server';
import type { ControllerStatus } from '../protocol/messages';
import type { Store } from '../store/store';
import type { Logger } from '../util/log';
import { CSS, JS } from './assets';
import { badgeToken, bearerOk, SESSION_COOKIE, SESSION_MS, WebAuth } from './auth';
import { percent } from './html';
import { maskData, maskUrl, matches, uptime } from './model';
import { checkHeadHtml, checkPage, clusterPage, dashboardPage, flipsHtml, loginPage, rowsHtml, summaryHtml, type ClusterView } from './pages';
import { BadRequest, intParam, parseFilter, parseId, unknownParams } from './params';
import { CONTENT_TYPE, checkMetrics, processRegistry, withoutMisnamedGauges } from './prometheus';
import { badgeSvg, publicChecks, statusPage, statusBody } from './public';
import { lastPings, lastResultsAll, WebData } from './queries';
import { DAY_MS, describe, listChecks, MINUTE_MS, pushView, WINDOWS } from './service';

/** What the web needs from the local controller (for /metrics and the cluster page). */
export interface LocalController {
  readonly inOffice: boolean;
  status(): ControllerStatus;
}

export interface WebOptions {
  store: Store;
  config: Config;
  log: Logger;
  controller?: LocalController;
  clock?: () => number;
}

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, unknown> }>;

const LIST_PARAMS = ['tag', 'tags', 'status', 'type', 'q', 'page', 'per'];

export class WebServer {
  readonly app: FastifyInstance;
  private readonly data: WebData;
  private readonly auth: WebAuth;
  private readonly clock: () => number;
  private readonly registry = processRegistry();

  constructor(private readonly opts: WebOptions) {
    const { config, store } = opts;
    this.clock = opts.clock ?? Date.now;
    this.data = new WebData(store.driver);
    this.auth = new WebAuth({ user: config.web.user, password: config.web.password }, this.clock);
    this.app = Fastify({ logger: false, bodyLimit: 64 * 1024, trustProxy: false });
    this.setup();
  }

  listen(): Promise<number> {
    return listen(this.app, this.opts.config.web.addr);
  }

  close(): Promise<void> {
    return this.app.close();
  }

  private get web() {
    return this.opts.config.web;
  }

  private setup(): void {
    const { app, opts } = this;
    void app.register(formbody);
    void app.register(rateLimit, { global: false });
    void app.register(fastifyStatic, { root: dirname(require.resolve('uplot/dist/uPlot.iife.min.js')), prefix: '/assets/uplot/', maxAge: 86_400_000 });
    app.setErrorHandler((err: { statusCode?: number; message: string; validation?: unknown }, req, reply) => {
      const status = err.validation ? 400 : (err.statusCode ?? 500);
      if (status >= 500) opts.log.error({ event: 'web_error', url: req.url, err: err.message }, 'web request failed');
      void reply.code(status).send({ error: status >= 500 ? 'internal error (see the node\'s log)' : err.message });
    });
    app.addHook('onSend', async (_req, reply, payload) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
        reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
      }
      return payload;
    });
    app.get('/assets/app.css', async (_r, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=3600').send(CSS));
    app.get('/assets/app.js', async (_r, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=3600').send(JS));
    // After the plugins load: rate-limit must see the login route being added.
    app.after(() => {
      this.loginRoutes();
      this.dashboardRoutes();
      this.apiRoutes();
      this.publicRoutes();
      app.get('/metrics', (req, reply) => this.metrics(req as Req, reply));
    });
  }

  // ---- dashboard -------------------------------------------------------------------------------

  private loginRoutes(): void {
    const safeNext = (v: unknown) => (typeof v === 'string' && /^\/(?!\/)[^\s\\]*$/.test(v) ? v : '/');
    this.app.get('/login', async (req: Req, reply) => {
      if (!this.auth.enabled) return this.noDashboard(reply);
      return reply.type('text/html; charset=utf-8').send(loginPage(null, safeNext(req.query.next)));
    });
    this.app.post('/login', { config: { rateLimit: { max: 10, timeWindow: 60_000 } } }, async (req, reply) => {
      if (!this.auth.enabled) return this.noDashboard(reply);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const next = safeNext(body.next);
      if (!this.auth.checkLogin(String(body.user ?? ''), String(body.password ?? ''))) {
        this.opts.log.warn({ event: 'web_login_failed', from: req.ip }, 'dashboard login refused');
        return reply.code(401).type('text/html; charset=utf-8').send(loginPage('Wrong user or password.', next));
      }
      reply.header('set-cookie', `${SESSION_COOKIE}=${this.auth.newSession()}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}`);
      return reply.redirect(next, 303);
    });
    this.app.post('/logout', async (_req, reply) => {
      reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return reply.redirect('/login', 303);
    });
  }

  private noDashboard(reply: FastifyReply) {
    return reply.code(404).type('text/plain; charset=utf-8').send('The dashboard is off: set [web] user and password.\n');
  }

  /** Session check for pages (redirect to the login) and their live fragments (401). */
  private async session(req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    if (!this.auth.enabled) {
      await this.noDashboard(reply);
      return false;
    }
    if (this.auth.validSession(req.headers.cookie)) return true;
    if (req.url.startsWith('/ui/')) await reply.code(401).send({ error: 'log in first' });
    else await reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
    return false;
  }

  private dashboardRoutes(): void {
    const page = (fn: (req: Req, reply: FastifyReply) => Promise<unknown>) => async (req: Req, reply: FastifyReply) => {
      if (!(await this.session(req, reply))) return reply;
      return fn(req, reply);
    };
    const htmlReply = (reply: FastifyReply, body: string) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
    this.app.get('/', page(async (req, reply) => {
      const f = parseFilter(req.query);
      const r = await listChecks(this.data, f, intParam(req.query, 'page', 1, 1, 1_000_000), intParam(req.query, 'per', 50, 1, 200), this.clock());
      return htmlReply(reply, dashboardPage(r, f, this.clock(), this.web.public));
    }));
    this.app.get('/ui/rows', page(async (req, reply) => {
      const f = parseFilter(req.query);
      const r = await listChecks(this.data, f, intParam(req.query, 'page', 1, 1, 1_000_000), intParam(req.query, 'per', 50, 1, 200), this.clock());
      return htmlReply(reply, rowsHtml(r.page.items, f, this.clock()).text);
    }));
    this.app.get('/ui/summary', page(async (_req, reply) => {
      const counts = { online: 0, offline: 0, paused: 0 };
      for (const c of await this.data.checks()) counts[c.status]++;
      return htmlReply(reply, summaryHtml(counts).text);
    }));
    this.app.get('/check/:id', page(async (req, reply) => {
      const d = await this.checkPageData(parseId(req.params.id), reply);
      return d && htmlReply(reply, checkPage(d, this.clock(), this.web.public));
    }));
    this.app.get('/ui/check/:id/head', page(async (req, reply) => {
      const d = await this.checkPageData(parseId(req.params.id), reply);
      return d && htmlReply(reply, checkHeadHtml(d, this.clock()).text);
    }));
    this.app.get('/ui/check/:id/flips', page(async (req, reply) => {
      const id = parseId(req.params.id);
      const flips = (await this.data.flips([id], this.clock() - WINDOWS['30d'])).get(id) ?? [];
      return htmlReply(reply, flipsHtml(flips).text);
    }));
    this.app.get('/cluster', page(async (_req, reply) => htmlReply(reply, clusterPage(await this.clusterView(), this.web.public))));
  }

  private async checkPageData(id: number, reply: FastifyReply) {
    const now = this.clock();
    const check = await this.data.check(id);
    if (!check) {
      await reply.code(404).send({ error: `no check with id ${id}` });
      return null;
    }
    const nowMinute = Math.floor(now / MINUTE_MS);
    const isPush = check.type === 'push';
    const [[line], flips, alerts, history, push, pings] = await Promise.all([
      describe(this.data, [check], now),
      this.data.flips([id], now - WINDOWS['30d']),
      this.data.alertHistory(id),
      this.data.minutes([id], nowMinute - 1439),
      isPush ? pushView(this.data, check, now) : Promise.resolve(null),
      isPush ? this.data.pings(id, 50) : Promise.resolve([]),
    ]);
    return { line, data: check.data, delay: check.delay, flips: flips.get(id) ?? [], alerts, history: history.get(id) ?? [], push, pings, badge: badgeToken(this.opts.config.default.password, id) };
  }

  private async clusterView(): Promise<ClusterView> {
    const lease = await this.data.lease();
    try {
      const s = await clusterStatus(this.opts.config);
      return { lease, controller: s.controller, view: s.view, epoch: s.epoch, quorum: s.quorum, candidates: s.candidates, workers: s.workers, error: s.error };
    } catch (err) {
      return { lease, controller: null, view: null, epoch: null, quorum: null, candidates: [], workers: [], error: `viewserver did not answer: ${(err as Error).message}` };
    }
  }

  // ---- API ---------------------------------------------------------------------------------------

  private apiRoutes(): void {
    const api = (fn: (req: Req, reply: FastifyReply) => Promise<unknown>) => async (req: Req, reply: FastifyReply) => {
      if (!this.web.apiKey) return reply.code(404).send({ error: 'the API is off: set [web] apiKey' });
      if (!bearerOk(req.headers.authorization, this.web.apiKey)) {
        this.opts.log.warn({ event: 'web_api_refused', from: req.ip, url: req.url }, 'API request without a valid key');
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized: send Authorization: Bearer <[web] apiKey>' });
      }
      return fn(req, reply);
    };
    const found = async (id: number, reply: FastifyReply) => {
      const c = await this.data.check(id);
      if (!c) await reply.code(404).send({ error: `no check with id ${id}` });
      return c;
    };
    this.app.get('/api/v1/checks', api(async (req) => {
      unknownParams(req.query, LIST_PARAMS);
      const f = parseFilter(req.query);
      const r = await listChecks(this.data, f, intParam(req.query, 'page', 1, 1, 1_000_000), intParam(req.query, 'per', 100, 1, 1000), this.clock());
      return { checks: r.page.items, page: r.page.page, pages: r.page.pages, total: r.page.total, per: r.page.per };
    }));
    this.app.get('/api/v1/checks/:id', api(async (req, reply) => {
      unknownParams(req.query, []);
      const c = await found(parseId(req.params.id), reply);
      if (!c) return reply;
      const [line] = await describe(this.data, [c], this.clock());
      return { ...line, delay: c.delay, data: maskData(c.data) };
    }));
    this.app.get('/api/v1/checks/:id/flips', api(async (req, reply) => {
      unknownParams(req.query, ['days']);
      const days = intParam(req.query, 'days', 30, 1, 3650);
      const id = parseId(req.params.id);
      if (!(await found(id, reply))) return reply;
      return { flips: ((await this.data.flips([id], this.clock() - days * DAY_MS)).get(id) ?? []).map((f) => ({ ...f, message: maskUrl(f.message) })) };
    }));
    this.app.get('/api/v1/checks/:id/history', api(async (req, reply) => {
      unknownParams(req.query, ['minutes']);
      const minutes = intParam(req.query, 'minutes', 60, 1, 90 * 1440);
      const id = parseId(req.params.id);
      if (!(await found(id, reply))) return reply;
      const now = Math.floor(this.clock() / MINUTE_MS);
      const rows = (await this.data.minutes([id], now - minutes + 1)).get(id) ?? [];
      return { minutes: rows.map((m) => ({ at: m.minute * MINUTE_MS, runs: m.runs, failures: m.failures, meanMs: Math.round(m.meanMs * 10) / 10, maxMs: m.maxMs })) };
    }));
    this.app.get('/api/v1/checks/:id/pings', api(async (req, reply) => {
      unknownParams(req.query, ['limit']);
      const limit = intParam(req.query, 'limit', 50, 1, 1000);
      const id = parseId(req.params.id);
      const c = await found(id, reply);
      if (!c) return reply;
      if (c.type !== 'push') throw new BadRequest(`check ${id} is a ${c.type} check; only push checks have pings`);
      return { pings: await this.data.pings(id, limit), ...(await pushView(this.data, c, this.clock())) };
    }));
    for (const [action, enabled] of [['pause', false], ['resume', true]] as const) {
      this.app.post(`/api/v1/checks/:id/${action}`, api(async (req, reply) => {
        const id = parseId(req.params.id);
        if (!(await this.data.setEnabled(id, enabled))) return reply.code(404).send({ error: `no check with id ${id}` });
        this.opts.log.info({ event: `check_${action}d`, check_id: id, from: req.ip }, `check ${action}d through the API`);
        return { id, enabled };
      }));
    }
  }

  // ---- public ------------------------------------------------------------------------------------

  /** Health and tag badges: open when `public` is on, else the API key is needed. */
  private publicOk(req: FastifyRequest): boolean {
    return this.web.public || bearerOk(req.headers.authorization, this.web.apiKey);
  }

  private async publicData(tag: string | null) {
    const now = this.clock();
    const checks = (await this.data.checks()).filter((c) => c.status !== 'paused' && (tag === null || c.tags.includes(tag))).sort((a, b) => a.name.localeCompare(b.name));
    const ids = checks.map((c) => c.id);
    const [flips, recent] = await Promise.all([this.data.flips(ids, now - WINDOWS['30d']), this.data.recentFlips(20, ids)]);
    const names = new Map(checks.map((c) => [c.id, c.name]));
    return { checks: publicChecks(checks, flips, now), incidents: recent.map((f) => ({ name: names.get(f.checkId) ?? '', at: f.at, status: f.status })) };
  }

  private publicRoutes(): void {
    const page = async (req: Req, reply: FastifyReply, live: boolean) => {
      if (!this.web.public) return reply.code(404).send({ error: 'status pages are off: set [web] public = on' });
      const tag = req.params.tag === undefined ? null : req.params.tag.toLowerCase();
      const title = tag === null ? 'Status' : `Status: ${tag}`;
      const d = await this.publicData(tag);
      if (tag !== null && d.checks.length === 0) return reply.code(404).send({ error: `no check has the tag ${JSON.stringify(tag)}` });
      const liveUrl = tag === null ? '/status/live' : `/status/${encodeURIComponent(tag)}/live`;
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
        .send(live ? statusBody(title, d.checks, d.incidents).text : statusPage(title, liveUrl, d.checks, d.incidents));
    };
    this.app.get('/status', (req: Req, reply) => page(req, reply, false));
    this.app.get('/status/live', (req: Req, reply) => page(req, reply, true));
    this.app.get('/status/:tag', (req: Req, reply) => page(req, reply, false));
    this.app.get('/status/:tag/live', (req: Req, reply) => page(req, reply, true));

    this.app.get('/health/:tag', async (req: Req, reply) => {
      if (!this.publicOk(req)) return reply.code(401).send({ error: 'unauthorized: [web] public is off; send Authorization: Bearer <[web] apiKey>' });
      const tag = req.params.tag.toLowerCase();
      const checks = (await this.data.checks()).filter((c) => c.status !== 'paused' && matches(c, { tags: [tag] }));
      if (!checks.length) return reply.code(404).send({ error: `no check has the tag ${JSON.stringify(tag)}` });
      const failing = checks.filter((c) => c.status === 'offline').map((c) => c.name);
      return reply.code(failing.length ? 503 : 200).send({ tag, status: failing.length ? 'failing' : 'ok', checks: checks.length, failing });
    });

    this.app.get('/badge/:file', async (req: Req, reply) => {
      const m = /^(.+)\.svg$/.exec(req.params.file);
      if (!m) throw new BadRequest('a badge is /badge/<token or tag>.svg');
      unknownParams(req.query, ['uptime']);
      const window = req.query.uptime === undefined ? null : String(req.query.uptime);
      if (window !== null && !(window in WINDOWS)) throw new BadRequest(`parameter "uptime" must be one of ${Object.keys(WINDOWS).join(', ')}`);
      const key = m[1];
      const all = await this.data.checks();
      const byToken = all.filter((c) => badgeToken(this.opts.config.default.password, c.id) === key);
      let checks = byToken;
      let label = byToken[0]?.name ?? key;
      if (!byToken.length) {
        if (!this.publicOk(req)) return reply.code(404).send({ error: 'no such badge' });
        checks = all.filter((c) => c.status !== 'paused' && c.tags.includes(key.toLowerCase()));
        label = key;
        if (!checks.length) return reply.code(404).send({ error: 'no such badge' });
      }
      reply.type('image/svg+xml; charset=utf-8').header('cache-control', 'max-age=30');
      if (window) {
        const now = this.clock();
        const flips = await this.data.flips(checks.map((c) => c.id), now - WINDOWS[window as keyof typeof WINDOWS]);
        const u = checks.reduce((sum, c) => sum + uptime(flips.get(c.id) ?? [], c.status === 'offline' ? 'offline' : 'online', now, WINDOWS[window as keyof typeof WINDOWS]), 0) / checks.length;
        return reply.send(badgeSvg(`${label} ${window}`, percent(u), u >= 0.99 ? 'up' : u >= 0.95 ? '#d4a72c' : 'down'));
      }
      const paused = checks.every((c) => c.status === 'paused');
      const down = checks.some((c) => c.status === 'offline');
      return reply.send(badgeSvg(label, paused ? 'paused' : down ? 'down' : 'up', paused ? 'paused' : down ? 'down' : 'up'));
    });
  }

  // ---- metrics -----------------------------------------------------------------------------------

  private async metrics(req: Req, reply: FastifyReply) {
    if (this.web.metricsToken && !bearerOk(req.headers.authorization, this.web.metricsToken)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized: send Authorization: Bearer <[web] metricsToken>' });
    }
    const now = this.clock();
    const checks = await this.data.checks();
    // Look back far enough for the slowest check's last run (at least an hour).
    const lookback = Math.max(60, Math.ceil(Math.max(0, ...checks.map((c) => c.interval)) / 60) * 2 + 2);
    const [last, pings, counters, lease] = await Promise.all([
      lastResultsAll(this.data.db, Math.floor(now / MINUTE_MS) - lookback), lastPings(this.data.db), this.data.counters(), this.data.lease(),
    ]);
    const ctl = this.opts.controller;
    const live = ctl?.inOffice ? ctl.status().workers.filter((w) => w.live).length : null;
    const text = checkMetrics(checks, last, pings, { inOffice: Boolean(ctl?.inOffice), epoch: lease.epoch, liveWorkers: live, ...counters }) + withoutMisnamedGauges(await this.registry.metrics());
    return reply.type(CONTENT_TYPE).header('cache-control', 'no-store').send(text);
  }
}
