/** Each check type's parameter definition matches what its parser reads; warnings for probable mistakes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTypes, checkWarnings, validateCheck } from '../../src/checks/registry';
import type { ParamSpec } from '../../src/checks/types';

/** A value of the right kind that each type's parser accepts for that key. */
const SAMPLES: Record<string, Record<string, unknown>> = {
  http: { url: 'https://example.com/', method: 'GET', body: '', headers: { A: 'b' }, timeout: 5, insecure: true, username: 'u', password: 'p', expect_status: 200, expect_substring: 'x' },
  tcp: { address: '127.0.0.1:25', timeout: 5, payload: 'HELO', expect: '220', force_ip: 4 },
  icmp: { target: '127.0.0.1', packetloss: true, force_ip: 6 },
  ssl_expire: { address: 'example.com:443', days: 7 },
  dns: { name: 'example.com', type: 'a', server: '127.0.0.1', expect: '1.2.3.4' },
  rabbitmq: { url: 'http://127.0.0.1:15672', queue: 'q', vhost: '/', username: 'guest', password: 'guest', timeout: 5, insecure: false, consumers: ['^w'], max_ready: 10 },
  exec: { command: 'check_dummy', args: ['0'], timeout: 5, warning: 'offline' },
};

test('every type declares its parameters; a full sample is valid and draws no unknown-key warning', () => {
  for (const [name, type] of Object.entries(checkTypes)) {
    const keys = type.params.map((p: ParamSpec) => p.key);
    assert.deepEqual(keys.sort(), Object.keys(SAMPLES[name]).sort(), `${name}: declared parameters`);
    const data = JSON.stringify(SAMPLES[name]);
    assert.equal(validateCheck(name, data), null, name);
    assert.deepEqual(checkWarnings(name, data), [], name);
    // Each required key, when missing, makes the check invalid (so `required` is true to the parser).
    for (const p of type.params.filter((x) => x.required)) {
      const without = { ...SAMPLES[name] };
      delete without[p.key];
      assert.match(validateCheck(name, JSON.stringify(without)) ?? '', new RegExp(p.key), `${name} without ${p.key}`);
    }
  }
});

test('unknown keys and an http check without expect_status are warned about', () => {
  const [typo, noStatus] = checkWarnings('http', '{"url":"https://x/","expect_stauts":200}');
  assert.match(typo, /unknown parameter "expect_stauts" ignored; http reads: url, /);
  assert.match(noStatus, /no "expect_status": any HTTP answer, even 404 or 500, counts as online/);
  assert.deepEqual(checkWarnings('http', '{"url":"https://x/","expect_status":0}').length, 1);
  assert.match(checkWarnings('tcp', '{"address":"h:1","a":1,"b":2}')[0], /unknown parameters "a", "b"/);
  assert.deepEqual(checkWarnings('tcp', 'not json'), []);
  assert.deepEqual(checkWarnings('nope', '{}'), []);
});
