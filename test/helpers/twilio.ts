/**
 * A local stand-in for the two Twilio REST endpoints we use (Messages.json, Calls.json):
 * checks basic auth and the form, answers with Twilio-shaped JSON and Twilio's error bodies.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A `To` number this server refuses as Twilio does (code 21211). */
export const INVALID_NUMBER = '+15005550001';

export interface TwilioRequest {
  resource: 'Messages' | 'Calls';
  user: string;
  form: URLSearchParams;
}

export interface TestTwilio {
  apiBase: string;
  accountSid: string;
  authToken: string;
  requests: TwilioRequest[];
  close(): Promise<void>;
}

export async function startTwilio(accountSid = `AC${'a1'.repeat(16)}`, authToken = 'test-token'): Promise<TestTwilio> {
  const requests: TwilioRequest[] = [];
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: Error) => reply(res, 500, { code: 20500, message: err.message, status: 500 }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const [user, pass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
    if (user !== accountSid || pass !== authToken) {
      return reply(res, 401, twilioError(20003, 'Authenticate', 401));
    }
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match || match[1] !== accountSid) {
      return reply(res, 404, twilioError(20404, `The requested resource ${req.url} was not found`, 404));
    }
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
      return reply(res, 400, twilioError(20001, 'form body expected', 400));
    }
    const resource = match[2] as 'Messages' | 'Calls';
    requests.push({ resource, user, form });
    const to = form.get('To') ?? '';
    if (!to) return reply(res, 400, twilioError(21604, "A 'To' phone number is required.", 400));
    if (!form.get('From')) return reply(res, 400, twilioError(21603, "A 'From' phone number is required.", 400));
    if (to === INVALID_NUMBER) return reply(res, 400, twilioError(21211, `The 'To' number ${to} is not a valid phone number.`, 400));
    const base = { account_sid: accountSid, to, from: form.get('From'), status: 'queued', api_version: '2010-04-01' };
    if (resource === 'Messages') {
      if (!form.get('Body')) return reply(res, 400, twilioError(21602, 'Message body is required.', 400));
      return reply(res, 201, { ...base, sid: sid('SM'), body: form.get('Body'), num_segments: '1' });
    }
    if (!form.get('Twiml') && !form.get('Url')) return reply(res, 400, twilioError(21205, 'Url or Twiml is required.', 400));
    return reply(res, 201, { ...base, sid: sid('CA') });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiBase: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function sid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

function twilioError(code: number, message: string, status: number): object {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function reply(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
