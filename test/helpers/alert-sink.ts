/**
 * A webhook receiver that counts an alert as delivered only when its answer reached the sender
 * (the response finished); a sender killed mid-request leaves an aborted request behind instead.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SinkRequest {
  path: string;
  key: string;
  checkId: number;
  status: string;
  message: string;
  /** When the request reached the sink (before its body): when the contact was alerted. */
  at: number;
  delivered: boolean;
  aborted: boolean;
}

export interface AlertSink {
  url(path: string): string;
  requests: SinkRequest[];
  /** Delay before answering, per request: return ms for this request. */
  delayFor: (req: SinkRequest, index: number) => number;
  delivered(filter?: Partial<Pick<SinkRequest, 'path' | 'checkId' | 'status'>>): SinkRequest[];
  close(): Promise<void>;
}

export async function startAlertSink(): Promise<AlertSink> {
  const server = createServer((req, res) => {
    const at = Date.now();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const entry: SinkRequest = {
        path: req.url ?? '', key: String(req.headers['idempotency-key'] ?? form.get('idempotency_key') ?? ''),
        checkId: Number(form.get('check_id')), status: form.get('status') ?? '', message: form.get('message') ?? '',
        at, delivered: false, aborted: false,
      };
      sink.requests.push(entry);
      res.on('finish', () => (entry.delivered = true));
      res.on('close', () => (entry.aborted = !entry.delivered));
      setTimeout(() => res.end('ok'), sink.delayFor(entry, sink.requests.length - 1));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sink: AlertSink = {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests: [],
    delayFor: () => 0,
    delivered: (f = {}) =>
      sink.requests.filter((r) => r.delivered && (f.path === undefined || r.path === f.path) && (f.checkId === undefined || r.checkId === f.checkId) && (f.status === undefined || r.status === f.status)),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return sink;
}
