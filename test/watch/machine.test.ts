/**
 * HEAT's rules (SPEC §9.1) on the pure watch machine, driven by a fake clock: simulated check runs and
 * scripts with chosen durations and exit codes; then properties over random scenarios (fast-check).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { initialState, step, TIMED_OUT_CODE, type Action, type MachineOptions, type MachineState, type WatchEvent } from '../../src/watch/machine';

interface Run {
  /** How long the check runs; Infinity = hangs. */
  ms: number;
  code: number;
}

interface Scenario {
  /** Check run n (1-based) behaves as runs[(n-1) % length]. */
  runs: Run[];
  failMs?: number;
  recoveryMs?: number;
  /** The fail/recovery scripts exit non-zero. */
  scriptFails?: boolean;
}

interface StepRecord {
  t: number;
  event: WatchEvent;
  actions: Action[];
  state: MachineState;
}

const T0 = 1_700_000_000_000;

const options = (o: Partial<MachineOptions> = {}): MachineOptions => ({
  intervalMs: 1000, threshold: 1, recoveryTimeoutMs: 0, hasFailScript: false, hasRecoveryScript: false,
  hasPid: true, signal: 'SIGHUP', ...o,
});

/** Runs the machine against simulated processes until `untilMs` after start; returns every step. */
function simulate(o: MachineOptions, sc: Scenario, untilMs: number, extra: { at: number; event: WatchEvent }[] = []): StepRecord[] {
  let state = initialState();
  const pending: { at: number; seq: number; event: WatchEvent }[] = extra.map((e, i) => ({ at: T0 + e.at, seq: -1 - i, event: e.event }));
  let seq = 0;
  const log: StepRecord[] = [];
  const apply = (t: number, event: WatchEvent) => {
    const r = step(state, event, t, o);
    state = r.state;
    log.push({ t: t - T0, event, actions: r.actions, state });
    for (const a of r.actions) {
      if (a.type === 'run-check') {
        const run = sc.runs[(a.run - 1) % sc.runs.length];
        pending.push({ at: t, seq: seq++, event: { type: 'check-spawned', run: a.run, pid: 1000 + a.run } });
        if (Number.isFinite(run.ms)) pending.push({ at: t + run.ms, seq: seq++, event: { type: 'check-exited', run: a.run, code: run.code } });
      } else if (a.type === 'kill-check') {
        // The killed process's own exit arrives a little later; the machine must ignore it.
        const i = pending.findIndex((p) => p.event.type === 'check-exited' && p.event.run === a.run);
        if (i >= 0) pending.splice(i, 1);
        pending.push({ at: t + 5, seq: seq++, event: { type: 'check-exited', run: a.run, code: 137 } });
      } else if (a.type === 'run-script') {
        const ms = a.script === 'fail' ? (sc.failMs ?? 100) : (sc.recoveryMs ?? 100);
        pending.push({ at: t + ms, seq: seq++, event: { type: 'script-exited', script: a.script, ok: !sc.scriptFails, reason: 'exited with status 1' } });
      }
    }
  };
  apply(T0, { type: 'start' });
  for (;;) {
    pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const nextTick = state.phase === 'stopped' ? Infinity : state.nextTickAt;
    const first = pending[0];
    if (first && first.at <= nextTick) {
      if (first.at > T0 + untilMs) break;
      pending.shift();
      apply(first.at, first.event);
    } else {
      if (nextTick > T0 + untilMs) break;
      apply(nextTick, { type: 'tick' });
    }
  }
  return log;
}

const actionsOf = (log: StepRecord[], type: Action['type']) =>
  log.flatMap((r) => r.actions.filter((a) => a.type === type).map((a) => ({ t: r.t, a })));
const checkStarts = (log: StepRecord[]) => actionsOf(log, 'run-check').map((x) => x.t);

test('the first check runs at once, then one every interval', () => {
  const log = simulate(options(), { runs: [{ ms: 100, code: 0 }] }, 3500);
  assert.deepEqual(checkStarts(log), [0, 1000, 2000, 3000]);
  assert.equal(actionsOf(log, 'signal').length, 0);
});

