/**
 * The public ping listener of a worker node (`[push] addr`): every route of SPEC §8.2 on its own
 * fastify server, separate from the node-to-node port. A ping is answered only once PingIngest has
 * made it durable. While running it records in push_listening that it was accepting pings, so the
 * controller can tell our outage from a sender's silence.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { listen } from '../protocol/server';
import type { Logger } from '../util/log';
import type { PingIngest } from './ingest';
import { MAX_BODY_BYTES, parsePingRoute, sameSecret, type AnswerStyle } from './routes';
import type { PushStore } from './store';

/** How often a listener says it is accepting pings; the controller allows twice this before a gap. */
export const LISTENING_HEARTBEAT_MS = 2_000;

export interface PushListenerOptions {
  addr: string;
  key: string;
  basicAuth: string;
  ingest: PingIngest;
  store: PushStore;
  node: string;
  log: Logger;
  clock?: () => number;
}

function answer(reply: FastifyReply, style: AnswerStyle, status: number, text: string) {
  if (style === 'kuma') return reply.code(status).type('application/json').send(status < 300 ? { ok: true } : { ok: false, msg: text });
  return reply.code(status).type('text/plain; charset=utf-8').send(`${text}\n`);
}

export class PushListener {
  readonly app: FastifyInstance;
  private readonly clock: () => number;
  private session: number | null = null;
  private lastHeartbeatAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  /** Bound port, once listening. */
  port = 0;

  constructor(private readonly opts: PushListenerOptions) {
    this.clock = opts.clock ?? Date.now;
    this.app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, exposeHeadRoutes: false, keepAliveTimeout: 75_000 });
    this.app.removeAllContentTypeParsers();
    // Any content type: the body is the ping's text (or heartbeat-mesh's JSON), parsed by the route.
    this.app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    this.app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) opts.log.error({ event: 'push_http_error', err: err.message }, 'ping request failed');
      void reply.code(status).type('text/plain; charset=utf-8').send(status === 413 ? `body too large: at most ${MAX_BODY_BYTES} bytes\n` : `${err.message}\n`);
    });
    // The bare route: no store, no auth; what a load balancer's health check (and the bench) asks.
    this.app.get('/', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('gobearmon push listener\n'));
    const handler = (req: FastifyRequest, reply: FastifyReply) => this.handle(req, reply);
    for (const url of ['/ping/*', '/api/pings', '/api/pings/', '/api/push/*', '/heartbeat']) {
      this.app.route({ method: ['GET', 'HEAD', 'POST'], url, handler });
    }
  }

  private authorized(req: FastifyRequest): boolean {
    if (!this.opts.basicAuth) return true;
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    return m !== null && sameSecret(Buffer.from(m[1], 'base64').toString('utf8'), this.opts.basicAuth);
  }

  private async handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const url = new URL(req.url, 'http://x');
    const style: AnswerStyle = url.pathname.startsWith('/api/push/') ? 'kuma' : 'text';
    if (!this.authorized(req)) {
      this.opts.log.warn({ event: 'push_auth_refused', from: req.ip, path: url.pathname }, 'ping refused: basic auth required');
      void reply.header('www-authenticate', 'Basic realm="gobearmon"');
      return answer(reply, style, 401, 'unauthorized: this listener requires basic auth');
    }
    const at = this.clock();
    const parsed = parsePingRoute({ method: req.method, path: url.pathname, query: url.searchParams, body: req.body as Buffer | undefined }, this.opts.key);
    if (!parsed.ok) return answer(reply, parsed.style, parsed.status, parsed.reason);
    let result;
    try {
      [result] = await this.opts.ingest.record([{ ...parsed.ping, at, remote: req.ip }]);
    } catch (err) {
      this.opts.log.error({ event: 'ping_not_stored', err: (err as Error).message }, 'could not store a ping');
      return answer(reply, parsed.style, 503, 'not stored: the store is unavailable, try again');
    }
    if (result.status === 404) return answer(reply, parsed.style, 404, result.reason);
    return answer(reply, parsed.style, result.status, result.status === 201 ? 'Created' : 'OK');
  }

  async start(): Promise<number> {
    this.port = await listen(this.app, this.opts.addr);
    await this.heartbeat();
    const tick = () => {
      this.timer = setTimeout(() => {
        this.beating = this.heartbeat().finally(() => {
          this.beating = null;
          if (this.timer) tick();
        });
      }, LISTENING_HEARTBEAT_MS);
    };
    tick();
    this.opts.log.info({ event: 'push_listening', port: this.port }, 'push listener accepting pings');
    return this.port;
  }

  /** Extends this listener's session; a pause longer than two beats (frozen, store down) starts a new one. */
  private async heartbeat(): Promise<void> {
    const now = this.clock();
    if (now - this.lastHeartbeatAt > 2 * LISTENING_HEARTBEAT_MS) this.session = null;
    try {
      this.session = await this.opts.store.listening(this.opts.node, this.session, now);
      this.lastHeartbeatAt = now;
    } catch (err) {
      this.opts.log.warn({ event: 'push_listening_error', err: (err as Error).message }, 'could not record that the push listener is accepting');
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.beating;
    await this.app.close();
    await this.opts.ingest.close();
  }
}
