/** The `voice` contact: a Twilio call that reads the alert aloud. */
import twilio from 'twilio';
import type { Config } from '../config/types';
import { spokenText } from './message';
import { describeTwilioError, twilioSetup } from './twilio';
import type { AlertNotice, ContactType, SendResult } from './types';

/**
 * The call's instructions, sent inline (the `twiml` parameter) so no third-party TwiML host is
 * involved (the original used twimlets.com). Said twice: the first words are often missed
 * while the callee brings the phone to the ear.
 */
export function voiceTwiml(notice: AlertNotice): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say({ loop: 2 }, spokenText(notice));
  return response.toString();
}

export const voice: ContactType = {
  name: 'voice',
  async send(data: string, notice: AlertNotice, config: Config): Promise<SendResult> {
    const to = data.trim();
    if (!to) throw new Error('no phone number given');
    const { client, from, apiBase } = twilioSetup(config);
    try {
      const call = await client.calls.create({ from, to, twiml: voiceTwiml(notice) });
      return { providerId: call.sid, charge: { type: 'voice', data: call.sid } };
    } catch (err) {
      throw new Error(describeTwilioError(err, apiBase), { cause: err });
    }
  },
};