test('a check still running at the next tick is killed and counts as a failure (code 124)', () => {
  const log = simulate(options({ threshold: 5 }), { runs: [{ ms: Infinity, code: 0 }] }, 2500);
  assert.deepEqual(actionsOf(log, 'kill-check').map((x) => [x.t, (x.a as { run: number }).run]), [[1000, 1], [2000, 2]]);
  assert.deepEqual(checkStarts(log), [0, 1000, 2000]);
  const reports = actionsOf(log, 'report').map((x) => (x.a as { code: number }).code);
  assert.deepEqual(reports, [TIMED_OUT_CODE, TIMED_OUT_CODE]);
  // The killed runs' late exits (code 137) changed nothing.
  assert.equal(log.at(-1)!.state.streak, 2);
});

test('ticks missed while the fail script runs collapse into one check right after it ends', () => {
  // interval 1 s, fail script 3.5 s: ticks 1, 2, 3 s fall inside it.
  const log = simulate(options({ hasFailScript: true, threshold: 10 }), { runs: [{ ms: 100, code: 1 }, { ms: 100, code: 0 }, { ms: 100, code: 0 }], failMs: 3500 }, 5000);
  assert.deepEqual(actionsOf(log, 'run-script').map((x) => x.t), [100]);
  assert.deepEqual(checkStarts(log), [0, 3600, 4600]);
});

test('a fail script that ends before the next tick causes no extra check', () => {
  const log = simulate(options({ hasFailScript: true, threshold: 10 }), { runs: [{ ms: 100, code: 1 }, { ms: 100, code: 0 }], failMs: 300 }, 2500);
  assert.deepEqual(checkStarts(log), [0, 1000, 2000]);
});

test('the threshold triggers the fault signal and recovery instead of the fail script, and resets the count', () => {
  const o = options({ threshold: 3, hasFailScript: true, hasRecoveryScript: true, faultSignal: 'SIGSTOP', successSignal: 'SIGCONT' });
  const log = simulate(o, { runs: [{ ms: 10, code: 2 }], failMs: 10, recoveryMs: 10 }, 5500);
  const seq = log.flatMap((r) => r.actions.filter((a) => a.type === 'signal' || a.type === 'run-script').map((a) => `${r.t}:${a.type === 'signal' ? a.signal : a.script}`));
  assert.deepEqual(seq, [
    '10:SIGHUP', '10:fail', '1010:SIGHUP', '1010:fail', '2010:SIGSTOP', '2010:recovery',
    '3010:SIGHUP', '3010:fail', '4010:SIGHUP', '4010:fail', '5010:SIGSTOP', '5010:recovery',
  ]);
});

test('during recovery no check and no fail script runs; the missed tick is one check after it', () => {
  const o = options({ hasFailScript: true, hasRecoveryScript: true });
  const log = simulate(o, { runs: [{ ms: 10, code: 1 }, { ms: 10, code: 0 }, { ms: 10, code: 0 }], recoveryMs: 2500 }, 4000);
  assert.deepEqual(actionsOf(log, 'run-script').map((x) => `${x.t}:${(x.a as { script: string }).script}`), ['10:recovery']);
  assert.deepEqual(checkStarts(log), [0, 2510, 3510]);
});

test('after a recovery, failures within --recovery-timeout only count; then recovery runs again', () => {
  const o = options({ hasFailScript: true, hasRecoveryScript: true, recoveryTimeoutMs: 3000 });
  const log = simulate(o, { runs: [{ ms: 10, code: 1 }], recoveryMs: 100, failMs: 10 }, 4500);
  // recovery 10..110; window until 3110; checks at 1000, 2000, 3000 fail quietly; the one at 4000 re-runs recovery.
  assert.deepEqual(actionsOf(log, 'run-script').map((x) => `${x.t}:${(x.a as { script: string }).script}`), ['10:recovery', '4010:recovery']);
  assert.equal(actionsOf(log, 'signal').length, 0, 'no --signal inside the window nor at the threshold without --fault-signal');
  const env = (actionsOf(log, "run-script")[1].a as unknown as { env: Record<string, string> }).env;
  assert.equal(env.HEAT_FAIL_CNT, '5', 'failures kept counting across the window');
});

test('a success within --recovery-timeout ends the window and resets everything', () => {
  const o = options({ hasRecoveryScript: true, hasFailScript: true, recoveryTimeoutMs: 10_000, successSignal: 'SIGUSR2' });
  const runs = [{ ms: 10, code: 1 }, { ms: 10, code: 1 }, { ms: 10, code: 0 }, { ms: 10, code: 1 }];
  const log = simulate(o, { runs, recoveryMs: 100 }, 3500);
  const seq = log.flatMap((r) => r.actions.filter((a) => a.type === 'signal' || a.type === 'run-script').map((a) => `${r.t}:${a.type === 'signal' ? a.signal : a.script}`));
  // 10 recovery; 1010 quiet failure (window); 2010 success → USR2; 3010 a failure outside any window: recovery again.
  assert.deepEqual(seq, ['10:recovery', '2010:SIGUSR2', '3010:recovery']);
});

