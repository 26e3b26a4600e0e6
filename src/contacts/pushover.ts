/**
 * The `pushover` contact: `contacts.data` is the user (or group) key, with the application token
 * in `[pushover] token`, or JSON `{"user": "...", "token": "..."}`. API base: `[pushover] apiUrl`.
 */
import type { Config } from '../config/types';
import { chatLine, truncate } from './message';
import { httpUrlOrThrow, postToProvider, type JsonAnswer } from './post-json';
import { PermanentContactError, type AlertNotice, type ContactType, type SendResult } from './types';

const KEY = /^[A-Za-z0-9]{30}$/;

export function parsePushoverData(data: string, config: Config): { user: string; token: string } {
  const text = data.trim();
  let user = text;
  let token = config.pushover.token;
  if (text.startsWith('{')) {
    let o: { user?: unknown; token?: unknown };
    try {
      o = JSON.parse(text) as typeof o;
    } catch (err) {
      throw new Error(`data is neither a user key nor valid JSON: ${(err as Error).message}`);
    }
    const unknown = Object.keys(o).filter((k) => k !== 'user' && k !== 'token');
    if (unknown.length) throw new Error(`unknown key(s) ${unknown.join(', ')} in data; allowed: user, token`);
    if (typeof o.user !== 'string') throw new Error('data JSON needs "user" (the user or group key)');
    user = o.user;
    if (o.token !== undefined) {
      if (typeof o.token !== 'string') throw new Error('"token" must be a string');
      token = o.token;
    }
  }
  if (!KEY.test(user)) throw new Error(`user key ${JSON.stringify(user)} must be 30 letters and digits`);
  if (!token) throw new Error('no application token: put it in the contact\'s data ({"user": …, "token": …}) or in [pushover] token');
  if (!KEY.test(token)) throw new Error('the application token must be 30 letters and digits');
  return { user, token };
}

/** Pushover errors are `{status:0, errors:[…]}`. */
const describe = (a: JsonAnswer) => (a.json as { errors?: string[] } | undefined)?.errors?.join('; ');

export const pushover: ContactType = {
  name: 'pushover',
  validate(data, config) {
    try {
      parsePushoverData(data, config);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  },
  async send(data: string, notice: AlertNotice, config: Config): Promise<SendResult> {
    let target: { user: string; token: string };
    try {
      target = parsePushoverData(data, config);
    } catch (err) {
      throw new PermanentContactError((err as Error).message);
    }
    const base = httpUrlOrThrow(config.pushover.apiUrl, '[pushover] apiUrl');
    const url = new URL(`${base.pathname.replace(/\/$/, '')}/1/messages.json`, base);
    const form = new URLSearchParams({
      token: target.token, user: target.user, title: `Check ${notice.status}: ${notice.checkName}`,
      message: truncate(chatLine(notice), 1024), priority: notice.status === 'offline' ? '1' : '0',
    });
    const answer = await postToProvider('pushover', url, undefined, { form, describe });
    const id = (answer.json as { request?: string } | undefined)?.request;
    return { providerId: id ? `request ${id}` : `HTTP ${answer.statusCode}` };
  },
};
