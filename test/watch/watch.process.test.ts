/**
 * `gobearmon watch` as a real process: real check programs, fail and recovery scripts, a target process
 * that records the signals it gets, real SIGINT/SIGTERM, HEAT's log file, and --push to a local server.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOBEARMON, runGobearmon } from '../helpers/run-cli';
import { waitFor } from '../helpers/wait';

const root = mkdtempSync(join(tmpdir(), 'gbm-watch-'));
const spawned: ChildProcess[] = [];
after(() => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const workdir = () => mkdtempSync(join(root, 'w-'));

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const lines = (path: string) => read(path).split('\n').filter(Boolean);
/** Lines of `KEY=value` (as `env` prints them) into an object. */
const envOf = (text: string) => Object.fromEntries(text.split('\n').filter((l) => l.startsWith('HEAT_')).map((l) => l.split('=') as [string, string]));

interface Watch {
  child: ChildProcess;
  exit: Promise<{ code: number | null; stderr: string }>;
}

function startWatch(dir: string, args: string[], log = join(dir, 'heat.log')): Watch {
  const child = spawn(process.execPath, [GOBEARMON, 'watch', '--log', log, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  spawned.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stderr })));
  return { child, exit };
}

/** A process that appends the name of every signal it gets to `file` (STOP cannot be caught: see its state). */
function startTarget(dir: string): { child: ChildProcess; file: string } {
  const file = join(dir, 'signals');
  const code = `const fs=require('fs');for(const s of ['SIGHUP','SIGUSR1','SIGUSR2','SIGCONT'])process.on(s,()=>fs.appendFileSync(${JSON.stringify(file)},s+'\\n'));fs.writeFileSync(${JSON.stringify(file)},'');setInterval(()=>{},1000);`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  spawned.push(child);
  return { child, file };
}

const processState = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
  } catch {
    return 'gone';
  }
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return processState(pid) !== 'Z';
  } catch {
    return false;
  }
};

