/**
 * Every SQL statement of push checks. Receivers write a batch of pings in one transaction that
 * first locks push_clock, so batches from all nodes are serialised: push_state.seq and ping ids
 * follow commit order, and the controller, reading under the same lock, sees every committed ping.
 */
import type { Driver, Executor, Param, Row } from '../store/driver';
import { FencedError, type Store } from '../store/store';
import { applyPing, newFacts, type Ping, type PingKind, type PushFacts } from './rules';

/** Pings kept per check; pruned once a check has this many plus PRUNE_SLACK. */
export const PINGS_KEPT = 100;
const PRUNE_SLACK = 20;
const CHUNK = 400;

export interface PushCheckRow {
  id: number;
  name: string;
  data: string;
  interval: number;
  enabled: boolean;
  status: 'online' | 'offline';
}

/** A ping addressed to a check already resolved (checkId) or by name (created when asked to). */
export interface ResolvedPing extends Ping {
  checkId: number | null;
  name?: string;
  /** Create a missing check with this period (seconds) and raise `new`. */
  createPeriodS?: number | null;
  node: string;
  remote: string;
  route: string;
}

export interface BatchOutcome {
  /** null: addressed by a name that does not exist and was not to be created. */
  checkId: number | null;
  created: boolean;
}

export interface StoredPing {
  id: number;
  checkId: number;
  kind: PingKind;
  exitStatus: number | null;
  rid: string | null;
  body: string;
  receivedAt: number;
  node: string;
  remote: string;
  route: string;
}

