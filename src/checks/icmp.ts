/**
 * `icmp` check: 5 echo requests through the system `ping` (the npm `ping` package spawns it without a
 * shell). Offline at 100% loss, or above 30% when `packetloss` is set.
 */
import { isIPv6 } from 'node:net';
import { promise as ping, type PingResponse } from 'ping';
import { ParamError, type CheckContext, type CheckResult, type CheckType } from './types';
import { errorText, forceIp, object, optionalBool, requiredString, since } from './params';

export interface IcmpParams {
  target: string;
  packetLoss: boolean;
  v6: boolean;
}

const COUNT = 5;
const DEADLINE_S = 10;
/** ping exits by itself at its deadline; this only guards against a hung name lookup inside ping. */
const HARD_LIMIT_MS = (DEADLINE_S + 20) * 1000;
/**
 * Host names and IP literals (with an optional `%zone`). Anything else — shell metacharacters, spaces,
 * quotes — is refused. The package passes the target last without `--`, so a leading `-` is refused too.
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

/** The last non-empty line of ping's output: its own explanation when it could not ping at all. */
function lastLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? 'no output';
}

async function probe(p: IcmpParams): Promise<PingResponse> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`ping did not finish within ${HARD_LIMIT_MS / 1000} s`)), HARD_LIMIT_MS);
  });
  try {
    // -c 5 -w 10 as the original; -W equal to the deadline so a slow reply still counts.
    const config = { min_reply: COUNT, deadline: DEADLINE_S, timeout: DEADLINE_S, v6: p.v6 };
    return await Promise.race([ping.probe(p.target, config), limit]);
  } catch (err) {
    const text = errorText(err);
    // The package reports a missing or unrunnable binary with a vague message of its own.
    if (text.includes('error while executing the ping program')) {
      throw new Error(`failed to run ping command: ${p.v6 ? 'ping6' : 'ping'} was not found or could not be run (install iputils-ping)`);
    }
    throw new Error(`failed to run ping command: ${text}`);
  } finally {
    clearTimeout(timer);
  }
}

async function run(p: IcmpParams, _ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  const res = await probe(p);
  const loss = Number.parseFloat(res.packetLoss);
  const facts: Record<string, unknown> = {
    target: p.target,
    address: res.numeric_host,
    lossPercent: Number.isFinite(loss) ? loss : null,
    rttsMs: res.times,
  };
  const done = (online: boolean, message: string): CheckResult => ({
    status: online ? 'online' : 'offline', message, durationMs: since(t0), facts,
  });
  if (!Number.isFinite(loss)) return done(false, `ping failed: ${lastLine(res.output)}`);
  const percent = Math.round(loss);
  if (loss >= 100 || (p.packetLoss && loss > 30)) return done(false, `ping: ${percent}% packet loss`);
  return done(true, `ping: ${percent}% packet loss, ${res.times.length} replies`);
}

export const icmpCheck: CheckType<IcmpParams> = { name: 'icmp', parse, run };
