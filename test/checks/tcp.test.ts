/** The tcp check against real servers on 127.0.0.1. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { runCheck } from '../../src/checks/registry';

const ctx = { dnsServer: '' };
const servers: Server[] = [];
const sockets = new Set<Socket>();

async function serve(onConnection: (socket: Socket) => void): Promise<string> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

const check = (params: Record<string, unknown>) => runCheck('tcp', JSON.stringify(params), ctx);

/** Answers each line `X` with `echo X`. */
const echo = serve((socket) => {
  let buf = '';
  socket.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      socket.write(`echo ${buf.slice(0, nl)}\r\n`);
      buf = buf.slice(nl + 1);
    }
  });
});
/** Greets first, like SMTP or SSH. */
const banner = serve((socket) => socket.end('220 mail.example.test ESMTP ready\r\nsecond line\r\n'));
/** Accepts and says nothing. */
const silent = serve(() => undefined);

test('online when the connection opens (no expect)', async () => {
  const r = await check({ address: await silent });
  assert.equal(r.status, 'online', r.message);
  assert.equal(r.facts?.remote, await silent);
});

test('payload is sent with a newline and the first line must contain expect', async () => {
  const r = await check({ address: await echo, payload: 'PING', expect: 'echo PING' });
  assert.equal(r.status, 'online', r.message);
  assert.equal(r.facts?.response, 'echo PING');
});

test('a banner is read without a payload', async () => {
  assert.equal((await check({ address: await banner, expect: 'ESMTP' })).status, 'online');
});

test('mismatch names what was expected and the trimmed first line', async () => {
  const r = await check({ address: await banner, expect: 'second line' });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, 'response mismatch, expected [second line] but got [220 mail.example.test ESMTP ready]');
});

test('a refused port is offline', async () => {
  const r = await check({ address: '127.0.0.1:1' });
  assert.equal(r.status, 'offline');
  assert.match(r.message, /^TCP connection error: .*ECONNREFUSED/);
});

test('force_ip that contradicts an IP literal is offline without connecting', async () => {
  const r = await check({ address: await silent, force_ip: 6 });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, 'TCP connection error: 127.0.0.1 is not an IPv6 address (force_ip 6)');
  assert.equal((await check({ address: await silent, force_ip: 4 })).status, 'online');
});

test('a server that never answers is offline after the timeout (covering the read)', async () => {
  const r = await check({ address: await silent, expect: 'hello', timeout: 3 });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, 'failed to read response: timed out after 3 s');
  assert.ok(r.durationMs >= 2900 && r.durationMs < 10_000, `took ${r.durationMs} ms`);
});

test('a connection closed before any data is offline', async () => {
  const closer = await serve((socket) => socket.end());
  const r = await check({ address: closer, expect: 'x' });
  assert.equal(r.message, 'failed to read response: connection closed before any data');
});
