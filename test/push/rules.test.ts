/** The push rules with a fake clock (SPEC §8.3): every time is an argument, nothing sleeps. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parsePushParams } from '../../src/push/params';
import { applyPing, judge, newFacts, type Ping, type PushFacts } from '../../src/push/rules';
import { coverageGaps, extendForGaps, nextExpected } from '../../src/push/schedule';

const T = (iso: string) => Date.parse(iso);
const MIN = 60_000;
const HOUR = 60 * MIN;
const pings = (facts: PushFacts, ...list: Ping[]) => list.reduce(applyPing, facts);

describe('simple period', () => {
  const params = parsePushParams('{"token":"k3y-cert-sync","grace":300}', 3600);
  const facts = pings(newFacts(T('2026-01-01T11:00:00Z')), { kind: 'success', at: T('2026-01-01T12:00:00Z') });

  test('last ping 12:00, period 1 h, grace 5 min: up until 13:00, late until 13:05, then down', () => {
    assert.equal(judge(params, facts, T('2026-01-01T12:59:59Z')).state, 'up');
    const late = judge(params, facts, T('2026-01-01T13:00:00Z'));
    assert.equal(late.state, 'late');
    assert.equal(late.nextAt, T('2026-01-01T13:05:00Z'));
    assert.equal(judge(params, facts, T('2026-01-01T13:04:59.999Z')).state, 'late');
    const down = judge(params, facts, T('2026-01-01T13:05:00Z'));
    assert.equal(down.state, 'down');
    assert.match(down.message, /no ping since 2026-01-01T12:00:00Z; expected by 2026-01-01T13:00:00Z, grace 300 s/);
  });

  test('a ping one second before the deadline keeps it up for another period', () => {
    const again = applyPing(facts, { kind: 'success', at: T('2026-01-01T13:04:59Z') });
    assert.equal(judge(params, again, T('2026-01-01T13:05:00Z')).state, 'up');
    assert.equal(judge(params, again, T('2026-01-01T13:05:00Z')).nextAt, T('2026-01-01T14:04:59Z'));
    assert.equal(judge(params, again, T('2026-01-01T14:09:59Z')).state, 'down');
  });

  test('a late-arriving older ping never moves the last success back', () => {
    const f = pings(facts, { kind: 'success', at: T('2026-01-01T11:00:00Z') });
    assert.equal(f.lastSuccessAt, T('2026-01-01T12:00:00Z'));
  });
});

describe('cron schedule in a zone that changes its clocks', () => {
  test('daily 16:05 Shanghai, late after the end of the day (the SPEC example)', () => {
    const params = parsePushParams('{"token":"k3y-backup","schedule":"5 16 * * *","tz":"Asia/Shanghai","grace":28500}', 60);
    const f = pings(newFacts(0), { kind: 'success', at: T('2026-01-01T08:10:00Z') }); // 16:10 Shanghai
    const j = judge(params, f, T('2026-01-01T09:00:00Z'));
    assert.equal(j.deadline, T('2026-01-02T08:05:00Z'));
    assert.equal(judge(params, f, T('2026-01-02T15:59:59Z')).state, 'late'); // 23:59:59 Shanghai
    assert.equal(judge(params, f, T('2026-01-02T16:00:00Z')).state, 'down'); // midnight
  });

  test('Europe/Berlin 09:00 daily keeps 09:00 local across the March and October changes', () => {
    const params = parsePushParams('{"schedule":"0 9 * * *","tz":"Europe/Berlin","grace":60}', 60);
    // Winter: UTC+1; the day after the change (29 March 2026): UTC+2.
    assert.equal(nextExpected(params, T('2026-03-28T09:00:00Z')), T('2026-03-29T07:00:00Z'));
    assert.equal(nextExpected(params, T('2026-03-27T09:00:00Z')), T('2026-03-28T08:00:00Z'));
    assert.equal(nextExpected(params, T('2026-10-24T08:00:00Z')), T('2026-10-25T08:00:00Z'));
  });

  test('a time skipped by the spring change fires once, at the first instant after the gap', () => {
    const params = parsePushParams('{"schedule":"30 2 * * *","tz":"Europe/Berlin"}', 60);
    const next = nextExpected(params, T('2026-03-28T12:00:00Z'));
    assert.ok(next > T('2026-03-29T00:59:59Z') && next <= T('2026-03-29T01:30:00Z'), new Date(next).toISOString());
    assert.equal(nextExpected(params, next), T('2026-03-30T00:30:00Z'));
  });

  test('deadlines are strictly after the last ping, whatever the ping time (property)', () => {
    const params = parsePushParams('{"schedule":"*/15 1-5 * * MON-FRI","tz":"America/New_York"}', 60);
    fc.assert(fc.property(fc.integer({ min: T('2025-01-01T00:00:00Z'), max: T('2028-01-01T00:00:00Z') }), (at) => {
      const next = nextExpected(params, at);
      assert.ok(next > at && next - at <= 4 * 86_400_000);
      const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', minute: 'numeric', hourCycle: 'h23', weekday: 'short' }).formatToParts(new Date(next));
      const part = (t: string) => local.find((p) => p.type === t)!.value;
      assert.ok(Number(part('hour')) >= 1 && Number(part('hour')) <= 5);
      assert.equal(Number(part('minute')) % 15, 0);
      assert.ok(!['Sat', 'Sun'].includes(part('weekday')));
    }), { numRuns: 300 });
  });
});

