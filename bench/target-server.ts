/**
 * The benchmark's HTTP target, run as its own process (`node dist/bench/target-server.js`) so its
 * CPU is not the harness's. Every path answers 200 "all good", except paths set failing (500). It
 * counts requests in 100 ms buckets, and remembers when each failing path first answered 500: the
 * first failing run of a check. Control requests live under /_bench/ and are not counted.
 * Prints `{"port":N}` on stdout once listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const BUCKET_MS = 100;
/** Ten minutes of buckets in a ring: enough for any window the harness asks about. */
const RING = 6_000;

const counts = new Uint32Array(RING);
const bucketOf = new Float64Array(RING).fill(-1);
const failing = new Set<string>();
const firstFail = new Map<string, number>();
const hits = new Map<string, number>();
let total = 0;

function count(now: number): void {
  const b = Math.floor(now / BUCKET_MS);
  const i = b % RING;
  if (bucketOf[i] !== b) {
    bucketOf[i] = b;
    counts[i] = 0;
  }
  counts[i]++;
  total++;
}

/** Requests per bucket from `from` to `to` (epoch ms), oldest first. */
function series(from: number, to: number): number[] {
  const out: number[] = [];
  for (let b = Math.floor(from / BUCKET_MS); b <= Math.floor(to / BUCKET_MS); b++) {
    const i = b % RING;
    out.push(bucketOf[i] === b ? counts[i] : 0);
  }
  return out;
}

function control(path: string, query: URLSearchParams): unknown {
  const p = query.get('path') ?? '';
  switch (path) {
    case '/_bench/fail':
      failing.add(p);
      return { ok: true };
    case '/_bench/heal':
      failing.delete(p);
      return { ok: true };
    case '/_bench/stats': {
      const from = Number(query.get('from') ?? Date.now() - 10_000);
      const to = Number(query.get('to') ?? Date.now());
      const watch = query.getAll('hits');
      return {
        now: Date.now(), total, bucketMs: BUCKET_MS, from, series: series(from, to),
        firstFail: Object.fromEntries(firstFail), hits: Object.fromEntries(watch.map((w) => [w, hits.get(w) ?? 0])),
      };
    }
    default:
      return { error: `unknown control path ${path}` };
  }
}

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.startsWith('/_bench/')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(control(path, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)))));
    return;
  }
  const now = Date.now();
  count(now);
  // Per-path counts only for the few watched checks (detection), not for thousands of load checks.
  if (path.startsWith('/d/')) hits.set(path, (hits.get(path) ?? 0) + 1);
  if (failing.has(path)) {
    if (!firstFail.has(path)) firstFail.set(path, now);
    res.writeHead(500, { 'content-type': 'text/plain' }).end('broken');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end('all good');
});
// Fresh connections arrive by thousands per second: a deep accept queue keeps bursts from being refused.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
