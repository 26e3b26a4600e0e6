/**
 * Property-based tests (fast-check) of election and office (issue 11): three controllers run the
 * real office core (step, LeaseClock, ProbeLateness) against a small model of the store's lease
 * (the same compare-and-set rules as store.ts: take refused for an older view, renewals and writes
 * fenced by epoch, in-doubt claims only after every predecessor's lease) and a viewserver. Random
 * interleavings of fresh and stale probes, elections, takes, renewals with delays, claims, sends,
 * fences, step-downs, store failures, wall-clock steps and monotonic clocks that run fast or slow.
 * Invariants:
 * - a controller sends only inside its lease as the store records it (store clock);
 * - two controllers never act on the same alert in overlapping lease time;
 * - a deposed epoch never writes after a newer one took office;
 * - the view never goes back (per controller, and in the lease).
 * The model is meant to grow: a health flag per candidate can gate `elect` (helper "health").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LeaseClock, ProbeLateness, initialOffice, step, type Office, type OfficeAction, type OfficeEvent } from '../../src/controller/office';

const LEASE = 1_000;
const MAX_AGE = 3_000;
const IN_DOUBT_MARGIN = 500;
const N = 3;
const ROWS = 3;

interface Ctl {
  office: Office;
  lease: LeaseClock;
  lateness: ProbeLateness;
  /** Monotonic clock rate relative to real time, and wall-clock offset (stepped by commands). */
  rate: number;
  wallOffset: number;
  takeSentAt: number;
  pendingTake: number | null;
  views: number[];
}

interface World {
  now: number;
  store: { epoch: number; view: number; expires: Map<number, number>; prevExpires: number; takenAt: Map<number, number> };
  vs: { view: number; active: number | null; sent: { to: number; view: number; active: boolean; at: number }[] };
  ctls: Ctl[];
  rows: { claim: number }[];
  sends: { epoch: number; row: number; at: number }[];
  writes: { epoch: number; at: number }[];
  storeDown: boolean;
}

type Cmd =
  | { k: 'advance'; ms: number }
  | { k: 'elect'; c: number }
  | { k: 'probe'; c: number }
  | { k: 'staleProbe'; c: number; back: number }
  | { k: 'lateProbe'; c: number }
  | { k: 'takeAnswer'; c: number }
  | { k: 'renew'; c: number; execDelay: number }
  | { k: 'claim'; c: number; row: number }
  | { k: 'send'; c: number; row: number }
  | { k: 'write'; c: number }
  | { k: 'stepDown'; c: number }
  | { k: 'storeDown'; down: boolean }
  | { k: 'wallStep'; c: number; ms: number };

const c = fc.integer({ min: 0, max: N - 1 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 1_500 }) }),
  fc.record({ k: fc.constant('elect' as const), c }),
  fc.record({ k: fc.constant('probe' as const), c }),
  fc.record({ k: fc.constant('staleProbe' as const), c, back: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ k: fc.constant('lateProbe' as const), c }),
  fc.record({ k: fc.constant('takeAnswer' as const), c }),
  fc.record({ k: fc.constant('renew' as const), c, execDelay: fc.integer({ min: 0, max: 800 }) }),
  fc.record({ k: fc.constant('claim' as const), c, row: fc.integer({ min: 0, max: ROWS - 1 }) }),
  fc.record({ k: fc.constant('send' as const), c, row: fc.integer({ min: 0, max: ROWS - 1 }) }),
  fc.record({ k: fc.constant('write' as const), c }),
  fc.record({ k: fc.constant('stepDown' as const), c }),
  fc.record({ k: fc.constant('storeDown' as const), down: fc.boolean() }),
  fc.record({ k: fc.constant('wallStep' as const), c, ms: fc.integer({ min: -60_000, max: 60_000 }) }),
);

/** Most runs start with a controller in office, so the random tail has something to break. */
const START: Cmd[] = [{ k: 'elect', c: 0 }, { k: 'probe', c: 0 }, { k: 'takeAnswer', c: 0 }, { k: 'claim', c: 0, row: 0 }];

const mono = (w: World, x: Ctl) => w.now * x.rate;
const wall = (w: World, x: Ctl) => w.now + x.wallOffset;
const epochOf = (x: Ctl) => (x.office.state.kind === 'in_office' ? x.office.state.epoch : 0);
const mayAct = (w: World, x: Ctl) => x.office.state.kind === 'in_office' && x.lease.valid(mono(w, x));

