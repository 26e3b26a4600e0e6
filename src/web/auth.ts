/**
 * Dashboard sessions and bearer keys. A session cookie is `<expiry ms>.<HMAC>` keyed by the
 * configured login, so every node serving the web accepts it and changing the password ends all
 * sessions; nothing is stored server-side.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'gbm_session';
export const SESSION_MS = 12 * 3_600_000;

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class WebAuth {
  constructor(private readonly login: { user: string; password: string }, private readonly clock: () => number) {}

  get enabled(): boolean {
    return Boolean(this.login.user && this.login.password);
  }

  private mac(expiry: number): string {
    return createHmac('sha256', `gobearmon-web\0${this.login.user}\0${this.login.password}`).update(String(expiry)).digest('base64url');
  }

  checkLogin(user: string, password: string): boolean {
    // Both compared, always: no early exit telling a wrong user from a wrong password.
    const u = equal(user, this.login.user);
    const p = equal(password, this.login.password);
    return this.enabled && u && p;
  }

  newSession(): string {
    const expiry = this.clock() + SESSION_MS;
    return `${expiry}.${this.mac(expiry)}`;
  }

  validSession(cookieHeader: string | undefined): boolean {
    if (!this.enabled || !cookieHeader) return false;
    for (const part of cookieHeader.split(';')) {
      const [name, value] = part.trim().split('=', 2);
      if (name !== SESSION_COOKIE || !value) continue;
      const [expiry, mac] = value.split('.', 2);
      if (/^\d+$/.test(expiry) && mac && Number(expiry) > this.clock() && equal(mac, this.mac(Number(expiry)))) return true;
    }
    return false;
  }
}

/** `Authorization: Bearer <key>` against a configured key (an empty key never matches). */
export function bearerOk(header: string | undefined, key: string): boolean {
  if (!key || !header) return false;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return Boolean(m && equal(m[1], key));
}

/** A per-check badge token: unguessable, not the push token, stable across nodes. */
export function badgeToken(secret: string, checkId: number): string {
  return createHmac('sha256', `gobearmon-badge\0${secret}`).update(String(checkId)).digest('base64url').slice(0, 22);
}
