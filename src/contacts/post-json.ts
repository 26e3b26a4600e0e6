/**
 * One JSON POST to a chat/notification provider, with the error classified: a bad URL or a 4xx
 * other than 408/429 is permanent (resending cannot help); network errors, timeouts, 408, 429
 * and 5xx are temporary. Redirects are not followed.
 */
import { request } from 'undici';
import { describeNetError, truncate } from './message';
import { isPermanentHttpStatus, PermanentContactError, type SendResult } from './types';

export const PROVIDER_TIMEOUT_MS = 10_000;

/** Parses an http(s) URL or says why not (the reason is what `validate` reports). */
export function checkHttpUrl(raw: string, what: string): { url?: URL; error?: string } {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { error: `invalid ${what} URL ${JSON.stringify(raw)}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `invalid ${what} URL ${JSON.stringify(raw)}: only http and https are supported` };
  return { url };
}

/** Like checkHttpUrl, but throws a PermanentContactError (for `send`). */
export function httpUrlOrThrow(raw: string, what: string): URL {
  const { url, error } = checkHttpUrl(raw, what);
  if (!url) throw new PermanentContactError(error ?? `invalid ${what} URL`);
  return url;
}

export interface JsonAnswer {
  statusCode: number;
  /** The parsed body when it was JSON, else undefined. */
  json: unknown;
  text: string;
}

/**
 * Posts `body` as JSON (or `form`, or the `raw` text) and returns the answer when it is 2xx; otherwise throws,
 * naming the provider and the status (plus the provider's own description when it gave one).
 */
export async function postToProvider(
  label: string,
  url: URL,
  body: unknown,
  opts: { headers?: Record<string, string>; form?: URLSearchParams; raw?: string; timeoutMs?: number; describe?: (a: JsonAnswer) => string | undefined } = {},
): Promise<JsonAnswer> {
  const timeoutMs = opts.timeoutMs ?? PROVIDER_TIMEOUT_MS;
  let answer: JsonAnswer;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: {
        'content-type': opts.form ? 'application/x-www-form-urlencoded' : 'application/json',
        'user-agent': 'gobearmon',
        ...opts.headers,
      },
      body: opts.form ? opts.form.toString() : opts.raw ?? JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    answer = { statusCode: res.statusCode, json, text };
  } catch (err) {
    throw new Error(`${label} ${url.origin}: ${describeNetError(err, timeoutMs)}`, { cause: err });
  }
  if (answer.statusCode >= 200 && answer.statusCode <= 299) return answer;
  const why = opts.describe?.(answer) ?? truncate(answer.text.trim(), 200);
  const text = `${label} ${url.origin}: answered HTTP ${answer.statusCode}${why ? `: ${why}` : ''}`;
  throw isPermanentHttpStatus(answer.statusCode) ? new PermanentContactError(text) : new Error(text);
}

/** The providerId recorded for a plain 2xx. */
export function httpOk(a: JsonAnswer): SendResult {
  return { providerId: `HTTP ${a.statusCode}` };
}