function apply(w: World, i: number, event: OfficeEvent): void {
  const x = w.ctls[i];
  const r = step(x.office, event, MAX_AGE);
  x.office = r.office;
  x.views.push(x.office.newestView);
  for (const a of r.actions) perform(w, i, a);
}

function perform(w: World, i: number, a: OfficeAction): void {
  const x = w.ctls[i];
  if (a.do === 'take') {
    x.pendingTake = a.view;
    x.takeSentAt = mono(w, x);
  } else if (a.do === 'load') {
    x.lease.reset();
    x.lease.renewed(x.takeSentAt);
  } else if (a.do === 'stop') {
    x.lease.reset();
    apply(w, i, { type: 'stopped' });
  }
}

function deliverProbe(w: World, i: number, view: number, active: boolean, sentWall: number): void {
  const x = w.ctls[i];
  const ageMs = x.lateness.lateness(wall(w, x), sentWall);
  apply(w, i, { type: 'probe', view, active, elected: w.vs.active !== null, ageMs });
}

function run(w: World, cm: Cmd): void {
  const x = 'c' in cm ? w.ctls[cm.c] : undefined;
  switch (cm.k) {
    case 'advance':
      w.now += cm.ms;
      break;
    case 'elect':
      w.vs.view++;
      w.vs.active = cm.c;
      break;
    case 'probe': {
      const active = w.vs.active === cm.c;
      w.vs.sent.push({ to: cm.c, view: w.vs.view, active, at: w.now });
      deliverProbe(w, cm.c, w.vs.view, active, w.now);
      break;
    }
    case 'staleProbe': {
      // A probe of an older view, queued while the controller was frozen, read now.
      const old = w.vs.sent.filter((p) => p.to === cm.c);
      const p = old[Math.max(0, old.length - cm.back)];
      if (p) deliverProbe(w, cm.c, p.view, p.active, p.at);
      break;
    }
    case 'lateProbe': {
      const active = w.vs.active === cm.c;
      deliverProbe(w, cm.c, w.vs.view, active, w.now - MAX_AGE - 1_000);
      break;
    }
    case 'takeAnswer': {
      if (x!.pendingTake === null) break;
      const view = x!.pendingTake;
      x!.pendingTake = null;
      const s = w.store;
      if (w.storeDown) return apply(w, cm.c, { type: 'take_failed', reason: 'store down' });
      if (s.view > view) return apply(w, cm.c, { type: 'take_failed', reason: 'stale', leaseView: s.view });
      s.prevExpires = Math.max(s.prevExpires, s.expires.get(s.epoch) ?? 0);
      s.epoch++;
      s.view = view;
      s.expires.set(s.epoch, w.now + LEASE);
      s.takenAt.set(s.epoch, w.now);
      apply(w, cm.c, { type: 'taken', epoch: s.epoch, view });
      if (x!.office.state.kind === 'in_office') apply(w, cm.c, { type: 'loaded', epoch: s.epoch });
      break;
    }
    case 'renew': {
      const e = epochOf(x!);
      if (!e || w.storeDown) break;
      const sentAt = mono(w, x!);
      w.now += cm.execDelay; // the renewal reaches the store later
      if (w.store.epoch !== e) return apply(w, cm.c, { type: 'deposed', epoch: e, reason: 'fenced', leaseView: w.store.view });
      w.store.expires.set(e, w.now + LEASE);
      w.store.view = Math.max(w.store.view, x!.office.newestView);
      x!.lease.renewed(sentAt);
      break;
    }
    case 'claim': {
      const e = epochOf(x!);
      if (!e || !mayAct(w, x!) || w.storeDown) break;
      if (w.store.epoch !== e) return apply(w, cm.c, { type: 'deposed', epoch: e, reason: 'fenced' });
      const row = w.rows[cm.row];
      // store.claimAlert: an earlier epoch's claim only once every predecessor's lease has ended.
      if (row.claim === 0 || row.claim >= e || w.store.prevExpires + IN_DOUBT_MARGIN <= w.now) row.claim = e;
      w.writes.push({ epoch: e, at: w.now });
      break;
    }
    case 'send': {
      const e = epochOf(x!);
      // The dispatcher: only a row this epoch claimed, only while the lease is valid by its own clock.
      if (!e || w.rows[cm.row].claim !== e || !mayAct(w, x!)) break;
      w.sends.push({ epoch: e, row: cm.row, at: w.now });
      break;
    }
    case 'write': {
      const e = epochOf(x!);
      if (!e || w.storeDown) break;
      if (w.store.epoch !== e) return apply(w, cm.c, { type: 'deposed', epoch: e, reason: 'fenced' });
      w.writes.push({ epoch: e, at: w.now });
      break;
    }
    case 'stepDown':
      if (epochOf(x!)) apply(w, cm.c, { type: 'deposed', epoch: epochOf(x!), reason: 'step down' });
      break;
    case 'storeDown':
      w.storeDown = cm.down;
      break;
    case 'wallStep':
      x!.wallOffset += cm.ms;
      break;
  }
}

