/** The `email` contact: one message through `[smtp]`, worded as the original. */
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Config } from '../config/types';
import { describeNetError, emailBody, subjectLine } from './message';
import { PermanentContactError, type AlertNotice, type ContactType, type SendResult } from './types';

/** Connect and greeting deadlines: a dead relay must not hold an alert for minutes. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface Mail {
  to: string;
  subject: string;
  text: string;
  messageId?: string;
  headers?: Record<string, string>;
}

/**
 * Sends one plain-text mail through `[smtp]` and resolves with its Message-ID.
 * STARTTLS is used whenever the server offers it (nodemailer's default, certificate checked),
 * implicit TLS on port 465, and AUTH only when a username is set.
 */
export async function sendMail(smtp: Config['smtp'], mail: Mail): Promise<string> {
  if (!smtp.host) throw new PermanentContactError('[smtp] host is not set in the config');
  if (!mail.to.trim()) throw new PermanentContactError('no e-mail address given');
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.port === 465,
    auth: smtp.username ? { user: smtp.username, pass: smtp.password } : undefined,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: 3 * CONNECT_TIMEOUT_MS,
  });
  try {
    const info = await transport.sendMail({ from: smtp.from, ...mail });
    return info.messageId;
  } catch (err) {
    const text = `SMTP ${smtp.host}:${smtp.port}: ${describeSmtpError(err)}`;
    throw isPermanentSmtpError(err) ? new PermanentContactError(text, { cause: err }) : new Error(text, { cause: err });
  } finally {
    transport.close();
  }
}

/**
 * Refused credentials and 5xx replies (RFC 5321: permanent, e.g. "550 no such user") fail again
 * on every retry; 4xx replies and network trouble may pass later.
 */
function isPermanentSmtpError(err: unknown): boolean {
  const e = err as { code?: string; responseCode?: number };
  if (e?.code === 'EAUTH') return true;
  return typeof e?.responseCode === 'number' && e.responseCode >= 500 && e.responseCode <= 599;
}

/** nodemailer tags its errors with a code; turn the common ones into a plain cause. */
function describeSmtpError(err: unknown): string {
  const e = err as { code?: string; message?: string; responseCode?: number };
  const message = e?.message ?? String(err);
  if (e?.code === 'EAUTH') return `authentication refused: ${message}`;
  if (e?.responseCode === 530) return `the server requires authentication (set [smtp] username and password): ${message}`;
  if (e?.code === 'EENVELOPE') return `recipient or sender refused: ${message}`;
  if (e?.code === 'ETIMEDOUT') return describeNetError(e, CONNECT_TIMEOUT_MS);
  if (e?.code === 'ECONNECTION' || e?.code === 'ESOCKET' || e?.code === 'EDNS') {
    // nodemailer keeps the errno only in the text ("connect ECONNREFUSED …"); TLS failures have none.
    const errno = /\b(E[A-Z]{4,})\b/.exec(message)?.[1];
    if (errno) return describeNetError({ code: errno, message }, CONNECT_TIMEOUT_MS);
    if (/certificate|tls|ssl/i.test(message)) return `TLS failed: ${message}`;
  }
  return message;
}

/**
 * A Message-ID that is the same for every resend of one (flip, contact), so a mail client can
 * fold duplicates; hashed because the key may hold characters a Message-ID may not.
 */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([^\s>]+)/.exec(from)?.[1] ?? 'gobearmon.invalid';
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `<gobearmon.${hash}@${domain}>`;
}

export const email: ContactType = {
  name: 'email',
  async send(data: string, notice: AlertNotice, config: Config): Promise<SendResult> {
    const providerId = await sendMail(config.smtp, {
      to: data,
      subject: subjectLine(notice),
      text: emailBody(notice),
      messageId: messageIdFor(notice.idempotencyKey, config.smtp.from),
      headers: { 'X-Gobearmon-Idempotency-Key': notice.idempotencyKey },
    });
    return { providerId };
  },
};
