import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import fc from 'fast-check';
import { LogThrottle, occur, type ThrottleState } from '../../src/util/log-throttle';

interface Line {
  level: number;
  event: string;
  msg: string;
  repeated?: number;
  down_ms?: number;
  occurrences?: number;
}

function kit(intervalMs = 60_000) {
  const lines: Line[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  const clock = { t: 1_000_000 };
  const throttle = new LogThrottle(log, () => clock.t, intervalMs);
  return { lines, clock, throttle };
}

const dbDown = { event: 'database_unreachable', detail: 'ECONNREFUSED', msg: 'cannot reach the database' };

test('first occurrence is logged, repeats within a minute are counted, then one line with the count', () => {
  const { lines, clock, throttle } = kit();
  assert.equal(throttle.failing('db', dbDown), true);
  for (let i = 0; i < 30; i++) {
    clock.t += 1_000;
    assert.equal(throttle.failing('db', dbDown), false);
  }
  assert.equal(lines.length, 1);
  clock.t += 30_000; // 60s after the first line
  assert.equal(throttle.failing('db', dbDown), true);
  assert.equal(lines.length, 2);
  assert.equal(lines[1].event, 'database_unreachable');
  assert.equal(lines[1].repeated, 31);
  assert.match(lines[1].msg, /31 times/);
});

test('a changed condition is logged at once', () => {
  const { lines, clock, throttle } = kit();
  throttle.failing('db', dbDown);
  clock.t += 1_000;
  throttle.failing('db', { ...dbDown, detail: 'Access denied' });
  assert.equal(lines.length, 2);
  clock.t += 1_000;
  throttle.failing('db', { ...dbDown, event: 'database_auth_refused' });
  assert.equal(lines.length, 3);
  assert.equal(lines[2].event, 'database_auth_refused');
});

test('restored logs <event>_restored once with the duration, and only after a failure', () => {
  const { lines, clock, throttle } = kit();
  assert.equal(throttle.restored('db'), false);
  throttle.failing('db', dbDown);
  clock.t += 5_000;
  throttle.failing('db', dbDown);
  clock.t += 5_000;
  assert.equal(throttle.restored('db'), true);
  assert.equal(throttle.restored('db'), false);
  assert.equal(lines.length, 2);
  assert.equal(lines[1].event, 'database_unreachable_restored');
  assert.equal(lines[1].down_ms, 10_000);
  assert.equal(lines[1].occurrences, 2);
  assert.equal(lines[1].level, 30);
  // After restoring, the next failure is news again.
  throttle.failing('db', dbDown);
  assert.equal(lines.length, 3);
});

test('keys are independent', () => {
  const { lines, throttle } = kit();
  throttle.failing('viewserver:a', { event: 'viewserver_unreachable', detail: 'x', msg: 'm', level: 'warn' });
  throttle.failing('viewserver:b', { event: 'viewserver_unreachable', detail: 'x', msg: 'm', level: 'warn' });
  assert.equal(lines.length, 2);
  assert.equal(lines[0].level, 40);
  assert.equal(throttle.isFailing('viewserver:a'), true);
  throttle.restored('viewserver:a');
  assert.equal(throttle.isFailing('viewserver:a'), false);
  assert.equal(throttle.isFailing('viewserver:b'), true);
});

test('property: one identity never logs twice within the interval, and no occurrence goes uncounted', () => {
  const interval = 60_000;
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 90_000 }), { minLength: 1, maxLength: 200 }), (gaps) => {
      let state: ThrottleState | undefined;
      let now = 0;
      const logged: number[] = [];
      let counted = 0;
      for (const gap of gaps) {
        now += gap;
        const r = occur(state, dbDown, now, interval);
        state = r.state;
        if (r.emit) {
          logged.push(now);
          counted += (r.emit.fields.repeated as number | undefined) ?? 1;
        }
      }
      for (let i = 1; i < logged.length; i++) assert.ok(logged[i] - logged[i - 1] >= interval);
      // Reported plus still-pending occurrences is every occurrence.
      assert.equal(counted + (state?.unreported ?? 0), gaps.length);
      assert.equal(state?.total, gaps.length);
    }),
  );
});
