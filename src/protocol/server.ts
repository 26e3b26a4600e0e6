/**
 * A fastify server for node-to-node routes. Every request is authenticated before its body is
 * parsed or validated: the header and its timestamp as soon as the request line arrives (an
 * unsigned request is refused without reading its body), then the MAC over the body's raw bytes
 * (at most MAX_BODY_BYTES), the recipient and the replay guard, and only then JSON and the schema.
 * Refusals are a 401 without schema details (a 413 for a signed body too large), the connection is
 * closed, and the log line is rate-limited with counts.
 */
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../util/log';
import { LogThrottle } from '../util/log-throttle';
import { HostResolver } from '../net/resolver';
import { AUTH_HEADER, TO_HEADER, checkHeader, checkMac, type AuthHeader, type Refusal } from './auth';
import { RecipientCheck } from './recipient';
import { ReplayGuard } from './replay';
import { splitAddr } from '../config/values';

/** Bound of every node-to-node body; senders split larger batches. */
export const MAX_BODY_BYTES = 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
    auth?: AuthHeader;
  }
  interface FastifyInstance {
    /** The address peers sign for when they dial this node's configured address. */
    nodeSelf: string;
  }
}

export interface NodeServerOptions {
  /** Paths served without authentication (e.g. a Prometheus scrape). */
  open?: string[];
  /** This node's clock (tests inject a skewed one). */
  clock?: () => number;
  /** The configured listen address; a signature naming it exactly is for this node. */
  self?: string;
  /** Resolves names a signature may give for this node. */
  resolver?: HostResolver;
}

/** The 401 body: the reason, and the server's time so a sender can tell clock skew from a bad password. */
export interface RefusalBody {
  error: string;
  reason: Refusal['kind'];
  serverTime: number;
}

/** Reads a request body into one buffer; null as soon as it passes `limit` bytes. */
async function readBounded(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    bytes += buf.length;
    if (bytes > limit) return null;
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export function createNodeServer(password: string, log: Logger, options: NodeServerOptions = {}): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, keepAliveTimeout: 75_000 });
  const open = new Set(options.open ?? []);
  const clock = options.clock ?? Date.now;
  const self = options.self && !options.self.startsWith(':') ? options.self : undefined;
  app.decorate('nodeSelf', self ?? '');
  const recipients = new RecipientCheck(self, options.resolver ?? new HostResolver(), clock);
  const replays = new ReplayGuard();
  // A node with the wrong password retries every second, a flood sends thousands a second: one line
  // per peer and kind of refusal, then once a minute with a count.
  const refusals = new LogThrottle(log, clock);
  const isOpen = (req: FastifyRequest) => open.has(req.url.split('?')[0]);

  const refuse = (req: FastifyRequest, reply: FastifyReply, refusal: Refusal): FastifyReply => {
    refusals.failing(`auth:${req.ip}`, {
      event: 'auth_refused', detail: refusal.kind, level: 'warn', msg: `refused a request: ${refusal.reason}`,
      fields: { from: req.ip, method: req.method, url: req.url.slice(0, 200), reason: refusal.reason },
    });
    const status = refusal.kind === 'too_large' ? 413 : 401;
    const body: RefusalBody = { error: status === 401 ? `unauthorized: ${refusal.reason}` : refusal.reason, reason: refusal.kind, serverTime: clock() };
    // Close the connection: an unread body of a refused request is not worth reading.
    return reply.code(status).header('connection', 'close').send(body);
  };
  app.addHook('onRequest', async (req, reply) => {
    if (isOpen(req)) return;
    const header = req.headers[AUTH_HEADER];
    const checked = checkHeader(typeof header === 'string' ? header : undefined, clock());
    if ('refused' in checked) return refuse(req, reply, checked.refused);
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      return refuse(req, reply, { kind: 'too_large', reason: `request body larger than ${MAX_BODY_BYTES} bytes` });
    }
    req.auth = checked.ok;
  });

  app.addHook('preParsing', async (req, reply, payload) => {
    if (isOpen(req)) return payload;
    const auth = req.auth;
    if (!auth) return refuse(req, reply, { kind: 'missing', reason: 'missing authentication header' });
    const raw = await readBounded(payload, MAX_BODY_BYTES);
    if (raw === null) return refuse(req, reply, { kind: 'too_large', reason: `request body larger than ${MAX_BODY_BYTES} bytes` });
    const to = req.headers[TO_HEADER];
    const signed = { method: req.method, path: req.url, to: typeof to === 'string' ? to : '', body: raw };
    const bad = checkMac(password, signed, auth);
    if (bad) return refuse(req, reply, bad);
    if (!(await recipients.matches(signed.to, { address: req.socket?.localAddress, port: req.socket?.localPort }))) {
      return refuse(req, reply, { kind: 'recipient', reason: `signed for another node (${signed.to.slice(0, 100) || 'none'})` });
    }
    if (!replays.accept(auth.mac, auth.ts, clock())) return refuse(req, reply, { kind: 'replay', reason: 'replayed request' });
    if (refusals.isFailing(`auth:${req.ip}`)) refusals.restored(`auth:${req.ip}`, `${req.ip} authenticates again`, { from: req.ip });
    req.rawBody = raw.toString('utf8');
    return Readable.from(raw.length ? [raw] : []);
  });

  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, {});
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
  app.setErrorHandler((err: { statusCode?: number; message: string; validation?: unknown }, _req, reply) => {
    const status = err.validation ? 400 : (err.statusCode ?? 500);
    if (status >= 500) log.error({ event: 'http_error', err: err.message }, 'request failed');
    void reply.code(status).send({ error: err.message });
  });
  return app;
}

/** Listens on a config address (`:port` means every interface). Returns the bound port. */
export async function listen(app: FastifyInstance, addr: string): Promise<number> {
  const { host, port } = splitAddr(addr);
  await app.listen({ host: host || '0.0.0.0', port });
  const bound = app.server.address();
  return typeof bound === 'object' && bound ? bound.port : port;
}