test('the first success after failures sends the success signal once and resets the fail environment', () => {
  const o = options({ threshold: 10, hasFailScript: true, successSignal: 'SIGCONT' });
  const runs = [{ ms: 10, code: 3 }, { ms: 10, code: 4 }, { ms: 10, code: 0 }, { ms: 10, code: 0 }, { ms: 20, code: 5 }];
  const log = simulate(o, { runs, failMs: 10 }, 4500);
  assert.deepEqual(actionsOf(log, 'signal').map((x) => `${x.t}:${(x.a as { signal: string }).signal}`), ['10:SIGHUP', '1010:SIGHUP', '2010:SIGCONT', '4020:SIGHUP']);
  const envs = actionsOf(log, 'run-script').map((x) => (x.a as unknown as { env: Record<string, string> }).env);
  assert.deepEqual(envs.map((e) => [e.HEAT_FAIL_CODE, e.HEAT_FAIL_CNT, e.HEAT_FAIL_PID, e.HEAT_FAIL_INTERVAL]), [['3', '1', '1001', '1'], ['4', '2', '1002', '1'], ['5', '1', '1005', '1']]);
  assert.equal(envs[1].HEAT_FAIL_TIME, String(Math.floor((T0 + 10) / 1000)), 'first failure of the streak');
  assert.equal(envs[1].HEAT_FAIL_TIME_LAST, String(Math.floor((T0 + 1010) / 1000)));
  assert.equal(envs[2].HEAT_FAIL_TIME, String(Math.floor((T0 + 4020) / 1000)), 'a new streak after the success');
});

test('without --pid no signal is sent', () => {
  const log = simulate(options({ hasPid: false, threshold: 2, faultSignal: 'SIGSTOP' }), { runs: [{ ms: 10, code: 1 }] }, 3000);
  assert.equal(actionsOf(log, 'signal').length, 0);
  assert.equal(actionsOf(log, 'report').length, 3);
});

test('a fail or recovery script that fails, a vanished pid, a check that cannot start: ERR and exit 1', () => {
  for (const o of [options({ hasFailScript: true }), options({ hasRecoveryScript: true })]) {
    const log = simulate(o, { runs: [{ ms: 10, code: 1 }], scriptFails: true }, 3000);
    const last = log.at(-1)!;
    assert.deepEqual(last.actions.map((a) => a.type), ['log', 'exit']);
    assert.deepEqual(last.actions[1], { type: 'exit', code: 1 });
    assert.equal((last.actions[0] as { level: string }).level, 'ERR');
    assert.equal(checkStarts(log).length, 1, 'nothing runs after the exit');
  }
  const gone = simulate(options(), { runs: [{ ms: 10, code: 0 }] }, 3000, [{ at: 1500, event: { type: 'pid-gone' } }]);
  assert.deepEqual(gone.at(-1)!.actions.at(-1), { type: 'exit', code: 1 });
  assert.deepEqual(checkStarts(gone), [0, 1000]);
  const s = step(step(initialState(), { type: 'start' }, T0, options()).state, { type: 'check-spawn-failed', run: 1, reason: 'ENOENT' }, T0, options());
  assert.deepEqual(s.actions.at(-1), { type: 'exit', code: 1 });
});

test('SIGINT/SIGTERM: exit 0, and nothing happens after', () => {
  const log = simulate(options({ hasFailScript: true }), { runs: [{ ms: 10, code: 1 }], failMs: 5000 }, 8000, [{ at: 500, event: { type: 'stop', signal: 'SIGTERM' } }]);
  const stopIdx = log.findIndex((r) => r.event.type === 'stop');
  assert.deepEqual(log[stopIdx].actions.at(-1), { type: 'exit', code: 0 });
  assert.ok(log.slice(stopIdx + 1).every((r) => r.actions.length === 0));
});

// ---- properties over random scenarios --------------------------------------------------------------