export interface StateRow extends PushFacts {
  checkId: number;
  seq: number;
  pings: number;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toState(r: Row): StateRow {
  return {
    checkId: Number(r.check_id), seq: Number(r.seq), pings: Number(r.pings), createdAt: Number(r.created_at),
    lastPingAt: num(r.last_ping_at), lastKind: (r.last_kind ?? null) as PingKind | null, lastSuccessAt: num(r.last_success_at),
    lastOutcome: (r.last_outcome ?? null) as PushFacts['lastOutcome'], lastOutcomeAt: num(r.last_outcome_at),
    lastMessage: String(r.last_message ?? ''), fails: Number(r.fails), runStartedAt: num(r.run_started_at),
    runRid: r.run_rid === null || r.run_rid === undefined ? null : String(r.run_rid), deregisteredAt: num(r.deregistered_at),
  };
}

const STATE_COLUMNS = ['check_id', 'seq', 'created_at', 'last_ping_at', 'last_kind', 'last_success_at', 'last_outcome', 'last_outcome_at',
  'last_message', 'fails', 'run_started_at', 'run_rid', 'deregistered_at', 'pings'];

const stateValues = (s: StateRow): Param[] => [s.checkId, s.seq, s.createdAt, s.lastPingAt, s.lastKind, s.lastSuccessAt, s.lastOutcome,
  s.lastOutcomeAt, s.lastMessage, s.fails, s.runStartedAt, s.runRid, s.deregisteredAt, s.pings];

const placeholders = (rows: number, cols: number) => Array.from({ length: rows }, () => `(${Array(cols).fill('?').join(', ')})`).join(', ');

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class PushStore {
  readonly driver: Driver;

  constructor(private readonly store: Store) {
    this.driver = store.driver;
  }

  private get ignore(): string {
    return this.driver.dialect === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
  }

  /** Every push check, enabled or not (a disabled one is paused; its pings are still kept). */
  async loadChecks(): Promise<PushCheckRow[]> {
    const rows = await this.driver.all("SELECT id, name, data, check_interval, enabled, status FROM checks WHERE type = 'push' ORDER BY id");
    return rows.map((r) => ({
      id: Number(r.id), name: String(r.name), data: String(r.data), interval: Number(r.check_interval),
      enabled: Number(r.enabled) === 1, status: r.status === 'offline' ? 'offline' : 'online',
    }));
  }

  /**
   * Writes one batch of pings durably (the group commit): creates checks asked for by name, applies
   * each ping to its check's facts in order, keeps the last PINGS_KEPT pings per check, and records
   * `new` and `deregistered` lifecycle events. One outcome per ping, in order.
   */
  writeBatch(batch: ResolvedPing[], now: number): Promise<BatchOutcome[]> {
    return this.driver.transaction(async (tx) => {
      const [clock] = await tx.all('SELECT seq, last_ping_at FROM push_clock WHERE id = 1 FOR UPDATE');
      const seq = Number(clock?.seq ?? 0) + 1;
      const outcomes: BatchOutcome[] = [];
      const byName = new Map<string, number | null>();
      for (const p of batch) {
        if (p.checkId !== null || p.name === undefined) {
          outcomes.push({ checkId: p.checkId, created: false });
          continue;
        }
        let id = byName.get(p.name);
        let created = false;
        if (id === undefined) {
          const [row] = await tx.all("SELECT id FROM checks WHERE type = 'push' AND name = ? ORDER BY id LIMIT 1", [p.name]);
          id = row ? Number(row.id) : null;
          if (id === null && p.createPeriodS) {
            id = (await tx.run("INSERT INTO checks (name, type, data, check_interval) VALUES (?, 'push', '{}', ?)", [p.name, p.createPeriodS])).insertId;
            await tx.run('INSERT INTO check_events (check_id, type, kind, message) VALUES (?, NULL, ?, ?)', [
              id, 'new', `created by a ping to ${p.route} from ${p.remote || 'unknown'} via ${p.node}`]);
            created = true;
          }
          byName.set(p.name, id);
        }
        outcomes.push({ checkId: id, created });
      }
      const ids = [...new Set(outcomes.map((o) => o.checkId).filter((id): id is number => id !== null))];
      const states = new Map<number, StateRow>();
      for (const part of chunks(ids)) {
        const rows = await tx.all(`SELECT * FROM push_state WHERE check_id IN (${part.map(() => '?').join(', ')})`, part);
        for (const r of rows) states.set(Number(r.check_id), toState(r));
      }
      const before = new Map([...states].map(([id, s]) => [id, s.deregisteredAt]));
      const pingRows: Param[][] = [];
      let lastPingAt = Number(clock?.last_ping_at ?? 0);
      batch.forEach((p, i) => {
        const id = outcomes[i].checkId;
        if (id === null) return;
        const s = states.get(id) ?? { ...newFacts(now), checkId: id, seq, pings: 0 };
        states.set(id, { ...applyPing(s, p), checkId: id, seq, pings: s.pings + 1 });
        pingRows.push([id, p.kind, p.exitStatus ?? null, p.rid ?? null, p.body ?? '', p.at, p.node, p.remote.slice(0, 64), p.route]);
        lastPingAt = Math.max(lastPingAt, p.at);
      });
      for (const part of chunks(pingRows)) {
        await tx.run(`INSERT INTO pings (check_id, kind, exit_status, rid, body, received_at, node, remote, route) VALUES ${placeholders(part.length, 9)}`, part.flat());
      }
      for (const s of states.values()) {
        const was = before.get(s.checkId) ?? null;
        if (s.deregisteredAt !== null && was === null) {
          await tx.run('UPDATE checks SET enabled = 0 WHERE id = ?', [s.checkId]);
          await tx.run('INSERT INTO check_events (check_id, type, kind, message) VALUES (?, NULL, ?, ?)', [s.checkId, 'deregistered', 'deregistered by its sender; the check is disabled']);
        } else if (s.deregisteredAt === null && was !== null) {
          await tx.run('UPDATE checks SET enabled = 1 WHERE id = ?', [s.checkId]); // it came back on its own
        }
        if (s.pings >= PINGS_KEPT + PRUNE_SLACK) {
          const [edge] = await tx.all(`SELECT id FROM pings WHERE check_id = ? ORDER BY id DESC LIMIT 1 OFFSET ${PINGS_KEPT - 1}`, [s.checkId]);
          if (edge) await tx.run('DELETE FROM pings WHERE check_id = ? AND id < ?', [s.checkId, Number(edge.id)]);
          s.pings = PINGS_KEPT;
        }
      }
      for (const part of chunks([...states.values()], 200)) {
        await tx.run(`REPLACE INTO push_state (${STATE_COLUMNS.join(', ')}) VALUES ${placeholders(part.length, STATE_COLUMNS.length)}`, part.flatMap(stateValues));
      }
      await tx.run('UPDATE push_clock SET seq = ?, last_ping_at = ? WHERE id = 1', [seq, lastPingAt]);
      return outcomes;
    });
  }

  /**
   * push_state rows changed after `seq`, read under the push_clock lock so no batch is half-seen,
   * with the cluster's last ping time.
   */
  changesSince(seq: number): Promise<{ seq: number; lastPingAt: number; states: StateRow[] }> {
    return this.driver.transaction(async (tx) => {
      const [clock] = await tx.all('SELECT seq, last_ping_at FROM push_clock WHERE id = 1 FOR UPDATE');
      const now = Number(clock?.seq ?? 0);
      const states = now > seq ? (await tx.all('SELECT * FROM push_state WHERE seq > ? ORDER BY seq', [seq])).map(toState) : [];
      return { seq: now, lastPingAt: Number(clock?.last_ping_at ?? 0), states };
    });
  }

  /** Gives checks never pinged a state row (created now), so "not registered" counts from a stored time. */
  async ensureStates(ids: number[], now: number): Promise<void> {
    for (const part of chunks(ids)) {
      await this.driver.run(`${this.ignore} INTO push_state (check_id, seq, created_at) VALUES ${placeholders(part.length, 3)}`, part.flatMap((id) => [id, 0, now]));
    }
  }

  async states(): Promise<StateRow[]> {
    return (await this.driver.all('SELECT * FROM push_state')).map(toState);
  }

  /** Starts (id null) or extends a listener session; returns its id. */
  async listening(node: string, session: number | null, now: number): Promise<number> {
    if (session !== null) {
      await this.driver.run('UPDATE push_listening SET to_at = ? WHERE id = ?', [now, session]);
      return session;
    }
    return (await this.driver.run('INSERT INTO push_listening (node, from_at, to_at) VALUES (?, ?, ?)', [node, now, now])).insertId;
  }

  async sessions(since: number): Promise<{ node: string; from: number; to: number }[]> {
    const rows = await this.driver.all('SELECT node, from_at, to_at FROM push_listening WHERE to_at >= ? ORDER BY from_at', [since]);
    return rows.map((r) => ({ node: String(r.node), from: Number(r.from_at), to: Number(r.to_at) }));
  }

  /** Sessions that ended long ago are history nobody needs (the longest window we look back over). */
  async pruneSessions(before: number): Promise<void> {
    await this.driver.run('DELETE FROM push_listening WHERE to_at < ?', [before]);
  }

  /** The newest pings of a check, newest first (for status pages and the web). */
  async recentPings(checkId: number, limit = PINGS_KEPT): Promise<StoredPing[]> {
    const rows = await this.driver.all(`SELECT * FROM pings WHERE check_id = ? ORDER BY id DESC LIMIT ${Math.max(1, Math.min(PINGS_KEPT, Math.floor(limit)))}`, [checkId]);
    return rows.map((r) => ({
      id: Number(r.id), checkId: Number(r.check_id), kind: r.kind as PingKind, exitStatus: num(r.exit_status), rid: r.rid === null ? null : String(r.rid),
      body: String(r.body ?? ''), receivedAt: Number(r.received_at), node: String(r.node), remote: String(r.remote), route: String(r.route),
    }));
  }

  /** A lifecycle event written by the controller in office (comeback), fenced like a flip. */
  recordLifecycle(epoch: number, checkId: number, kind: 'comeback', message: string): Promise<number> {
    return this.store.fenced(epoch, async (tx: Executor) => {
      const { insertId } = await tx.run('INSERT INTO check_events (check_id, type, kind, message) VALUES (?, NULL, ?, ?)', [checkId, kind, message.slice(0, 1024)]);
      return insertId;
    });
  }

  /** Lifecycle events after `id` (all checks), for the controller to mail; and where they end now. */
  async lifecycleSince(id: number): Promise<{ id: number; checkId: number; kind: string; message: string }[]> {
    const rows = await this.driver.all('SELECT id, check_id, kind, message FROM check_events WHERE id > ? AND kind IS NOT NULL ORDER BY id LIMIT 1000', [id]);
    return rows.map((r) => ({ id: Number(r.id), checkId: Number(r.check_id), kind: String(r.kind), message: String(r.message ?? '') }));
  }

  async lastEventId(): Promise<number> {
    const [row] = await this.driver.all('SELECT MAX(id) AS id FROM check_events');
    return Number(row?.id ?? 0);
  }

  async lifecycleEvents(checkId: number): Promise<{ id: number; kind: string; message: string }[]> {
    const rows = await this.driver.all('SELECT id, kind, message FROM check_events WHERE check_id = ? AND kind IS NOT NULL ORDER BY id', [checkId]);
    return rows.map((r) => ({ id: Number(r.id), kind: String(r.kind), message: String(r.message ?? '') }));
  }
}

export { FencedError };
