/**
 * The `webhook` contact: a JSON POST. `contacts.data` is the URL, or a JSON object
 * `{"url": "...", "headers": {"Authorization": "Bearer …"}}` for receivers that want headers.
 */
import type { Config } from '../config/types';
import { checkHttpUrl, httpOk, httpUrlOrThrow, postToProvider } from './post-json';
import { PermanentContactError, type AlertNotice, type ContactType, type SendResult } from './types';

export interface WebhookTarget {
  url: string;
  headers: Record<string, string>;
}

/** Reads the contact's data; throws with a reason a person can act on. */
export function parseWebhookData(data: string): WebhookTarget {
  const text = data.trim();
  if (!text.startsWith('{')) return { url: text, headers: {} };
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new Error(`data is neither a URL nor valid JSON: ${(err as Error).message}`);
  }
  const o = obj as { url?: unknown; headers?: unknown };
  if (typeof o.url !== 'string') throw new Error('data JSON needs "url" (a string)');
  const unknown = Object.keys(o).filter((k) => k !== 'url' && k !== 'headers');
  if (unknown.length) throw new Error(`unknown key(s) ${unknown.join(', ')} in data; allowed: url, headers`);
  const headers: Record<string, string> = {};
  if (o.headers !== undefined) {
    if (typeof o.headers !== 'object' || o.headers === null || Array.isArray(o.headers)) throw new Error('"headers" must be an object of strings');
    for (const [k, v] of Object.entries(o.headers)) {
      if (typeof v !== 'string') throw new Error(`header ${JSON.stringify(k)} must be a string`);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw new Error(`header name ${JSON.stringify(k)} is not a valid HTTP header name`);
      headers[k] = v;
    }
  }
  return { url: o.url, headers };
}

/** The JSON body: stable field names a receiver can rely on. */
export function webhookBody(n: AlertNotice): Record<string, unknown> {
  return {
    check: { id: n.checkId, name: n.checkName, type: n.checkType, tags: n.tags ?? [] },
    status: n.status,
    previous: n.status === 'online' ? 'offline' : 'online',
    message: n.message,
    time: new Date(n.time ?? Date.now()).toISOString(),
    idempotency_key: n.idempotencyKey,
    event: n.event ?? 'alert',
  };
}

function validate(data: string): string | null {
  try {
    return checkHttpUrl(parseWebhookData(data).url, 'webhook').error ?? null;
  } catch (err) {
    return (err as Error).message;
  }
}

export const webhook: ContactType = {
  name: 'webhook',
  validate,
  async send(data: string, notice: AlertNotice, _config: Config): Promise<SendResult> {
    let target: WebhookTarget;
    try {
      target = parseWebhookData(data);
    } catch (err) {
      throw new PermanentContactError((err as Error).message);
    }
    const url = httpUrlOrThrow(target.url, 'webhook');
    const answer = await postToProvider('webhook', url, webhookBody(notice), { headers: { ...target.headers, 'idempotency-key': notice.idempotencyKey } });
    return httpOk(answer);
  },
};
