/**
 * A fastify server for node-to-node routes: JSON bodies kept raw for the HMAC check, every
 * request authenticated (401 and a log line otherwise), schema validation errors as 400 with the reason.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../util/log';
import { LogThrottle } from '../util/log-throttle';
import { AUTH_HEADER, verify } from './auth';
import { splitAddr } from '../config/values';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

export function createNodeServer(password: string, log: Logger, options: { open?: string[] } = {}): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024, keepAliveTimeout: 75_000 });
  const open = new Set(options.open ?? []);
  // A node with the wrong password retries every second: one line per peer and reason, then once a minute.
  const refusals = new LogThrottle(log);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    req.rawBody = body as string;
    if (body === '') return done(null, {});
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
  app.addHook('preHandler', async (req, reply) => {
    const path = req.url.split('?')[0];
    if (open.has(path)) return;
    const header = req.headers[AUTH_HEADER];
    const why = verify(password, req.method, req.url, req.rawBody ?? '', typeof header === 'string' ? header : undefined);
    if (why) {
      const reason = why.replace(/\d+/g, 'N'); // "clock skew of 61 s" stays one condition
      refusals.failing(`auth:${req.ip}`, { event: 'auth_refused', detail: reason, level: 'warn', msg: 'refused unauthenticated request', fields: { from: req.ip, method: req.method, url: req.url, reason: why } });
      return reply.code(401).send({ error: `unauthorized: ${why}` });
    }
    if (refusals.isFailing(`auth:${req.ip}`)) refusals.restored(`auth:${req.ip}`, `${req.ip} authenticates again`, { from: req.ip });
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
