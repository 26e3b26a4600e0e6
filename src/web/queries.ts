/** Every read the web role makes, over the store's Driver; nothing here writes except pause/resume. */
import type { Driver, Row } from '../store/driver';
import { parseTags, type CheckSummary, type Flip, type WebStatus } from './model';

export interface MinuteStat {
  minute: number;
  runs: number;
  failures: number;
  meanMs: number;
  maxMs: number;
}

export interface LastResult {
  at: number;
  ms: number;
  ok: boolean;
}

export interface CheckDetail extends CheckSummary {
  data: string;
  delay: number;
}

export interface FlipRow extends Flip {
  id: number;
  message: string;
}

export interface AttemptView {
  outboxId: number;
  contactId: number;
  contactType: string;
  status: string;
  state: string;
  attempts: number;
  createdAt: number;
  sentAt: number | null;
  lastError: string | null;
  tries: { startedAt: number; finishedAt: number; ok: boolean; error: string | null }[];
}

export interface PingRow {
  id: number;
  kind: string;
  exitStatus: number | null;
  body: string;
  receivedAt: number;
  remote: string;
}

const num = (v: unknown) => Number(v);
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

function toSummary(r: Row): CheckSummary {
  const status: WebStatus = Number(r.enabled) !== 1 ? 'paused' : r.status === 'offline' ? 'offline' : 'online';
  return { id: num(r.id), name: String(r.name), type: String(r.type), status, tags: parseTags(String(r.tags ?? '')), interval: num(r.check_interval) };
}

export class WebData {
  constructor(readonly db: Driver) {}

  private flipTime(): string {
    return this.db.dialect === 'mysql' ? 'UNIX_TIMESTAMP(time) * 1000' : "CAST(strftime('%s', time) AS INTEGER) * 1000";
  }

  async checks(): Promise<CheckSummary[]> {
    const rows = await this.db.all('SELECT id, name, type, status, enabled, tags, check_interval FROM checks ORDER BY id');
    return rows.map(toSummary);
  }

  async check(id: number): Promise<CheckDetail | null> {
    const [r] = await this.db.all('SELECT id, name, type, data, status, enabled, tags, check_interval, delay FROM checks WHERE id = ?', [id]);
    return r ? { ...toSummary(r), data: String(r.data), delay: num(r.delay) } : null;
  }

  /** Per-minute totals of the given checks since `fromMinute`, the epochs of a minute summed. */
  async minutes(ids: number[], fromMinute: number, toMinute = Number.MAX_SAFE_INTEGER): Promise<Map<number, MinuteStat[]>> {
    const out = new Map<number, MinuteStat[]>(ids.map((id) => [id, []]));
    if (!ids.length) return out;
    const rows = await this.db.all(
      `SELECT check_id, minute, SUM(runs) AS runs, SUM(failures) AS failures, SUM(sum_ms) AS sum_ms, MAX(max_ms) AS max_ms
       FROM check_rollups WHERE check_id IN (${placeholders(ids.length)}) AND minute >= ? AND minute <= ? GROUP BY check_id, minute ORDER BY check_id, minute`,
      [...ids, fromMinute, toMinute],
    );
    for (const r of rows) {
      const runs = num(r.runs);
      out.get(num(r.check_id))?.push({ minute: num(r.minute), runs, failures: num(r.failures), meanMs: runs ? num(r.sum_ms) / runs : 0, maxMs: num(r.max_ms) });
    }
    return out;
  }

  /** The latest result of each check seen since `fromMinute`. */
  async lastResults(ids: number[], fromMinute: number): Promise<Map<number, LastResult>> {
    const out = new Map<number, LastResult>();
    if (!ids.length) return out;
    const rows = await this.db.all(
      `SELECT check_id, last_at, last_ms, last_ok FROM check_rollups WHERE check_id IN (${placeholders(ids.length)}) AND minute >= ?`,
      [...ids, fromMinute],
    );
    for (const r of rows) {
      const id = num(r.check_id);
      const at = num(r.last_at);
      if ((out.get(id)?.at ?? -1) < at) out.set(id, { at, ms: num(r.last_ms), ok: Number(r.last_ok) === 1 });
    }
    return out;
  }

  /** Flips (not push lifecycle events) of the given checks since `since` (epoch ms), oldest first. */
  async flips(ids: number[], since: number, limit = 100_000): Promise<Map<number, FlipRow[]>> {
    const out = new Map<number, FlipRow[]>(ids.map((id) => [id, []]));
    if (!ids.length) return out;
    const rows = await this.db.all(
      `SELECT id, check_id, type, message, ${this.flipTime()} AS at FROM check_events
       WHERE check_id IN (${placeholders(ids.length)}) AND type IS NOT NULL AND time >= ${this.db.dialect === 'mysql' ? 'FROM_UNIXTIME(?)' : '?'} ORDER BY id LIMIT ${Math.floor(limit)}`,
      [...ids, this.sqlTime(since)],
    );
    for (const r of rows) out.get(num(r.check_id))?.push({ id: num(r.id), at: num(r.at), status: r.type === 'offline' ? 'offline' : 'online', message: String(r.message ?? '') });
    return out;
  }

  /** The newest `limit` flips of all checks (or of `ids`), newest first. */
  async recentFlips(limit: number, ids?: number[]): Promise<(FlipRow & { checkId: number })[]> {
    if (ids && !ids.length) return [];
    const where = ids ? `AND check_id IN (${placeholders(ids.length)})` : '';
    const rows = await this.db.all(
      `SELECT id, check_id, type, message, ${this.flipTime()} AS at FROM check_events WHERE type IS NOT NULL ${where} ORDER BY id DESC LIMIT ${Math.floor(limit)}`,
      ids ?? [],
    );
    return rows.map((r) => ({ id: num(r.id), checkId: num(r.check_id), at: num(r.at), status: r.type === 'offline' ? 'offline' : 'online', message: String(r.message ?? '') }));
  }

