/** The `discord` contact: `contacts.data` is a Discord webhook URL (…/api/webhooks/ID/TOKEN). */
import type { Config } from '../config/types';
import { chatLine, truncate } from './message';
import { checkHttpUrl, httpOk, httpUrlOrThrow, postToProvider, type JsonAnswer } from './post-json';
import type { AlertNotice, ContactType, SendResult } from './types';

export function discordBody(n: AlertNotice): Record<string, unknown> {
  const icon = n.status === 'online' ? '🟢' : '🔴';
  // Discord refuses content over 2000 characters.
  return { content: truncate(`${icon} ${chatLine(n)}`, 2000), username: 'gobearmon', allowed_mentions: { parse: [] } };
}

function validate(data: string): string | null {
  const { url, error } = checkHttpUrl(data, 'Discord webhook');
  if (!url) return error ?? 'invalid URL';
  if (!/\/api\/webhooks\/[^/]+\/[^/]+/.test(url.pathname)) return `Discord webhook URL ${JSON.stringify(data)} must look like https://discord.com/api/webhooks/ID/TOKEN`;
  return null;
}

/** Discord errors are JSON `{message, code}` (e.g. 10015 Unknown Webhook). */
const describe = (a: JsonAnswer) => (a.json as { message?: string } | undefined)?.message;

export const discord: ContactType = {
  name: 'discord',
  validate,
  async send(data: string, notice: AlertNotice, _config: Config): Promise<SendResult> {
    return httpOk(await postToProvider('discord', httpUrlOrThrow(data, 'Discord webhook'), discordBody(notice), { describe }));
  },
};
