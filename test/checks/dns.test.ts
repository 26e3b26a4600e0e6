/** The dns check against a small UDP+TCP server on 127.0.0.1. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import { runCheck } from '../../src/checks/registry';
import { dnsCheck } from '../../src/checks/dns';
import { startDnsServer, type TestDnsServer } from '../helpers/dnsserver';

const Z = 'example.test';
const records: Answer[] = [
  { name: Z, type: 'A', ttl: 300, class: 'IN', data: '192.0.2.10' },
  { name: Z, type: 'A', ttl: 300, class: 'IN', data: '192.0.2.11' },
  { name: Z, type: 'AAAA', ttl: 300, class: 'IN', data: '2001:db8:0:0:0:0:0:10' },
  { name: Z, type: 'NS', ttl: 3600, class: 'IN', data: `ns1.${Z}` },
  { name: Z, type: 'SOA', ttl: 3600, class: 'IN', data: { mname: `ns1.${Z}`, rname: `hostmaster.${Z}`, serial: 2024010101, refresh: 7200, retry: 900, expire: 1209600, minimum: 300 } },
  { name: Z, type: 'MX', ttl: 300, class: 'IN', data: { preference: 10, exchange: `mail.${Z}` } },
  { name: Z, type: 'TXT', ttl: 300, class: 'IN', data: ['v=spf1 -all', 'say "hi"'] },
  // dns-packet has no SPF codec: the rdata is written raw, as length-prefixed strings.
  { name: Z, type: 'SPF' as 'NULL', ttl: 300, class: 'IN', data: Buffer.from('\x0bv=spf1 -all') },
  { name: `_sip._tcp.${Z}`, type: 'SRV', ttl: 300, class: 'IN', data: { priority: 5, weight: 20, port: 5060, target: `sip.${Z}` } },
  { name: '10.2.0.192.in-addr.arpa', type: 'PTR', ttl: 300, class: 'IN', data: Z },
  { name: `www.${Z}`, type: 'CNAME', ttl: 60, class: 'IN', data: Z },
  { name: `empty.${Z}`, type: 'TXT', ttl: 60, class: 'IN', data: 'only txt here' },
  ...Array.from({ length: 40 }, (_, i): Answer => ({ name: `big.${Z}`, type: 'TXT', ttl: 60, class: 'IN', data: `record number ${i} ${'x'.repeat(20)}` })),
];

let dns: TestDnsServer;
before(async () => {
  dns = await startDnsServer({ records, truncated: [`big.${Z}`], silent: [`silent.${Z}`] });
});
after(() => dns.close());

const check = (params: Record<string, unknown>, dnsServer = '') => runCheck('dns', JSON.stringify({ server: dns.address, ...params }), { dnsServer });

test('each record type is rendered as a zone-file line, matching the original', async () => {
  const cases: [string, string, string][] = [
    ['a', Z, `${Z}.\t300\tIN\tA\t192.0.2.10`],
    ['AAAA', Z, `${Z}.\t300\tIN\tAAAA\t2001:db8::10`],
    ['Ns', Z, `${Z}.\t3600\tIN\tNS\tns1.${Z}.`],
    ['soa', Z, `${Z}.\t3600\tIN\tSOA\tns1.${Z}. hostmaster.${Z}. 2024010101 7200 900 1209600 300`],
    ['mx', Z, `${Z}.\t300\tIN\tMX\t10 mail.${Z}.`],
    ['txt', Z, `${Z}.\t300\tIN\tTXT\t"v=spf1 -all" "say \\"hi\\""`],
    ['spf', Z, `${Z}.\t300\tIN\tSPF\t"v=spf1 -all"`],
    ['srv', `_sip._tcp.${Z}`, `_sip._tcp.${Z}.\t300\tIN\tSRV\t5 20 5060 sip.${Z}.`],
    ['ptr', '10.2.0.192.in-addr.arpa.', `10.2.0.192.in-addr.arpa.\t300\tIN\tPTR\t${Z}.`],
  ];
  for (const [type, name, line] of cases) {
    const r = await check({ name, type });
    assert.equal(r.status, 'online', `${type}: ${r.message}`);
    assert.equal((r.facts?.answers as string[])[0], line, type);
    assert.equal(r.facts?.transport, 'udp');
  }
  const a = await check({ name: Z, type: 'a' });
  assert.equal((a.facts?.answers as string[]).length, 2);
  assert.equal(a.message, `2 answers: ${Z}.\t300\tIN\tA\t192.0.2.10`);
});

test('expect matches any answer line; a mismatch names the first answer', async () => {
  assert.equal((await check({ name: Z, type: 'a', expect: '192.0.2.11' })).status, 'online');
  assert.equal((await check({ name: Z, type: 'mx', expect: `10 mail.${Z}.` })).status, 'online');
  assert.equal((await check({ name: Z, type: 'a', expect: 'IN\tA\t192.0.2.10' })).status, 'online');
  const r = await check({ name: Z, type: 'a', expect: '198.51.100.1' });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, `query answer does not contain expected string (answer is ${Z}.\t300\tIN\tA\t192.0.2.10, expected 198.51.100.1)`);
});

test('a CNAME in the answer counts and is rendered', async () => {
  const r = await check({ name: `www.${Z}`, type: 'a', expect: 'CNAME' });
  assert.equal(r.status, 'online', r.message);
  assert.equal((r.facts?.answers as string[])[0], `www.${Z}.\t60\tIN\tCNAME\t${Z}.`);
});

test('NXDOMAIN and an empty answer are offline', async () => {
  const nx = await check({ name: `nope.${Z}`, type: 'a' });
  assert.equal(nx.status, 'offline');
  assert.equal(nx.message, 'query returned no results (NXDOMAIN)');
  assert.equal(nx.facts?.rcode, 'NXDOMAIN');
  const empty = await check({ name: `empty.${Z}`, type: 'a' });
  assert.equal(empty.message, 'query returned no results');
});

test('a truncated UDP answer is retried over TCP', async () => {
  const r = await check({ name: `big.${Z}`, type: 'TXT', expect: 'record number 39' });
  assert.equal(r.status, 'online', r.message);
  assert.equal(r.facts?.transport, 'tcp');
  assert.equal((r.facts?.answers as string[]).length, 40);
  assert.deepEqual(dns.queries.filter((q) => q.includes(`big.${Z}`)).slice(-2), [`udp big.${Z} TXT`, `tcp big.${Z} TXT`]);
});

test('the server comes from [dns] server when the check names none', async () => {
  const r = await runCheck('dns', JSON.stringify({ name: Z, type: 'a' }), { dnsServer: dns.address });
  assert.equal(r.status, 'online', r.message);
  assert.equal(r.facts?.server, dns.address);
});

test('port 53 is the default; a refused port and a silent server are offline', async () => {
  const server = (text: string) => dnsCheck.parse({ name: Z, type: 'a', server: text }).server;
  assert.deepEqual(server('127.0.0.1'), { host: '127.0.0.1', port: 53 });
  assert.deepEqual(server('ns.example.test'), { host: 'ns.example.test', port: 53 });
  assert.deepEqual(server('::1'), { host: '::1', port: 53 });
  assert.deepEqual(server('[::1]:5353'), { host: '::1', port: 5353 });
  assert.deepEqual(server('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
  const refused = await check({ name: Z, type: 'a', server: '127.0.0.1:1' });
  assert.equal(refused.status, 'offline');
  assert.match(refused.message, /^query failed: .*ECONNREFUSED/);
  const silent = await check({ name: `silent.${Z}`, type: 'a' });
  assert.equal(silent.status, 'offline');
  assert.equal(silent.message, 'query failed: no answer within 5 s');
  assert.ok(silent.durationMs >= 4900 && silent.durationMs < 15_000, `took ${silent.durationMs} ms`);
});
