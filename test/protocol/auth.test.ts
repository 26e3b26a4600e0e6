import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_SKEW_MS, checkHeader, sign, verify, type Signed } from '../../src/protocol/auth';
import { ReplayGuard } from '../../src/protocol/replay';
import { RateLimiter } from '../../src/util/rate-limit';

const NOW = 1_700_000_000_000;
const PW = 'cluster secret';
const BODY = JSON.stringify({ worker: 'w1', slots: 4, view: 7 });
const REQ: Signed = { method: 'POST', path: '/work', to: '10.0.0.1:7000', body: BODY };

test('sign/verify round trip', () => {
  const header = sign(PW, REQ, NOW);
  assert.match(header, /^\d+\.[0-9a-f]{16}\.[0-9a-f]{64}$/);
  assert.ok(!header.includes(PW), 'the password never crosses the wire');
  assert.equal(verify(PW, REQ, header, NOW), null);
  assert.equal(verify(PW, REQ, header, NOW + 5_000), null);
  // The method is compared case-insensitively (as HTTP methods are); the body may come as raw bytes.
  assert.equal(verify(PW, { ...REQ, method: 'post', body: Buffer.from(BODY) }, header, NOW), null);
  const get: Signed = { method: 'GET', path: '/status', to: '10.0.0.1:7000', body: '' };
  assert.equal(verify(PW, get, sign(PW, get, NOW), NOW), null);
  // Two signatures of one request differ (random nonce), so the replay guard never refuses a fresh one.
  assert.notEqual(sign(PW, REQ, NOW), sign(PW, REQ, NOW));
});

test('wrong password is refused', () => {
  assert.match(verify(PW, REQ, sign('another secret', REQ, NOW), NOW) ?? '', /bad signature/);
});

test('tampered body, path, method or recipient is refused', () => {
  const header = sign(PW, REQ, NOW);
  assert.match(verify(PW, { ...REQ, body: BODY.replace('"slots":4', '"slots":5') }, header, NOW) ?? '', /bad signature/);
  assert.match(verify(PW, { ...REQ, path: '/results' }, header, NOW) ?? '', /bad signature/);
  assert.match(verify(PW, { ...REQ, method: 'PUT' }, header, NOW) ?? '', /bad signature/);
  // The signature names its recipient: the same request for another node does not verify.
  assert.match(verify(PW, { ...REQ, to: '10.0.0.2:7000' }, header, NOW) ?? '', /bad signature/);
});

test('any change of any part is refused (property)', () => {
  fc.assert(fc.property(
    fc.record({ method: fc.constantFrom('GET', 'POST'), path: fc.string(), to: fc.string(), body: fc.string() }),
    fc.constantFrom('method', 'path', 'to', 'body'), fc.string({ minLength: 1 }),
    (req, part, extra) => {
      const header = sign(PW, req, NOW);
      assert.equal(verify(PW, req, header, NOW), null);
      const changed = { ...req, [part]: part === 'method' ? (req.method === 'GET' ? 'POST' : 'GET') : req[part as 'path'] + extra };
      assert.match(verify(PW, changed, header, NOW) ?? '', /bad signature/);
    },
  ), { numRuns: 200 });
});

test('tampered timestamp, nonce or MAC is refused', () => {
  const [ts, nonce, mac] = sign(PW, REQ, NOW).split('.');
  assert.match(verify(PW, REQ, `${Number(ts) + 1}.${nonce}.${mac}`, NOW) ?? '', /bad signature/);
  const otherNonce = (nonce[0] === '0' ? '1' : '0') + nonce.slice(1);
  assert.match(verify(PW, REQ, `${ts}.${otherNonce}.${mac}`, NOW) ?? '', /bad signature/);
  const flipped = (mac[0] === '0' ? '1' : '0') + mac.slice(1);
  assert.match(verify(PW, REQ, `${ts}.${nonce}.${flipped}`, NOW) ?? '', /bad signature/);
});

test(`clock skew: up to ${MAX_SKEW_MS / 1000} s either way is accepted, beyond is refused as skew`, () => {
  assert.equal(MAX_SKEW_MS, 30_000);
  const header = sign(PW, REQ, NOW);
  assert.equal(verify(PW, REQ, header, NOW + 30_000), null);
  assert.equal(verify(PW, REQ, header, NOW - 30_000), null);
  assert.match(verify(PW, REQ, header, NOW + 30_001) ?? '', /clock skew/);
  assert.match(verify(PW, REQ, header, NOW - 30_001) ?? '', /clock skew/);
  const late = checkHeader(header, NOW + 3_600_000);
  assert.ok('refused' in late && late.refused.kind === 'skew');
  assert.match(verify(PW, REQ, header, NOW + 3_600_000) ?? '', /timestamp off by 3600 s/);
});

test('missing or malformed header gives a reason', () => {
  assert.match(verify(PW, REQ, undefined, NOW) ?? '', /missing/);
  assert.match(verify(PW, REQ, '', NOW) ?? '', /missing/);
  const [ts, nonce, mac] = sign(PW, REQ, NOW).split('.');
  const malformed = [
    PW, // someone sending the password as the original protocol did
    'garbage',
    `${ts}`,
    `${ts}.${mac}`, // the old form, without a nonce
    `${ts}.${nonce}.`,
    `.${nonce}.${mac}`,
    `${ts}.${nonce}.${mac.slice(1)}`,
    `${ts}.${nonce}.${mac}0`,
    `${ts}.${nonce}.${mac.toUpperCase()}`,
    `${ts}.${nonce.slice(1)}.${mac}`,
    `-${ts}.${nonce}.${mac}`,
    `${ts}.${nonce}.${mac} `,
    `12345678901234567.${nonce}.${mac}`,
  ];
  for (const h of malformed) {
    const reason = verify(PW, REQ, h, NOW);
    assert.equal(typeof reason, 'string', `accepted malformed header ${JSON.stringify(h)}`);
    assert.match(reason!, /malformed/, `reason for ${JSON.stringify(h)}`);
  }
});

test('replay guard: a signature is accepted once within the window, and forgotten after it', () => {
  const guard = new ReplayGuard(30_000);
  assert.equal(guard.accept('a', NOW, NOW), true);
  assert.equal(guard.accept('a', NOW, NOW + 1), false);
  assert.equal(guard.accept('a', NOW, NOW + 29_999), false);
  assert.equal(guard.accept('b', NOW + 10, NOW + 10), true);
  // Past the window the timestamp check refuses it anyway, so the guard may forget it: memory stays bounded.
  guard.accept('c', NOW + 40_000, NOW + 40_000);
  assert.equal(guard.size, 1);
});

test('rate limiter: one per kind per interval, the rest counted', () => {
  const limit = new RateLimiter(10_000);
  assert.equal(limit.hit('a', 0), 0);
  for (let i = 1; i <= 500; i++) assert.equal(limit.hit('a', i), null);
  assert.equal(limit.hit('b', 600), 0, 'kinds are limited apart');
  assert.equal(limit.hit('a', 10_000), 500);
  assert.equal(limit.hit('a', 10_001), null);
});
