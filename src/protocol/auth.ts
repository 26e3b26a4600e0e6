/**
 * Node-to-node authentication: an HMAC-SHA256 keyed by `[default] password` over the method, path,
 * recipient, timestamp, a random nonce and the body's raw bytes. The password never crosses the
 * wire; the recipient (the address the sender dialed) stops a request captured on its way to one
 * node from being replayed to another; the timestamp bounds how long a replay guard must remember
 * it (see replay.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const AUTH_HEADER = 'x-gobearmon-auth';
/** The address the sender dialed, covered by the MAC. */
export const TO_HEADER = 'x-gobearmon-to';
export const MAX_SKEW_MS = 30_000;

export interface Signed {
  method: string;
  /** Path with query, as sent. */
  path: string;
  /** host:port of the recipient as the sender dialed it. */
  to: string;
  body: string | Buffer;
}

function mac(password: string, req: Signed, ts: number, nonce: string): Buffer {
  return createHmac('sha256', password)
    .update(`${req.method.toUpperCase()}\n${req.path}\n${req.to}\n${ts}\n${nonce}\n`)
    .update(req.body)
    .digest();
}

export function newNonce(): string {
  return randomBytes(8).toString('hex');
}

/** The value of AUTH_HEADER for `req`: `TIMESTAMP.NONCE.MAC`. */
export function sign(password: string, req: Signed, now = Date.now(), nonce = newNonce()): string {
  return `${now}.${nonce}.${mac(password, req, now, nonce).toString('hex')}`;
}

export interface AuthHeader {
  ts: number;
  nonce: string;
  mac: string;
}

/** The header's parts, or null when it is not of the form sign() writes. */
export function parseAuthHeader(header: string | undefined): AuthHeader | null {
  const m = /^(\d{1,16})\.([0-9a-f]{16})\.([0-9a-f]{64})$/.exec(header ?? '');
  return m ? { ts: Number(m[1]), nonce: m[2], mac: m[3] } : null;
}

/** Why a request is refused: `skew` tells the sender its clock is off, the rest are all one to it. */
export type Refusal = { kind: 'missing' | 'malformed' | 'recipient' | 'bad_signature' | 'replay' | 'skew' | 'too_large'; reason: string };

/** The checks that need no body: the header's form and its timestamp. */
export function checkHeader(header: string | undefined, now: number): { ok: AuthHeader } | { refused: Refusal } {
  if (!header) return { refused: { kind: 'missing', reason: 'missing authentication header' } };
  const parsed = parseAuthHeader(header);
  if (!parsed) return { refused: { kind: 'malformed', reason: 'malformed authentication header' } };
  const off = now - parsed.ts;
  if (Math.abs(off) > MAX_SKEW_MS) {
    return { refused: { kind: 'skew', reason: `timestamp off by ${Math.round(off / 1000)} s (more than ${MAX_SKEW_MS / 1000} s of clock skew)` } };
  }
  return { ok: parsed };
}

/** null when the MAC proves knowledge of the password for exactly this request. */
export function checkMac(password: string, req: Signed, header: AuthHeader): Refusal | null {
  const expected = mac(password, req, header.ts, header.nonce);
  return timingSafeEqual(expected, Buffer.from(header.mac, 'hex')) ? null : { kind: 'bad_signature', reason: 'bad signature (wrong password?)' };
}

/** Header and MAC together (for callers holding the whole request at once); null when accepted. */
export function verify(password: string, req: Signed, header: string | undefined, now = Date.now()): string | null {
  const h = checkHeader(header, now);
  if ('refused' in h) return h.refused.reason;
  return checkMac(password, req, h.ok)?.reason ?? null;
}

/** The sender's signed time (epoch ms) in an authentication header, or null when there is none. */
export function signedAt(header: string | undefined): number | null {
  const m = header ? /^(\d{1,16})\./.exec(header) : null;
  return m ? Number(m[1]) : null;
}