describe('gobearmon watch with real processes', { concurrency: 4 }, () => {
  test('signals: --signal below the threshold, --fault-signal at it, --success-signal on the first success', async () => {
    const dir = workdir();
    const target = startTarget(dir);
    await waitFor('the target to start', () => existsSync(target.file));
    const healthy = join(dir, 'healthy');
    const check = script(dir, 'check', `test -e ${healthy}`);
    const w = startWatch(dir, ['-i', '0.3', '-s', check, '--pid', String(target.child.pid), '--signal', 'USR1', '--threshold', '3', '--fault-signal', 'SIGSTOP', '--success-signal', '18']);
    await waitFor('the fault signal (target stopped)', () => processState(target.child.pid!) === 'T', 20_000);
    assert.deepEqual(lines(target.file).slice(0, 2), ['SIGUSR1', 'SIGUSR1'], 'two USR1 before the threshold');
    writeFileSync(healthy, '');
    await waitFor('SIGCONT (18) on the first success', () => lines(target.file).includes('SIGCONT'), 20_000);
    assert.notEqual(processState(target.child.pid!), 'T');
    w.child.kill('SIGTERM');
    assert.equal((await w.exit).code, 0);
    const log = read(join(dir, 'heat.log'));
    assert.match(log, new RegExp(`^\\d+ : INFO : ${check} :\\n> sent SIGSTOP to process ${target.child.pid} \\(fault\\)$`, 'm'));
  });

  test('fail and recovery scripts get the HEAT_FAIL_* environment; argv is kept exactly; no check runs during recovery', async () => {
    const dir = workdir();
    const fail = script(dir, 'fail', `env | grep ^HEAT_ >> ${dir}/fail.env; echo --- >> ${dir}/fail.env`);
    const recovery = script(dir, 'recovery', `date +%s.%N >> ${dir}/recovery.times; env | grep ^HEAT_ >> ${dir}/recovery.env; echo --- >> ${dir}/recovery.env; sleep 1.5; date +%s.%N >> ${dir}/recovery.times`);
    // HEAT split this on spaces and ran `sh -c "'exit" "3'"`; here sh gets exactly one script argument.
    const w = startWatch(dir, ['-i', '0.8', '--threshold', '2', '--fail', fail, '--recovery', recovery, 'sh', '-c', `echo $$ >> ${dir}/pids; date +%s.%N >> ${dir}/check.times; exit 3`]);
    await waitFor('recovery to finish and checks to resume', () => lines(join(dir, 'recovery.times')).length >= 2 && lines(join(dir, 'check.times')).length >= 4, 20_000);
    w.child.kill('SIGINT');
    assert.equal((await w.exit).code, 0);
    const pids = lines(join(dir, 'pids'));
    const recoveryEnv = envOf(read(join(dir, 'recovery.env')).split('---')[0]);
    assert.equal(recoveryEnv.HEAT_FAIL_CODE, '3');
    assert.equal(recoveryEnv.HEAT_FAIL_CNT, '2');
    assert.equal(recoveryEnv.HEAT_FAIL_INTERVAL, '0.8');
    assert.equal(recoveryEnv.HEAT_FAIL_PID, pids[1], 'the pid of the check that failed');
    assert.ok(Number(recoveryEnv.HEAT_FAIL_TIME) <= Number(recoveryEnv.HEAT_FAIL_TIME_LAST));
    const failEnv = envOf(read(join(dir, 'fail.env')).split('---')[0]);
    assert.equal(failEnv.HEAT_FAIL_CODE, '3');
    assert.equal(failEnv.HEAT_FAIL_CNT, '1');
    assert.equal(failEnv.HEAT_FAIL_PID, pids[0]);
    const [recStart, recEnd] = lines(join(dir, 'recovery.times')).map(Number);
    const during = lines(join(dir, 'check.times')).map(Number).filter((t) => t > recStart && t < recEnd);
    assert.deepEqual(during, [], 'no check ran while the recovery script ran');
  });

  test('ticks missed during a 3.5 s fail script collapse into exactly one check right after it (interval 1 s)', async () => {
    const dir = workdir();
    const fail = script(dir, 'fail', `date +%s.%N >> ${dir}/fail.times; sleep 3.5; date +%s.%N >> ${dir}/fail.times`);
    // Fails the first time only.
    const check = script(dir, 'check', `date +%s.%N >> ${dir}/check.times; test $(wc -l < ${dir}/check.times) -gt 1`);
    const w = startWatch(dir, ['-i', '1', '--threshold', '5', '--fail', fail, '-s', check]);
    await waitFor('two checks after the fail script', () => lines(join(dir, 'check.times')).length >= 3, 30_000);
    w.child.kill('SIGTERM');
    assert.equal((await w.exit).code, 0);
    const [failStart, failEnd] = lines(join(dir, 'fail.times')).map(Number);
    const checks = lines(join(dir, 'check.times')).map(Number);
    assert.equal(checks.filter((t) => t > failStart && t < failEnd).length, 0, 'no check during the fail script');
    const after = checks.filter((t) => t > failEnd);
    assert.ok(after[0] - failEnd < 0.8, `one check right after the script ended (it came ${(after[0] - failEnd).toFixed(2)} s later)`);
    assert.ok(after[1] - after[0] > 0.8, `the next one a whole interval later, not a burst (${(after[1] - after[0]).toFixed(2)} s)`);
  });

  test('a hanging check is killed with its process group at the next tick and counts as a failure (code 124)', async () => {
    const dir = workdir();
    const fail = script(dir, 'fail', `env > ${dir}/fail.env`);
    const w = startWatch(dir, ['-i', '0.5', '--threshold', '9', '--fail', fail, 'sh', '-c', `sleep 30 & echo $! >> ${dir}/sleeps; wait`]);
    await waitFor('the fail script', () => read(join(dir, 'fail.env')).includes('HEAT_FAIL_CODE'), 20_000);
    assert.equal(envOf(read(join(dir, 'fail.env'))).HEAT_FAIL_CODE, '124');
    const firstSleep = Number(lines(join(dir, 'sleeps'))[0]);
    await waitFor('the first run\'s grandchild to be killed', () => !alive(firstSleep), 10_000);
    w.child.kill('SIGTERM');
    assert.equal((await w.exit).code, 0);
    for (const pid of lines(join(dir, 'sleeps')).map(Number)) await waitFor(`sleep ${pid} stopped with watch`, () => !alive(pid), 10_000);
    assert.match(read(join(dir, 'heat.log')), /^\d+ : FAIL : sh -c .* :\n> check still running at the next tick, killed; failure 1 in a row/m);
  });

  test('the check\'s stdout is logged as INFO and its stderr as FAIL, in HEAT\'s format, appended', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'heat.log'), 'earlier line\n');
    const w = startWatch(dir, ['-i', '5', 'sh', '-c', 'echo out one; echo out two; echo err one >&2; exit 0']);
    await waitFor('the first record', () => read(join(dir, 'heat.log')).includes('err one'), 20_000);
    w.child.kill('SIGTERM');
    assert.equal((await w.exit).code, 0);
    const log = read(join(dir, 'heat.log'));
    assert.ok(log.startsWith('earlier line\n'));
    assert.match(log, /^\d{10} : INFO : sh -c 'echo out one; echo out two; echo err one >&2; exit 0' :\n> out one\n> out two\n\d{10} : FAIL : sh -c .* :\n> err one\n/m);
    assert.match(log, /INFO : sh -c .* :\n> stopped by SIGTERM\n$/);
  });

  test('the watched pid vanishing: ERR record, exit 1; a pid that does not exist at start: exit 1', async () => {
    const dir = workdir();
    const target = startTarget(dir);
    await waitFor('the target to start', () => existsSync(target.file));
    const w = startWatch(dir, ['-i', '0.3', '--pid', String(target.child.pid), 'echo', 'ok']);
    await waitFor('a check', () => read(join(dir, 'heat.log')).includes('> ok'), 20_000);
    target.child.kill('SIGKILL');
    const { code, stderr } = await w.exit;
    assert.equal(code, 1);
    assert.match(stderr, /the watched process \(--pid\) is gone/);
    assert.match(read(join(dir, 'heat.log')), /^\d+ : ERR : echo ok :\n> the watched process \(--pid\) is gone$/m);

    const missing = await runGobearmon(['watch', '--log', join(dir, 'other.log'), '--pid', '999999999', 'true']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /process 999999999 \(--pid\) does not exist/);
  });

  test('a fail script that exits non-zero, cannot start, or outlives --script-timeout: ERR, exit 1', async () => {
    const dir = workdir();
    const cases: [string[], RegExp][] = [
      [['--fail', script(dir, 'bad', 'exit 7')], /bad exited with status 7/],
      [['--fail', join(dir, 'missing-script')], /missing-script cannot start: spawn .*ENOENT/],
      [['--recovery', script(dir, 'slow', 'sleep 30'), '--script-timeout', '0.5'], /slow did not finish within 0.5 s \(--script-timeout\), killed/],
    ];
    await Promise.all(cases.map(async ([flags, why], i) => {
      const w = startWatch(dir, ['-i', '0.3', ...flags, 'false'], join(dir, `log${i}`));
      const { code, stderr } = await w.exit;
      assert.equal(code, 1, stderr);
      assert.match(stderr, why);
      assert.match(read(join(dir, `log${i}`)), /^\d+ : ERR : false :\n> the (fail|recovery) script failed: /m);
    }));
  });

  test('threshold and --recovery-timeout: recovery, then failures only count for the timeout, then recovery again', async () => {
    const dir = workdir();
    const fail = script(dir, 'fail', `date +%s.%N >> ${dir}/fail.times`);
    const recovery = script(dir, 'recovery', `date +%s.%N >> ${dir}/recovery.times`);
    const w = startWatch(dir, ['-i', '0.2', '--threshold', '2', '--fail', fail, '--recovery', recovery, '--recovery-timeout', '1.5', 'false']);
    await waitFor('a second recovery', () => lines(join(dir, 'recovery.times')).length >= 2, 20_000);
    w.child.kill('SIGTERM');
    assert.equal((await w.exit).code, 0);
    const [r1, r2] = lines(join(dir, 'recovery.times')).map(Number);
    assert.ok(r2 - r1 >= 1.5, `recovery again only after the timeout (${(r2 - r1).toFixed(2)} s)`);
    const fails = lines(join(dir, 'fail.times')).map(Number);
    assert.equal(fails.filter((t) => t < r1).length, 1, 'one fail script before the threshold');
    assert.equal(fails.filter((t) => t > r1 && t < r1 + 1.4).length, 0, 'no fail script inside the recovery timeout');
  });

  test('--push: each result becomes an exit-status ping with the output\'s tail', async () => {
    const dir = workdir();
    const requests: { method: string; url: string; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push({ method: req.method!, url: req.url!, body });
        res.end('OK');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      // Alternates: success, then failure with status 3.
      const check = script(dir, 'check', `echo run >> ${dir}/runs; if [ $(($(wc -l < ${dir}/runs) % 2)) = 1 ]; then echo all good; else echo disk full >&2; exit 3; fi`);
      const w = startWatch(dir, ['-i', '0.8', '--threshold', '100', '--push', `http://127.0.0.1:${port}/ping/k3y-watch/`, '-s', check]);
      await waitFor('four pings', () => requests.length >= 4, 20_000);
      w.child.kill('SIGTERM');
      assert.equal((await w.exit).code, 0);
      assert.deepEqual(requests.slice(0, 4).map((r) => `${r.method} ${r.url}`), ['POST /ping/k3y-watch/0', 'POST /ping/k3y-watch/3', 'POST /ping/k3y-watch/0', 'POST /ping/k3y-watch/3']);
      assert.equal(requests[0].body, 'all good\n');
      assert.equal(requests[1].body, 'disk full\n');
    } finally {
      server.close();
    }
  });

  test('a push receiver that is down costs an ERR record, not the supervisor', async () => {
    const dir = workdir();
    const w = startWatch(dir, ['-i', '0.3', '--push', 'http://127.0.0.1:1/ping/tok', 'true']);
    await waitFor('the push error in the log', () => /ERR : gobearmon watch --push :\n> push to http:\/\/127.0.0.1:1\/ping\/tok\/0 failed/.test(read(join(dir, 'heat.log'))), 20_000);
    assert.equal(w.child.exitCode, null, 'still running');
    w.child.kill('SIGTERM');
    assert.equal((await w.exit).code, 0);
  });

  test('bad flags: exit 2 with a message naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['-i', 'abc', 'true'], /-i: expected a number of seconds above 0, got "abc"/],
      [['--interval', '0', 'true'], /--interval: expected a number of seconds above 0/],
      [['--signal', 'BOGUS', 'true'], /--signal: unknown signal "BOGUS"/],
      [['--fault-signal', '999', 'true'], /--fault-signal: no signal numbered 999/],
      [['--threshold', '0', 'true'], /--threshold: expected a whole number from 1/],
      [['--frobnicate', '1', 'true'], /unknown flag --frobnicate/],
      [['-s', './check', 'true'], /-s\/--script and a trailing command "true" are both given/],
      [['-i', '1'], /no check: give -s\/--script PATH or a trailing COMMAND/],
      [['--push', 'ftp://x/y', 'true'], /--push: expected an http:\/\/ or https:\/\/ ping URL/],
      [['--pid'], /--pid needs a value/],
    ];
    const results = await Promise.all(cases.map(([args]) => runGobearmon(['watch', ...args])));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i][0].join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, cases[i][1]);
    });
  });
});
