/** Every contact type by name: adding one is a new module and one entry here. */
import type { Config } from '../config/types';
import { email } from './email';
import { http } from './http';
import { sms } from './sms';
import { PermanentContactError, type AlertNotice, type ContactType, type SendResult } from './types';
import { voice } from './voice';

export const contactTypes: ReadonlyMap<string, ContactType> = new Map(
  [email, sms, voice, http].map((t) => [t.name, t]),
);

/** Sends one alert to one contact; an unknown type rejects (permanently) for that contact only. */
export async function sendAlert(type: string, data: string, notice: AlertNotice, config: Config): Promise<SendResult> {
  const contact = contactTypes.get(type);
  if (!contact) {
    throw new PermanentContactError(`unknown contact type ${JSON.stringify(type)}; known types: ${[...contactTypes.keys()].join(', ')}`);
  }
  return contact.send(data, notice, config);
}
