/** The `http` contact: a form POST to the contact's URL (fields as the original, plus an idempotency key). */
import { request } from 'undici';
import type { Config } from '../config/types';
import { describeNetError } from './message';
import { isPermanentHttpStatus, PermanentContactError, type AlertNotice, type ContactType, type SendResult } from './types';

/** Whole-request deadline (connect, answer, body): a stuck receiver must not hold the alert queue. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** The form the receiver gets; `idempotency_key` repeats the header for receivers that only see fields. */
export function webhookForm(n: AlertNotice): URLSearchParams {
  return new URLSearchParams({
    check_id: String(n.checkId),
    name: n.checkName,
    type: n.checkType,
    data: n.checkData,
    status: n.status,
    message: n.message,
    idempotency_key: n.idempotencyKey,
  });
}

/**
 * Posts the alert and resolves with `HTTP <code>` on a 2xx answer. Redirects are not followed
 * (a 3xx is a failure naming the Location), so an alert never silently turns into a GET. A 4xx
 * other than 408/429 and a bad URL are permanent; the rest may pass on a retry.
 */
export async function postWebhook(url: string, notice: AlertNotice, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<SendResult> {
  let target: URL;
  try {
    target = new URL(url.trim());
  } catch {
    throw new PermanentContactError(`invalid webhook URL ${JSON.stringify(url)}`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new PermanentContactError(`invalid webhook URL ${JSON.stringify(url)}: only http and https are supported`);
  }
  let statusCode: number;
  let location: string | string[] | undefined;
  try {
    const res = await request(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'idempotency-key': notice.idempotencyKey,
        'user-agent': 'gobearmon',
      },
      body: webhookForm(notice).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    statusCode = res.statusCode;
    location = res.headers.location;
    await res.body.dump();
  } catch (err) {
    throw new Error(`webhook ${target.origin}: ${describeNetError(err, timeoutMs)}`, { cause: err });
  }
  if (statusCode < 200 || statusCode > 299) {
    const moved = location ? ` (redirect to ${String(location)} not followed)` : '';
    const text = `webhook ${target.origin}: answered HTTP ${statusCode}${moved}`;
    // A redirect stays temporary: maintenance pages redirect for a while, then the hook is back.
    throw isPermanentHttpStatus(statusCode) ? new PermanentContactError(text) : new Error(text);
  }
  return { providerId: `HTTP ${statusCode}` };
}

export const http: ContactType = {
  name: 'http',
  send(data: string, notice: AlertNotice, _config: Config): Promise<SendResult> {
    return postWebhook(data, notice);
  },
};
