/**
 * Every SQL statement the roles run, over one Driver (MySQL or SQLite). Controller writes are
 * fenced: their transaction ends with a compare-and-set on the lease row (an UPDATE that must match
 * exactly one row: ours, at our epoch), so a deposed controller can neither change a status nor
 * claim an alert, and the lease row is locked only for that last statement and the COMMIT.
 */
import type { Status } from '../checks/types';
import type { Driver, Executor, Row } from './driver';
import { LATEST_VERSION, migrate, schemaVersion } from './migrations';
import { pruneRollups, upsertRollups, type RollupRow } from './rollups';
import { asciiText, fitText } from './text';
import { cancelOrphanedAlerts, isReminderKey, queueReminders, type QueuedReminder } from './reminders';

export interface CheckRow {
  id: number;
  name: string;
  type: string;
  data: string;
  /** Seconds. */
  interval: number;
  delay: number;
  status: Status;
}

export interface OutboxRow {
  id: number;
  idempotencyKey: string;
  eventId: number;
  checkId: number;
  contactId: number;
  contactType: string;
  contactData: string;
  status: Status;
  message: string;
  checkName: string;
  checkType: string;
  checkData: string;
  state: 'pending' | 'sent' | 'dead' | 'cancelled';
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  sentAt: number | null;
  providerId: string | null;
  lastError: string | null;
}

export interface AttemptRow {
  outboxId: number;
  epoch: number;
  startedAt: number;
  finishedAt: number;
  ok: boolean;
  error: string | null;
  providerId: string | null;
}

export interface AttemptOutcome {
  startedAt: number;
  finishedAt: number;
  ok: boolean;
  error?: string;
  providerId?: string;
  charge?: { type: string; data: string };
  /** When to try again after a failure; undefined after the last allowed attempt (the row dies). */
  retryAt?: number;
  /** The failure was permanent (PermanentContactError): the row dies and is marked so. */
  permanent?: boolean;
}

export interface FinishedAlert {
  /** Every row of the flip is now dead. */
  flipDead: boolean;
  /** …and at least one died of temporary failures, so undoing the flip (to try again later) may help. */
  undoWorthwhile: boolean;
}

/** The caller's epoch is no longer the lease's: it was deposed and must stop. */
export class FencedError extends Error {
  constructor(readonly mine: number, readonly current: number) {
    super(`fenced: this controller holds epoch ${mine} but the lease is at epoch ${current}`);
    this.name = 'FencedError';
  }
}

/** The lease records a newer view than the one a controller was elected in: that election is stale. */
export class StaleViewError extends Error {
  constructor(readonly view: number, readonly leaseView: number) {
    super(`stale election: view ${view} is older than the lease's view ${leaseView}`);
    this.name = 'StaleViewError';
  }
}

/** Default office lease when a caller names none (the controller passes `[controller] lease`). */
export const DEFAULT_LEASE_MS = 2_000;
/** Extra wait after a predecessor's lease ended before its in-doubt claims are sent again (clock rates). */
export const IN_DOUBT_MARGIN_MS = 500;

export interface LeaseState {
  epoch: number;
  holder: string;
  takenAt: number;
  /** The view that elected the holder (raised when a later view confirms it). */
  view: number;
  /** When the holder's lease ends, and when its predecessor's ended, on the store's clock (epoch ms). */
  expiresAt: number;
  prevExpiresAt: number;
  /** The store's clock when this was read. */
  storeNow: number;
}

/** The store's own clock in epoch ms: leases are timed by one clock, whoever reads them. */
const NOW_MS = {
  mysql: 'CAST(ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) AS SIGNED)',
  sqlite: "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)",
} as const;
const GREATEST = { mysql: 'GREATEST', sqlite: 'MAX' } as const;

const OUTBOX_COLUMNS = `id, idempotency_key, event_id, check_id, contact_id, contact_type, contact_data, status, message,
  check_name, check_type, check_data, state, attempts, next_attempt_at, created_at, sent_at, provider_id, last_error`;

