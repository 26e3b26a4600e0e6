/**
 * Sends the alert outbox. A row is claimed (fenced) before it is sent, marked sent only after the
 * contact accepted it, retried with exponential backoff up to a limit, and every attempt recorded.
 * A deposed controller's claim is refused, so it cannot send.
 *
 * Deliveries run side by side, bounded per contact and overall, so a contact that never answers
 * holds only its own alerts. The send and the recording of its outcome are apart: a failed write of
 * the outcome is retried (soon), never the send. A permanent contact error ends the delivery at once.
 */
import type { Config } from '../config/types';
import { isPermanentContactError, type AlertNotice, type SendResult } from '../contacts/types';
import { isReminderKey } from '../store/reminders';
import { FencedError, type AttemptOutcome, type FinishedAlert, type OutboxRow, type Store } from '../store/store';
import type { Logger } from '../util/log';

export type SendFn = (type: string, data: string, notice: AlertNotice, config: Config) => Promise<SendResult>;

export interface DispatcherHooks {
  /** Every row of a flip failed for good; `undoWorthwhile` when some failed only temporarily. */
  onFlipDead(row: OutboxRow, undoWorthwhile: boolean): void;
  /** A contact refused an alert for good (PermanentContactError): the row is dead, the admin should hear. */
  onPermanentFailure?(row: OutboxRow, error: string): void;
  /** The store refused our epoch. */
  onFenced(err: FencedError): void;
  /**
   * Whether this controller may act now: its office lease is still valid by its own monotonic
   * clock, with a margin. Asked before each claim and again right before each send (SPEC §12).
   */
  mayAct?(): boolean;
}

/** How long a claim keeps other controllers of the same epoch off a row while it is being sent. */
const CLAIM_MS = 60_000;
const POLL_MS = 1_000;
/** Rows read per pass. */
const PAGE = 100;
/** Sends at once to one contact, and in all. */
export const PER_CONTACT_PARALLEL = 4;
export const PARALLEL = 32;
/** Retrying the record of an outcome: first wait, doubling up to the cap, while in office. */
const RECORD_RETRY_FIRST_MS = 200;
const RECORD_RETRY_MAX_MS = 5_000;

export class AlertDispatcher {
  private epoch = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private readonly inFlight = new Set<number>();
  /** Sends in progress per contact id. */
  private readonly busy = new Map<number, number>();
  /** Rows whose claim failed in the store: the claim may have landed unseen, so they are not due
   * by the outbox's clock for a minute; they were not sent, so they are claimed again next pass. */
  private readonly unclaimed = new Map<number, OutboxRow>();

  constructor(
    private readonly store: Store,
    private readonly config: Config,
    private readonly send: SendFn,
    private readonly log: Logger,
    private readonly hooks: DispatcherHooks,
    private readonly clock: () => number = Date.now,
  ) {}

  start(epoch: number): void {
    this.epoch = epoch;
    this.kick();
  }

