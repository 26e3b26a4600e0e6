/** Mail to `[smtp] admin`: the cluster's own trouble reports (degraded quorum, failed reloads). */
import type { Config } from '../config/types';
import { sendMail } from './email';

/** Resolves without sending when no admin or no SMTP host is configured; rejects when sending fails. */
export async function mailAdmin(config: Config, subject: string, body: string): Promise<void> {
  if (!config.smtp.admin || !config.smtp.host) return;
  await sendMail(config.smtp, { to: config.smtp.admin, subject, text: body });
}