function toOutbox(r: Row): OutboxRow {
  const num = (v: unknown) => Number(v);
  const opt = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    id: num(r.id), idempotencyKey: String(r.idempotency_key), eventId: num(r.event_id), checkId: num(r.check_id),
    contactId: num(r.contact_id), contactType: String(r.contact_type), contactData: String(r.contact_data),
    status: r.status as Status, message: String(r.message), checkName: String(r.check_name),
    checkType: String(r.check_type), checkData: String(r.check_data), state: r.state as OutboxRow['state'],
    attempts: num(r.attempts), nextAttemptAt: num(r.next_attempt_at), createdAt: num(r.created_at),
    sentAt: r.sent_at === null ? null : num(r.sent_at), providerId: opt(r.provider_id), lastError: opt(r.last_error),
  };
}

const clip = fitText;

/**
 * Whether an error says "the store could not be reached or did not answer" (worth waiting for)
 * rather than "this statement is wrong". A COMMIT whose outcome is unknown counts as unreachable.
 */
export function isStoreUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; fatal?: boolean };
  if (['STORE_UNAVAILABLE', 'STORE_TIMEOUT', 'COMMIT_UNKNOWN', 'SQLITE_BUSY', 'SQLITE_LOCKED'].includes(e?.code ?? '') || e?.fatal === true) return true;
  return /unavailable|timeout|timed out|took longer than|ECONN|EPIPE|connection|lost|closed state/i.test(e?.message ?? '');
}

/** MySQL's refusals of a text value (a column charset that cannot hold it, too long, collation clash). */
const TEXT_REFUSED = new Set([1366, 1406, 1267, 1270, 1271, 1300]);
const textRefused = (err: unknown) => TEXT_REFUSED.has(Number((err as { errno?: number })?.errno));

