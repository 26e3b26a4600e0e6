/**
 * The `teams` contact: `contacts.data` is a Microsoft Teams incoming-webhook URL (a Workflows
 * "post to a channel when a webhook request is received" URL); posts one Adaptive Card message.
 */
import type { Config } from '../config/types';
import { chatLine } from './message';
import { checkHttpUrl, httpOk, httpUrlOrThrow, postToProvider } from './post-json';
import type { AlertNotice, ContactType, SendResult } from './types';

export function teamsBody(n: AlertNotice): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', size: 'Medium', weight: 'Bolder', color: n.status === 'online' ? 'Good' : 'Attention', text: `Check ${n.status}: ${n.checkName}` },
            { type: 'TextBlock', wrap: true, text: chatLine(n) },
            { type: 'FactSet', facts: [{ title: 'ID', value: String(n.checkId) }, { title: 'Type', value: n.checkType }] },
          ],
        },
      },
    ],
  };
}

export const teams: ContactType = {
  name: 'teams',
  validate: (data) => checkHttpUrl(data, 'Teams webhook').error ?? null,
  async send(data: string, notice: AlertNotice, _config: Config): Promise<SendResult> {
    return httpOk(await postToProvider('teams', httpUrlOrThrow(data, 'Teams webhook'), teamsBody(notice)));
  },
};
