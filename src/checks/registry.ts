/**
 * The check types by name, and the one way to run a check: `runCheck` never throws and never hangs,
 * so one bad check cannot crash or stall a worker.
 */
import { dnsCheck } from './dns';
import { execCheck } from './exec';
import { rabbitmqCheck } from './rabbitmq';
import { httpCheck } from './http';
import { icmpCheck } from './icmp';
import { errorText, since } from './params';
import { sslExpireCheck } from './ssl_expire';
import { tcpCheck } from './tcp';
import { ParamError, type CheckContext, type CheckResult, type CheckType } from './types';

// `run` is declared with method syntax, so each CheckType<P> is assignable to CheckType<unknown>.
const all: CheckType<unknown>[] = [httpCheck, tcpCheck, icmpCheck, sslExpireCheck, dnsCheck, execCheck, rabbitmqCheck];

export const checkTypes: Record<string, CheckType<unknown>> = Object.fromEntries(all.map((t) => [t.name, t]));

/** Every type bounds its own run time well below this; it is the last guard against a stuck check. */
const HARD_LIMIT_MS = 60_000;

type Parsed = { ok: true; type: CheckType<unknown>; params: unknown } | { ok: false; reason: string };

function parseCheck(type: string, data: string): Parsed {
  const checkType = Object.prototype.hasOwnProperty.call(checkTypes, type) ? checkTypes[type] : undefined;
  if (!checkType) return { ok: false, reason: `invalid check type: ${type} (one of ${Object.keys(checkTypes).join(', ')})` };
  let decoded: unknown;
  try {
    decoded = JSON.parse(data);
  } catch (err) {
    return { ok: false, reason: `failed to decode check parameters: ${errorText(err)}` };
  }
  try {
    return { ok: true, type: checkType, params: checkType.parse(decoded) };
  } catch (err) {
    // A ParamError is the message for the operator; anything else is a bug in a parser, still reported.
    return { ok: false, reason: err instanceof ParamError ? err.message : `invalid check parameters: ${errorText(err)}` };
  }
}

/** null when `data` is valid for `type`, otherwise the reason (the same message runCheck would report). */
export function validateCheck(type: string, data: string): string | null {
  const parsed = parseCheck(type, data);
  return parsed.ok ? null : parsed.reason;
}

/**
 * The longest one run of this check may take before the worker has its result: its type's own
 * deadline, or the hard limit. Invalid checks end at once (their result says why).
 */
export function checkDeadlineMs(type: string, data: string): number {
  const parsed = parseCheck(type, data);
  if (!parsed.ok) return 0;
  return Math.min(HARD_LIMIT_MS, parsed.type.deadlineMs?.(parsed.params) ?? HARD_LIMIT_MS);
}

/**
 * What is probably a mistake although the check runs: keys its type does not read (ignored, as the
 * original did: a typo such as "expect_stauts" silently checks nothing), and an http check without
 * `expect_status` (any answer, even a 500, counts as online). Empty for an unknown type or bad JSON.
 */
export function checkWarnings(type: string, data: string): string[] {
  const checkType = Object.prototype.hasOwnProperty.call(checkTypes, type) ? checkTypes[type] : undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(data);
  } catch {
    return [];
  }
  if (!checkType || typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return [];
  const known = new Set(checkType.params.map((p) => p.key));
  const warnings: string[] = [];
  const unknown = Object.keys(decoded).filter((k) => !known.has(k));
  if (unknown.length) warnings.push(`unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} ignored; ${type} reads: ${[...known].join(', ')}`);
  const status = (decoded as Record<string, unknown>).expect_status;
  if (type === 'http' && (status === undefined || status === null || status === 0)) {
    warnings.push('no "expect_status": any HTTP answer, even 404 or 500, counts as online (as in the original); set "expect_status": 200 to require success');
  }
  return warnings;
}

/** Runs one check now. Every failure, including a bug in a check type, is an offline result. */
export async function runCheck(type: string, data: string, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  const offline = (message: string): CheckResult => ({ status: 'offline', message, durationMs: since(t0) });
  const parsed = parseCheck(type, data);
  if (!parsed.ok) return offline(parsed.reason);
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve(offline(`check did not finish within ${HARD_LIMIT_MS / 1000} s`)), HARD_LIMIT_MS);
  });
  try {
    const result = await Promise.race([parsed.type.run(parsed.params, ctx), limit]);
    return Number.isFinite(result.durationMs) ? result : { ...result, durationMs: since(t0) };
  } catch (err) {
    return offline(errorText(err));
  } finally {
    clearTimeout(timer);
  }
}