function check(w: World): void {
  // A send happens inside its epoch's lease as the store records it.
  for (const s of w.sends) {
    assert.ok(s.at < (w.store.expires.get(s.epoch) ?? -Infinity), `epoch ${s.epoch} sent at ${s.at} after its lease ${w.store.expires.get(s.epoch)}`);
  }
  // Two epochs never act on the same alert in overlapping lease time.
  for (const a of w.sends) {
    for (const b of w.sends) {
      if (a.row !== b.row || a.epoch >= b.epoch) continue;
      assert.ok(b.at >= w.store.expires.get(a.epoch)!, `row ${a.row}: epoch ${b.epoch} sent at ${b.at} inside epoch ${a.epoch}'s lease (to ${w.store.expires.get(a.epoch)})`);
    }
  }
  // No write of an epoch after a newer one took office.
  for (const wr of w.writes) {
    for (const [epoch, takenAt] of w.store.takenAt) assert.ok(!(epoch > wr.epoch && takenAt < wr.at), `epoch ${wr.epoch} wrote at ${wr.at} after epoch ${epoch} took office at ${takenAt}`);
  }
  // Views never go back.
  for (const x of w.ctls) for (let i = 1; i < x.views.length; i++) assert.ok(x.views[i] >= x.views[i - 1], 'a controller\'s view went back');
}

test('election and office: no two controllers act on an alert in overlapping lease time; deposed epochs never write; views never go back', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0.85, max: 1.15, noNaN: true }), { minLength: N, maxLength: N }), fc.array(cmd, { minLength: 1, maxLength: 120 }), (rates, cmds) => {
      const w: World = {
        now: 1_000_000,
        store: { epoch: 0, view: 0, expires: new Map(), prevExpires: 0, takenAt: new Map() },
        vs: { view: 1, active: null, sent: [] },
        ctls: rates.map((rate) => ({ office: initialOffice(), lease: new LeaseClock(LEASE), lateness: new ProbeLateness(), rate, wallOffset: 0, takeSentAt: 0, pendingTake: null, views: [0] })),
        rows: Array.from({ length: ROWS }, () => ({ claim: 0 })),
        sends: [],
        writes: [],
        storeDown: false,
      };
      let storeViews = 0;
      for (const cm of [...START, ...cmds]) {
        run(w, cm);
        assert.ok(w.store.view >= storeViews, 'the lease\'s view went back');
        storeViews = w.store.view;
      }
      check(w);
    }),
    { numRuns: 400 },
  );
});

test('the model is not vacuous: controllers do take office, send and get deposed', () => {
  const seen = { sends: 0, deposed: 0 };
  fc.assert(
    fc.property(fc.array(cmd, { minLength: 50, maxLength: 150 }), (cmds) => {
      const w: World = {
        now: 1_000_000, store: { epoch: 0, view: 0, expires: new Map(), prevExpires: 0, takenAt: new Map() }, vs: { view: 1, active: null, sent: [] },
        ctls: [1, 1, 1].map((rate) => ({ office: initialOffice(), lease: new LeaseClock(LEASE), lateness: new ProbeLateness(), rate, wallOffset: 0, takeSentAt: 0, pendingTake: null, views: [0] })),
        rows: Array.from({ length: ROWS }, () => ({ claim: 0 })), sends: [], writes: [], storeDown: false,
      };
      for (const cm of [...START, ...cmds]) run(w, cm);
      seen.sends += w.sends.length;
      seen.deposed += w.store.epoch > 1 ? 1 : 0;
    }),
    { numRuns: 300 },
  );
  assert.ok(seen.sends > 0 && seen.deposed > 0, JSON.stringify(seen));
});
