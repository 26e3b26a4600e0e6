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
}

export interface SendResult {
  /** The provider's id: Twilio SID, SMTP message id, webhook status line. */
  providerId: string;
  /** Set for billable Twilio messages and calls: the caller records a `charges` row. */
  charge?: { type: 'sms' | 'voice'; data: string };
}

export interface ContactType {
  name: string;
  /** Resolves on success; rejects with an Error whose message names the cause. */
  send(data: string, notice: AlertNotice, config: Config): Promise<SendResult>;
}
