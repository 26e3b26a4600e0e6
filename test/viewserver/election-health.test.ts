/**
 * Election with health (SPEC §12, issue 11 item 5): an unhealthy candidate is never elected, an
 * unhealthy active controller loses office to a healthy candidate after `failuresToDown` answers,
 * and keeps it while nobody healthy could take over. Examples first, then fast-check properties
 * over random rounds of answers, silences and health.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Election, type ProbeOutcome } from '../../src/viewserver/election';

const T0 = 1_700_000_000_000;
const A = 'a:7000';
const B = 'b:7000';
const C = 'c:7000';
const ALL = [A, B, C];

type Answer = 'down' | 'healthy' | 'sick';
const answer = (addr: string, a: Answer, inOffice = false): ProbeOutcome =>
  a === 'down' ? { addr, ok: false } : { addr, ok: true, healthy: a === 'healthy', problems: a === 'sick' ? ['store read failing: timeout'] : [], worker: `w-${addr}`, inOffice, epoch: inOffice ? 1 : 0 };

test('a candidate that cannot reach the store is not elected, even the first to answer', () => {
  const e = new Election(ALL, 2, T0);
  e.round([answer(A, 'sick'), answer(B, 'healthy'), answer(C, 'down')], T0 + 1);
  assert.equal(e.active, B);
  const f = new Election(ALL, 2, T0);
  const ev = f.round([answer(A, 'sick'), answer(B, 'sick'), answer(C, 'down')], T0 + 1);
  assert.equal(f.active, null, 'nobody healthy: nobody named');
  assert.deepEqual(ev.filter((x) => x.kind === 'unhealthy').map((x) => x.kind === 'unhealthy' && x.addr), [A, B]);
  // A sick candidate in office (a restarted viewserver) is not kept either.
  const g = new Election(ALL, 2, T0);
  g.round([answer(A, 'sick', true), answer(B, 'healthy'), answer(C, 'healthy')], T0 + 1);
  assert.equal(g.active, B);
});

test('the active controller unhealthy for failuresToDown answers → failover to a healthy one, with the reason', () => {
  const e = new Election(ALL, 2, T0);
  e.round([answer(A, 'healthy'), answer(B, 'healthy'), answer(C, 'healthy')], T0 + 1);
  assert.equal(e.active, A);
  const view = e.view;
  const first = e.round([answer(A, 'sick', true), answer(B, 'healthy'), answer(C, 'sick')], T0 + 2);
  assert.equal(e.active, A, 'one unhealthy answer is not enough');
  assert.deepEqual(first.map((x) => x.kind), ['unhealthy', 'unhealthy']);
  const second = e.round([answer(A, 'sick', true), answer(B, 'healthy'), answer(C, 'sick')], T0 + 3);
  assert.equal(e.active, B, 'moved to the healthy candidate, not the sick C');
  assert.ok(e.view > view);
  assert.deepEqual(second, [{ kind: 'failover', from: A, to: B, view: e.view, reason: 'unhealthy', problems: ['store read failing: timeout'] }]);
  // A recovers: B stays (no move back and forth).
  e.round([answer(A, 'healthy'), answer(B, 'healthy', true), answer(C, 'healthy')], T0 + 4);
  assert.equal(e.active, B);
});

test('an unhealthy controller keeps office while no candidate is healthy; the first healthy one takes it', () => {
  const e = new Election([A, B], 1, T0);
  e.round([answer(A, 'healthy'), answer(B, 'down')], T0 + 1);
  for (let i = 2; i < 6; i++) {
    e.round([answer(A, 'sick', true), answer(B, 'sick')], T0 + i);
    assert.equal(e.active, A);
  }
  e.round([answer(A, 'sick', true), answer(B, 'healthy')], T0 + 7);
  assert.equal(e.active, B);
});

test('the live workers are the worker names of the candidates that answer', () => {
  const e = new Election(ALL, 1, T0);
  e.round([answer(A, 'healthy'), answer(B, 'sick'), answer(C, 'down')], T0 + 1);
  assert.deepEqual(e.liveWorkers().sort(), [`w-${A}`, `w-${B}`]);
  e.round([answer(A, 'down'), answer(B, 'sick'), answer(C, 'healthy')], T0 + 2);
  assert.deepEqual(e.liveWorkers().sort(), [`w-${B}`, `w-${C}`]);
});

const roundArb = fc.array(fc.constantFrom<Answer>('down', 'healthy', 'sick'), { minLength: 3, maxLength: 3 });

test('property: only a candidate whose last answer was healthy is ever newly named; the view never goes back; a sick active one is replaced when someone healthy answers', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }), fc.array(fc.tuple(roundArb, fc.integer({ min: -5, max: 2_000 })), { minLength: 1, maxLength: 60 }), (failuresToDown, rounds) => {
      const e = new Election(ALL, failuresToDown, T0);
      let now = T0;
      let sickRuns = 0;
      const lastAnswer = new Map<string, Answer>();
      for (const [answers, step] of rounds) {
        now += step; // the clock may even step back
        const before = { active: e.active, view: e.view };
        const outcomes = ALL.map((addr, i) => answer(addr, answers[i], addr === e.active));
        e.round(outcomes, now);
        ALL.forEach((addr, i) => answers[i] !== 'down' && lastAnswer.set(addr, answers[i]));
        const said = (addr: string | null) => answers[ALL.indexOf(addr ?? '')];
        assert.ok(e.view >= before.view, 'the view never goes back');
        if (e.active !== before.active) {
          assert.ok(e.view > before.view, 'every change raises the view');
          // It may have missed this one probe (fewer than failuresToDown), but its last answer said healthy.
          if (e.active !== null) assert.equal(lastAnswer.get(e.active), 'healthy', 'a newly named controller last answered healthy');
        }
        if (e.active !== null) assert.ok(e.candidates.find((c) => c.addr === e.active)!.live, 'the named controller is live');
        // Liveness: a named controller sick for failuresToDown answers in a row is replaced by a healthy one.
        sickRuns = before.active !== null && e.active === before.active && said(e.active) === 'sick' ? sickRuns + 1 : 0;
        const healthyOther = ALL.some((addr, i) => addr !== e.active && answers[i] === 'healthy');
        if (sickRuns >= failuresToDown) assert.ok(!healthyOther, 'kept a sick controller while a healthy candidate answered');
      }
    }),
    { numRuns: 500 },
  );
});
