/**
 * A check's schedule as the controller can use it: `check_interval` 0, negative or NULL would
 * make a check due again at once (a hot loop), a negative or NULL `delay` would drop the delay.
 * Pure: returns the row to use and why it differs from the stored one.
 */
import type { CheckRow } from '../store/store';

/** The shortest interval a check runs at (seconds). */
export const MIN_INTERVAL_S = 1;

export function sanitizeSchedule(row: CheckRow): { row: CheckRow; reasons: string[] } {
  const reasons: string[] = [];
  let { interval, delay } = row;
  if (!Number.isFinite(interval) || interval < MIN_INTERVAL_S) {
    reasons.push(`check_interval ${describe(row.interval)} is below ${MIN_INTERVAL_S} s: runs every ${MIN_INTERVAL_S} s`);
    interval = MIN_INTERVAL_S;
  }
  if (!Number.isFinite(delay) || delay < 0) {
    reasons.push(`delay ${describe(row.delay)} is negative or missing: uses 0`);
    delay = 0;
  }
  return reasons.length ? { row: { ...row, interval, delay: Math.floor(delay) }, reasons } : { row, reasons };
}

function describe(v: number): string {
  return Number.isNaN(v) ? 'NULL' : String(v);
}
