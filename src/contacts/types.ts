/** Contract shared by every contact type (one module per type, see registry.ts). */
import type { Config } from '../config/types';
import type { Status } from '../checks/types';

/** Everything a contact needs to tell a person about one flip. */
export interface AlertNotice {
  checkId: number;
  checkName: string;
  checkType: string;
  checkData: string;
  status: Status;
  message: string;
  /** Stable per (flip, contact): lets a receiver drop a resend after a failover. */
  idempotencyKey: string;
  /** `alert` for a flip, `reminder` for a repeat while the check stays down (default alert). */
  event?: 'alert' | 'reminder';
  /** When the flip (or reminder) was recorded, epoch ms (default: now). */
  time?: number;
  /** The check's tags, when the store has them. */
  tags?: string[];
}

export interface SendResult {
  /** The provider's id: Twilio SID, SMTP message id, webhook status line. */
  providerId: string;
  /** Set for billable Twilio messages and calls: the caller records a `charges` row. */
  charge?: { type: 'sms' | 'voice'; data: string };
}

export interface ContactType {
  name: string;
  /**
   * Resolves on success; rejects with an Error whose message names the cause: a
   * PermanentContactError when sending the same alert again cannot succeed (the dispatcher then
   * ends the delivery at once and tells the admin), any other Error when a retry may help.
   */
  send(data: string, notice: AlertNotice, config: Config): Promise<SendResult>;
  /** Why `data` can never work (checked at reload, logged once), or null when it looks usable. */
  validate?(data: string, config: Config): string | null;
}

/**
 * A failure that resending cannot fix: the receiver refused this alert or this contact for good
 * (a webhook's 4xx other than 408/429, an invalid phone number, refused credentials, an unknown
 * contact type, missing settings). Network errors, timeouts and 5xx answers are plain Errors.
 */
export class PermanentContactError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PermanentContactError';
  }
}

/** Whether an error from `send` is permanent (see PermanentContactError). */
export function isPermanentContactError(err: unknown): err is PermanentContactError {
  return err instanceof PermanentContactError;
}

/** HTTP answers that say "this request will never be accepted": 4xx except timeout and rate limit. */
export function isPermanentHttpStatus(status: number): boolean {
  return status >= 400 && status <= 499 && status !== 408 && status !== 429;
}
