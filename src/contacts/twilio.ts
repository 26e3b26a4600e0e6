/** Shared by `sms` and `voice`: one configured Twilio client, one way to send, readable Twilio errors. */
import twilio from 'twilio';
import type { Config } from '../config/types';
import { describeNetError } from './message';
import { isPermanentHttpStatus, PermanentContactError, type SendResult } from './types';

/** Per-request deadline: Twilio answers in well under a second when it is healthy. */
export const TWILIO_TIMEOUT_MS = 10_000;

export interface TwilioSetup {
  client: twilio.Twilio;
  from: string;
  apiBase: string;
}

/**
 * Builds a client from `[twilio]`. `apiBase` replaces https://api.twilio.com as the base URL of
 * the REST API (a proxy, a regional edge, a local test server): every Messages/Calls request
 * resolves its URL from that domain's `baseUrl` at request time, so overriding it is enough.
 */
export function twilioSetup(config: Config): TwilioSetup {
  const { accountSid, authToken, from, apiBase } = config.twilio;
  const missing = [['accountSid', accountSid], ['authToken', authToken], ['from', from]]
    .filter(([, value]) => !value)
    .map(([key]) => key);
  if (missing.length > 0) throw new PermanentContactError(`[twilio] ${missing.join(', ')} not set in the config`);
  let client: twilio.Twilio;
  try {
    client = twilio(accountSid, authToken, { timeout: TWILIO_TIMEOUT_MS });
  } catch (err) {
    throw new PermanentContactError(`[twilio] accountSid: ${(err as Error).message}`, { cause: err });
  }
  client.api.baseUrl = apiBase;
  return { client, from, apiBase };
}

/** Twilio's own status, code and message when it answered; the network cause when it did not. */
export function describeTwilioError(err: unknown, apiBase: string): string {
  if (err instanceof twilio.RestException) {
    const what = err.status === 401 || err.status === 403 ? 'Twilio authentication refused' : 'Twilio refused the request';
    const code = err.code === undefined ? '' : `, code ${err.code}`;
    const more = err.moreInfo ? ` (${err.moreInfo})` : '';
    return `${what} (HTTP ${err.status}${code}): ${err.message}${more}`;
  }
  return `Twilio ${apiBase}: ${describeNetError(err, TWILIO_TIMEOUT_MS)}`;
}

/**
 * Sends one billable Twilio message or call to the phone number `data`: `create` makes the API
 * call; its SID is the provider id and the charge, and a failure becomes a readable error.
 */
export async function sendThroughTwilio(
  config: Config,
  data: string,
  type: 'sms' | 'voice',
  create: (client: twilio.Twilio, from: string, to: string) => Promise<{ sid: string }>,
): Promise<SendResult> {
  const to = data.trim();
  if (!to) throw new PermanentContactError('no phone number given');
  const { client, from, apiBase } = twilioSetup(config);
  try {
    const { sid } = await create(client, from, to);
    return { providerId: sid, charge: { type, data: sid } };
  } catch (err) {
    const text = describeTwilioError(err, apiBase);
    // Twilio's 4xx (invalid number 21211, refused credentials 20003, …) fail again on every retry.
    const permanent = err instanceof twilio.RestException && isPermanentHttpStatus(err.status);
    throw permanent ? new PermanentContactError(text, { cause: err }) : new Error(text, { cause: err });
  }
}
