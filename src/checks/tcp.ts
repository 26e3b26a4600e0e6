/**
 * `tcp` check: a connection opens; with `expect`, the first line the server sends must contain it.
 * Beyond the original: one timeout covers connect, send and read, so a silent server cannot stall a worker.
 */
import { connect, isIP, type Socket } from 'node:net';
import { lookupBudgetMs, resolverOf, type CheckContext, type CheckResult, type CheckType, type ParamSpec } from './types';
import {
  errorText, forceIp, object, optionalString, requiredHostPort, since, timeoutSeconds, type HostPort,
} from './params';

export interface TcpParams extends HostPort {
  timeoutMs: number;
  payload: string;
  expect: string;
  forceIp: 0 | 4 | 6;
}

/** A first line longer than this is compared as far as it was read. */
const MAX_LINE_BYTES = 64 * 1024;

function parse(data: unknown): TcpParams {
  const o = object(data);
  return {
    ...requiredHostPort(o, 'address'),
    timeoutMs: timeoutSeconds(o) * 1000,
    payload: optionalString(o, 'payload'),
    expect: optionalString(o, 'expect'),
    forceIp: forceIp(o),
  };
}

/**
 * Waits for the connection, optionally sends the payload, and resolves with the first line (null when
 * `expect` is unset). Rejects with the message of the phase that failed, connect or read.
 */
function exchange(p: TcpParams, socket: Socket, remainingMs: number): Promise<{ line: string | null; remote: string }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    let remote = '';
    const fail = (reason: string) => reject(new Error(remote ? `failed to read response: ${reason}` : `TCP connection error: ${reason}`));
    const finish = () => {
      const nl = buffered.indexOf(0x0a);
      resolve({ line: (nl < 0 ? buffered : buffered.subarray(0, nl)).toString('utf8'), remote });
    };
    // One deadline for connect, send and read together (socket.setTimeout only measures idle time).
    const timer = setTimeout(() => fail(`timed out after ${p.timeoutMs / 1000} s`), remainingMs);
    socket.once('close', () => clearTimeout(timer));
    socket.on('error', (err) => fail(errorText(err)));
    socket.once('connect', () => {
      remote = `${socket.remoteAddress}:${socket.remotePort}`;
      if (!p.expect) return resolve({ line: null, remote });
      if (p.payload) socket.write(`${p.payload}\n`);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.includes(0x0a) || buffered.length >= MAX_LINE_BYTES) finish();
      });
      // The original failed on EOF before a newline; a last line without one is still a line here.
      socket.once('end', () => (buffered.length > 0 ? finish() : fail('connection closed before any data')));
    });
  });
}

async function run(p: TcpParams, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  const facts: Record<string, unknown> = {};
  const done = (online: boolean, message: string): CheckResult => ({
    status: online ? 'online' : 'offline', message, durationMs: since(t0), facts,
  });
  const literal = isIP(p.host);
  if (p.forceIp !== 0 && literal !== 0 && literal !== p.forceIp) {
    return done(false, `TCP connection error: ${p.host} is not an IPv${p.forceIp} address (force_ip ${p.forceIp})`);
  }
  let address: string;
  try {
    // Resolved here, off libuv's thread pool, within a part of the deadline (see net/resolver.ts).
    address = (await resolverOf(ctx).lookup(p.host, { family: p.forceIp, timeoutMs: lookupBudgetMs(p.timeoutMs) }))[0].address;
  } catch (err) {
    return done(false, `TCP connection error: ${errorText(err)}`);
  }
  const socket = connect({ host: address, port: p.port });
  try {
    const { line, remote } = await exchange(p, socket, Math.max(1, p.timeoutMs - since(t0)));
    facts.remote = remote;
    if (line === null) return done(true, `connected to ${remote}`);
    const got = line.trim();
    facts.response = got;
    if (!line.includes(p.expect)) return done(false, `response mismatch, expected [${p.expect}] but got [${got}]`);
    return done(true, `response contains [${p.expect}]`);
  } catch (err) {
    return done(false, errorText(err));
  } finally {
    socket.destroy();
  }
}

/** The parameters `parse` reads (flags of `gobearmon check add tcp`). */
export const PARAMS: readonly ParamSpec[] = [
  { key: 'address', kind: 'string', required: true, help: 'host:port' },
  { key: 'timeout', kind: 'number', help: 'seconds, clamped to 3..30 (default 10)' },
  { key: 'payload', kind: 'string', help: 'line sent after connecting' },
  { key: 'expect', kind: 'string', help: 'text the first line received must contain' },
  { key: 'force_ip', kind: 'number', help: '4 or 6 (0 = either)' },
];

export const tcpCheck: CheckType<TcpParams> = { name: 'tcp', params: PARAMS, parse, run, deadlineMs: (p) => p.timeoutMs };
