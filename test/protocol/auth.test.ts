import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SKEW_MS, sign, verify } from '../../src/protocol/auth';

const NOW = 1_700_000_000_000;
const PW = 'cluster secret';
const BODY = JSON.stringify({ worker: 'w1', slots: 4, view: 7 });

test('sign/verify round trip', () => {
  const header = sign(PW, 'POST', '/work', BODY, NOW);
  assert.match(header, /^\d+\.[0-9a-f]{64}$/);
  assert.ok(!header.includes(PW), 'the password never crosses the wire');
  assert.equal(verify(PW, 'POST', '/work', BODY, header, NOW), null);
  assert.equal(verify(PW, 'POST', '/work', BODY, header, NOW + 5_000), null);
  // The method is compared case-insensitively (as HTTP methods are).
  assert.equal(verify(PW, 'post', '/work', BODY, header, NOW), null);
  // An empty body signs and verifies too.
  assert.equal(verify(PW, 'GET', '/status', '', sign(PW, 'GET', '/status', '', NOW), NOW), null);
});

test('wrong password is refused', () => {
  const header = sign('another secret', 'POST', '/work', BODY, NOW);
  assert.match(verify(PW, 'POST', '/work', BODY, header, NOW) ?? '', /bad signature/);
});

test('tampered body, path or method is refused', () => {
  const header = sign(PW, 'POST', '/work', BODY, NOW);
  assert.match(verify(PW, 'POST', '/work', BODY.replace('"slots":4', '"slots":5'), header, NOW) ?? '', /bad signature/);
  assert.match(verify(PW, 'POST', '/results', BODY, header, NOW) ?? '', /bad signature/);
  assert.match(verify(PW, 'PUT', '/work', BODY, header, NOW) ?? '', /bad signature/);
});

test('tampered timestamp or MAC is refused', () => {
  const header = sign(PW, 'POST', '/work', BODY, NOW);
  const [ts, mac] = header.split('.');
  assert.match(verify(PW, 'POST', '/work', BODY, `${Number(ts) + 1}.${mac}`, NOW) ?? '', /bad signature/);
  const flipped = (mac[0] === '0' ? '1' : '0') + mac.slice(1);
  assert.match(verify(PW, 'POST', '/work', BODY, `${ts}.${flipped}`, NOW) ?? '', /bad signature/);
});

test(`clock skew: up to ${MAX_SKEW_MS / 1000} s either way is accepted, beyond is refused`, () => {
  assert.equal(MAX_SKEW_MS, 30_000);
  const header = sign(PW, 'POST', '/work', BODY, NOW);
  assert.equal(verify(PW, 'POST', '/work', BODY, header, NOW + 30_000), null);
  assert.equal(verify(PW, 'POST', '/work', BODY, header, NOW - 30_000), null);
  const late = verify(PW, 'POST', '/work', BODY, header, NOW + 30_001);
  assert.match(late ?? '', /clock skew/);
  const early = verify(PW, 'POST', '/work', BODY, header, NOW - 30_001);
  assert.match(early ?? '', /clock skew/);
  // A replay an hour later is refused whatever the signature.
  assert.match(verify(PW, 'POST', '/work', BODY, header, NOW + 3_600_000) ?? '', /timestamp off by 3600 s/);
});

test('missing or malformed header gives a reason', () => {
  assert.match(verify(PW, 'POST', '/work', BODY, undefined, NOW) ?? '', /missing/);
  assert.match(verify(PW, 'POST', '/work', BODY, '', NOW) ?? '', /missing/);
  const good = sign(PW, 'POST', '/work', BODY, NOW);
  const [ts, mac] = good.split('.');
  const malformed = [
    PW, // someone sending the password as the original protocol did
    'garbage',
    `${ts}`,
    `${ts}.`,
    `.${mac}`,
    `${ts}.${mac.slice(1)}`, // MAC one digit short
    `${ts}.${mac}0`, // MAC one digit long
    `${ts}.${mac.toUpperCase()}`,
    `-${ts}.${mac}`,
    `${ts}.${mac} `,
    `12345678901234567.${mac}`, // timestamp too long
  ];
  for (const h of malformed) {
    const reason = verify(PW, 'POST', '/work', BODY, h, NOW);
    assert.equal(typeof reason, 'string', `accepted malformed header ${JSON.stringify(h)}`);
    assert.match(reason!, /malformed/, `reason for ${JSON.stringify(h)}`);
  }
});
