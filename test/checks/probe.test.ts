/** `gobearmon probe`: the built program, run as an operator would; exit 0 online, 1 offline, 2 bad input. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDnsServer, type TestDnsServer } from '../helpers/dnsserver';

const BIN = join(__dirname, '../../cmd/gobearmon.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the program asynchronously, so the servers of this process keep answering meanwhile. */
function probe(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'probe', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let server: Server;
let address = '';
let dns: TestDnsServer;
const dir = mkdtempSync(join(tmpdir(), 'gobearmon-probe-'));

before(async () => {
  server = createServer((s) => s.end('hello\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  dns = await startDnsServer({ records: [{ name: 'probe.test', type: 'A', ttl: 60, class: 'IN', data: '192.0.2.1' }] });
});

after(async () => {
  server.close();
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

test('online: exit 0 and the result as JSON on stdout', async () => {
  const r = await probe('tcp', JSON.stringify({ address, expect: 'hello' }));
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(result.type, 'tcp');
  assert.equal(result.status, 'online');
  assert.equal(typeof result.durationMs, 'number');
});

test('offline: exit 1, still JSON with the reason', async () => {
  const r = await probe('tcp', '{"address":"127.0.0.1:1"}');
  assert.equal(r.code, 1);
  const result = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(result.status, 'offline');
  assert.match(String(result.message), /ECONNREFUSED/);
});

test('bad input: exit 2 with the reason on stderr', async () => {
  const cases: [string[], RegExp][] = [
    [['smtp', '{}'], /invalid check type: smtp/],
    [['tcp', '{"address":'], /failed to decode check parameters/],
    [['tcp', '{}'], /missing parameter "address"/],
    [['tcp', '{"address":5}'], /parameter "address" must be a string, got number/],
    [['tcp'], /probe takes TYPE and 'JSON', got 1 argument/],
    [['tcp', '{}', 'extra'], /got 3 argument/],
    [['tcp', '{}', '--bogus'], /unknown option --bogus/],
    [['dns', '{"name":"probe.test","type":"a"}', '--config', join(dir, 'missing.cfg')], /cannot read config file/],
  ];
  for (const [args, message] of cases) {
    const r = await probe(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});

test('--config supplies [dns] server to a dns check that names none', async () => {
  const file = join(dir, 'view.cfg');
  writeFileSync(file, `[default]\npassword = secret\n[viewserver]\naddr = 127.0.0.1:7000\ncontroller = 127.0.0.1:7001\n[dns]\nserver = ${dns.address}\n`);
  const r = await probe('dns', '{"name":"probe.test","type":"A","expect":"192.0.2.1"}', '--config', file);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((JSON.parse(r.stdout) as { facts: { server: string } }).facts.server, dns.address);
});

test('--help prints the usage', async () => {
  const r = await probe('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: gobearmon probe TYPE 'JSON' \[--config FILE\]/);
});
