/**
 * The `ntfy` contact: `contacts.data` is the topic URL (https://ntfy.sh/mytopic, or a self-hosted
 * server), or JSON `{"url": "...", "token": "tk_…"}` for a protected topic. Offline alerts and
 * reminders are sent with high priority, online ones with the default.
 */
import type { Config } from '../config/types';
import { chatLine } from './message';
import { checkHttpUrl, httpUrlOrThrow, postToProvider, type JsonAnswer } from './post-json';
import { PermanentContactError, type AlertNotice, type ContactType, type SendResult } from './types';

export function parseNtfyData(data: string): { url: string; token?: string } {
  const text = data.trim();
  if (!text.startsWith('{')) return { url: text };
  let o: { url?: unknown; token?: unknown };
  try {
    o = JSON.parse(text) as typeof o;
  } catch (err) {
    throw new Error(`data is neither a URL nor valid JSON: ${(err as Error).message}`);
  }
  const unknown = Object.keys(o).filter((k) => k !== 'url' && k !== 'token');
  if (unknown.length) throw new Error(`unknown key(s) ${unknown.join(', ')} in data; allowed: url, token`);
  if (typeof o.url !== 'string') throw new Error('data JSON needs "url" (the topic URL)');
  if (o.token !== undefined && typeof o.token !== 'string') throw new Error('"token" must be a string');
  return { url: o.url, token: o.token as string | undefined };
}

/** ntfy priorities: 5 max, 4 high, 3 default. */
export function ntfyPriority(n: AlertNotice): string {
  return n.status === 'offline' ? '4' : '3';
}

function validate(data: string): string | null {
  try {
    const { url, error } = checkHttpUrl(parseNtfyData(data).url, 'ntfy topic');
    if (!url) return error ?? 'invalid URL';
    if (url.pathname.replace(/\/+$/, '') === '') return `ntfy topic URL ${JSON.stringify(url.href)} has no topic (e.g. https://ntfy.sh/mytopic)`;
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const describe = (a: JsonAnswer) => (a.json as { error?: string } | undefined)?.error;

export const ntfy: ContactType = {
  name: 'ntfy',
  validate,
  async send(data: string, notice: AlertNotice, _config: Config): Promise<SendResult> {
    let target: { url: string; token?: string };
    try {
      target = parseNtfyData(data);
    } catch (err) {
      throw new PermanentContactError((err as Error).message);
    }
    const url = httpUrlOrThrow(target.url, 'ntfy topic');
    // Headers must be ASCII: the title is sent as a plain summary, the message in the body.
    const title = `Check ${notice.status}: ${notice.checkName}`.replace(/[^\x20-\x7e]/g, '?');
    const headers: Record<string, string> = {
      title, priority: ntfyPriority(notice), tags: notice.status === 'online' ? 'green_circle' : 'red_circle',
      'content-type': 'text/plain; charset=utf-8',
    };
    if (target.token) headers.authorization = `Bearer ${target.token}`;
    const answer = await postToProvider('ntfy', url, undefined, { headers, raw: chatLine(notice), describe });
    const id = (answer.json as { id?: string } | undefined)?.id;
    return { providerId: id ? `ntfy ${id}` : `HTTP ${answer.statusCode}` };
  },
};
