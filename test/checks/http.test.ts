/** The http check against real servers on 127.0.0.1. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { runCheck } from '../../src/checks/registry';
import { makeCert } from '../helpers/certs';

const ctx = { dnsServer: '' };
const seen: IncomingMessage[] = [];
const bodies: string[] = [];
const servers: Server[] = [];

/** Routes: /status/N, /text, /echo, /slow/MS, /redirect/N (N hops left), /big, /endless, /auth, /away (to the other server). */
let endless: { sent: number; closed: boolean } = { sent: 0, closed: false };
function handler(other: () => string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(req);
      bodies.push(Buffer.concat(chunks).toString());
      const [, route, arg] = (req.url ?? '').split('/');
      switch (route) {
        case 'status': return res.writeHead(Number(arg)).end('status page');
        case 'text': return res.end('<html>all systems operational</html>');
        case 'echo': return res.end(JSON.stringify({ method: req.method, headers: req.headers }));
        case 'slow': {
          const timer = setTimeout(() => res.end('finally'), Number(arg));
          res.on('close', () => clearTimeout(timer));
          return;
        }
        case 'redirect': {
          const left = Number(arg);
          return res.writeHead(302, { location: left > 0 ? `/redirect/${left - 1}` : '/text' }).end();
        }
        case 'big': {
          // 2 MiB of filler with the marker after the first MiB: never read, so never found.
          res.write(Buffer.alloc(1024 * 1024 + 10, 'a'));
          return res.end('MARKER');
        }
        case 'endless': {
          // A body that never ends, written as fast as the client reads it.
          endless = { sent: 0, closed: false };
          const chunk = Buffer.alloc(64 * 1024, 'z');
          const pump = () => {
            while (!res.destroyed && res.write(chunk)) endless.sent += chunk.length;
          };
          res.on('drain', pump);
          res.on('close', () => (endless.closed = true));
          return pump();
        }
        case 'auth': {
          const ok = req.headers.authorization === `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
          return res.writeHead(ok ? 200 : 401).end(ok ? 'welcome' : 'who are you');
        }
        case 'away': return res.writeHead(307, { location: `${other()}/echo` }).end();
        default: return res.writeHead(404).end('not found');
      }
    });
  };
}

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let base = '';
let otherBase = '';
const ready = (async () => {
  base = `http://${await listen(createServer(handler(() => otherBase)))}`;
  otherBase = `http://${await listen(createServer(handler(() => base)))}`;
})();

after(() => {
  for (const s of servers) {
    s.close();
    (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  }
});

async function check(params: Record<string, unknown>) {
  await ready;
  return runCheck('http', JSON.stringify(params), ctx);
}

test('online on any status when expect_status is unset; facts carry the status', async () => {
  const r = await check({ url: `${base}/status/500` });
  assert.equal(r.status, 'online');
  assert.equal(r.facts?.statusCode, 500);
});

test('expect_status match and mismatch', async () => {
  assert.equal((await check({ url: `${base}/status/204`, expect_status: 204 })).status, 'online');
  const r = await check({ url: `${base}/status/503`, expect_status: 200 });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, 'status mismatch, got 503 but expected 200');
});

test('expect_substring found and not found; bytes read are reported', async () => {
  const ok = await check({ url: `${base}/text`, expect_substring: 'operational' });
  assert.equal(ok.status, 'online');
  assert.equal(ok.facts?.bytesRead, 36);
  const bad = await check({ url: `${base}/text`, expect_substring: 'outage' });
  assert.equal(bad.status, 'offline');
  assert.equal(bad.message, 'expected substring [outage] was not found in the response body');
});

test('at most 1 MiB of the body is searched', async () => {
  const r = await check({ url: `${base}/big`, expect_substring: 'MARKER' });
  assert.equal(r.status, 'offline');
  assert.equal(r.facts?.bytesRead, 1024 * 1024);
  assert.equal((await check({ url: `${base}/big`, expect_substring: 'aaaa' })).status, 'online');
});

test('an unread body is cut after 1 MiB, not downloaded until the deadline', async () => {
  const r = await check({ url: `${base}/endless`, expect_status: 200, timeout: 30 });
  assert.equal(r.status, 'online', r.message);
  const until = Date.now() + 10_000;
  while (!endless.closed && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
  assert.ok(endless.closed, 'the connection was closed well before the 30 s deadline');
  assert.ok(endless.sent < 16 * 1024 * 1024, `only about 1 MiB was taken (${endless.sent} bytes written)`);
});

test('sends User-Agent gobearmon, the headers map, and a Host override', async () => {
  const r = await check({ url: `${base}/echo`, headers: { Host: 'status.example.test', 'X-Probe': 'yes' }, expect_substring: '"host":"status.example.test"' });
  assert.equal(r.status, 'online', r.message);
  const req = seen[seen.length - 1];
  assert.equal(req.headers['user-agent'], 'gobearmon');
  assert.equal(req.headers['x-probe'], 'yes');
  assert.equal(req.headers.host, 'status.example.test');
  assert.equal(req.method, 'GET');
});

test('names the worker running it in X-Gobearmon-Worker', async () => {
  await runCheck('http', JSON.stringify({ url: `${base}/echo` }), { dnsServer: '', worker: 'w7' });
  assert.equal(seen[seen.length - 1].headers['x-gobearmon-worker'], 'w7');
});

test('a body makes it a POST unless a method is given', async () => {
  await check({ url: `${base}/echo`, body: 'a=1' });
  assert.equal(seen[seen.length - 1].method, 'POST');
  assert.equal(bodies[bodies.length - 1], 'a=1');
  await check({ url: `${base}/echo`, body: 'b=2', method: 'PUT' });
  assert.equal(seen[seen.length - 1].method, 'PUT');
});

test('basic auth from username/password', async () => {
  assert.equal((await check({ url: `${base}/auth`, expect_status: 200, username: 'alice', password: 's3cret' })).status, 'online');
  const r = await check({ url: `${base}/auth`, expect_status: 200, username: 'alice', password: 'wrong' });
  assert.equal(r.message, 'status mismatch, got 401 but expected 200');
});

test('a fresh connection for every run', async () => {
  const before = new Set(seen.map((req) => req.socket));
  await check({ url: `${base}/text` });
  await check({ url: `${base}/text` });
  const sockets = seen.slice(-2).map((req) => req.socket);
  assert.notEqual(sockets[0], sockets[1]);
  for (const s of sockets) assert.ok(!before.has(s));
});

test('redirects are followed up to 10', async () => {
  const ok = await check({ url: `${base}/redirect/9`, expect_substring: 'operational' });
  assert.equal(ok.status, 'online', ok.message);
  assert.equal(ok.facts?.redirects, 10);
  const tooMany = await check({ url: `${base}/redirect/10` });
  assert.equal(tooMany.status, 'offline');
  assert.equal(tooMany.message, 'error performing HTTP request: stopped after 10 redirects');
});

test('credentials and the Host override stay on the first origin', async () => {
  const r = await check({ url: `${base}/away`, username: 'alice', password: 's3cret', headers: { Host: 'vhost.test' } });
  assert.equal(r.status, 'online', r.message);
  const req = seen[seen.length - 1];
  assert.equal(req.headers.authorization, undefined);
  assert.equal(req.headers.host, otherBase.replace('http://', ''));
});

test('connection refused is an error performing the request', async () => {
  const r = await check({ url: 'http://127.0.0.1:1/' });
  assert.equal(r.status, 'offline');
  assert.match(r.message, /^error performing HTTP request: .*ECONNREFUSED/);
});

test('a server slower than the timeout is offline after about the timeout', async () => {
  const r = await check({ url: `${base}/slow/20000`, timeout: 3 });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, 'error performing HTTP request: timed out after 3 s');
  assert.ok(r.durationMs >= 2900 && r.durationMs < 10_000, `took ${r.durationMs} ms`);
});

test('a timeout below 3 s is raised to 3 s', async () => {
  const r = await check({ url: `${base}/slow/1500`, timeout: 1, expect_substring: 'finally' });
  assert.equal(r.status, 'online', r.message);
  assert.ok(r.durationMs >= 1400, `took ${r.durationMs} ms`);
});

test('TLS is verified unless insecure', async () => {
  const { key, cert } = makeCert('self-signed.test');
  const tlsBase = `https://${await listen(createHttpsServer({ key, cert }, handler(() => base)))}`;
  const strict = await check({ url: `${tlsBase}/text` });
  assert.equal(strict.status, 'offline');
  assert.match(strict.message, /^error performing HTTP request: .*self.signed/i);
  const insecure = await check({ url: `${tlsBase}/text`, insecure: true, expect_substring: 'operational' });
  assert.equal(insecure.status, 'online', insecure.message);
});
