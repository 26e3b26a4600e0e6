/**
 * An HTTP target whose health the test sets per path, and per worker: a worker names itself in
 * the X-Gobearmon-Worker header, so a failure can be made visible from one worker only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Target {
  url(path: string): string;
  /** Paths that answer 500 to everyone. */
  failing: Set<string>;
  /** Path → workers that get 500 on it. */
  failingFor: Map<string, Set<string>>;
  /** Requests per path and per worker name. */
  hits: Map<string, Map<string, number>>;
  hitCount(path: string, worker?: string): number;
  close(): Promise<void>;
}

export async function startTarget(): Promise<Target> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const worker = String(req.headers['x-gobearmon-worker'] ?? '');
    const perWorker = target.hits.get(path) ?? new Map<string, number>();
    perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
    target.hits.set(path, perWorker);
    const fail = target.failing.has(path) || (target.failingFor.get(path)?.has(worker) ?? false);
    res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' }).end(fail ? 'broken' : 'all good');
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const target: Target = {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    failing: new Set(),
    failingFor: new Map(),
    hits: new Map(),
    hitCount: (path, worker) => {
      const m = target.hits.get(path);
      if (!m) return 0;
      return worker === undefined ? [...m.values()].reduce((a, b) => a + b, 0) : (m.get(worker) ?? 0);
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return target;
}
