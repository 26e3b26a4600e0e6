/**
 * Sends the alert outbox. A row is claimed (fenced) before it is sent, marked sent only after the
 * contact accepted it, retried with exponential backoff up to a limit, and every attempt recorded.
 * A deposed controller's claim is refused, so it cannot send.
 */
import type { Config } from '../config/types';
import type { AlertNotice, SendResult } from '../contacts/types';
import { FencedError, type OutboxRow, type Store } from '../store/store';
import type { Logger } from '../util/log';

export type SendFn = (type: string, data: string, notice: AlertNotice, config: Config) => Promise<SendResult>;

export interface DispatcherHooks {
  /** Every row of a flip failed for good. */
  onFlipDead(row: OutboxRow): void;
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
const PARALLEL = 16;

export class AlertDispatcher {
  private epoch = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private readonly inFlight = new Set<number>();

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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Looks at the outbox now (a flip was just recorded), and then every second. */
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

  /** Resolves when nothing is being sent (for a clean shutdown). */
  async idle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((this.running || this.inFlight.size) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  private async pass(): Promise<void> {
    const epoch = this.epoch;
    if (this.hooks.mayAct && !this.hooks.mayAct()) return; // no lease: not even a read of the outbox
    try {
      const due = (await this.store.dueAlerts(epoch, this.clock(), 100)).filter((r) => !this.inFlight.has(r.id));
      for (let i = 0; i < due.length && this.epoch === epoch; i += PARALLEL) {
        await Promise.all(due.slice(i, i + PARALLEL).map((row) => this.deliver(epoch, row)));
      }
    } catch (err) {
      if (err instanceof FencedError) this.hooks.onFenced(err);
      else this.log.error({ event: 'outbox_error', err: (err as Error).message }, 'could not read the alert outbox');
    }
  }

  private async deliver(epoch: number, row: OutboxRow): Promise<void> {
    this.inFlight.add(row.id);
    try {
      if (!this.mayAct(row, 'claim')) return;
      if (!(await this.store.claimAlert(epoch, row.id, this.clock() + CLAIM_MS))) return;
      const attempt = row.attempts + 1;
      const startedAt = this.clock();
      const notice: AlertNotice = {
        checkId: row.checkId, checkName: row.checkName, checkType: row.checkType, checkData: row.checkData,
        status: row.status, message: row.message, idempotencyKey: row.idempotencyKey,
      };
      const ids = { check_id: row.checkId, contact_id: row.contactId, contact_type: row.contactType, outbox_id: row.id, attempt, epoch };
      try {
        // The last moment to stop: a claim made just before a freeze is not sent after it.
        if (!this.mayAct(row, 'send')) return;
        const sent = await this.send(row.contactType, row.contactData, notice, this.config);
        await this.store.finishAlert(epoch, row, { startedAt, finishedAt: this.clock(), ok: true, providerId: sent.providerId, charge: sent.charge });
        this.log.info({ event: 'alert_sent', ...ids, status: row.status, provider_id: sent.providerId }, 'alert sent');
      } catch (err) {
        if (err instanceof FencedError) throw err;
        const error = (err as Error).message;
        const retryAt = attempt < this.config.controller.alertMaxAttempts ? this.clock() + this.backoff(attempt) : undefined;
        const { flipDead } = await this.store.finishAlert(epoch, row, { startedAt, finishedAt: this.clock(), ok: false, error, retryAt });
        this.log.warn({ event: 'alert_failed', ...ids, error, retry_at: retryAt ?? null }, retryAt ? 'alert failed, will retry' : 'alert failed for good');
        if (flipDead) this.hooks.onFlipDead(row);
      }
    } catch (err) {
      if (err instanceof FencedError) this.hooks.onFenced(err);
      else this.log.error({ event: 'outbox_error', outbox_id: row.id, err: (err as Error).message }, 'could not record an alert attempt');
    } finally {
      this.inFlight.delete(row.id);
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
