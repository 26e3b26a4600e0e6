/** The `slack` contact: `contacts.data` is a Slack incoming-webhook URL; posts `{text}` (mrkdwn). */
import type { Config } from '../config/types';
import { chatLine } from './message';
import { checkHttpUrl, httpOk, httpUrlOrThrow, postToProvider } from './post-json';
import type { AlertNotice, ContactType, SendResult } from './types';

export function slackBody(n: AlertNotice): Record<string, unknown> {
  const icon = n.status === 'online' ? ':large_green_circle:' : ':red_circle:';
  return { text: `${icon} ${chatLine(n)}` };
}

export const slack: ContactType = {
  name: 'slack',
  validate: (data) => checkHttpUrl(data, 'Slack webhook').error ?? null,
  async send(data: string, notice: AlertNotice, _config: Config): Promise<SendResult> {
    // Slack answers errors as a plain-text code (no_service, invalid_token, channel_is_archived).
    return httpOk(await postToProvider('slack', httpUrlOrThrow(data, 'Slack webhook'), slackBody(notice)));
  },
};
