/** The `voice` contact: a Twilio call that reads the alert aloud. */
import twilio from 'twilio';
import { spokenText } from './message';
import { sendThroughTwilio } from './twilio';
import type { AlertNotice, ContactType } from './types';

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
  send: (data, notice, config) =>
    sendThroughTwilio(config, data, 'voice', (client, from, to) => client.calls.create({ from, to, twiml: voiceTwiml(notice) })),
};
