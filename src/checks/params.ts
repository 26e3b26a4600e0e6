/**
 * Shared helpers of the check modules: reading one check's decoded JSON parameters with messages
 * a person can act on, and turning errors and timings into result fields.
 * Like the original (Go's encoding/json), unknown keys are ignored and `null` counts as absent,
 * so every `checks.data` written for the original keeps working.
 */
import { isIP } from 'node:net';
import { ParamError } from './types';

export type Obj = Record<string, unknown>;

/** The decoded JSON must be an object: `{"url": …}`. */
export function object(data: unknown): Obj {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ParamError(`check parameters must be a JSON object, got ${kind(data)}`);
  }
  return data as Obj;
}

/** JSON kind of a value for messages: string, number, boolean, array, object, null. */
export function kind(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'array' : typeof v;
}

function present(o: Obj, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key) && o[key] !== null && o[key] !== undefined;
}

function wrongType(key: string, want: string, v: unknown): ParamError {
  return new ParamError(`parameter "${key}" must be ${want}, got ${kind(v)}`);
}

/** A required, non-empty string. */
export function requiredString(o: Obj, key: string): string {
  if (!present(o, key)) throw new ParamError(`missing parameter "${key}"`);
  const v = optionalString(o, key);
  if (v === '') throw new ParamError(`parameter "${key}" must not be empty`);
  return v;
}

export function optionalString(o: Obj, key: string, dflt = ''): string {
  if (!present(o, key)) return dflt;
  const v = o[key];
  if (typeof v !== 'string') throw wrongType(key, 'a string', v);
  return v;
}

export function optionalNumber(o: Obj, key: string, dflt = 0): number {
  if (!present(o, key)) return dflt;
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(key, 'a number', v);
  return v;
}

export function optionalBool(o: Obj, key: string, dflt = false): boolean {
  if (!present(o, key)) return dflt;
  const v = o[key];
  if (typeof v !== 'boolean') throw wrongType(key, 'true or false', v);
  return v;
}

/** A `{"name": "value"}` map of strings (HTTP headers). */
export function optionalStringMap(o: Obj, key: string): Record<string, string> {
  if (!present(o, key)) return {};
  const v = o[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrongType(key, 'an object of strings', v);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Obj)) {
    if (typeof val !== 'string') throw new ParamError(`parameter "${key}" entry "${k}" must be a string, got ${kind(val)}`);
    out[k] = val;
  }
  return out;
}

/** `force_ip`: 0 (either family), 4 or 6. */
export function forceIp(o: Obj, allowed: readonly number[] = [4, 6]): 0 | 4 | 6 {
  const v = optionalNumber(o, 'force_ip');
  if (v === 0) return 0;
  if (!allowed.includes(v)) throw new ParamError(`parameter "force_ip" must be ${allowed.join(' or ')} (or 0 for any), got ${v}`);
  return v as 4 | 6;
}

/** The original's timeout rule: 0 or absent means 10 s, anything else is clamped to 3..30 s. */
export function timeoutSeconds(o: Obj): number {
  const v = optionalNumber(o, 'timeout');
  if (v === 0) return 10;
  return Math.min(30, Math.max(3, v));
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Splits `host:port`, `[v6]:port`, or (when `defaultPort` is given) a bare host or bare IPv6 address.
 * Throws a plain Error; callers wrap it to name their parameter.
 */
export function splitHostPort(addr: string, defaultPort?: number): HostPort {
  let host: string;
  let portText: string | undefined;
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']');
    if (end < 0) throw new Error(`missing "]" in address ${addr}`);
    host = addr.slice(1, end);
    const rest = addr.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new Error(`unexpected text after "]" in address ${addr}`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else if (isIP(addr) === 6) {
    host = addr;
  } else {
    const colon = addr.lastIndexOf(':');
    if (colon >= 0 && addr.indexOf(':') !== colon) throw new Error(`IPv6 address with a port must be written [addr]:port, got ${addr}`);
    host = colon < 0 ? addr : addr.slice(0, colon);
    portText = colon < 0 ? undefined : addr.slice(colon + 1);
  }
  if (host === '') throw new Error(`missing host in address ${addr}`);
  if (portText === undefined) {
    if (defaultPort === undefined) throw new Error(`missing port in address ${addr}`);
    return { host, port: defaultPort };
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new Error(`invalid port "${portText}" in address ${addr}`);
  }
  return { host, port: Number(portText) };
}

/** A required `host:port` parameter. */
export function requiredHostPort(o: Obj, key: string): HostPort {
  const addr = requiredString(o, key);
  try {
    return splitHostPort(addr);
  } catch (err) {
    throw new ParamError(`invalid parameter "${key}": ${(err as Error).message}`);
  }
}

/**
 * One line of text for any thrown value (a result message is one line). Node's happy-eyeballs connect
 * failures are AggregateErrors with an empty message, so their inner errors are spelled out instead.
 */
export function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    const inner = [...new Set(err.errors.map(errorText))];
    return err.message ? `${err.message}: ${inner.join('; ')}` : inner.join('; ');
  }
  if (err instanceof Error) {
    // OpenSSL errors carry a multi-line dump in message and the plain words in `reason`.
    const reason = (err as { reason?: unknown }).reason;
    if (typeof reason === 'string' && err.message.includes('routines:')) return reason;
    return err.message.trim().replace(/\s*\n\s*/g, '; ') || (err as NodeJS.ErrnoException).code || err.name;
  }
  return String(err);
}

/** Whole milliseconds since `t0` (a performance.now() reading). */
export function since(t0: number): number {
  return Math.round(performance.now() - t0);
}
