/**
 * Every SQL statement the roles run, over one Driver (MySQL or SQLite). Controller writes are
 * fenced: they run in a transaction that first locks the lease row and checks the epoch, so a
 * deposed controller can neither change a status nor claim an alert.
 */
import type { Status } from '../checks/types';
import type { Driver, Executor, Row } from './driver';
import { LATEST_VERSION, migrate, schemaVersion } from './migrations';
import { pruneRollups, upsertRollups, type RollupRow } from './rollups';

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
  state: 'pending' | 'sent' | 'dead';
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
}

/** The caller's epoch is no longer the lease's: it was deposed and must stop. */
export class FencedError extends Error {
  constructor(readonly mine: number, readonly current: number) {
    super(`fenced: this controller holds epoch ${mine} but the lease is at epoch ${current}`);
    this.name = 'FencedError';
  }
}

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

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

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
      interval: Number(r.check_interval), delay: Number(r.delay), status: r.status === 'offline' ? 'offline' : 'online',
    }));
  }

  /** Raises the epoch: from now on every write of an older holder is refused. */
  async takeOffice(holder: string, now: number): Promise<number> {
    return this.driver.transaction(async (tx) => {
      const [row] = await tx.all('SELECT epoch FROM controller_lease WHERE id = 1 FOR UPDATE');
      const epoch = Number(row?.epoch ?? 0) + 1;
      await tx.run('UPDATE controller_lease SET epoch = ?, holder = ?, taken_at = ? WHERE id = 1', [epoch, holder, now]);
      return epoch;
    });
  }

  async lease(): Promise<{ epoch: number; holder: string; takenAt: number }> {
    const [row] = await this.driver.all('SELECT epoch, holder, taken_at FROM controller_lease WHERE id = 1');
    return { epoch: Number(row?.epoch ?? 0), holder: String(row?.holder ?? ''), takenAt: Number(row?.taken_at ?? 0) };
  }

  /**
   * Runs `fn` in a transaction that holds the lease row, only while `epoch` is still current.
   * Public so the controller's other writes (push lifecycle events) share the one fence.
   */
  fenced<T>(epoch: number, fn: (tx: Executor) => Promise<T>): Promise<T> {
    return this.driver.transaction(async (tx) => {
      const [row] = await tx.all('SELECT epoch FROM controller_lease WHERE id = 1 FOR UPDATE');
      const current = Number(row?.epoch ?? 0);
      if (current !== epoch) throw new FencedError(epoch, current);
      return fn(tx);
    });
  }

  /**
   * A flip, atomically: the check's status, a check_events row, and one outbox row per enabled
   * contact whose alert type is `both` or the new status.
   */
  recordFlip(
    epoch: number,
    flip: { check: CheckRow; status: Status; message: string; now: number },
  ): Promise<{ eventId: number; outbox: OutboxRow[] }> {
    const { check, status, now } = flip;
    const message = clip(flip.message, 1024);
    return this.fenced(epoch, async (tx) => {
      await tx.run('UPDATE checks SET status = ? WHERE id = ?', [status, check.id]);
      const { insertId: eventId } = await tx.run('INSERT INTO check_events (check_id, type, message) VALUES (?, ?, ?)', [
        check.id, status, message,
      ]);
      const contacts = await tx.all(
        `SELECT contacts.id, contacts.type, contacts.data FROM alerts JOIN contacts ON contacts.id = alerts.contact_id
         WHERE alerts.check_id = ? AND alerts.enabled = 1 AND (alerts.type = 'both' OR alerts.type = ?) ORDER BY contacts.id`,
        [check.id, status],
      );
      for (const c of contacts) {
        // The flip time makes the key unique even when event ids start over (TRUNCATE check_events).
        await tx.run(
          `INSERT INTO alert_outbox (idempotency_key, event_id, check_id, contact_id, contact_type, contact_data, status, message,
             check_name, check_type, check_data, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [`gobearmon-${eventId}-${Number(c.id)}-${now}`, eventId, check.id, Number(c.id), String(c.type), String(c.data), status,
            message, check.name, check.type, check.data, now, now],
        );
      }
      // created_at tells this flip's rows from an older flip's that had the same event id.
      const outbox = contacts.length
        ? await tx.all(`SELECT ${OUTBOX_COLUMNS} FROM alert_outbox WHERE event_id = ? AND created_at = ? ORDER BY id`, [eventId, now])
        : [];
      return { eventId, outbox: outbox.map(toOutbox) };
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

  /**
   * Pending alerts that are due, or claimed by an earlier epoch (its controller died mid-send:
   * the outcome is unknown, so it is sent again under the same idempotency key).
   */
  async dueAlerts(epoch: number, now: number, limit: number): Promise<OutboxRow[]> {
    const rows = await this.driver.all(
      `SELECT ${OUTBOX_COLUMNS} FROM alert_outbox
       WHERE state = 'pending' AND (next_attempt_at <= ? OR (claim_epoch > 0 AND claim_epoch < ?)) ORDER BY next_attempt_at, id LIMIT ${Math.max(1, Math.floor(limit))}`,
      [now, epoch],
    );
    return rows.map(toOutbox);
  }

  /** Marks an alert as being sent by `epoch` until `until`; false when it is no longer pending. */
  claimAlert(epoch: number, id: number, until: number): Promise<boolean> {
    return this.fenced(epoch, async (tx) => {
      const { affectedRows } = await tx.run(
        "UPDATE alert_outbox SET claim_epoch = ?, next_attempt_at = ?, attempts = attempts + 1 WHERE id = ? AND state = 'pending'",
        [epoch, until, id],
      );
      return affectedRows === 1;
    });
  }

  /**
   * Records one attempt. On success the row is sent (and a Twilio charge written); on failure it
   * waits for `retryAt`, or dies without one. Returns whether every row of the flip is now dead.
   */
  finishAlert(epoch: number, row: OutboxRow, outcome: AttemptOutcome): Promise<{ flipDead: boolean }> {
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
        return { flipDead: false };
      }
      if (outcome.retryAt !== undefined) {
        // claim_epoch 0: the outcome is known, so a new controller waits for retryAt too.
        await tx.run("UPDATE alert_outbox SET next_attempt_at = ?, last_error = ?, claim_epoch = 0 WHERE id = ? AND state = 'pending'", [outcome.retryAt, error, row.id]);
        return { flipDead: false };
      }
      await tx.run("UPDATE alert_outbox SET state = 'dead', last_error = ? WHERE id = ? AND state = 'pending'", [error, row.id]);
      const [left] = await tx.all("SELECT COUNT(*) AS n FROM alert_outbox WHERE event_id = ? AND created_at = ? AND state <> 'dead'", [
        row.eventId, row.createdAt,
      ]);
      return { flipDead: Number(left?.n ?? 0) === 0 };
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

  close(): Promise<void> {
    return this.driver.close();
  }
}
