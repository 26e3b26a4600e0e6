/**
 * `http` check: one request (following redirects) over fresh connections, then status and body tests.
 * Every request is sent with `reset: true`: it opens a new connection and closes it after the
 * response, so no pooled connection ever hides a server that stopped accepting.
 */
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import type { LookupFunction } from 'node:net';
import type { HostResolver } from '../net/resolver';
import { lookupBudgetMs, ParamError, resolverOf, type CheckContext, type CheckResult, type CheckType, type ParamSpec } from './types';
import {
  errorText, object, optionalBool, optionalNumber, optionalString, optionalStringMap, requiredString, since,
  timeoutSeconds,
} from './params';

export interface HttpParams {
  url: URL;
  method: string;
  body: string;
  /** Request headers except Host (lower-cased names). */
  headers: Record<string, string>;
  /** The `Host` entry of `headers`, or '' to use the URL's. */
  host: string;
  timeoutMs: number;
  insecure: boolean;
  username: string;
  password: string;
  expectStatus: number;
  expectSubstring: string;
}

const MAX_REDIRECTS = 10;
/** How much of the body is searched for `expect_substring`. */
const MAX_BODY_BYTES = 1024 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Above the longest check timeout: each run's own deadline (an abort) always comes first. */
const CONNECT_TIMEOUT_MS = 31_000;

/**
 * One Agent per TLS mode and lookup budget of a resolver, shared by every run. It holds no
 * connection beyond a request (see `reset` above) and caches no TLS session (every run verifies the
 * certificate in a full handshake), so sharing it changes nothing a check sees; building and
 * destroying an Agent per run cost as much CPU as the request itself. Names are resolved by the
 * worker's HostResolver (off libuv's thread pool), within a budget inside the check's deadline.
 */
const agents = new WeakMap<HostResolver, Map<string, Agent>>();
export function agentFor(resolver: HostResolver, insecure: boolean, lookupMs: number): Agent {
  let mine = agents.get(resolver);
  if (!mine) agents.set(resolver, (mine = new Map()));
  const key = `${insecure}/${lookupMs}`;
  let agent = mine.get(key);
  if (!agent) {
    const lookup = lookupVia(resolver, lookupMs);
    agent = new Agent({ connect: { rejectUnauthorized: !insecure, timeout: CONNECT_TIMEOUT_MS, maxCachedSessions: 0, lookup } });
    mine.set(key, agent);
  }
  return agent;
}

