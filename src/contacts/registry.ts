/** Every contact type by name: adding one is a new module and one entry here. */
import type { Config } from '../config/types';
import { discord } from './discord';
import { email } from './email';
import { http } from './http';
import { ntfy } from './ntfy';
import { pushover } from './pushover';
import { slack } from './slack';
import { sms } from './sms';
import { teams } from './teams';
import { telegram } from './telegram';
import { PermanentContactError, type AlertNotice, type ContactType, type SendResult } from './types';
import { voice } from './voice';
import { webhook } from './webhook';

export const contactTypes: ReadonlyMap<string, ContactType> = new Map(
  [email, sms, voice, http, webhook, slack, discord, teams, telegram, ntfy, pushover].map((t) => [t.name, t]),
);

/** Why a contact can never be sent to (unknown type, bad data), or null; run at reload and by the CLI. */
export function validateContact(type: string, data: string, config: Config): string | null {
  const contact = contactTypes.get(type);
  if (!contact) return `unknown contact type ${JSON.stringify(type)}; known types: ${[...contactTypes.keys()].join(', ')}`;
  return contact.validate?.(data, config) ?? null;
}

/** Sends one alert to one contact; an unknown type rejects (permanently) for that contact only. */
export async function sendAlert(type: string, data: string, notice: AlertNotice, config: Config): Promise<SendResult> {
  const contact = contactTypes.get(type);
  if (!contact) {
    throw new PermanentContactError(`unknown contact type ${JSON.stringify(type)}; known types: ${[...contactTypes.keys()].join(', ')}`);
  }
  return contact.send(data, notice, config);
}