  stop(): void {
    this.epoch = 0;
    this.unclaimed.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Looks at the outbox now (a flip was just recorded, a send ended), and then every second. */
  kick(): void {
    if (!this.epoch) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = true;
    void this.pass().finally(() => {
      this.running = false;
      if (!this.epoch) return;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.timer = setTimeout(() => this.kick(), POLL_MS);
    });
  }

  /** Resolves when nothing is being sent or recorded (for a clean shutdown). */
  async idle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((this.running || this.inFlight.size) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  /** Starts a delivery for every due row that has a free slot; does not wait for them. */
  private async pass(): Promise<void> {
    const epoch = this.epoch;
    if (this.hooks.mayAct && !this.hooks.mayAct()) return; // no lease: not even a read of the outbox
    try {
      if (this.inFlight.size >= PARALLEL) return;
      const full = [...this.busy].filter(([, n]) => n >= PER_CONTACT_PARALLEL).map(([id]) => id);
      const due = await this.store.dueAlerts(epoch, this.clock(), PAGE, full);
      const rows = new Map([...this.unclaimed, ...due.map((r) => [r.id, r] as const)]);
      for (const row of rows.values()) {
        if (this.epoch !== epoch || this.inFlight.size >= PARALLEL) break;
        if (this.inFlight.has(row.id) || (this.busy.get(row.contactId) ?? 0) >= PER_CONTACT_PARALLEL) continue;
        this.unclaimed.delete(row.id);
        this.inFlight.add(row.id);
        this.busy.set(row.contactId, (this.busy.get(row.contactId) ?? 0) + 1);
        void this.deliver(epoch, row).finally(() => {
          this.inFlight.delete(row.id);
          const n = (this.busy.get(row.contactId) ?? 1) - 1;
          if (n > 0) this.busy.set(row.contactId, n);
          else this.busy.delete(row.contactId);
          this.kick(); // a slot is free
        });
      }
    } catch (err) {
      if (err instanceof FencedError) this.hooks.onFenced(err);
      else this.log.error({ event: 'outbox_error', err: (err as Error).message }, 'could not read the alert outbox');
    }
  }

  private async deliver(epoch: number, row: OutboxRow): Promise<void> {
    const attempt = row.attempts + 1;
    const ids = { check_id: row.checkId, contact_id: row.contactId, contact_type: row.contactType, outbox_id: row.id, attempt, epoch };
    try {
      if (!this.mayAct(row, 'claim')) return;
      if (!(await this.store.claimAlert(epoch, row.id, this.clock() + CLAIM_MS))) return;
    } catch (err) {
      if (err instanceof FencedError) return this.hooks.onFenced(err);
      if (this.epoch === epoch) this.unclaimed.set(row.id, row);
      this.log.error({ event: 'outbox_error', ...ids, err: (err as Error).message }, 'could not claim an alert; it is tried again shortly');
      return;
    }
    if (this.epoch !== epoch) return; // stepped down while claiming: a successor resends under the same key
    const startedAt = this.clock();
    const notice: AlertNotice = {
      checkId: row.checkId, checkName: row.checkName, checkType: row.checkType, checkData: row.checkData,
      status: row.status, message: row.message, idempotencyKey: row.idempotencyKey,
      event: isReminderKey(row.idempotencyKey) ? 'reminder' : 'alert', time: row.createdAt,
    };
    // The last moment to stop: a claim made just before a freeze is not sent after it.
    if (!this.mayAct(row, 'send')) return;
    let outcome: AttemptOutcome;
    try {
      const sent = await this.send(row.contactType, row.contactData, notice, this.config);
      outcome = { startedAt, finishedAt: this.clock(), ok: true, providerId: sent.providerId, charge: sent.charge };
      this.log.info({ event: 'alert_sent', ...ids, status: row.status, provider_id: sent.providerId }, 'alert sent');
    } catch (err) {
      const error = (err as Error)?.message ?? String(err);
      const permanent = isPermanentContactError(err);
      const retryAt = !permanent && attempt < this.config.controller.alertMaxAttempts ? this.clock() + this.backoff(attempt) : undefined;
      outcome = { startedAt, finishedAt: this.clock(), ok: false, error, retryAt, permanent };
      const why = permanent ? 'alert refused for good (permanent error)' : retryAt ? 'alert failed, will retry' : 'alert failed for good';
      this.log.warn({ event: 'alert_failed', ...ids, error, permanent, retry_at: retryAt ?? null }, why);
    }
    const finished = await this.record(epoch, row, outcome, ids);
    if (!finished) return;
    if (outcome.permanent) this.hooks.onPermanentFailure?.(row, outcome.error ?? '');
    if (finished.flipDead) this.hooks.onFlipDead(row, finished.undoWorthwhile);
  }

  /**
   * Writes an attempt's outcome, retrying the write (never the send) until it lands, the store
   * fences us, or we leave office; null when it did not land.
   */
  private async record(epoch: number, row: OutboxRow, outcome: AttemptOutcome, ids: object): Promise<FinishedAlert | null> {
    for (let wait = RECORD_RETRY_FIRST_MS; ; wait = Math.min(RECORD_RETRY_MAX_MS, wait * 2)) {
      try {
        return await this.store.finishAlert(epoch, row, outcome);
      } catch (err) {
        if (err instanceof FencedError) {
          this.hooks.onFenced(err);
          return null;
        }
        this.log.error({ event: 'outbox_record_error', ...ids, ok: outcome.ok, err: (err as Error).message, retry_in_ms: wait },
          'could not record an alert attempt; retrying the record, not the send');
      }
      await new Promise((r) => setTimeout(r, wait));
      if (this.epoch !== epoch) return null; // a successor resends under the same key: at least once
    }
  }

  /** The lease gate; a refusal is logged (the row stays claimed: a successor resends it after our lease). */
  private mayAct(row: OutboxRow, before: 'claim' | 'send'): boolean {
    if (!this.hooks.mayAct || this.hooks.mayAct()) return true;
    this.log.warn({ event: 'alert_withheld', outbox_id: row.id, check_id: row.checkId, before, epoch: this.epoch }, `lease not valid: alert not ${before === 'claim' ? 'claimed' : 'sent'}`);
    return false;
  }

  /** base × 2^(attempt-1), capped, with ±20% jitter so many failing contacts do not retry in step. */
  private backoff(attempt: number): number {
    const { alertRetryBaseMs, alertRetryMaxMs } = this.config.controller;
    const raw = Math.min(alertRetryMaxMs, alertRetryBaseMs * 2 ** (attempt - 1));
    return Math.round(raw * (0.8 + Math.random() * 0.4));
  }
}