const arbRun = fc.record({
  ms: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant(Infinity)),
  code: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 })),
});
const arbOptions = fc.record({
  intervalMs: fc.integer({ min: 100, max: 2000 }),
  threshold: fc.integer({ min: 1, max: 5 }),
  recoveryTimeoutMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 })),
  hasFailScript: fc.boolean(),
  hasRecoveryScript: fc.boolean(),
  hasPid: fc.boolean(),
  signal: fc.constant('SIGHUP'),
  faultSignal: fc.option(fc.constant('SIGUSR1'), { nil: undefined }),
  successSignal: fc.option(fc.constant('SIGUSR2'), { nil: undefined }),
});
const arbScenario = fc.record({
  runs: fc.array(arbRun, { minLength: 1, maxLength: 8 }),
  failMs: fc.integer({ min: 0, max: 5000 }),
  recoveryMs: fc.integer({ min: 0, max: 5000 }),
});

test('property: one process at a time — never a check during a script or another check, never two scripts', () => {
  fc.assert(
    fc.property(arbOptions, arbScenario, (o, sc) => {
      const log = simulate(o, sc, 30_000);
      let busy: string | null = null;
      for (const r of log) {
        if (r.event.type === 'check-exited' && busy === `check ${r.event.run}`) busy = null;
        if (r.event.type === 'script-exited') busy = null;
        for (const a of r.actions) {
          if (a.type === 'kill-check') busy = null;
          if (a.type === 'report' && busy?.startsWith('check')) busy = null;
          if (a.type === 'run-check' || a.type === 'run-script') {
            assert.equal(busy, null, `${a.type} at ${r.t} while ${busy} runs`);
            busy = a.type === 'run-check' ? `check ${a.run}` : `script ${a.script}`;
          }
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('property: checks start only on the interval grid or right after a script that covered a tick', () => {
  fc.assert(
    fc.property(arbOptions, arbScenario, (o, sc) => {
      const log = simulate(o, sc, 30_000);
      let gridFrom = 0;
      let scriptSince: number | null = null;
      let tickMissed = false;
      for (const r of log) {
        if (r.event.type === 'tick' && scriptSince !== null) tickMissed = true;
        for (const a of r.actions) {
          if (a.type === 'run-script') {
            scriptSince = r.t;
            // A tick that killed a hung check and started a script owes its check too.
            tickMissed = r.event.type === 'tick';
          }
        }
        const starts = r.actions.filter((a) => a.type === 'run-check').length;
        if (r.event.type === 'script-exited') {
          assert.equal(starts, tickMissed ? 1 : 0, `after the script that ended at ${r.t}`);
          if (starts) gridFrom = r.t;
          scriptSince = null;
        } else if (starts) {
          assert.equal(starts, 1);
          assert.equal((r.t - gridFrom) % o.intervalMs, 0, `check at ${r.t} is off the grid from ${gridFrom}`);
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('property: with no recovery window, recovery and the fault signal come exactly every `threshold` consecutive failures', () => {
  fc.assert(
    fc.property(arbOptions, arbScenario, (o0, sc) => {
      const o = { ...o0, recoveryTimeoutMs: 0, hasPid: true, faultSignal: 'SIGUSR1', successSignal: 'SIGUSR2' };
      const log = simulate(o, sc, 30_000);
      let count = 0;
      let failedSinceSuccess = false;
      for (const r of log) {
        const report = r.actions.find((a) => a.type === 'report');
        const kinds = r.actions.map((a) => (a.type === 'signal' ? a.signal : a.type === 'run-script' ? a.script : a.type));
        if (!report) {
          assert.ok(!kinds.includes('SIGUSR1') && !kinds.includes('recovery') && !kinds.includes('SIGHUP'));
          continue;
        }
        if (report.code === 0) {
          assert.equal(kinds.includes('SIGUSR2'), failedSinceSuccess, `success signal at ${r.t}`);
          count = 0;
          failedSinceSuccess = false;
          continue;
        }
        failedSinceSuccess = true;
        count++;
        const atThreshold = count === o.threshold;
        assert.equal(kinds.includes('SIGUSR1'), atThreshold, `fault signal at ${r.t} (count ${count})`);
        assert.equal(kinds.includes('recovery'), atThreshold && o.hasRecoveryScript);
        assert.equal(kinds.includes('SIGHUP'), !atThreshold);
        assert.equal(kinds.includes('fail'), o.hasFailScript && !(atThreshold && o.hasRecoveryScript));
        if (atThreshold) count = 0;
      }
    }),
    { numRuns: 300 },
  );
});
