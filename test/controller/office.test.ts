/**
 * The office state machine (issue 11 item 7) transition by transition, including a probe or a fence
 * arriving mid-transition; the probe lateness and lease clocks; lock tokens across terms (item 9).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckTable, TERM_SPAN } from '../../src/controller/check-table';
import { LeaseClock, ProbeLateness, initialOffice, step, type Office, type OfficeEvent } from '../../src/controller/office';
import type { CheckRow } from '../../src/store/store';

const MAX_AGE = 3_000;
const probe = (view: number, active = true, elected = true, ageMs = 0): OfficeEvent => ({ type: 'probe', view, active, elected, ageMs });

/** Runs events from `office`, returning the final office and every action, flattened as strings. */
function run(events: OfficeEvent[], office: Office = initialOffice()): { office: Office; actions: string[] } {
  const actions: string[] = [];
  for (const e of events) {
    const r = step(office, e, MAX_AGE);
    office = r.office;
    actions.push(...r.actions.map((a) => a.do));
    // The controller answers a stop with 'stopped' at once.
    if (r.actions.some((a) => a.do === 'stop')) office = step(office, { type: 'stopped' }, MAX_AGE).office;
  }
  return { office, actions };
}

test('idle → taking → in office → (loaded) start → stepping down → idle', () => {
  let o = initialOffice();
  let r = step(o, probe(10), MAX_AGE);
  assert.equal(r.office.state.kind, 'taking');
  assert.deepEqual(r.actions, [{ do: 'take', view: 10 }]);
  o = r.office;
  r = step(o, { type: 'taken', epoch: 3, view: 10 }, MAX_AGE);
  assert.deepEqual(r.office.state, { kind: 'in_office', epoch: 3, view: 10, ready: false });
  assert.deepEqual(r.actions, [{ do: 'load', epoch: 3 }]);
  o = r.office;
  r = step(o, { type: 'loaded', epoch: 3 }, MAX_AGE);
  assert.deepEqual(r.actions, [{ do: 'start', epoch: 3 }]);
  o = r.office;
  r = step(o, probe(11, false, true), MAX_AGE);
  assert.equal(r.office.state.kind, 'stepping_down');
  assert.deepEqual(r.actions.map((a) => a.do), ['stop']);
  r = step(r.office, { type: 'stopped' }, MAX_AGE);
  assert.equal(r.office.state.kind, 'idle');
  assert.equal(r.office.newestView, 11);
});

test('a second active probe while taking does not take twice', () => {
  const { office, actions } = run([probe(10), probe(10), probe(11)]);
  assert.deepEqual(actions, ['take']);
  assert.equal(office.state.kind, 'taking');
});

test('named away while taking: the epoch that comes back is not used (no load, no dispatcher)', () => {
  const { office, actions } = run([probe(10), probe(11, false, true), { type: 'taken', epoch: 4, view: 10 }, { type: 'loaded', epoch: 4 }]);
  assert.deepEqual(actions, ['take', 'ignore', 'ignore']);
  assert.equal(office.state.kind, 'idle');
});

test('a fence during the first reload: stop once, and the late "loaded" starts no dispatcher (the orphan of the original)', () => {
  const { office, actions } = run([probe(10), { type: 'taken', epoch: 4, view: 10 }, { type: 'deposed', epoch: 4, reason: 'fenced' }, { type: 'loaded', epoch: 4 }]);
  assert.deepEqual(actions, ['take', 'load', 'stop', 'ignore']);
  assert.equal(office.state.kind, 'idle');
});

test('close during the first reload stops everything; nothing after it takes office again', () => {
  const { office, actions } = run([probe(10), { type: 'taken', epoch: 4, view: 10 }, { type: 'close' }, { type: 'loaded', epoch: 4 }, probe(12)]);
  assert.deepEqual(actions, ['take', 'load', 'stop', 'ignore', 'ignore']);
  assert.equal(office.state.kind, 'closed');
});

