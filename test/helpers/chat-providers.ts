/**
 * One local HTTP server that speaks the API shapes of the chat providers gobearmon posts to:
 * Slack incoming webhooks, Discord `/api/webhooks/ID/TOKEN`, a Teams workflow webhook, Telegram's
 * `/bot<token>/sendMessage`, ntfy topics and Pushover's `/1/messages.json`. It records every request
 * and answers as the real services do, including their error bodies.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProviderRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
}

export interface ChatProviders {
  base: string;
  requests: ProviderRequest[];
  /** When set, the next requests get this HTTP status (a 500, a 429) instead of the normal answer. */
  forceStatus: number | null;
  /** Telegram bot tokens and chats that exist. */
  telegramTokens: Set<string>;
  telegramChats: Set<string>;
  /** ntfy topics that need `Authorization: Bearer <token>`. */
  ntfyProtected: Map<string, string>;
  close(): Promise<void>;
}

type Answer = [number, string | object];

function route(p: ChatProviders, req: ProviderRequest): Answer {
  const { path } = req;
  if (path.startsWith('/services/')) {
    // Slack: 200 "ok"; a deleted webhook is 404 no_service.
    if (path.includes('gone')) return [404, 'no_service'];
    if (typeof (req.json as { text?: unknown })?.text !== 'string') return [400, 'invalid_payload'];
    return [200, 'ok'];
  }
  const discord = /^\/api\/webhooks\/(\d+)\/([^/?]+)/.exec(path);
  if (discord) {
    if (discord[1] === '404') return [404, { message: 'Unknown Webhook', code: 10015 }];
    const content = (req.json as { content?: unknown })?.content;
    if (typeof content !== 'string' || content.length > 2000) return [400, { message: 'Invalid Form Body', code: 50035 }];
    return [204, ''];
  }
  if (path.startsWith('/workflows/')) {
    const att = (req.json as { attachments?: { contentType?: string }[] })?.attachments;
    if (!Array.isArray(att) || att[0]?.contentType !== 'application/vnd.microsoft.card.adaptive') return [400, { error: { code: 'InvalidRequestContent' } }];
    return [202, ''];
  }
  const tg = /^\/bot([^/]+)\/sendMessage$/.exec(path);
  if (tg) {
    if (!p.telegramTokens.has(tg[1])) return [401, { ok: false, error_code: 401, description: 'Unauthorized' }];
    const chat = String((req.json as { chat_id?: unknown })?.chat_id ?? '');
    if (!p.telegramChats.has(chat)) return [400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' }];
    return [200, { ok: true, result: { message_id: p.requests.length, chat: { id: chat }, text: (req.json as { text?: string }).text } }];
  }
  if (path === '/1/messages.json') {
    const form = new URLSearchParams(req.body);
    if (form.get('token') !== 'a'.repeat(30)) return [400, { token: 'invalid', errors: ['application token is invalid'], status: 0, request: 'r1' }];
    if (form.get('user') !== 'u'.repeat(30)) return [400, { user: 'invalid', errors: ['user identifier is not a valid user, group, or subscribed user key'], status: 0, request: 'r2' }];
    return [200, { status: 1, request: `req-${p.requests.length}` }];
  }
  // ntfy: anything else is a topic.
  const topic = path.slice(1);
  const need = p.ntfyProtected.get(topic);
  if (need && req.headers.authorization !== `Bearer ${need}`) return [403, { code: 40301, http: 403, error: 'forbidden', link: 'https://ntfy.sh/docs/publish/#authentication' }];
  return [200, { id: `msg${p.requests.length}`, time: 1, event: 'message', topic, message: req.body }];
}

export async function startChatProviders(): Promise<ChatProviders> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const request: ProviderRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
      p.requests.push(request);
      const [status, answer] = p.forceStatus !== null ? [p.forceStatus, { message: 'forced' }] : route(p, request);
      const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
      res.writeHead(status, { 'content-type': typeof answer === 'string' ? 'text/plain' : 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const p: ChatProviders = {
    base: `http://127.0.0.1:${port}`,
    requests: [],
    forceStatus: null,
    telegramTokens: new Set(),
    telegramChats: new Set(),
    ntfyProtected: new Map(),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return p;
}
