/** The `sms` contact: the one-line summary through Twilio's Messages API. */
import { summaryLine, truncate } from './message';
import { sendThroughTwilio } from './twilio';
import type { ContactType } from './types';

/** Twilio refuses bodies over 1600 characters (error 21617); a long check message must not lose the alert. */
const MAX_SMS_CHARS = 1600;

export const sms: ContactType = {
  name: 'sms',
  send: (data, notice, config) =>
    sendThroughTwilio(config, data, 'sms', (client, from, to) => client.messages.create({ from, to, body: truncate(summaryLine(notice), MAX_SMS_CHARS) })),
};