describe('runs: start and max_runtime', () => {
  const params = parsePushParams('{"grace":60,"max_runtime":600}', 3600);
  const t0 = T('2026-01-01T12:00:00Z');
  const base = pings(newFacts(0), { kind: 'success', at: t0 - HOUR });

  test('a started run is running until start + max_runtime, then down', () => {
    const f = applyPing(base, { kind: 'start', at: t0 });
    assert.equal(judge(params, f, t0 + 599_999).state, 'running');
    const d = judge(params, f, t0 + 600_000);
    assert.equal(d.state, 'down');
    assert.match(d.message, /did not end within max_runtime \(600 s\)/);
  });

  test('an end without rid closes the run; the period starts from it', () => {
    const f = pings(base, { kind: 'start', at: t0 }, { kind: 'success', at: t0 + 5 * MIN });
    assert.equal(f.runStartedAt, null);
    assert.equal(judge(params, f, t0 + 20 * MIN).state, 'up');
  });

  test('with rid only the newest run is timed: an older run\'s end does not close it', () => {
    const f = pings(base, { kind: 'start', at: t0, rid: 'a' }, { kind: 'start', at: t0 + MIN, rid: 'b' }, { kind: 'success', at: t0 + 2 * MIN, rid: 'a' });
    assert.equal(f.runRid, 'b');
    assert.equal(judge(params, f, t0 + 10 * MIN + 59_999).state, 'running');
    assert.equal(judge(params, f, t0 + 11 * MIN).state, 'down');
    const ended = applyPing(f, { kind: 'success', at: t0 + 3 * MIN, rid: 'b' });
    assert.equal(judge(params, ended, t0 + 11 * MIN).state, 'up');
  });

  test('max_runtime defaults to grace', () => {
    assert.equal(parsePushParams('{"grace":90}', 60).maxRuntimeMs, 90_000);
  });
});

describe('failure, recovery, registration, deregistration', () => {
  const params = parsePushParams('{"grace":60}', 300);
  const t0 = T('2026-01-01T12:00:00Z');

  test('a fail ping is down at once with its text as the reason, exit status likewise', () => {
    const f = pings(newFacts(0), { kind: 'success', at: t0 }, { kind: 'fail', at: t0 + 1000, body: 'disk full' });
    const j = judge(params, f, t0 + 1000);
    assert.deepEqual([j.state, j.message, j.nextAt], ['down', 'failure signalled: disk full', Number.POSITIVE_INFINITY]);
    const e = applyPing(f, { kind: 'fail', at: t0 + 2000, exitStatus: 3 });
    assert.equal(judge(params, e, t0 + 2000).message, 'exit status 3');
    assert.equal(e.fails, 2);
  });

  test('a success after down is up at once, and the failure count keeps the failure visible', () => {
    const f = pings(newFacts(0), { kind: 'fail', at: t0 }, { kind: 'success', at: t0 + 1 });
    assert.equal(judge(params, f, t0 + 1).state, 'up');
    assert.equal(f.fails, 1);
  });

  test('never pinged: new, then down after period + grace from creation (not registered)', () => {
    const f = newFacts(t0);
    assert.equal(judge(params, f, t0 + 359_999).state, 'new');
    const d = judge(params, f, t0 + 360_000);
    assert.equal(d.state, 'down');
    assert.match(d.message, /^not registered/);
  });

  test('a log ping changes nothing but the last ping time', () => {
    const f = pings(newFacts(0), { kind: 'success', at: t0 });
    const g = applyPing(f, { kind: 'log', at: t0 + 200_000, body: 'hello' });
    assert.deepEqual(judge(params, g, t0 + 360_000), judge(params, f, t0 + 360_000));
    assert.equal(g.lastPingAt, t0 + 200_000);
  });

  test('deregister records when; any later ping undoes it', () => {
    const f = pings(newFacts(0), { kind: 'success', at: t0 }, { kind: 'deregister', at: t0 + 1 });
    assert.equal(f.deregisteredAt, t0 + 1);
    assert.equal(applyPing(f, { kind: 'success', at: t0 + 2 }).deregisteredAt, null);
  });
});

