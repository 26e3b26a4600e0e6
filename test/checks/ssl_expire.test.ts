/** The ssl_expire check against TLS servers on 127.0.0.1 with certificates made for the test. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer } from 'node:tls';
import { runCheck } from '../../src/checks/registry';
import { daysFromNow, makeCert } from '../helpers/certs';

const ctx = { dnsServer: '' };
const HOUR = 3_600_000;
const servers: Server[] = [];
const sockets = new Set<Socket>();

async function track(server: Server): Promise<string> {
  servers.push(server);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A TLS server whose certificate for `cn` expires at `notAfter`. */
function tlsServer(cn: string, notAfter: Date): Promise<string> {
  const server = createServer(makeCert(cn, notAfter, daysFromNow(-400)), (s) => s.end());
  server.on('tlsClientError', () => undefined);
  return track(server);
}

after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

const check = (params: Record<string, unknown>) => runCheck('ssl_expire', JSON.stringify(params), ctx);

test('more days left than asked: online, with CN and whole days (self-signed is fine)', async () => {
  const address = await tlsServer('good.example.test', daysFromNow(40, HOUR));
  const r = await check({ address, days: 30 });
  assert.equal(r.status, 'online', r.message);
  assert.equal(r.message, 'certificate (good.example.test) expires in 40 days');
  assert.equal(r.facts?.cn, 'good.example.test');
  assert.equal(r.facts?.daysLeft, 40);
});

test('days left not above `days`: offline', async () => {
  const address = await tlsServer('soon.example.test', daysFromNow(10, HOUR));
  const r = await check({ address, days: 14 });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, 'certificate (soon.example.test) expires in 10 days');
  assert.equal((await check({ address, days: 10 })).status, 'offline', 'exactly `days` left is not enough');
  assert.equal((await check({ address, days: 9 })).status, 'online');
});

test('days left are rounded down: 23 hours is 0 days', async () => {
  const address = await tlsServer('today.example.test', new Date(Date.now() + 23 * HOUR));
  const r = await check({ address });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, 'certificate (today.example.test) expires in 0 days');
});

test('an expired certificate has negative days and is offline even with days 0', async () => {
  const address = await tlsServer('old.example.test', daysFromNow(-3, HOUR));
  const r = await check({ address, days: 0 });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, 'certificate (old.example.test) expires in -3 days');
});

test('a refused port and a server that does not speak TLS are offline', async () => {
  const refused = await check({ address: '127.0.0.1:1', days: 1 });
  assert.equal(refused.status, 'offline');
  assert.match(refused.message, /^TLS connection error: .*ECONNREFUSED/);
  const plain = await track(createTcpServer((s) => s.end('not TLS\r\n')));
  const r = await check({ address: plain, days: 1 });
  assert.equal(r.status, 'offline');
  assert.match(r.message, /^TLS connection error: /);
});