/** dns.lookup's calling convention (net.connect calls it with `all` when it may try several addresses). */
function lookupVia(resolver: HostResolver, timeoutMs: number): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    resolver.lookup(hostname, { family, timeoutMs }).then(
      (found) => {
        if (options.all) (callback as (err: null, addresses: { address: string; family: number }[]) => void)(null, found);
        else callback(null, found[0].address, found[0].family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

function parse(data: unknown): HttpParams {
  const o = object(data);
  const rawUrl = requiredString(o, 'url');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ParamError(`invalid parameter "url": ${rawUrl} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ParamError(`invalid parameter "url": scheme must be http or https, got ${url.protocol.slice(0, -1)}`);
  }
  const body = optionalString(o, 'body');
  // Methods are upper-cased: servers treat `get` as an unknown method, which is never what was meant.
  const method = optionalString(o, 'method').toUpperCase() || (body ? 'POST' : 'GET');
  if (!TOKEN.test(method)) throw new ParamError(`invalid parameter "method": ${method}`);
  const headers: Record<string, string> = {};
  let host = '';
  for (const [name, value] of Object.entries(optionalStringMap(o, 'headers'))) {
    if (!TOKEN.test(name)) throw new ParamError(`invalid parameter "headers": bad header name "${name}"`);
    if (/[\r\n\0]/.test(value)) throw new ParamError(`invalid parameter "headers": header "${name}" holds a line break`);
    // The original matched "Host" exactly; any case is accepted here since header names are case-insensitive.
    if (name.toLowerCase() === 'host') host = value;
    else headers[name.toLowerCase()] = value;
  }
  const expectStatus = optionalNumber(o, 'expect_status');
  if (!Number.isInteger(expectStatus) || expectStatus < 0 || expectStatus > 999) {
    throw new ParamError(`invalid parameter "expect_status": ${expectStatus} is not an HTTP status (0 = any)`);
  }
  return {
    url,
    method,
    body,
    headers,
    host,
    timeoutMs: timeoutSeconds(o) * 1000,
    insecure: optionalBool(o, 'insecure'),
    username: optionalString(o, 'username'),
    password: optionalString(o, 'password'),
    expectStatus,
    expectSubstring: optionalString(o, 'expect_substring'),
  };
}

/** Headers of one hop: `User-Agent`, then the check's own (which may replace it), then basic auth. */
function hopHeaders(p: HttpParams, sameOrigin: boolean, worker?: string): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'gobearmon', ...(worker ? { 'x-gobearmon-worker': worker } : {}), ...p.headers };
  if (p.username) headers.authorization = `Basic ${Buffer.from(`${p.username}:${p.password}`).toString('base64')}`;
  if (!sameOrigin) {
    // Like Go's client: credentials and the Host override are not handed to another origin.
    delete headers.authorization;
    delete headers.cookie;
  } else if (p.host) {
    headers.host = p.host;
  }
  return headers;
}

interface Hop {
  response: Dispatcher.ResponseData;
  url: URL;
  redirects: number;
}

/** Sends the request and follows up to MAX_REDIRECTS redirects; the caller owns the final body. */
async function follow(agent: Agent, p: HttpParams, signal: AbortSignal, worker?: string): Promise<Hop> {
  let url = p.url;
  let method = p.method;
  let body: string | null = p.body || null;
  for (let redirects = 0; ; redirects++) {
    const response = await agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers: hopHeaders(p, url.origin === p.url.origin, worker),
      body,
      signal,
      reset: true,
      headersTimeout: p.timeoutMs,
      bodyTimeout: p.timeoutMs,
    });
    // undici's body emits an error when destroyed unread; the outcome is already known when we do that,
    // and an unheard 'error' event would crash the whole worker.
    response.body.on('error', () => undefined);
    const location = response.headers.location;
    if (!REDIRECT_STATUSES.has(response.statusCode) || typeof location !== 'string') return { response, url, redirects };
    response.body.destroy();
    if (redirects >= MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Error(`redirect to unsupported URL ${next.href}`);
    // 301/302/303 turn into GET without a body (as browsers and Go do); 307/308 repeat the request.
    if (response.statusCode <= 303 && method !== 'HEAD') {
      method = 'GET';
      body = null;
    }
    url = next;
  }
}

/** Reads at most MAX_BODY_BYTES and says whether `needle` occurs in them (byte-wise, like the original). */
async function searchBody(body: Dispatcher.ResponseData['body'], needle: Buffer): Promise<{ found: boolean; bytes: number }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    const room = MAX_BODY_BYTES - bytes;
    chunks.push(buf.length > room ? buf.subarray(0, room) : buf);
    bytes += Math.min(buf.length, room);
    if (bytes >= MAX_BODY_BYTES) break;
  }
  body.destroy();
  return { found: Buffer.concat(chunks).includes(needle), bytes };
}

async function run(p: HttpParams, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  const facts: Record<string, unknown> = { url: p.url.href };
  const done = (online: boolean, message: string): CheckResult => ({
    status: online ? 'online' : 'offline', message, durationMs: since(t0), facts,
  });
  const seconds = p.timeoutMs / 1000;
  const controller = new AbortController();
  // One deadline for connect, headers and body together.
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${seconds} s`)), p.timeoutMs);
  let draining = false;
  /**
   * Lets the rest of an unread body run out instead of destroying it: destroying an unfinished body
   * makes an error with a stack trace, a tenth of a check's CPU. A body past MAX_BODY_BYTES is cut
   * (a check must not download a large file every run), and the deadline still ends one that never
   * ends, so the timer is cleared only when it closes.
   */
  const discard = (body: Dispatcher.ResponseData['body']) => {
    if (body.destroyed) return;
    draining = true;
    let bytes = 0;
    body.once('close', () => clearTimeout(timer));
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) body.destroy();
    });
  };
  try {
    const agent = agentFor(resolverOf(ctx), p.insecure, lookupBudgetMs(p.timeoutMs));
    const { response, url, redirects } = await follow(agent, p, controller.signal, ctx.worker);
    facts.statusCode = response.statusCode;
    if (redirects > 0) Object.assign(facts, { finalUrl: url.href, redirects });
    if (p.expectStatus !== 0 && p.expectStatus !== response.statusCode) {
      discard(response.body);
      return done(false, `status mismatch, got ${response.statusCode} but expected ${p.expectStatus}`);
    }
    if (p.expectSubstring) {
      const { found, bytes } = await searchBody(response.body, Buffer.from(p.expectSubstring));
      facts.bytesRead = bytes;
      if (!found) return done(false, `expected substring [${p.expectSubstring}] was not found in the response body`);
    } else {
      discard(response.body);
    }
    return done(true, `HTTP ${response.statusCode}`);
  } catch (err) {
    const reason = controller.signal.aborted ? errorText(controller.signal.reason) : errorText(err);
    return done(false, `error performing HTTP request: ${reason}`);
  } finally {
    if (!draining) clearTimeout(timer);
  }
}

/** The parameters `parse` reads (flags of `gobearmon check add http`). */
export const PARAMS: readonly ParamSpec[] = [
  { key: 'url', kind: 'string', required: true, help: 'http or https URL' },
  { key: 'method', kind: 'string', help: 'HTTP method (default GET, or POST with a body)' },
  { key: 'body', kind: 'string', help: 'request body' },
  { key: 'headers', kind: 'map', help: 'request headers, Name=value (repeatable)' },
  { key: 'timeout', kind: 'number', help: 'seconds, clamped to 3..30 (default 10)' },
  { key: 'insecure', kind: 'bool', help: 'do not verify the TLS certificate' },
  { key: 'username', kind: 'string', help: 'basic auth user' },
  { key: 'password', kind: 'string', help: 'basic auth password' },
  { key: 'expect_status', kind: 'number', help: 'required HTTP status (0 = any status is online)' },
  { key: 'expect_substring', kind: 'string', help: 'text the body must contain' },
];

export const httpCheck: CheckType<HttpParams> = { name: 'http', params: PARAMS, parse, run, deadlineMs: (p) => p.timeoutMs };
