/**
 * Outbox upkeep the controller in office runs at every reload (migration 7):
 * - reminders: while a check stays offline, each alert with `remind` seconds gets a new outbox row
 *   when its contact was last notified that long ago (and nothing is still pending for it);
 * - cancellation: pending rows whose alert or contact was deleted, or whose alert was disabled,
 *   end as `cancelled` instead of being retried for an hour.
 * Both run inside the caller's fenced transaction, so only the controller in office writes them.
 */
import type { Dialect } from './schema';
import type { Executor } from './driver';

/** Reminder rows are told apart by their key (no extra column): `gobearmon-remind-EVENT-CONTACT-N`. */
export const REMIND_KEY_PREFIX = 'gobearmon-remind-';

export function reminderKey(eventId: number, contactId: number, n: number): string {
  return `${REMIND_KEY_PREFIX}${eventId}-${contactId}-${n}`;
}

export function isReminderKey(key: string): boolean {
  return key.startsWith(REMIND_KEY_PREFIX);
}

/** Whether a reminder is due: `remindS` after the contact's last notice (a pure rule, tested alone). */
export function reminderDue(lastNoticeAt: number, remindS: number, now: number): boolean {
  return remindS > 0 && now >= lastNoticeAt + remindS * 1000;
}

export interface QueuedReminder {
  checkId: number;
  contactId: number;
  eventId: number;
  n: number;
}

/** Queues the reminders due at `now`; returns what it queued. */
export async function queueReminders(tx: Executor, dialect: Dialect, now: number): Promise<QueuedReminder[]> {
  const candidates = await tx.all(
    `SELECT alerts.check_id, alerts.contact_id, alerts.remind, contacts.type AS contact_type, contacts.data AS contact_data,
            checks.name, checks.type, checks.data
       FROM alerts JOIN checks ON checks.id = alerts.check_id JOIN contacts ON contacts.id = alerts.contact_id
      WHERE alerts.enabled = 1 AND alerts.remind > 0 AND alerts.type IN ('both', 'offline')
        AND checks.enabled = 1 AND checks.status = 'offline'
      ORDER BY alerts.check_id, alerts.contact_id`,
  );
  const queued: QueuedReminder[] = [];
  const insert = dialect === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
  for (const c of candidates) {
    const checkId = Number(c.check_id);
    const contactId = Number(c.contact_id);
    // The flip that made it offline is the check's latest event.
    const [event] = await tx.all('SELECT id, type FROM check_events WHERE check_id = ? ORDER BY id DESC LIMIT 1', [checkId]);
    if (!event || event.type !== 'offline') continue;
    const eventId = Number(event.id);
    const rows = await tx.all(
      'SELECT contact_id, idempotency_key, state, created_at, message FROM alert_outbox WHERE event_id = ? AND check_id = ? ORDER BY created_at, id',
      [eventId, checkId],
    );
    if (rows.length === 0) continue; // no notice was ever queued for this flip: nothing to remind of
    const mine = rows.filter((r) => Number(r.contact_id) === contactId);
    if (mine.some((r) => r.state === 'pending')) continue; // still delivering the last one
    const flipAt = Number(rows[0].created_at);
    const lastAt = mine.length ? Number(mine[mine.length - 1].created_at) : flipAt;
    if (!reminderDue(lastAt, Number(c.remind), now)) continue;
    const n = mine.filter((r) => isReminderKey(String(r.idempotency_key))).length + 1;
    const { affectedRows } = await tx.run(
      `${insert} INTO alert_outbox (idempotency_key, event_id, check_id, contact_id, contact_type, contact_data, status, message,
         check_name, check_type, check_data, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'offline', ?, ?, ?, ?, ?, ?)`,
      [reminderKey(eventId, contactId, n), eventId, checkId, contactId, String(c.contact_type), String(c.contact_data),
        String(rows[0].message), String(c.name), String(c.type), String(c.data), now, now],
    );
    if (affectedRows === 1) queued.push({ checkId, contactId, eventId, n });
  }
  return queued;
}

export const CANCELLED_REASON = 'cancelled: the alert or contact was deleted or disabled';

/** Ends pending rows nobody should get any more; returns how many. */
export async function cancelOrphanedAlerts(tx: Executor): Promise<number> {
  const { affectedRows } = await tx.run(
    `UPDATE alert_outbox SET state = 'cancelled', last_error = ?
      WHERE state = 'pending' AND NOT EXISTS (
        SELECT 1 FROM alerts JOIN contacts ON contacts.id = alerts.contact_id
         WHERE alerts.check_id = alert_outbox.check_id AND alerts.contact_id = alert_outbox.contact_id AND alerts.enabled = 1)`,
    [CANCELLED_REASON],
  );
  return affectedRows;
}
