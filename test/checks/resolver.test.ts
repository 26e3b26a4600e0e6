/**
 * Names are resolved off libuv's thread pool: IP literals at once, /etc/hosts by us, the rest by
 * c-ares with a deadline inside the check's. The adversary's test runs checks in a child process
 * whose /etc/resolv.conf (a private mount namespace) names a server that reads and never answers:
 * dozens of checks on names it will never resolve, beside healthy checks on names from /etc/hosts
 * and localhost. The healthy ones stay online. (At 9d4662d getaddrinfo ran on the 4 pool threads,
 * and every healthy lookup queued behind the hanging ones until its check timed out.)
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseHosts, parseResolvConf } from '../../src/net/hosts-file';
import { HostResolver, LookupError } from '../../src/net/resolver';

/** A UDP "DNS server" that reads every query and never answers. */
async function blackhole(host: string, port: number): Promise<{ socket: Socket; queries: () => number; port: number }> {
  const socket = createSocket('udp4');
  let n = 0;
  socket.on('message', () => n++);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => resolve());
  });
  return { socket, queries: () => n, port: socket.address().port };
}

describe('HostResolver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbm-resolver-'));
  const hostsFile = join(dir, 'hosts');
  let hole: Awaited<ReturnType<typeof blackhole>>;
  let resolver: HostResolver;

  before(async () => {
    writeFileSync(hostsFile, '# comment\n127.0.0.1 localhost\n127.0.0.7 svc.test svc  # trailing\n::1 six.test\n10.1.2.3 both.test\n::2 both.test\n');
    hole = await blackhole('127.0.0.1', 0);
    resolver = new HostResolver({ servers: [`127.0.0.1:${hole.port}`], hostsFile, resolvConf: join(dir, 'none') });
  });
  after(() => {
    resolver.cancel();
    hole.socket.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('IP literals and /etc/hosts names are answered without a query', async () => {
    assert.deepEqual(await resolver.lookup('192.0.2.1', { timeoutMs: 1_000 }), [{ address: '192.0.2.1', family: 4 }]);
    assert.deepEqual(await resolver.lookup('[::1]', { timeoutMs: 1_000 }), [{ address: '::1', family: 6 }]);
    assert.deepEqual(await resolver.lookup('SVC.test.', { timeoutMs: 1_000 }), [{ address: '127.0.0.7', family: 4 }]);
    assert.deepEqual(await resolver.lookup('six.test', { timeoutMs: 1_000 }), [{ address: '::1', family: 6 }]);
    assert.deepEqual(await resolver.lookup('both.test', { timeoutMs: 1_000 }), [{ address: '10.1.2.3', family: 4 }]);
    assert.deepEqual(await resolver.lookup('both.test', { family: 6, timeoutMs: 1_000 }), [{ address: '::2', family: 6 }]);
    assert.deepEqual(await resolver.lookup('localhost', { family: 4, timeoutMs: 1_000 }), [{ address: '127.0.0.1', family: 4 }]);
    assert.deepEqual(await resolver.lookup('a.localhost', { family: 6, timeoutMs: 1_000 }), [{ address: '::1', family: 6 }]);
    await assert.rejects(resolver.lookup('192.0.2.1', { family: 6, timeoutMs: 1_000 }), /not an IPv6 address/);
    assert.equal(hole.queries(), 0);
  });

  test('a name the server never answers fails at the lookup deadline, saying so', async () => {
    const err = await resolver.lookup('never.example', { timeoutMs: 300 }).catch((e: unknown) => e);
    assert.ok(err instanceof LookupError);
    assert.equal(err.code, 'ETIMEOUT');
    assert.equal(err.message, 'DNS lookup of never.example timed out after 0.3 s');
    assert.ok(hole.queries() >= 1, 'the query went to the configured server');
  });

  test('many hanging lookups do not delay a hosts-file lookup', async () => {
    const hanging = Array.from({ length: 64 }, (_, i) => resolver.lookup(`hang${i}.example`, { timeoutMs: 2_000 }).catch(() => 'failed'));
    // Answered while all 64 are still outstanding (they end at 2 s).
    const first = await Promise.race([resolver.lookup('svc.test', { timeoutMs: 1_000 }), Promise.all(hanging).then(() => 'hanging ended first')]);
    assert.deepEqual(first, [{ address: '127.0.0.7', family: 4 }]);
    assert.deepEqual(new Set(await Promise.all(hanging)), new Set(['failed']));
  });

  test('parseHosts: comments, several names, case, any line of garbage ignored (property)', () => {
    const t = parseHosts('127.0.0.1\tA.example a2\n#1.2.3.4 hidden\nnot-an-ip name\n\n 10.0.0.1 b\n');
    assert.deepEqual([...t.entries()], [['a.example', ['127.0.0.1']], ['a2', ['127.0.0.1']], ['b', ['10.0.0.1']]]);
    fc.assert(fc.property(fc.string(), (text) => {
      for (const addresses of parseHosts(text).values()) assert.ok(addresses.length > 0);
    }));
    assert.deepEqual(parseResolvConf('nameserver 1.1.1.1\nsearch a.example b.example\noptions ndots:2 rotate\n'), { search: ['a.example', 'b.example'], ndots: 2 });
  });
});

/** Can this process give a child its own /etc/resolv.conf? (root and unshare: CI and the dev box) */
function canUnshare(): boolean {
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

test('a resolver that never answers leaves healthy checks on /etc/hosts names and localhost online', { skip: canUnshare() ? false : 'needs root and unshare -m' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbm-ns-'));
  // 127.0.0.53 is taken on some hosts (systemd-resolved); .99 is ours for this test.
  const hole = await blackhole('127.0.0.99', 53);
  try {
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.99\noptions timeout:5 attempts:2\n');
    writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost\n127.0.0.1 healthy.test\n');
    const hanging = Array.from({ length: 40 }, (_, i) => ({ type: i % 2 ? 'tcp' : 'http', data: JSON.stringify(i % 2 ? { address: `hang${i}.example:80`, timeout: 10 } : { url: `http://hang${i}.example/`, timeout: 10 }) }));
    const healthy = Array.from({ length: 10 }, (_, i) => ({
      type: i % 2 ? 'tcp' : 'http',
      data: JSON.stringify(i % 2 ? { address: `${i % 4 === 1 ? 'healthy.test' : 'localhost'}:PORT`, timeout: 10 } : { url: `http://${i % 4 === 0 ? 'healthy.test' : 'localhost'}:PORT/`, timeout: 10 }),
    }));
    const spec = JSON.stringify({ checks: [...hanging, ...healthy] });
    const child = join(__dirname, '../helpers/run-checks-child.js');
    const script = `mount --bind ${dir}/resolv.conf /etc/resolv.conf && mount --bind ${dir}/hosts /etc/hosts && exec "$0" "$@"`;
    const proc = spawn('unshare', ['-m', 'sh', '-c', script, process.execPath, child, spec], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((resolve) => proc.once('exit', resolve));
    const results = JSON.parse(out) as { status: string; message: string }[];
    const healthyResults = results.slice(hanging.length);
    for (const r of healthyResults) assert.equal(r.status, 'online', r.message);
    for (const r of results.slice(0, hanging.length)) {
      assert.equal(r.status, 'offline');
      assert.match(r.message, /DNS lookup of hang\d+\.example timed out/);
    }
    assert.ok(hole.queries() > 0, 'the hanging names did go to the silent server');
  } finally {
    hole.socket.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
