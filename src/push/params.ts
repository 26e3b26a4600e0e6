/**
 * A push check's parameters (SPEC §8.1), read from `checks.data` and `check_interval`. Bad
 * parameters throw ParamError with a message a person can act on; nothing here does I/O.
 */
import { Cron } from 'croner';
import { object, optionalNumber, optionalString } from '../checks/params';
import { ParamError } from '../checks/types';

export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
export const DEFAULT_GRACE_S = 60;

export interface PushParams {
  token: string | null;
  graceMs: number;
  /** Simple period (check_interval) in ms; unused when `schedule` is set. */
  periodMs: number;
  schedule: { expression: string; tz: string; cron: Cron } | null;
  maxRuntimeMs: number;
}

/** A valid IANA zone name: Intl refuses unknown ones (croner alone would silently use UTC). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function seconds(o: Record<string, unknown>, key: string, dflt: number, max: number): number {
  const v = optionalNumber(o, key, dflt);
  if (v < 0 || v > max) throw new ParamError(`parameter "${key}" must be a number of seconds from 0 to ${max}, got ${v}`);
  return Math.round(v * 1000);
}

export function parseCron(expression: string, tz: string): Cron {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) throw new ParamError(`parameter "schedule" must be a 5-field cron expression (minute hour day month weekday), got ${fields.length} field(s)`);
  if (!isTimeZone(tz)) throw new ParamError(`parameter "tz" must be an IANA time zone such as Europe/Berlin or UTC, got ${JSON.stringify(tz)}`);
  try {
    // domAndDow false: a day-of-month and a weekday both set mean either, as in Vixie cron.
    return new Cron(fields.join(' '), { timezone: tz, paused: true });
  } catch (err) {
    throw new ParamError(`parameter "schedule" is not a valid cron expression: ${(err as Error).message}`);
  }
}

const YEAR_S = 366 * 86400;

/** `data` is the JSON text of checks.data, `intervalS` its check_interval. */
export function parsePushParams(data: string, intervalS: number): PushParams {
  let decoded: unknown;
  try {
    decoded = JSON.parse(data);
  } catch (err) {
    throw new ParamError(`failed to decode check parameters: ${(err as Error).message}`);
  }
  const o = object(decoded);
  const token = optionalString(o, 'token');
  if (token !== '' && !TOKEN_PATTERN.test(token)) throw new ParamError('parameter "token" must be 8 to 64 of A-Z a-z 0-9 _ -');
  const graceMs = seconds(o, 'grace', DEFAULT_GRACE_S, YEAR_S);
  const expression = optionalString(o, 'schedule');
  const tz = optionalString(o, 'tz', 'UTC') || 'UTC';
  if (expression === '' && o.tz !== undefined && o.tz !== null && !isTimeZone(tz)) {
    throw new ParamError(`parameter "tz" must be an IANA time zone such as Europe/Berlin or UTC, got ${JSON.stringify(tz)}`);
  }
  const schedule = expression ? { expression, tz, cron: parseCron(expression, tz) } : null;
  if (!schedule && !(Number.isInteger(intervalS) && intervalS >= 1)) throw new ParamError(`check_interval must be at least 1 second for a push check without a schedule, got ${intervalS}`);
  if (schedule && !schedule.cron.nextRun(new Date(0))) throw new ParamError('parameter "schedule" never fires');
  return {
    token: token || null,
    graceMs,
    periodMs: intervalS * 1000,
    schedule,
    maxRuntimeMs: seconds(o, 'max_runtime', graceMs / 1000, YEAR_S),
  };
}