describe('our outage is not the sender\'s fault', () => {
  const params = parsePushParams('{"grace":60}', 600);
  const t0 = T('2026-01-01T12:00:00Z');

  test('coverage gaps come from listener sessions; none before the first session', () => {
    const gaps = coverageGaps([{ from: t0, to: t0 + MIN }, { from: t0 + 30 * MIN, to: t0 + 40 * MIN }, { from: t0 + 35 * MIN, to: t0 + 45 * MIN }], t0 + HOUR, 2000);
    assert.deepEqual(gaps, [{ from: t0 + MIN, to: t0 + 30 * MIN }, { from: t0 + 45 * MIN, to: t0 + HOUR }]);
    // A heartbeat at most `slack` old covers up to now; an older one only up to itself.
    assert.deepEqual(coverageGaps([{ from: t0, to: t0 + HOUR - 1500 }], t0 + HOUR, 2000), []);
    assert.deepEqual(coverageGaps([{ from: t0, to: t0 + HOUR - 2500 }], t0 + HOUR, 2000), [{ from: t0 + HOUR - 2500, to: t0 + HOUR }]);
    assert.deepEqual(coverageGaps([], t0, 2000), []);
  });

  test('listeners down for two periods: the sender gets a full period after they return', () => {
    const f = pings(newFacts(0), { kind: 'success', at: t0 });
    const gaps = [{ from: t0 + 5 * MIN, to: t0 + 25 * MIN }];
    const j = judge(params, f, t0 + 26 * MIN, gaps);
    assert.equal(j.state, 'up');
    assert.equal(j.deadline, t0 + 35 * MIN);
    assert.equal(judge(params, f, t0 + 36 * MIN + 1, gaps).state, 'down');
  });

  test('an outage before the last ping moves nothing', () => {
    assert.equal(extendForGaps(params, t0, t0 + 10 * MIN, [{ from: t0 - 5 * MIN, to: t0 - MIN }]), t0 + 10 * MIN);
  });

  test('deadlines only ever move later (property)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 10 * HOUR }), fc.integer({ min: 1, max: HOUR })), { maxLength: 6 }), (spans) => {
      const gaps = spans.map(([a, len]) => ({ from: t0 + a, to: t0 + a + len }));
      const d = extendForGaps(params, t0, t0 + 10 * MIN, gaps);
      assert.ok(d >= t0 + 10 * MIN);
      const covered = gaps.filter((g) => g.to > t0 && g.from < d);
      for (const g of covered) assert.ok(d >= g.to + 10 * MIN || d >= g.to, 'the window ends after each gap it overlaps');
    }));
  });
});

describe('bad parameters are a reason, never a crash', () => {
  const cases: [string, number, RegExp][] = [
    ['{"token":"short"}', 60, /"token" must be 8 to 64/],
    ['{"token":"has spaces in it"}', 60, /"token"/],
    ['{"grace":-1}', 60, /"grace" must be a number of seconds/],
    ['{"grace":"5"}', 60, /"grace" must be a number/],
    ['{"schedule":"* * * *"}', 60, /5-field cron/],
    ['{"schedule":"0 0 * * * *"}', 60, /5-field cron/],
    ['{"schedule":"61 * * * *"}', 60, /not a valid cron expression/],
    ['{"schedule":"0 9 * * *","tz":"Mars/Olympus"}', 60, /IANA time zone/],
    ['{"tz":"Nowhere/Land"}', 60, /IANA time zone/],
    ['not json', 60, /failed to decode/],
    ['[]', 60, /must be a JSON object/],
    ['{}', 0, /check_interval/],
  ];
  for (const [data, interval, why] of cases) {
    test(`${data} (interval ${interval})`, () => assert.throws(() => parsePushParams(data, interval), why));
  }

  test('any JSON at all either parses or throws a ParamError (property)', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.integer({ min: -5, max: 100_000 }), (v, interval) => {
      try {
        parsePushParams(JSON.stringify(v), interval);
      } catch (err) {
        assert.equal((err as Error).constructor.name, 'ParamError');
      }
    }));
  });
});
