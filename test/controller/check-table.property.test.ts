/**
 * CheckTable and the confirmation rule under fast-check (issue 12): random interleavings of
 * assignments, results (right and wrong locks, any status), slow workers whose locks expire,
 * workers that die, reloads and clock steps, checked against a small reference model of the rule:
 * - a flip needs `delay + 1` full rounds of `quorum` distinct workers (and never happens unjudged);
 * - a result without the current lock never counts, and changes nothing;
 * - a check never leaves the schedule: once time passes, every check is handed out again;
 * - a worker holding an unexpired lock is counted as a lock holder (busy is alive).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ResultStatus, Status } from '../../src/checks/types';
import { CheckTable, type CheckState } from '../../src/controller/check-table';
import type { CheckRow } from '../../src/store/store';

const T0 = 1_700_000_000_000;
const LOCK_MS = 30_000;
const WORKERS = ['w1', 'w2', 'w3', 'w4'];

const row = (id: number, delay: number, interval: number): CheckRow =>
  ({ id, name: `c${id}`, type: 'tcp', data: '{}', interval, delay, status: 'online' });

type Op =
  | { kind: 'assign'; worker: number; slots: number }
  | { kind: 'report'; worker: number; check: number; status: ResultStatus; forge: 'none' | 'token' | 'worker'; judged: boolean }
  | { kind: 'tick'; ms: number }
  | { kind: 'reload' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('assign' as const), worker: fc.nat(3), slots: fc.integer({ min: 1, max: 3 }) }), weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant('report' as const), worker: fc.nat(3), check: fc.nat(20),
      // Mostly agreeing results, so that long runs reach flips; the rest reset or do not count.
      status: fc.constantFrom<ResultStatus>('offline', 'offline', 'offline', 'offline', 'offline', 'offline', 'online', 'fail'),
      forge: fc.constantFrom<'none' | 'token' | 'worker'>('none', 'none', 'none', 'token', 'worker'),
      judged: fc.constantFrom(true, true, true, true, false),
    }),
    weight: 6,
  },
  // Short steps, and now and then a long one past the lock timeout (a slow or dead worker).
  { arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: LOCK_MS, max: 2 * LOCK_MS })) }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'reload' as const }), weight: 1 },
);

/** The rule as SPEC §5 words it, kept apart from the table: turn set, turn count, status. */
class Model {
  status: Status = 'online';
  turnSet = new Set<string>();
  turnCount = 0;
  /** Opposite results since the last reset or flip: [worker, ...]. */
  streak: string[] = [];

  constructor(readonly delay: number) {}

  /** Returns whether the check flips. */
  apply(worker: string, result: ResultStatus, quorum: number): boolean {
    if (result === 'fail') return false;
    if (result === this.status) {
      this.turnSet.clear();
      this.turnCount = 0;
      this.streak = [];
      return false;
    }
    this.streak.push(worker);
    this.turnSet.add(worker);
    if (this.turnSet.size < quorum) return false;
    this.turnSet.clear();
    this.turnCount++;
    if (this.turnCount <= this.delay) return false;
    this.turnCount = 0;
    this.status = result;
    this.streak = [];
    return true;
  }
}

const visible = (c: CheckState) => ({ status: c.status, turnSet: [...c.turnSet].sort(), turnCount: c.turnCount, lastResult: c.lastResult, lastWorker: c.lastWorker });

let flipCount = 0;