const duplicateKey = (err: unknown) => {
  const e = err as { errno?: number; code?: string };
  return e?.errno === 1062 || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/** A flip as the controller decided it; `key` is its identity: the store records one key once. */
export interface FlipRecord {
  check: CheckRow;
  status: Status;
  message: string;
  /** When the flip was decided (epoch ms): the event's time, even when it is recorded later. */
  now: number;
  key?: string;
}

export interface RecordedFlip {
  eventId: number;
  outbox: OutboxRow[];
  /** Contact ids that alerts rows of this check point at but that do not exist. */
  missingContacts: number[];
  /** The flip's key was already recorded (an earlier COMMIT landed unseen): nothing was written now. */
  replayed: boolean;
}

/**
 * Each contact once per flip: a contact linked twice (two alerts rows) or two contact rows with the
 * same type and address give one alert. Links to contacts that do not exist are returned apart.
 */
export function distinctContacts(links: Row[]): { contacts: { id: number; type: string; data: string }[]; missing: number[] } {
  const contacts: { id: number; type: string; data: string }[] = [];
  const missing = new Set<number>();
  const seenIds = new Set<number>();
  const seenAddresses = new Set<string>();
  for (const l of links) {
    if (l.found === null || l.found === undefined) {
      missing.add(Number(l.contact_id));
      continue;
    }
    const id = Number(l.found);
    const type = String(l.type);
    const data = String(l.data);
    const address = `${type.trim().toLowerCase()}\n${data.trim()}`;
    if (seenIds.has(id) || seenAddresses.has(address)) continue;
    seenIds.add(id);
    seenAddresses.add(address);
    contacts.push({ id, type, data });
  }
  return { contacts, missing: [...missing] };
}

export class Store {
  constructor(readonly driver: Driver) {}

  migrate(): Promise<string[]> {
    return migrate(this.driver);
  }

  async schemaStatus(): Promise<{ current: number; latest: number }> {
    return { current: await schemaVersion(this.driver), latest: LATEST_VERSION };
  }

  async loadChecks(): Promise<CheckRow[]> {
    const rows = await this.driver.all(
      'SELECT id, name, type, data, check_interval, delay, status FROM checks WHERE enabled = 1 ORDER BY id',
    );
    return rows.map((r) => ({
      id: Number(r.id), name: String(r.name), type: String(r.type), data: String(r.data),
      // NULL stays NaN (not 0), so the controller can name it when it clamps the schedule.
      interval: r.check_interval === null ? NaN : Number(r.check_interval), delay: r.delay === null ? NaN : Number(r.delay), status: r.status === 'offline' ? 'offline' : 'online',
    }));
  }

  private get nowMs(): string {
    return NOW_MS[this.driver.dialect];
  }

  /**
   * Raises the epoch for an election in `view` (from now on every write of an older holder is
   * refused) and starts a lease of `leaseMs` on the store's clock. One compare-and-set: refused
   * with StaleViewError when the lease records a newer view. The predecessor's expiry is kept
   * (prev_expires_at, assigned before expires_at changes) so its in-doubt claims wait for it.
   */
  async takeOffice(holder: string, now: number, view = 0, leaseMs = DEFAULT_LEASE_MS): Promise<number> {
    return this.driver.transaction(async (tx) => {
      const { affectedRows } = await tx.run(
        `UPDATE controller_lease SET prev_expires_at = ${GREATEST[this.driver.dialect]}(expires_at, prev_expires_at), epoch = epoch + 1,
           holder = ?, taken_at = ?, elected_view = ?, expires_at = ${this.nowMs} + ?, fence_seq = fence_seq + 1
         WHERE id = 1 AND elected_view <= ?`,
        [holder, now, view, Math.round(leaseMs), view],
      );
      const [row] = await tx.all('SELECT epoch, elected_view FROM controller_lease WHERE id = 1');
      // No row changed: the lease row is gone (an epoch nobody can check would fence nothing), or a newer view holds it.
      if (!row) throw new Error(`could not take office: the lease update changed ${affectedRows} rows, not 1 (the controller_lease row is missing)`);
      if (affectedRows !== 1) throw new StaleViewError(view, Number(row.elected_view ?? 0));
      return Number(row.epoch);
    });
  }

  /**
   * Extends the lease of `epoch` by `leaseMs` from the store's clock now, and records `view` if it
   * is newer; FencedError when another controller took office. The caller times its own validity
   * from before this call, by its monotonic clock.
   */
  async renewLease(epoch: number, leaseMs: number, view = 0): Promise<void> {
    const { affectedRows } = await this.driver.run(
      `UPDATE controller_lease SET expires_at = ${this.nowMs} + ?, elected_view = ${GREATEST[this.driver.dialect]}(elected_view, ?) WHERE id = 1 AND epoch = ?`,
      [Math.round(leaseMs), view, epoch],
    );
    if (affectedRows !== 1) throw new FencedError(epoch, (await this.lease()).epoch);
  }

  async leaseState(): Promise<LeaseState> {
    const [row] = await this.driver.all(
      `SELECT epoch, holder, taken_at, elected_view, expires_at, prev_expires_at, ${this.nowMs} AS store_now FROM controller_lease WHERE id = 1`,
    );
    const n = (v: unknown) => Number(v ?? 0);
    return {
      epoch: n(row?.epoch), holder: String(row?.holder ?? ''), takenAt: n(row?.taken_at), view: n(row?.elected_view),
      expiresAt: n(row?.expires_at), prevExpiresAt: n(row?.prev_expires_at), storeNow: n(row?.store_now),
    };
  }

  /** What a node needs to serve as controller, read cheaply: the lease row and the checks table. */
  async ping(): Promise<void> {
    const [lease] = await this.driver.all('SELECT epoch FROM controller_lease WHERE id = 1');
    if (!lease) throw new Error('the controller_lease row is missing');
    await this.driver.all('SELECT id FROM checks LIMIT 1');
  }

  async lease(): Promise<{ epoch: number; holder: string; takenAt: number }> {
    const [row] = await this.driver.all('SELECT epoch, holder, taken_at FROM controller_lease WHERE id = 1');
    return { epoch: Number(row?.epoch ?? 0), holder: String(row?.holder ?? ''), takenAt: Number(row?.taken_at ?? 0) };
  }

  /**
   * Runs `fn` in a transaction that commits only while `epoch` is still current: its last statement
   * is a compare-and-set on the lease row that must match exactly one row. No lease lock is taken
   * before `fn`, so the row is locked only for that statement and the COMMIT, and a write that
   * races a new election either commits before it (the election waits) or is refused and rolled back.
   * Public so the controller's other writes (push lifecycle events) share the one fence.
   */
  fenced<T>(epoch: number, fn: (tx: Executor) => Promise<T>): Promise<T> {
    return this.driver.transaction(async (tx) => {
      const result = await fn(tx);
      const { affectedRows } = await tx.run('UPDATE controller_lease SET fence_seq = fence_seq + 1 WHERE id = 1 AND epoch = ?', [epoch]);
      if (affectedRows !== 1) {
        const [row] = await tx.all('SELECT epoch FROM controller_lease WHERE id = 1');
        throw new FencedError(epoch, Number(row?.epoch ?? 0));
      }
      return result;
    });
  }

  /**
   * A flip, atomically: the check's status, a check_events row at the flip's time, and one outbox
   * row per contact (each contact once, however often it is linked) whose enabled alert type is
   * `both` or the new status. Idempotent by `key`: a key already recorded returns that flip as it
   * was written. Texts are fitted to their columns; if a column still refuses a message (not
   * utf8mb4), the flip is recorded with the message escaped to ASCII, so no text can stop it.
   */
  async recordFlip(epoch: number, flip: FlipRecord): Promise<RecordedFlip> {
    try {
      return await this.recordFlipOnce(epoch, flip, (text, n) => clip(text, n));
    } catch (err) {
      // Another attempt with this key (one that timed out but went on) committed first: read it back.
      if (flip.key !== undefined && duplicateKey(err)) return this.recordFlipOnce(epoch, flip, (text, n) => clip(text, n));
      if (!textRefused(err)) throw err;
      return this.recordFlipOnce(epoch, flip, asciiText);
    }
  }

  private recordFlipOnce(epoch: number, flip: FlipRecord, fit: (text: string, maxChars: number) => string): Promise<RecordedFlip> {
    const { check, status, now } = flip;
    const key = flip.key ?? null;
    const message = fit(flip.message, 1024);
    return this.fenced(epoch, async (tx) => {
      if (key !== null) {
        const [seen] = await tx.all('SELECT id, time FROM check_events WHERE flip_key = ?', [key]);
        if (seen) {
          const eventId = Number(seen.id);
          const outbox = await tx.all(`SELECT ${OUTBOX_COLUMNS} FROM alert_outbox WHERE event_id = ? AND created_at = ? ORDER BY id`, [eventId, now]);
          return { eventId, outbox: outbox.map(toOutbox), missingContacts: [], replayed: true };
        }
      }
      await tx.run('UPDATE checks SET status = ? WHERE id = ?', [status, check.id]);
      const time = this.driver.dialect === 'mysql' ? 'FROM_UNIXTIME(?)' : '?';
      const at = this.driver.dialect === 'mysql' ? Math.floor(now / 1000) : new Date(now).toISOString().slice(0, 19).replace('T', ' ');
      const { insertId: eventId } = await tx.run(`INSERT INTO check_events (check_id, type, message, time, flip_key) VALUES (?, ?, ?, ${time}, ?)`, [
        check.id, status, message, at, key,
      ]);
      const links = await tx.all(
        `SELECT alerts.contact_id, contacts.id AS found, contacts.type, contacts.data FROM alerts LEFT JOIN contacts ON contacts.id = alerts.contact_id
         WHERE alerts.check_id = ? AND alerts.enabled = 1 AND (alerts.type = 'both' OR alerts.type = ?) ORDER BY alerts.contact_id`,
        [check.id, status],
      );
      const { contacts, missing } = distinctContacts(links);
      for (const c of contacts) {
        // The flip time makes the key unique even when event ids start over (TRUNCATE check_events).
        await tx.run(
          `INSERT INTO alert_outbox (idempotency_key, event_id, check_id, contact_id, contact_type, contact_data, status, message,
             check_name, check_type, check_data, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [`gobearmon-${eventId}-${c.id}-${now}`, eventId, check.id, c.id, fit(c.type, 32), fit(c.data, 512), status,
            message, fit(check.name, 64), fit(check.type, 16), fit(check.data, 1024), now, now],
        );
      }
      // created_at tells this flip's rows from an older flip's that had the same event id.
      const outbox = contacts.length
        ? await tx.all(`SELECT ${OUTBOX_COLUMNS} FROM alert_outbox WHERE event_id = ? AND created_at = ? ORDER BY id`, [eventId, now])
        : [];
      return { eventId, outbox: outbox.map(toOutbox), missingContacts: missing, replayed: false };
    });
  }

  /**
   * Undoes a flip whose every contact failed for good by putting the check's stored status back,
   * but only while that flip is still the check's latest: a later flip is never undone.
   */
  revertFlip(epoch: number, checkId: number, eventId: number, status: Status): Promise<boolean> {
    return this.fenced(epoch, async (tx) => {
      const [row] = await tx.all('SELECT MAX(id) AS latest FROM check_events WHERE check_id = ?', [checkId]);
      if (Number(row?.latest) !== eventId) return false;
      await tx.run('UPDATE checks SET status = ? WHERE id = ?', [status, checkId]);
      return true;
    });
  }

  /** SQL true once every predecessor's lease has ended by the store's clock (with a margin). */
  private get predecessorsExpired(): string {
    return `(SELECT prev_expires_at FROM controller_lease WHERE id = 1) + ${IN_DOUBT_MARGIN_MS} <= ${this.nowMs}`;
  }

  /**
   * Pending alerts that are due, or claimed by an earlier epoch (its controller died mid-send:
   * the outcome is unknown, so it is sent again under the same idempotency key) once that
   * controller's lease has certainly ended: until then it may still be sending it.
   */
  async dueAlerts(epoch: number, now: number, limit: number, skipContacts: readonly number[] = []): Promise<OutboxRow[]> {
    // Contacts the dispatcher is already busy with are left out, so their backlog cannot fill the page.
    const skip = skipContacts.length ? ` AND contact_id NOT IN (${skipContacts.map((id) => Math.floor(Number(id))).join(', ')})` : '';
    const rows = await this.driver.all(
      `SELECT ${OUTBOX_COLUMNS} FROM alert_outbox
       WHERE state = 'pending' AND (claim_epoch = 0 OR claim_epoch >= ? OR ${this.predecessorsExpired})
         AND (next_attempt_at <= ? OR (claim_epoch > 0 AND claim_epoch < ?))${skip} ORDER BY next_attempt_at, id LIMIT ${Math.max(1, Math.floor(limit))}`,
      [epoch, now, epoch],
    );
    return rows.map(toOutbox);
  }

  /**
   * Marks an alert as being sent by `epoch` until `until`; false when it is no longer pending, or
   * when an earlier epoch claimed it and that controller's lease may not have ended yet.
   */
  claimAlert(epoch: number, id: number, until: number): Promise<boolean> {
    return this.fenced(epoch, async (tx) => {
      const { affectedRows } = await tx.run(
        `UPDATE alert_outbox SET claim_epoch = ?, next_attempt_at = ?, attempts = attempts + 1
         WHERE id = ? AND state = 'pending' AND (claim_epoch = 0 OR claim_epoch >= ? OR ${this.predecessorsExpired})`,
        [epoch, until, id, epoch],
      );
      return affectedRows === 1;
    });
  }

  /**
   * Records one attempt. On success the row is sent (and a Twilio charge written); on failure it
   * waits for `retryAt`, or dies without one. Returns whether every row of the flip is now dead.
   */
  finishAlert(epoch: number, row: OutboxRow, outcome: AttemptOutcome): Promise<FinishedAlert> {
    const error = outcome.error === undefined ? null : clip(outcome.error, 1024);
    return this.fenced(epoch, async (tx) => {
      await tx.run(
        'INSERT INTO alert_attempts (outbox_id, epoch, started_at, finished_at, ok, error, provider_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [row.id, epoch, outcome.startedAt, outcome.finishedAt, outcome.ok ? 1 : 0, error, outcome.providerId ?? null],
      );
      if (outcome.ok) {
        await tx.run("UPDATE alert_outbox SET state = 'sent', sent_at = ?, provider_id = ?, last_error = NULL WHERE id = ? AND state = 'pending'", [
          outcome.finishedAt, outcome.providerId ?? null, row.id,
        ]);
        if (outcome.charge) {
          await tx.run('INSERT INTO charges (check_id, type, data) VALUES (?, ?, ?)', [row.checkId, outcome.charge.type, outcome.charge.data]);
        }
        return { flipDead: false, undoWorthwhile: false };
      }
      if (outcome.retryAt !== undefined && !outcome.permanent) {
        // claim_epoch 0: the outcome is known, so a new controller waits for retryAt too.
        await tx.run("UPDATE alert_outbox SET next_attempt_at = ?, last_error = ?, claim_epoch = 0 WHERE id = ? AND state = 'pending'", [outcome.retryAt, error, row.id]);
        return { flipDead: false, undoWorthwhile: false };
      }
      await tx.run("UPDATE alert_outbox SET state = 'dead', last_error = ?, permanent = ? WHERE id = ? AND state = 'pending'", [
        error, outcome.permanent ? 1 : 0, row.id,
      ]);
      // A locking read sees the flip's other rows as committed by concurrent attempts (a plain read
      // would see this transaction's snapshot, and two last rows dying together would both miss it).
      const [left] = await tx.all(
        "SELECT COUNT(*) AS n, SUM(CASE WHEN state = 'dead' AND permanent = 0 THEN 1 ELSE 0 END) AS temporary FROM alert_outbox WHERE event_id = ? AND created_at = ? AND (state <> 'dead' OR permanent = 0) FOR UPDATE",
        [row.eventId, row.createdAt],
      );
      const alive = Number(left?.n ?? 0) - Number(left?.temporary ?? 0);
      // A dead reminder is not a dead flip: the flip itself was delivered or not on its own rows.
      const flipDead = alive === 0 && !isReminderKey(row.idempotencyKey);
      return { flipDead, undoWorthwhile: flipDead && Number(left?.temporary ?? 0) > 0 };
    });
  }

  async outboxForCheck(checkId: number): Promise<OutboxRow[]> {
    const rows = await this.driver.all(`SELECT ${OUTBOX_COLUMNS} FROM alert_outbox WHERE check_id = ? ORDER BY id`, [checkId]);
    return rows.map(toOutbox);
  }

  async attempts(outboxId: number): Promise<AttemptRow[]> {
    const rows = await this.driver.all(
      'SELECT outbox_id, epoch, started_at, finished_at, ok, error, provider_id FROM alert_attempts WHERE outbox_id = ? ORDER BY id',
      [outboxId],
    );
    return rows.map((r) => ({
      outboxId: Number(r.outbox_id), epoch: Number(r.epoch), startedAt: Number(r.started_at), finishedAt: Number(r.finished_at),
      ok: Number(r.ok) === 1, error: r.error === null ? null : String(r.error), providerId: r.provider_id === null ? null : String(r.provider_id),
    }));
  }

  /** The per-minute totals this epoch applied (web history); fenced like every controller write. */
  writeRollups(epoch: number, rows: RollupRow[]): Promise<void> {
    return this.fenced(epoch, (tx) => upsertRollups(tx, this.driver.dialect, epoch, rows));
  }

  pruneRollups(epoch: number, beforeMinute: number, limit: number): Promise<number> {
    return this.fenced(epoch, (tx) => pruneRollups(tx, this.driver.dialect, beforeMinute, limit));
  }

  async listContacts(): Promise<{ id: number; type: string; data: string }[]> {
    const rows = await this.driver.all('SELECT id, type, data FROM contacts ORDER BY id');
    return rows.map((r) => ({ id: Number(r.id), type: String(r.type), data: String(r.data) }));
  }

  /** Reminders due while checks stay offline, and cancellation of rows nobody should get (migration 7). */
  outboxUpkeep(epoch: number, now: number): Promise<{ reminders: QueuedReminder[]; cancelled: number }> {
    return this.fenced(epoch, async (tx) => ({ cancelled: await cancelOrphanedAlerts(tx), reminders: await queueReminders(tx, this.driver.dialect, now) }));
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
