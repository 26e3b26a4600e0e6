/** Bad input never throws: unknown type, bad JSON, missing or wrongly typed parameters are offline results. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTypes, runCheck, validateCheck } from '../../src/checks/registry';
import { httpCheck } from '../../src/checks/http';
import { tcpCheck } from '../../src/checks/tcp';
import { ParamError, type CheckType } from '../../src/checks/types';

const ctx = { dnsServer: '' };

async function offline(type: string, data: string): Promise<string> {
  const result = await runCheck(type, data, ctx);
  assert.equal(result.status, 'offline');
  assert.ok(Number.isFinite(result.durationMs) && result.durationMs >= 0);
  assert.equal(validateCheck(type, data), result.message, 'validateCheck gives the same reason');
  return result.message;
}

test('the built-in types are registered', () => {
  assert.deepEqual(Object.keys(checkTypes).sort(), ['dns', 'exec', 'http', 'icmp', 'rabbitmq', 'ssl_expire', 'tcp']);
});

test('unknown type', async () => {
  assert.match(await offline('smtp', '{}'), /^invalid check type: smtp \(one of http, tcp, icmp, ssl_expire, dns, exec, rabbitmq\)$/);
  assert.match(await offline('toString', '{}'), /^invalid check type: toString/);
});

test('malformed JSON and a non-object', async () => {
  assert.match(await offline('http', '{"url":'), /^failed to decode check parameters: /);
  assert.equal(await offline('http', '[1,2]'), 'check parameters must be a JSON object, got array');
  assert.equal(await offline('tcp', 'null'), 'check parameters must be a JSON object, got null');
});

test('missing parameters name the parameter', async () => {
  assert.equal(await offline('http', '{}'), 'missing parameter "url"');
  assert.equal(await offline('tcp', '{"timeout":5}'), 'missing parameter "address"');
  assert.equal(await offline('icmp', '{}'), 'missing parameter "target"');
  assert.equal(await offline('ssl_expire', '{"days":3}'), 'missing parameter "address"');
  assert.equal(await offline('dns', '{"type":"a"}'), 'missing parameter "name"');
  assert.equal(await offline('dns', '{"name":"example.com"}'), 'missing parameter "type"');
  assert.equal(await offline('http', '{"url":""}'), 'parameter "url" must not be empty');
});

test('wrongly typed parameters say what was expected', async () => {
  assert.equal(await offline('http', '{"url":5}'), 'parameter "url" must be a string, got number');
  assert.equal(await offline('http', '{"url":"http://127.0.0.1/","timeout":"15"}'), 'parameter "timeout" must be a number, got string');
  assert.equal(await offline('http', '{"url":"http://127.0.0.1/","insecure":"yes"}'), 'parameter "insecure" must be true or false, got string');
  assert.equal(await offline('http', '{"url":"http://127.0.0.1/","headers":["a"]}'), 'parameter "headers" must be an object of strings, got array');
  assert.equal(await offline('http', '{"url":"http://127.0.0.1/","headers":{"X-A":1}}'), 'parameter "headers" entry "X-A" must be a string, got number');
  assert.equal(await offline('icmp', '{"target":"127.0.0.1","packetloss":1}'), 'parameter "packetloss" must be true or false, got number');
  assert.equal(await offline('tcp', '{"address":"127.0.0.1:80","force_ip":5}'), 'parameter "force_ip" must be 4 or 6 (or 0 for any), got 5');
  assert.equal(await offline('icmp', '{"target":"127.0.0.1","force_ip":4}'), 'parameter "force_ip" must be 6 (or 0 for any), got 4');
  assert.equal(await offline('ssl_expire', '{"address":"127.0.0.1:443","days":"7"}'), 'parameter "days" must be a number, got string');
  assert.equal(await offline('dns', '{"name":"x","type":"cname"}'), 'invalid record type: cname (one of a, aaaa, ns, soa, ptr, mx, txt, srv, spf)');
});

test('invalid values', async () => {
  assert.equal(await offline('http', '{"url":"example.com"}'), 'invalid parameter "url": example.com is not an absolute URL');
  assert.equal(await offline('http', '{"url":"ftp://127.0.0.1/"}'), 'invalid parameter "url": scheme must be http or https, got ftp');
  assert.equal(await offline('tcp', '{"address":"127.0.0.1"}'), 'invalid parameter "address": missing port in address 127.0.0.1');
  assert.equal(await offline('tcp', '{"address":"127.0.0.1:99999"}'), 'invalid parameter "address": invalid port "99999" in address 127.0.0.1:99999');
  assert.equal(await offline('tcp', '{"address":"::1:80"}'), 'invalid parameter "address": missing port in address ::1:80');
  assert.equal(await offline('dns', '{"name":"x","type":"a","server":"[::1"}'), 'invalid parameter "server": missing "]" in address [::1');
});

test('valid data, including the original README rows and null/unknown keys, passes validateCheck', () => {
  assert.equal(validateCheck('icmp', '{"target":"example.com","force_ip":6}'), null);
  assert.equal(validateCheck('http', '{"url":"https:\\/\\/example.com","method":"GET","expect_status":200,"timeout":15}'), null);
  assert.equal(validateCheck('http', '{"url":"http://127.0.0.1/","body":null,"comment":"ignored"}'), null);
  assert.equal(validateCheck('tcp', '{"address":"[::1]:22","force_ip":6}'), null);
  assert.equal(validateCheck('dns', '{"name":"example.com","type":"MX","server":"::1"}'), null);
});

test('timeouts: absent or 0 means 10 s, others are clamped to 3..30 s', () => {
  const ms = (t: CheckType<{ timeoutMs: number }>, timeout?: number) => t.parse({ url: 'http://127.0.0.1/', address: '127.0.0.1:1', timeout }).timeoutMs;
  for (const t of [httpCheck, tcpCheck]) {
    assert.equal(ms(t), 10_000);
    assert.equal(ms(t, 0), 10_000);
    assert.equal(ms(t, 1), 3_000);
    assert.equal(ms(t, -5), 3_000);
    assert.equal(ms(t, 15), 15_000);
    assert.equal(ms(t, 100), 30_000);
  }
});

test('http method defaults to GET, or POST when a body is set', () => {
  assert.equal(httpCheck.parse({ url: 'http://127.0.0.1/' }).method, 'GET');
  assert.equal(httpCheck.parse({ url: 'http://127.0.0.1/', body: 'x' }).method, 'POST');
  assert.equal(httpCheck.parse({ url: 'http://127.0.0.1/', body: 'x', method: 'put' }).method, 'PUT');
});

test('an error thrown by run() becomes an offline result with its message', async () => {
  const boom: CheckType<null> = {
    name: 'boom',
    params: [],
    parse: () => null,
    run: () => Promise.reject(new Error('kaput')),
  };
  const bad: CheckType<null> = {
    name: 'bad',
    params: [],
    parse: () => {
      throw new TypeError('parser bug');
    },
    run: () => Promise.reject(new Error('unreachable')),
  };
  const strict: CheckType<null> = {
    name: 'strict',
    params: [],
    parse: () => {
      throw new ParamError('nope');
    },
    run: () => Promise.reject(new Error('unreachable')),
  };
  Object.assign(checkTypes, { boom, bad, strict });
  try {
    assert.equal((await runCheck('boom', '{}', ctx)).message, 'kaput');
    assert.equal((await runCheck('bad', '{}', ctx)).message, 'invalid check parameters: parser bug');
    assert.equal((await runCheck('strict', '{}', ctx)).message, 'nope');
  } finally {
    for (const name of ['boom', 'bad', 'strict']) delete checkTypes[name];
  }
});
