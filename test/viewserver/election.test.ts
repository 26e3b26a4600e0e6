import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Election, type ElectionEvent, type ProbeOutcome } from '../../src/viewserver/election';

const T0 = 1_700_000_000_000;
const A = 'a:7000';
const B = 'b:7000';
const C = 'c:7000';

/** Outcomes for one round: `up` lists the candidates that answer. */
function probes(all: string[], up: string[], inOffice: Record<string, number> = {}): ProbeOutcome[] {
  return all.map((addr) => (up.includes(addr)
    ? { addr, ok: true, inOffice: addr in inOffice, epoch: inOffice[addr] ?? 0 }
    : { addr, ok: false }));
}

function kinds(events: ElectionEvent[]): string[] {
  return events.map((e) => e.kind);
}

test('nobody answers: nobody is named, no event beyond silence', () => {
  const e = new Election([A, B], 2, T0);
  for (let i = 1; i <= 5; i++) {
    assert.deepEqual(e.round(probes([A, B], []), T0 + i * 1000), []);
    assert.equal(e.active, null);
  }
  assert.equal(e.view, T0, 'no change, no new view');
});

test('the first live candidate is elected when none is active', () => {
  const e = new Election([A, B, C], 2, T0);
  const ev = e.round(probes([A, B, C], [B, C]), T0 + 1000);
  assert.equal(e.active, B, 'first listed among those that answer');
  assert.deepEqual(ev.filter((x) => x.kind === 'elected'), [{ kind: 'elected', addr: B, view: e.view }]);
  assert.deepEqual(kinds(ev).filter((k) => k === 'up').length, 2);
  assert.ok(e.view > T0);

  // Later rounds with everybody up change nothing.
  const view = e.view;
  assert.deepEqual(kinds(e.round(probes([A, B, C], [A, B, C]), T0 + 2000)), ['up']);
  assert.deepEqual(e.round(probes([A, B, C], [A, B, C]), T0 + 3000), []);
  assert.equal(e.active, B);
  assert.equal(e.view, view);
});

test('the active one fails probeFailures probes in a row → failover to the longest run of successes', () => {
  const e = new Election([A, B, C], 2, T0);
  let t = T0;
  e.round(probes([A, B, C], [A]), (t += 1000)); // A elected
  assert.equal(e.active, A);
  e.round(probes([A, B, C], [A, C]), (t += 1000)); // C: 1 success
  e.round(probes([A, B, C], [A, B, C]), (t += 1000)); // C: 2, B: 1
  e.round(probes([A, B, C], [A, B, C]), (t += 1000)); // C: 3, B: 2
  const view = e.view;

  // One failure is not enough (probeFailures = 2).
  assert.deepEqual(e.round(probes([A, B, C], [B, C]), (t += 1000)), []);
  assert.equal(e.active, A);
  assert.equal(e.view, view);

  // A success in between resets A's run of failures.
  e.round(probes([A, B, C], [A, B, C]), (t += 1000));
  assert.deepEqual(e.round(probes([A, B, C], [B, C]), (t += 1000)), []);
  assert.equal(e.active, A);

  // Second failure in a row: down, and C (longest run) takes over although B is listed first.
  const ev = e.round(probes([A, B, C], [B, C]), (t += 1000));
  assert.equal(e.active, C);
  assert.ok(e.view > view);
  assert.deepEqual(ev, [{ kind: 'down', addr: A, reason: 'not answering' }, { kind: 'failover', from: A, to: C, view: e.view, reason: 'down', problems: [] }]);
});

test('a candidate that reports inOffice is preferred (a restarted viewserver keeps the cluster controller)', () => {
  const e = new Election([A, B, C], 2, T0);
  const ev = e.round(probes([A, B, C], [A, B, C], { [C]: 5 }), T0 + 1000);
  assert.equal(e.active, C);
  assert.deepEqual(ev.find((x) => x.kind === 'elected'), { kind: 'elected', addr: C, view: e.view });

  // Of two in office (a split after a partition), the higher epoch wins.
  const f = new Election([A, B, C], 2, T0);
  f.round(probes([A, B, C], [A, B, C], { [A]: 3, [B]: 9 }), T0 + 1000);
  assert.equal(f.active, B);

  // inOffice also beats a longer run of successes on failover.
  const g = new Election([A, B, C], 1, T0);
  g.round(probes([A, B, C], [A, B]), T0 + 1000);
  g.round(probes([A, B, C], [A, B]), T0 + 2000);
  g.round(probes([A, B, C], [A, B, C], { [C]: 2 }), T0 + 3000);
  assert.equal(g.active, A);
  g.round(probes([A, B, C], [B, C], { [C]: 2 }), T0 + 4000);
  assert.equal(g.active, C);
});

test('no live candidate → no_replacement once, active null; a later answer elects again', () => {
  const e = new Election([A, B], 1, T0);
  let t = T0;
  e.round(probes([A, B], [A]), (t += 1000));
  assert.equal(e.active, A);
  const v1 = e.view;

  const ev = e.round(probes([A, B], []), (t += 1000));
  assert.equal(e.active, null);
  assert.ok(e.view > v1, 'losing the controller is a change too');
  assert.deepEqual(ev, [{ kind: 'down', addr: A, reason: 'not answering' }, { kind: 'no_replacement', from: A, view: e.view }]);

  const v2 = e.view;
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(e.round(probes([A, B], []), (t += 1000)), [], 'reported once, not every round');
    assert.equal(e.active, null);
  }
  assert.equal(e.view, v2);

  const back = e.round(probes([A, B], [B]), (t += 1000));
  assert.equal(e.active, B);
  assert.ok(e.view > v2);
  assert.deepEqual(back, [{ kind: 'up', addr: B }, { kind: 'elected', addr: B, view: e.view }]);

  // And a second loss is reported again.
  assert.deepEqual(kinds(e.round(probes([A, B], []), (t += 1000))), ['down', 'no_replacement']);
});

test('every change raises the view, even within one millisecond', () => {
  const e = new Election([A, B], 1, T0);
  const views = [e.view];
  const rounds: string[][] = [[A], [B], [], [A], [B], [A, B], []];
  for (const up of rounds) {
    const before = e.active;
    e.round(probes([A, B], up), T0); // clock standing still
    if (e.active !== before) views.push(e.view);
  }
  assert.ok(views.length >= 6, `expected several changes, got ${views.length - 1}`);
  for (let i = 1; i < views.length; i++) assert.ok(views[i] > views[i - 1], `view ${i} did not grow: ${views}`);
});

test('views keep growing across a viewserver restart', () => {
  const first = new Election([A, B], 2, T0);
  first.round(probes([A, B], [A]), T0 + 1000);
  first.round(probes([A, B], []), T0 + 2000);
  first.round(probes([A, B], []), T0 + 3000); // down → no_replacement, view raised
  first.round(probes([A, B], [B]), T0 + 4000);
  const lastView = first.view;

  // Restarted a little later: a brand-new Election starts above every view the old one gave out.
  const second = new Election([A, B], 2, T0 + 10_000);
  assert.ok(second.view > lastView, `${second.view} <= ${lastView}`);
  second.round(probes([A, B], [B], { [B]: 1 }), T0 + 11_000);
  assert.equal(second.active, B, 'the controller in office keeps its office');
  assert.ok(second.view > lastView);
});

test('unknown addresses in outcomes are ignored', () => {
  const e = new Election([A], 1, T0);
  assert.deepEqual(e.round([{ addr: 'stranger:1', ok: true }], T0 + 1), []);
  assert.equal(e.active, null);
});
