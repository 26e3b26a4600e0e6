/** The webhook contact of the benchmark: records when each alert arrived, by check and status. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Arrival {
  checkId: number;
  status: string;
  at: number;
}

export interface Sink {
  url: string;
  arrivals: Arrival[];
  first(checkId: number, status: string): Arrival | undefined;
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    // The arrival is the request reaching us, before its body: that is when the contact was alerted.
    const at = Date.now();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      arrivals.push({ checkId: Number(form.get('check_id')), status: form.get('status') ?? '', at });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alert`,
    arrivals,
    first: (checkId, status) => arrivals.find((a) => a.checkId === checkId && a.status === status),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
