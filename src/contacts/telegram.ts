/**
 * The `telegram` contact: a message from a bot. `contacts.data` is the chat id (the bot token then
 * comes from `[telegram] token`) or JSON `{"chat_id": "...", "token": "..."}`. The API base URL is
 * `[telegram] apiUrl` (default https://api.telegram.org).
 */
import type { Config } from '../config/types';
import { chatLine, truncate } from './message';
import { httpUrlOrThrow, postToProvider, type JsonAnswer } from './post-json';
import { PermanentContactError, type AlertNotice, type ContactType, type SendResult } from './types';

export interface TelegramTarget {
  chatId: string;
  token: string;
}

/** Reads the contact's data, falling back to the config's token; throws with a reason. */
export function parseTelegramData(data: string, config: Config): TelegramTarget {
  const text = data.trim();
  let chatId = text;
  let token = config.telegram.token;
  if (text.startsWith('{')) {
    let o: { chat_id?: unknown; token?: unknown };
    try {
      o = JSON.parse(text) as typeof o;
    } catch (err) {
      throw new Error(`data is neither a chat id nor valid JSON: ${(err as Error).message}`);
    }
    const unknown = Object.keys(o).filter((k) => k !== 'chat_id' && k !== 'token');
    if (unknown.length) throw new Error(`unknown key(s) ${unknown.join(', ')} in data; allowed: chat_id, token`);
    if (typeof o.chat_id !== 'string' && typeof o.chat_id !== 'number') throw new Error('data JSON needs "chat_id" (a number or @channelname)');
    chatId = String(o.chat_id);
    if (o.token !== undefined) {
      if (typeof o.token !== 'string') throw new Error('"token" must be a string');
      token = o.token;
    }
  }
  if (!/^(-?\d+|@[A-Za-z0-9_]{4,})$/.test(chatId)) throw new Error(`chat id ${JSON.stringify(chatId)} must be a number or @channelname`);
  if (!token) throw new Error('no bot token: put it in the contact\'s data ({"chat_id": …, "token": …}) or in [telegram] token');
  if (!/^\d+:[A-Za-z0-9_-]+$/.test(token)) throw new Error('the bot token does not look like 123456:ABC-DEF…');
  return { chatId, token };
}

/** Telegram errors are `{ok:false, error_code, description}` ("Bad Request: chat not found"). */
const describe = (a: JsonAnswer) => (a.json as { description?: string } | undefined)?.description;

export const telegram: ContactType = {
  name: 'telegram',
  validate(data, config) {
    try {
      parseTelegramData(data, config);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  },
  async send(data: string, notice: AlertNotice, config: Config): Promise<SendResult> {
    let target: TelegramTarget;
    try {
      target = parseTelegramData(data, config);
    } catch (err) {
      throw new PermanentContactError((err as Error).message);
    }
    const base = httpUrlOrThrow(config.telegram.apiUrl, '[telegram] apiUrl');
    const url = new URL(`${base.pathname.replace(/\/$/, '')}/bot${target.token}/sendMessage`, base);
    const icon = notice.status === 'online' ? '🟢' : '🔴';
    // The token is part of the path: errors name only the origin, never the URL.
    const answer = await postToProvider('telegram', url, { chat_id: target.chatId, text: truncate(`${icon} ${chatLine(notice)}`, 4096), disable_web_page_preview: true }, { describe });
    const id = (answer.json as { result?: { message_id?: number } } | undefined)?.result?.message_id;
    return { providerId: id !== undefined ? `message ${id}` : `HTTP ${answer.statusCode}` };
  },
};
