/** The `sms` contact: the one-line summary through Twilio's Messages API. */
import type { Config } from '../config/types';
import { summaryLine, truncate } from './message';
import { describeTwilioError, twilioSetup } from './twilio';
import type { AlertNotice, ContactType, SendResult } from './types';

/** Twilio refuses bodies over 1600 characters (error 21617); a long check message must not lose the alert. */
const MAX_SMS_CHARS = 1600;

export const sms: ContactType = {
  name: 'sms',
  async send(data: string, notice: AlertNotice, config: Config): Promise<SendResult> {
    const to = data.trim();
    if (!to) throw new Error('no phone number given');
    const { client, from, apiBase } = twilioSetup(config);
    try {
      const msg = await client.messages.create({ from, to, body: truncate(summaryLine(notice), MAX_SMS_CHARS) });
      return { providerId: msg.sid, charge: { type: 'sms', data: msg.sid } };
    } catch (err) {
      throw new Error(describeTwilioError(err, apiBase), { cause: err });
    }
  },
};