test('property: flips follow the rule exactly, forged or expired results change nothing, busy workers are lock holders, no check leaves the schedule', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }),
      fc.integer({ min: 1, max: 3 }),
      fc.array(opArb, { minLength: 1, maxLength: 200, size: 'large' }),
      (delays, quorum, ops) => {
        let now = T0;
        const rows = delays.map((d, i) => row(i + 1, d, 1 + i));
        const t = new CheckTable(LOCK_MS);
        t.load(rows, now);
        const models = new Map(rows.map((r) => [r.id, new Model(r.delay)]));
        const live = new Set(WORKERS);
        /** Locks as handed out: [checkId] → { worker, token, until }. */
        const handed = new Map<number, { worker: string; token: number; until: number }>();

        for (const op of ops) {
          if (op.kind === 'tick') now += op.ms;
          else if (op.kind === 'reload') t.load(rows, now);
          else if (op.kind === 'assign') {
            const worker = WORKERS[op.worker];
            for (const c of t.assign(worker, op.slots, now, live)) {
              assert.ok(c.lock && c.lock.worker === worker && c.lock.until === now + LOCK_MS);
              handed.set(c.row.id, { worker, token: c.lock.token, until: c.lock.until });
            }
          } else {
            // Mostly a result for a lock some worker really holds; sometimes for any check.
            const lockIds = [...handed.keys()];
            const id = lockIds.length && op.worker !== 3 ? lockIds[op.check % lockIds.length] : (op.check % 3) + 1;
            const c = t.checks.get(id)!;
            const real = handed.get(id);
            const owner = real?.worker ?? WORKERS[op.worker];
            const worker = op.forge === 'worker' ? WORKERS[(WORKERS.indexOf(owner) + 1 + (op.worker % 3)) % 4] : owner;
            const token = (real?.token ?? 1) + (op.forge === 'token' ? 1_000 : 0);
            const holds = real !== undefined && c.lock?.token === real.token && op.forge === 'none' && now < real.until;
            const before = visible(c);
            const lockBefore = c.lock && { ...c.lock };
            const out = t.report(worker, id, token, { status: op.status, message: '', durationMs: 1 }, now, op.judged ? quorum : null);
            assert.equal(out.accepted, holds, `accepted iff the current, unexpired lock: ${JSON.stringify({ op, real, lockBefore, now })}`);
            if (!out.accepted) {
              assert.deepEqual(visible(c), before, 'a result without the current lock changes nothing');
              continue;
            }
            handed.delete(id);
            const m = models.get(id)!;
            if (!op.judged) {
              assert.equal(out.flip, null, 'an unjudged result never flips');
              assert.deepEqual([c.status, [...c.turnSet].sort(), c.turnCount], [before.status, before.turnSet, before.turnCount], 'nor moves the rule');
              continue;
            }
            const streak = [...m.streak, worker];
            const flips = m.apply(worker, op.status, quorum);
            if (flips) flipCount++;
            assert.equal(out.flip !== null, flips, 'the table flips exactly when the rule does');
            if (flips) {
              rows[id - 1] = { ...rows[id - 1], status: op.status as Status }; // recorded, as recordFlip writes it
              // The direct form of the invariant: delay + 1 rounds, each of `quorum` distinct workers.
              assert.ok(streak.length >= (m.delay + 1) * quorum, `${streak.length} opposite results for delay ${m.delay}, quorum ${quorum}`);
              assert.ok(new Set(streak).size >= quorum, 'at least quorum distinct workers agreed');
              assert.equal(out.flip!.status, op.status);
            }
            assert.equal(c.status, m.status);
            assert.equal(c.turnCount, m.turnCount);
          }
          // Busy is alive: every worker with an unexpired lock is a lock holder; no one without a lock is.
          const holders = t.lockHolders(now);
          for (const c of t.checks.values()) if (c.lock && c.lock.until > now) assert.ok(holders.has(c.lock.worker), `${c.lock.worker} holds a live lock`);
          const anyLock = new Set([...t.checks.values()].filter((c) => c.lock).map((c) => c.lock!.worker));
          for (const w of holders) assert.ok(anyLock.has(w), `${w} counted busy without any lock`);
        }

        // Never off the schedule: once every lock and interval has passed, each check is handed out again.
        now += 2 * LOCK_MS + 10_000;
        const seen = new Set<number>();
        for (let pass = 0; pass < 2; pass++) for (const w of WORKERS) for (const c of t.assign(w, 10, now, live)) seen.add(c.row.id);
        assert.deepEqual([...seen].sort(), rows.map((r) => r.id), 'every check is handed out again');
      },
    ),
    { numRuns: 300 },
  );
  assert.ok(flipCount >= 50, `the runs exercised flips (${flipCount})`);
});
