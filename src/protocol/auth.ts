/**
 * Node-to-node authentication: an HMAC-SHA256 over method, path, timestamp and body, keyed by
 * `[default] password`. The password itself never crosses the wire; a bounded clock skew limits replay.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const AUTH_HEADER = 'x-gobearmon-auth';
export const MAX_SKEW_MS = 30_000;

function mac(password: string, method: string, path: string, ts: number, body: string): string {
  return createHmac('sha256', password).update(`${method.toUpperCase()}\n${path}\n${ts}\n${body}`).digest('hex');
}

export function sign(password: string, method: string, path: string, body: string, now = Date.now()): string {
  return `${now}.${mac(password, method, path, now, body)}`;
}

/** null when the header proves knowledge of the password, otherwise why not. */
export function verify(password: string, method: string, path: string, body: string, header: string | undefined, now = Date.now()): string | null {
  if (!header) return 'missing authentication header';
  const m = /^(\d{1,16})\.([0-9a-f]{64})$/.exec(header);
  if (!m) return 'malformed authentication header';
  const ts = Number(m[1]);
  if (Math.abs(now - ts) > MAX_SKEW_MS) return `timestamp off by ${Math.round((now - ts) / 1000)} s (more than ${MAX_SKEW_MS / 1000} s of clock skew)`;
  const expected = Buffer.from(mac(password, method, path, ts, body), 'hex');
  return timingSafeEqual(expected, Buffer.from(m[2], 'hex')) ? null : 'bad signature (wrong password?)';
}
