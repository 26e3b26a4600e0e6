/** Parsers for single config values; each throws a plain message saying what is allowed. */

import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';

export function parseBool(v: string): boolean {
  const s = v.trim().toLowerCase();
  if (['', 'true', 'yes', 'on', '1'].includes(s)) return true;
  if (['false', 'no', 'off', '0'].includes(s)) return false;
  throw new Error('allowed: true/false, yes/no, on/off, 1/0');
}

export function parseInteger(v: string, min: number, max: number): number {
  const s = v.trim();
  if (!/^-?\d+$/.test(s)) throw new Error(`allowed: a whole number from ${min} to ${max}`);
  const n = Number(s);
  if (n < min || n > max) throw new Error(`allowed: a whole number from ${min} to ${max}`);
  return n;
}

/** Seconds, decimals allowed (`0.5`), returned as milliseconds. */
export function parseSecondsMs(v: string, minS: number, maxS: number): number {
  const s = v.trim();
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n < minS || n > maxS) {
    throw new Error(`allowed: a number of seconds from ${minS} to ${maxS}`);
  }
  return Math.round(n * 1000);
}

/** `host:port`, `:port` or `[v6]:port`. */
export function parseAddr(v: string, hostRequired: boolean): string {
  const s = v.trim();
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]*):(\d+)$/.exec(s);
  const allowed = hostRequired ? 'allowed: host:port with a port from 1 to 65535' : 'allowed: host:port or :port with a port from 1 to 65535';
  if (!m) throw new Error(allowed);
  const port = Number(m[2]);
  if (port < 1 || port > 65535 || (hostRequired && m[1] === '')) throw new Error(allowed);
  return s;
}

/** A resolver address: `host`, `host:port`, `[v6]:port` or a bare IPv6 address. */
export function parseHostPort(v: string): string {
  const s = v.trim();
  if (isIP(s) === 6) return s;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d+))?$/.exec(s);
  if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) {
    throw new Error('allowed: host, host:port or [ipv6]:port, with a port from 1 to 65535');
  }
  return s;
}

export function parseUrl(v: string): string {
  try {
    const u = new URL(v.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    return v.trim().replace(/\/+$/, '');
  } catch {
    throw new Error('allowed: an http:// or https:// URL');
  }
}

/** Splits `host:port` / `[v6]:port` / `:port` into parts for listening or dialing. */
export function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(addr.slice(i + 1)) };
}

/** `[push] key`: a secret that goes in ping URLs, so URL-safe. */
export function parsePingKey(v: string): string {
  const s = v.trim();
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(s)) throw new Error('allowed: 8 to 64 of A-Z a-z 0-9 _ -');
  return s;
}

/** `[push] basicAuth`: user:password, the user not empty. */
export function parseBasicAuth(v: string): string {
  const s = v.trim();
  const i = s.indexOf(':');
  if (i < 1) throw new Error('allowed: user:password (a non-empty user, then a colon)');
  return s;
}

/** An existing directory, returned as an absolute path (relative paths are read from the working directory). */
export function parseDirectory(v: string): string {
  const s = v.trim();
  if (s === '') throw new Error('allowed: the path of an existing directory');
  const abs = resolve(s);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new Error(`allowed: the path of an existing directory (${abs} does not exist)`);
  }
  if (!isDir) throw new Error(`allowed: the path of an existing directory (${abs} is not a directory)`);
  return abs;
}