test('close while taking: the answer is not used', () => {
  const { office, actions } = run([probe(10), { type: 'close' }, { type: 'taken', epoch: 4, view: 10 }]);
  assert.deepEqual(actions, ['take', 'ignore']);
  assert.equal(office.state.kind, 'closed');
});

test('a fence for another epoch changes nothing; a take refused for an older view teaches the newer view', () => {
  let r = run([probe(10), { type: 'taken', epoch: 4, view: 10 }, { type: 'deposed', epoch: 3, reason: 'old' }]);
  assert.equal(r.office.state.kind, 'in_office');
  r = run([probe(10), { type: 'take_failed', reason: 'stale', leaseView: 20 }, probe(15)]);
  assert.equal(r.office.state.kind, 'idle');
  assert.equal(r.office.newestView, 20);
  assert.deepEqual(r.actions, ['take', 'ignore'], 'the probe of view 15 is older than the lease view 20');
});

test('a probe of an older view is ignored, in office or not, and does not depose; so is a late one', () => {
  let r = run([probe(10), { type: 'taken', epoch: 4, view: 10 }, probe(9, false, true)]);
  assert.equal(r.office.state.kind, 'in_office', 'an older view names nobody away');
  r = run([probe(20, false, true), probe(10)]);
  assert.equal(r.office.state.kind, 'idle', 'a queued probe of an older view does not make us take office');
  r = run([probe(10, true, true, MAX_AGE + 1)]);
  assert.deepEqual(r.actions, ['ignore']);
  assert.equal(r.office.state.kind, 'idle');
});

test('a probe from a viewserver with no controller named (elected false) deposes nobody', () => {
  const r = run([probe(10), { type: 'taken', epoch: 4, view: 10 }, probe(11, false, false)]);
  assert.equal(r.office.state.kind, 'in_office');
});

test('probe lateness is free of clock skew: a skewed but steady sender is on time, a queued probe is late', () => {
  const p = new ProbeLateness();
  const skew = 25_000; // the viewserver's clock runs 25 s behind
  for (let i = 0; i < 5; i++) assert.equal(p.lateness(1_000_000 + i * 500 + 3, 1_000_000 + i * 500 - skew), 0);
  // Frozen for 10 s: a probe sent before the freeze is read after it.
  assert.ok(p.lateness(1_012_500, 1_002_500 - skew) >= 9_990);
});

test('the lease clock: valid until the renewal sent time + lease − margin; reset ends it', () => {
  const l = new LeaseClock(2_000, 500);
  assert.equal(l.valid(0), false);
  l.renewed(100);
  assert.equal(l.valid(1_599), true);
  assert.equal(l.valid(1_600), false);
  l.renewed(50); // an older renewal answered late never shortens it
  assert.equal(l.valid(1_599), true);
  l.reset();
  assert.equal(l.valid(200), false);
});

test('lock tokens are unique across terms: a result holding an earlier term\'s lock is refused', () => {
  const row: CheckRow = { id: 1, name: 'web', type: 'http', data: '{}', interval: 60, delay: 1, status: 'online' };
  const live = new Set(['w1']);
  const term1 = new CheckTable(60_000, 1);
  term1.load([row], 0);
  const [a] = term1.assign('w1', 1, 0, live);
  const term2 = new CheckTable(60_000, 2);
  term2.load([row], 0);
  const [b] = term2.assign('w1', 1, 0, live);
  assert.notEqual(a.lock!.token, b.lock!.token);
  assert.equal(Math.floor(b.lock!.token / TERM_SPAN), 2);
  const old = term2.report('w1', 1, a.lock!.token, { status: 'offline', message: '', durationMs: 1 }, 1, 1);
  assert.deepEqual(old, { accepted: false, reason: 'lock of term 1, not of this term 2' });
  const current = term2.report('w1', 1, b.lock!.token, { status: 'online', message: '', durationMs: 1 }, 1, 1);
  assert.equal(current.accepted, true);
});
