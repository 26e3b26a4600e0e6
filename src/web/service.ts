/** What the pages and the API show, assembled from WebData reads and the pure model. */
import { parsePushParams } from '../push/params';
import { judge, newFacts, type PushFacts } from '../push/rules';
import type { Row } from '../store/driver';
import { byAttention, matches, paginate, uptime, type CheckFilter, type CheckSummary, type Page } from './model';
import type { FlipRow, LastResult, WebData } from './queries';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
export const WINDOWS = { '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS } as const;
export type Uptimes = Record<keyof typeof WINDOWS, number>;

export interface CheckLine extends CheckSummary {
  last: LastResult | null;
  /** Mean duration per minute over the last hour (null: no run that minute). */
  spark: (number | null)[];
  uptime: Uptimes;
}

export interface ListResult {
  page: Page<CheckLine>;
  types: string[];
  counts: Record<'online' | 'offline' | 'paused', number>;
}

const SPARK_MINUTES = 60;

function uptimes(flips: FlipRow[], status: CheckSummary['status'], now: number): Uptimes {
  const current = status === 'offline' ? 'offline' : 'online';
  return {
    '24h': uptime(flips, current, now, WINDOWS['24h']),
    '7d': uptime(flips, current, now, WINDOWS['7d']),
    '30d': uptime(flips, current, now, WINDOWS['30d']),
  };
}

/** Lines of the given checks: last result, sparkline and uptimes (a few queries for the whole page). */
export async function describe(data: WebData, checks: CheckSummary[], now: number): Promise<CheckLine[]> {
  const ids = checks.map((c) => c.id);
  const nowMinute = Math.floor(now / MINUTE_MS);
  const pushIds = checks.filter((c) => c.type === 'push').map((c) => c.id);
  const [minutes, last, flips, push] = await Promise.all([
    data.minutes(ids, nowMinute - SPARK_MINUTES + 1),
    data.lastResults(ids, nowMinute - 1440),
    data.flips(ids, now - WINDOWS['30d']),
    data.pushState(pushIds),
  ]);
  // A push check's last result is its last ping (it has no runs of its own).
  for (const [id, r] of push) {
    if (r.last_ping_at !== null && r.last_ping_at !== undefined && !last.has(id)) last.set(id, { at: Number(r.last_ping_at), ms: 0, ok: r.last_kind !== 'fail' });
  }
  return checks.map((c) => {
    const byMinute = new Map((minutes.get(c.id) ?? []).map((m) => [m.minute, m.meanMs]));
    const spark = Array.from({ length: SPARK_MINUTES }, (_, i) => byMinute.get(nowMinute - SPARK_MINUTES + 1 + i) ?? null);
    return { ...c, last: last.get(c.id) ?? null, spark, uptime: uptimes(flips.get(c.id) ?? [], c.status, now) };
  });
}

export async function listChecks(data: WebData, filter: CheckFilter, page: number, per: number, now: number): Promise<ListResult> {
  const all = await data.checks();
  const counts = { online: 0, offline: 0, paused: 0 };
  for (const c of all) counts[c.status]++;
  const types = [...new Set(all.map((c) => c.type))].sort();
  const chosen = paginate(all.filter((c) => matches(c, filter)).sort(byAttention), page, per);
  return { page: { ...chosen, items: await describe(data, chosen.items, now) }, types, counts };
}

function factsOf(r: Row | undefined, createdFallback: number): PushFacts {
  if (!r) return newFacts(createdFallback);
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    createdAt: Number(r.created_at), lastPingAt: n(r.last_ping_at), lastKind: (r.last_kind ?? null) as PushFacts['lastKind'],
    lastSuccessAt: n(r.last_success_at), lastOutcome: (r.last_outcome ?? null) as PushFacts['lastOutcome'], lastOutcomeAt: n(r.last_outcome_at),
    lastMessage: String(r.last_message ?? ''), fails: Number(r.fails ?? 0), runStartedAt: n(r.run_started_at), runRid: (r.run_rid ?? null) as string | null,
    deregisteredAt: n(r.deregistered_at),
  };
}

export interface PushView {
  state: string;
  message: string;
  lastPingAt: number | null;
  deadline: number | null;
}

/** A push check's state and next deadline as the push rules judge it now (listener gaps not counted). */
export async function pushView(data: WebData, check: { id: number; data: string; interval: number }, now: number): Promise<PushView> {
  const row = (await data.pushState([check.id])).get(check.id);
  const facts = factsOf(row, now);
  try {
    const j = judge(parsePushParams(check.data, check.interval), facts, now);
    return { state: j.state, message: j.message, lastPingAt: facts.lastPingAt, deadline: j.deadline };
  } catch (err) {
    return { state: 'invalid', message: (err as Error).message, lastPingAt: facts.lastPingAt, deadline: null };
  }
}
