/**
 * Sending pings (SPEC §8.4): one ping to every receiver at once; an unreachable receiver is skipped
 * silently, and the send fails only when none stored it. Also heartbeat-mesh's sender extras:
 * command payloads and a disk check.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ini from 'ini';
import { KEPT_BODY_BYTES, keptText } from './routes';

export type Signal = { kind: 'success' } | { kind: 'start' } | { kind: 'fail' } | { kind: 'log' } | { kind: 'deregister' } | { kind: 'exit'; code: number };

/** Where a ping goes: the check's URL on each receiver (`…/ping/<token>` or `…/ping/<key>/<name>`). */
export interface Target {
  url: string;
  /** user:password for [push] basicAuth. */
  auth?: string;
}

export interface SenderConfig {
  receivers: string[];
  key: string;
  name: string;
  token: string;
  basicAuth: string;
  /** Create the check when missing (key + name), with this period in seconds. */
  createPeriodS: number | null;
}

/** Reads the small INI file of `gobearmon ping --config`: `[ping] receiver` (repeatable), key, name, token. */
export function parseSenderConfig(text: string, file: string): SenderConfig {
  const decoded = ini.decode(text, { bracketedArray: false }) as Record<string, unknown>;
  const section = Object.entries(decoded).find(([k]) => k.toLowerCase() === 'ping')?.[1];
  if (!section || typeof section !== 'object') throw new Error(`${file}: no [ping] section; allowed: [ping] with receiver, key, name, token lines`);
  const keys = new Map(Object.entries(section as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
  const allowed = ['receiver', 'key', 'name', 'token', 'basicauth', 'create', 'period'];
  for (const k of keys.keys()) if (!allowed.includes(k)) throw new Error(`${file}: [ping] ${k} is unknown; allowed keys: ${allowed.join(', ')}`);
  const one = (k: string) => {
    const v = keys.get(k);
    return v === undefined ? '' : String(Array.isArray(v) ? v[0] : v).trim();
  };
  const receiverValue = keys.get('receiver');
  const receivers = (Array.isArray(receiverValue) ? receiverValue : receiverValue === undefined ? [] : [receiverValue]).map((v) => String(v).trim().replace(/\/+$/, ''));
  if (!receivers.length) throw new Error(`${file}: [ping] receiver is required; allowed: one line per receiver, e.g. http://node1:8090`);
  for (const r of receivers) {
    if (!/^https?:\/\/[^\s/]+/.test(r)) throw new Error(`${file}: [ping] receiver = ${JSON.stringify(r)} is invalid; allowed: an http:// or https:// URL`);
  }
  const token = one('token');
  const key = one('key');
  const name = one('name');
  if (!token && !(key && name)) throw new Error(`${file}: [ping] needs token, or key and name`);
  const create = ['1', 'true', 'yes', 'on'].includes(one('create').toLowerCase());
  const period = one('period') ? Number(one('period')) : 60;
  if (!Number.isInteger(period) || period < 1) throw new Error(`${file}: [ping] period is invalid; allowed: a whole number of seconds from 1`);
  return { receivers, key, name, token, basicAuth: one('basicauth'), createPeriodS: create ? period : null };
}

export function targetsOf(c: SenderConfig): Target[] {
  return c.receivers.map((r) => ({
    url: c.token ? `${r}/ping/${encodeURIComponent(c.token)}` : `${r}/ping/${encodeURIComponent(c.key)}/${encodeURIComponent(c.name)}`,
    auth: c.basicAuth || undefined,
  }));
}

function suffix(signal: Signal): string {
  if (signal.kind === 'success') return '';
  return `/${signal.kind === 'exit' ? signal.code : signal.kind}`;
}

export interface SendOutcome {
  stored: number;
  /** Receivers that answered something other than 2xx, with the answer. */
  refused: string[];
  unreachable: number;
}

/** Sends one ping to every target at once (POST, body = text). */
export async function sendPing(targets: Target[], signal: Signal, body: string, opts: { timeoutMs: number; rid?: string; createPeriodS?: number | null }): Promise<SendOutcome> {
  const outcome: SendOutcome = { stored: 0, refused: [], unreachable: 0 };
  await Promise.all(targets.map(async (t) => {
    const u = new URL(t.url);
    u.pathname = u.pathname.replace(/\/+$/, '') + suffix(signal);
    if (opts.rid) u.searchParams.set('rid', opts.rid);
    if (opts.createPeriodS) {
      u.searchParams.set('create', '1');
      u.searchParams.set('period', String(opts.createPeriodS));
    }
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    const auth = t.auth ?? (u.username ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined);
    u.username = u.password = '';
    if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
    try {
      const res = await fetch(u, { method: 'POST', body, headers, signal: AbortSignal.timeout(opts.timeoutMs) });
      const text = (await res.text()).trim();
      if (res.status >= 200 && res.status < 300) outcome.stored++;
      else outcome.refused.push(`${u.origin}: ${res.status} ${text}`);
    } catch {
      outcome.unreachable++; // skipped silently, as heartbeat-mesh's sender does
    }
  }));
  return outcome;
}

/** Runs `sh -c CMD` and returns its output (or why it failed) for a `--payload NAME=CMD`. */
export function payload(name: string, command: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { timeout: timeoutMs, maxBuffer: KEPT_BODY_BYTES * 4 }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`.trim();
      resolve(`${name}: ${err && !out ? `failed: ${err.message}` : out}`);
    });
  });
}

/** heartbeat-mesh's disk check: write, fsync and read back a temp file; null when the disk answered. */
export async function diskCheck(dir = tmpdir(), timeoutMs = 10_000): Promise<string | null> {
  const file = join(dir, `gobearmon-disk-check-${randomBytes(6).toString('hex')}`);
  const content = randomBytes(64).toString('hex');
  const work = (async () => {
    const fh = await open(file, 'w');
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const back = await readFile(file, 'utf8');
    await rm(file, { force: true });
    return back === content ? null : 'disk check failed: the file read back differs';
  })().catch((err: Error) => `disk check failed: ${err.message}`);
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve(`disk check failed: no answer within ${timeoutMs / 1000} s`), timeoutMs).unref());
  return Promise.race([work, timeout]);
}

/** The last KEPT_BODY_BYTES of a command's output. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0].length >= KEPT_BODY_BYTES) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    let start = Math.max(0, all.length - KEPT_BODY_BYTES);
    while (start < all.length && (all[start] & 0xc0) === 0x80) start++; // a whole first character
    return keptText(all.subarray(start));
  }
}
