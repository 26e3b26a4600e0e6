/** A webhook receiver on 127.0.0.1 for tests: records every request; answer code and delay are settable. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  form: URLSearchParams;
}

export interface TestWebhook {
  url: string;
  requests: WebhookRequest[];
  /** Answer code (default 200) and delay before answering (default 0), changeable between sends. */
  status: number;
  delayMs: number;
  /** Extra answer headers, e.g. a Location for a redirect. */
  headers: Record<string, string>;
  close(): Promise<void>;
}

export async function startWebhook(): Promise<TestWebhook> {
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hook.requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
      });
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.writeHead(hook.status, { 'content-type': 'text/plain', ...hook.headers }).end(`status ${hook.status}\n`);
      }, hook.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const hook: TestWebhook = {
    url: `http://127.0.0.1:${port}/hook`,
    requests: [],
    status: 200,
    delayMs: 0,
    headers: {},
    close: () => new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return hook;
}
