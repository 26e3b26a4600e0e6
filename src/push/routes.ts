/**
 * The ping routes of SPEC §8.2 as a pure function: method, path, query and body in; the ping to
 * record (or the 4xx to answer) out. The listener (listener.ts) is the thin shell around it.
 */
import { timingSafeEqual } from 'node:crypto';
import type { PingRequest } from './ingest';
import { TOKEN_PATTERN } from './params';
import type { PingKind } from './rules';

/** Body bytes kept with a ping; the rest is dropped. Larger than MAX_BODY_BYTES is refused (413). */
export const KEPT_BODY_BYTES = 10 * 1024;
export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_NAME = 64;
const MAX_RID = 64;
const DEFAULT_CREATE_PERIOD_S = 60;
const DEFAULT_MESH_TIMEOUT_MIN = 5;

export interface RouteInput {
  method: string;
  /** The URL path, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  body: Buffer | undefined;
}

/** How the answer is written: plain text, or Uptime Kuma's JSON. */
export type AnswerStyle = 'text' | 'kuma';

export type Parsed =
  | { ok: true; ping: PingRequest; style: AnswerStyle }
  | { ok: false; status: 400 | 404 | 405; reason: string; style: AnswerStyle };

/** UTF-8 text of at most KEPT_BODY_BYTES bytes, never ending in half a character. */
export function keptText(buf: Buffer | string | undefined): string {
  if (buf === undefined) return '';
  const b = typeof buf === 'string' ? Buffer.from(buf, 'utf8') : buf;
  if (b.length <= KEPT_BODY_BYTES) return b.toString('utf8');
  let end = KEPT_BODY_BYTES;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // back to the start of a character
  return b.subarray(0, end).toString('utf8');
}

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const bad = (reason: string, style: AnswerStyle = 'text'): Parsed => ({ ok: false, status: 400, reason, style });
const unknown = (reason: string, style: AnswerStyle = 'text'): Parsed => ({ ok: false, status: 404, reason, style });

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** `start`, `fail`, `log`, `deregister`, or an exit status 0–255; null when it is none of them. */
function action(word: string): { kind: PingKind; exitStatus: number | null } | { error: string } | null {
  if (word === 'start' || word === 'fail' || word === 'log' || word === 'deregister') return { kind: word, exitStatus: null };
  if (/^\d+$/.test(word)) {
    const n = Number(word);
    if (n > 255) return { error: `exit status must be 0 to 255, got ${word}` };
    return { kind: n === 0 ? 'success' : 'fail', exitStatus: n };
  }
  return null;
}

/** The text a ping carries: ?data=, else the body. */
function text(query: URLSearchParams, body: Buffer | undefined): string {
  const data = query.get('data');
  return keptText(data ? data : body);
}

function rid(query: URLSearchParams): string | null | { error: string } {
  const r = query.get('rid');
  if (r === null || r === '') return null;
  if (r.length > MAX_RID) return { error: `rid must be at most ${MAX_RID} characters` };
  return r;
}

function pingRoute(input: RouteInput, segments: string[], key: string): Parsed {
  const { query, body } = input;
  const r = rid(query);
  if (r !== null && typeof r === 'object') return bad(r.error);
  const [first, ...rest] = segments;
  const byKey = key !== '' && sameSecret(first, key);
  let target: PingRequest['target'];
  let actionWord: string | undefined;
  if (byKey) {
    const [name, word, ...extra] = rest;
    if (name === undefined || name === '') return bad('missing check name: /ping/<key>/<name>');
    if (name.length > MAX_NAME) return bad(`check name must be at most ${MAX_NAME} characters`);
    if (extra.length) return unknown('no such route');
    actionWord = word;
    let create: { periodS: number } | null = null;
    if (query.get('create') === '1') {
      const period = query.get('period');
      const periodS = period === null || period === '' ? DEFAULT_CREATE_PERIOD_S : Number(period);
      if (!Number.isInteger(periodS) || periodS < 1 || periodS > 366 * 86400) return bad('period must be a whole number of seconds from 1 to 31622400');
      create = { periodS };
    }
    target = { name, create };
  } else {
    if (!TOKEN_PATTERN.test(first)) return bad('token must be 8 to 64 of A-Z a-z 0-9 _ -');
    if (rest.length > 1) return unknown('no such route');
    actionWord = rest[0];
    target = { token: first };
  }
  let kind: PingKind = 'success';
  let exitStatus: number | null = null;
  if (actionWord !== undefined) {
    const a = action(actionWord);
    if (a === null) return bad(`unknown signal ${JSON.stringify(actionWord)}: use start, fail, log, deregister or an exit status 0-255`);
    if ('error' in a) return bad(a.error);
    ({ kind, exitStatus } = a);
  }
  return { ok: true, style: 'text', ping: { target, kind, exitStatus, rid: r, body: text(query, body), route: 'ping' } };
}

function heartbeatsRoute(input: RouteInput): Parsed {
  const service = input.query.get('service') ?? '';
  if (!TOKEN_PATTERN.test(service)) return bad('service must be a token: 8 to 64 of A-Z a-z 0-9 _ -');
  const data = input.query.get('data') ?? '';
  // Heartbeats: a non-empty data is an error report.
  return { ok: true, style: 'text', ping: { target: { token: service }, kind: data ? 'fail' : 'success', body: keptText(data || input.body), route: 'heartbeats' } };
}

function kumaRoute(input: RouteInput, token: string): Parsed {
  if (!TOKEN_PATTERN.test(token)) return bad('push token must be 8 to 64 of A-Z a-z 0-9 _ -', 'kuma');
  const status = input.query.get('status') || 'up';
  if (status !== 'up' && status !== 'down') return bad('status must be up or down', 'kuma');
  const msg = input.query.get('msg') ?? '';
  const ping = input.query.get('ping');
  const body = keptText(ping ? `${msg} (ping ${ping} ms)`.trim() : msg);
  return { ok: true, style: 'kuma', ping: { target: { token }, kind: status === 'up' ? 'success' : 'fail', body, route: 'kuma' } };
}

function meshRoute(input: RouteInput, key: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(input.body?.toString('utf8') ?? '');
  } catch {
    return bad('the body must be JSON: {"token":…,"resource":…}');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad('the body must be a JSON object');
  const o = json as Record<string, unknown>;
  if (typeof o.token !== 'string' || typeof o.resource !== 'string' || o.resource === '') return bad('"token" and "resource" must be strings');
  if (key === '' || !sameSecret(o.token, key)) return unknown('unknown token');
  if (o.resource.length > MAX_NAME) return bad(`"resource" must be at most ${MAX_NAME} characters`);
  const timeout = o.timeout === undefined || o.timeout === null ? DEFAULT_MESH_TIMEOUT_MIN : o.timeout;
  if (typeof timeout !== 'number' || !(timeout > 0) || timeout > 527_040) return bad('"timeout" must be a number of minutes above 0');
  const payload = o.payload === undefined || o.payload === null ? '' : typeof o.payload === 'string' ? o.payload : JSON.stringify(o.payload);
  return {
    ok: true, style: 'text',
    ping: { target: { name: o.resource, create: { periodS: Math.max(1, Math.round(timeout * 60)) } }, kind: o.deregister === true ? 'deregister' : 'success', body: keptText(payload), route: 'mesh' },
  };
}

/** Decides what a request to the push listener means. `key` is `[push] key` ('' when unset). */
export function parsePingRoute(input: RouteInput, key: string): Parsed {
  const method = input.method.toUpperCase();
  const parts = input.path.split('/').slice(1).map(decode);
  if (parts.some((p) => p === null)) return bad('bad percent-encoding in the path');
  const segments = parts as string[];
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop(); // a trailing slash
  const [head, second] = segments;
  if (head === 'ping' && segments.length >= 2) return pingRoute(input, segments.slice(1), key);
  if (head === 'api' && second === 'pings' && segments.length === 2) return heartbeatsRoute(input);
  if (head === 'api' && second === 'push' && segments.length === 3) return kumaRoute(input, segments[2]);
  if (head === 'heartbeat' && segments.length === 1) {
    if (method !== 'POST') return { ok: false, status: 405, reason: 'POST a JSON body to /heartbeat', style: 'text' };
    return meshRoute(input, key);
  }
  return unknown('no such route');
}
