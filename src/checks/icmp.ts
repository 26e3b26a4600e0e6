/**
 * `icmp` check: 5 echo requests through the system `ping` (spawned without a shell). Offline at
 * 100% loss, or above 30% when `packetloss` is set. A name is resolved first by the worker's
 * resolver (off libuv's thread pool, with a deadline), so ping itself never waits on DNS; ping is
 * killed if it outlives its time limit.
 */
import { spawn } from 'node:child_process';
import { isIPv6 } from 'node:net';
import { ParamError, resolverOf, type CheckContext, type CheckResult, type CheckType, type ParamSpec } from './types';
import { errorText, forceIp, object, optionalBool, requiredString, since } from './params';

export interface IcmpParams {
  target: string;
  packetLoss: boolean;
  v6: boolean;
}

const COUNT = 5;
const DEADLINE_S = 10;
const LOOKUP_MS = 8_000;
/** ping exits by itself at its deadline; past this it is killed. */
export const HARD_LIMIT_MS = (DEADLINE_S + 5) * 1000;
/**
 * Host names and IP literals (with an optional `%zone`). Anything else — shell metacharacters, spaces,
 * quotes — is refused. A leading `-` is refused too: ping would read it as an option.
 */
const SAFE_TARGET = /^[A-Za-z0-9._:%-]+$/;

function parse(data: unknown): IcmpParams {
  const o = object(data);
  const target = requiredString(o, 'target');
  if (target.startsWith('-')) throw new ParamError(`invalid parameter "target": ${target} starts with "-" (it would be read as a ping option)`);
  if (!SAFE_TARGET.test(target)) {
    throw new ParamError(`invalid parameter "target": ping target contains invalid characters (allowed: letters, digits, . - : % _)`);
  }
  return { target, packetLoss: optionalBool(o, 'packetloss'), v6: forceIp(o, [6]) === 6 || isIPv6(target) };
}

/** What ping's output says: loss (null when it printed no statistics), round trips, the address it pinged. */
export function parsePingOutput(output: string): { lossPercent: number | null; rttsMs: number[]; address: string | null } {
  const loss = /([\d.]+)% packet loss/.exec(output);
  const rttsMs = [...output.matchAll(/time[=<]([\d.]+) ?ms/g)].map((m) => Number(m[1]));
  const address = /^PING [^\s]+ \(([^)\s]+)\)/m.exec(output)?.[1] ?? null;
  return { lossPercent: loss ? Number(loss[1]) : null, rttsMs, address };
}

/** The last non-empty line of ping's output: its own explanation when it could not ping at all. */
function lastLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? 'no output';
}

/** Runs ping on `address`; resolves with its output, rejects when it cannot run or is killed at `limitMs`. */
export function runPing(address: string, v6: boolean, limitMs = HARD_LIMIT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    // -c 5 -w 10 as the original; -W equal to the deadline so a slow reply still counts.
    const child = spawn('ping', ['-n', v6 ? '-6' : '-4', '-c', String(COUNT), '-w', String(DEADLINE_S), '-W', String(DEADLINE_S), address], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < 64 * 1024) output += chunk.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ping did not finish within ${limitMs / 1000} s and was killed`));
    }, limitMs);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' || err.code === 'EACCES' ? new Error(`ping was not found or could not be run (install iputils-ping)`) : err);
    });
    child.once('close', () => {
      clearTimeout(timer);
      resolve(output);
    });
  });
}

async function run(p: IcmpParams, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  const facts: Record<string, unknown> = { target: p.target, address: null, lossPercent: null, rttsMs: [] };
  const done = (online: boolean, message: string): CheckResult => ({
    status: online ? 'online' : 'offline', message, durationMs: since(t0), facts,
  });
  let output: string;
  try {
    const [{ address }] = await resolverOf(ctx).lookup(p.target, { family: p.v6 ? 6 : 4, timeoutMs: LOOKUP_MS });
    facts.address = address;
    output = await runPing(address, p.v6);
  } catch (err) {
    return done(false, `failed to run ping command: ${errorText(err)}`);
  }
  const res = parsePingOutput(output);
  Object.assign(facts, { lossPercent: res.lossPercent, rttsMs: res.rttsMs });
  if (res.lossPercent === null) return done(false, `ping failed: ${lastLine(output)}`);
  const percent = Math.round(res.lossPercent);
  if (res.lossPercent >= 100 || (p.packetLoss && res.lossPercent > 30)) return done(false, `ping: ${percent}% packet loss`);
  return done(true, `ping: ${percent}% packet loss, ${res.rttsMs.length} replies`);
}

/** The parameters `parse` reads (flags of `gobearmon check add icmp`). */
export const PARAMS: readonly ParamSpec[] = [
  { key: 'target', kind: 'string', required: true, help: 'host name or address' },
  { key: 'packetloss', kind: 'bool', help: 'offline above 30% loss, not only at 100%' },
  { key: 'force_ip', kind: 'number', help: '6 to ping over IPv6' },
];

export const icmpCheck: CheckType<IcmpParams> = { name: 'icmp', params: PARAMS, parse, run, deadlineMs: () => LOOKUP_MS + HARD_LIMIT_MS };
