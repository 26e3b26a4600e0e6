/**
 * When a push check next expects a ping, and how listener outages move that time. Pure: times are
 * epoch milliseconds passed in; cron is read in the check's zone and answered in UTC.
 */
import type { PushParams } from './params';

/** The next expected ping after `after`: + period, or the first scheduled time strictly after it. */
export function nextExpected(params: PushParams, after: number): number {
  if (!params.schedule) return after + params.periodMs;
  const next = params.schedule.cron.nextRun(new Date(after));
  return next ? next.getTime() : Number.POSITIVE_INFINITY;
}

/** A span [from, to) during which the cluster could not receive pings (no listener, or no activity). */
export interface Gap {
  from: number;
  to: number;
}

/**
 * Moves `deadline` (of a window that opened at `from`) by the time no listener was accepting:
 * every gap inside the window lengthens it by its own length, and after a gap the sender gets at
 * least one full period (the next expected time after the gap ended) before it can be late, so a
 * job that kept trying during the outage has its next regular turn to get through.
 */
export function extendForGaps(params: PushParams, from: number, deadline: number, gaps: readonly Gap[]): number {
  let d = deadline;
  for (const g of [...gaps].sort((a, b) => a.from - b.from)) {
    const start = Math.max(g.from, from);
    if (g.to <= start || start >= d) continue;
    d += g.to - start;
    d = Math.max(d, nextExpected(params, g.to));
  }
  return d;
}

/**
 * The gaps in listener coverage up to `now`. A session covers [from, to]; the newest heartbeat is
 * trusted up to now while it is at most `slackMs` old (the listener may simply not have written
 * yet). A session that stopped beating covers only up to its last heartbeat: a listener killed
 * right after one was not accepting afterwards. Before the first session ever there is no gap
 * (the cluster had no listener yet, not an outage).
 */
export function coverageGaps(sessions: readonly Gap[], now: number, slackMs: number): Gap[] {
  const spans = sessions.map((s) => ({ from: s.from, to: now - s.to <= slackMs ? Math.max(now, s.to) : s.to })).sort((a, b) => a.from - b.from);
  const gaps: Gap[] = [];
  if (spans.length === 0) return gaps;
  let coveredTo = spans[0].to;
  for (const s of spans.slice(1)) {
    if (s.from > coveredTo) gaps.push({ from: coveredTo, to: s.from });
    coveredTo = Math.max(coveredTo, s.to);
  }
  if (now > coveredTo) gaps.push({ from: coveredTo, to: now });
  return gaps;
}