  /** check_events.time is a TIMESTAMP (MySQL: compared via FROM_UNIXTIME) or UTC text (SQLite). */
  private sqlTime(ms: number): string | number {
    return this.db.dialect === 'mysql' ? Math.floor(ms / 1000) : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  }

  async alertHistory(checkId: number, limit = 50): Promise<AttemptView[]> {
    const rows = await this.db.all(
      `SELECT id, contact_id, contact_type, status, state, attempts, created_at, sent_at, last_error FROM alert_outbox
       WHERE check_id = ? ORDER BY id DESC LIMIT ${Math.floor(limit)}`,
      [checkId],
    );
    const views: AttemptView[] = rows.map((r) => ({
      outboxId: num(r.id), contactId: num(r.contact_id), contactType: String(r.contact_type), status: String(r.status), state: String(r.state),
      attempts: num(r.attempts), createdAt: num(r.created_at), sentAt: r.sent_at === null ? null : num(r.sent_at),
      lastError: r.last_error === null ? null : String(r.last_error), tries: [],
    }));
    if (!views.length) return views;
    const tries = await this.db.all(
      `SELECT outbox_id, started_at, finished_at, ok, error FROM alert_attempts WHERE outbox_id IN (${placeholders(views.length)}) ORDER BY id`,
      views.map((v) => v.outboxId),
    );
    const byId = new Map(views.map((v) => [v.outboxId, v]));
    for (const t of tries) {
      byId.get(num(t.outbox_id))?.tries.push({ startedAt: num(t.started_at), finishedAt: num(t.finished_at), ok: Number(t.ok) === 1, error: t.error === null ? null : String(t.error) });
    }
    return views;
  }

  async pings(checkId: number, limit = 50): Promise<PingRow[]> {
    const rows = await this.db.all(
      `SELECT id, kind, exit_status, body, received_at, remote FROM pings WHERE check_id = ? ORDER BY id DESC LIMIT ${Math.floor(limit)}`,
      [checkId],
    );
    return rows.map((r) => ({
      id: num(r.id), kind: String(r.kind), exitStatus: r.exit_status === null ? null : num(r.exit_status), body: String(r.body ?? ''),
      receivedAt: num(r.received_at), remote: String(r.remote),
    }));
  }

  /** push_state rows by check id (last ping per push check). */
  async pushState(ids: number[]): Promise<Map<number, Row>> {
    const out = new Map<number, Row>();
    if (!ids.length) return out;
    const rows = await this.db.all(`SELECT * FROM push_state WHERE check_id IN (${placeholders(ids.length)})`, ids);
    for (const r of rows) out.set(num(r.check_id), r);
    return out;
  }

  async setEnabled(id: number, enabled: boolean): Promise<boolean> {
    const { affectedRows } = await this.db.run('UPDATE checks SET enabled = ? WHERE id = ?', [enabled ? 1 : 0, id]);
    if (affectedRows === 1) return true;
    // MySQL counts only changed rows: an already-paused check is still found.
    return (await this.db.all('SELECT id FROM checks WHERE id = ?', [id])).length === 1;
  }

  async lease(): Promise<{ epoch: number; holder: string; takenAt: number }> {
    const [r] = await this.db.all('SELECT epoch, holder, taken_at FROM controller_lease WHERE id = 1');
    return { epoch: num(r?.epoch ?? 0), holder: String(r?.holder ?? ''), takenAt: num(r?.taken_at ?? 0) };
  }

  /** Store-wide counters for /metrics. */
  async counters(): Promise<{ results: number; flips: number; alertsSent: number; alertsFailed: number }> {
    const [[a], [b], [c], [d]] = await Promise.all([
      this.db.all('SELECT COALESCE(SUM(runs), 0) AS n FROM check_rollups'),
      this.db.all('SELECT COUNT(*) AS n FROM check_events WHERE type IS NOT NULL'),
      this.db.all("SELECT COUNT(*) AS n FROM alert_outbox WHERE state = 'sent'"),
      this.db.all('SELECT COUNT(*) AS n FROM alert_attempts WHERE ok = 0'),
    ]);
    return { results: num(a.n), flips: num(b.n), alertsSent: num(c.n), alertsFailed: num(d.n) };
  }
}

/** The latest result of every check seen since `fromMinute` (for /metrics: one query, no id list). */
export async function lastResultsAll(db: Driver, fromMinute: number): Promise<Map<number, LastResult>> {
  const rows = await db.all('SELECT check_id, last_at, last_ms, last_ok FROM check_rollups WHERE minute >= ?', [fromMinute]);
  const out = new Map<number, LastResult>();
  for (const r of rows) {
    const id = num(r.check_id);
    const at = num(r.last_at);
    if ((out.get(id)?.at ?? -1) < at) out.set(id, { at, ms: num(r.last_ms), ok: Number(r.last_ok) === 1 });
  }
  return out;
}

/** Last ping time of every push check. */
export async function lastPings(db: Driver): Promise<Map<number, number>> {
  const rows = await db.all('SELECT check_id, last_ping_at FROM push_state WHERE last_ping_at IS NOT NULL');
  return new Map(rows.map((r) => [num(r.check_id), num(r.last_ping_at)]));
}
