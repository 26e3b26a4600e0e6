/**
 * The exec check with real monitoring plugins (Debian's monitoring-plugins-basic) against servers on
 * loopback, small scripts for every exit code, a hanging and a flooding plugin, and programs that try
 * to leave the [exec] dir; plus the perfdata grammar and `gobearmon probe exec --config`.
 */
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCheck, validateCheck } from '../../src/checks/registry';
import { parsePerfData, parsePluginOutput } from '../../src/checks/plugin-output';
import { freePort } from '../helpers/ports';
import { runGobearmon, writeWorkerConfig } from '../helpers/run-cli';
import { waitFor } from '../helpers/wait';

const PLUGINS = '/usr/lib/nagios/plugins';
const dir = mkdtempSync(join(tmpdir(), 'gbm-exec-'));
const servers: { close(): void }[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function plugin(name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}
plugin('ok', "echo 'DISK OK - free space: 70% | /=30MB;80;90;0;100 inodes=12%;;;0;100'");
plugin('warning', "echo 'LOAD WARNING - load average: 5.1|load1=5.1;5;10;0'");
plugin('critical', "echo 'PROCS CRITICAL: 0 processes'; echo 'long text line'; echo 'more | procs=0;1:;1:;0'");
plugin('unknown', "echo 'UNKNOWN - could not parse arguments'; exit 3");
plugin('weird', "echo 'something odd'; exit 42");
plugin('exit0', 'echo "OK $1 $2"; exit 0');
plugin('exit1', 'echo "WARNING"; exit 1');
plugin('exit2', 'echo "CRITICAL"; exit 2');
plugin('silent', 'exit 2');
plugin('stderr-only', 'echo "broken pipe" >&2; exit 2');
plugin('killed', 'kill -9 $$');
plugin('hang', `sleep 60 & echo $! > ${dir}/hang.pid; wait`);
plugin('flood', "head -c 3000000 /dev/zero | tr '\\0' x; echo; exit 0");
plugin('env', 'echo "OK $(env | sort | tr \'\\n\' \' \')"');
writeFileSync(join(dir, 'not-executable'), 'echo hi\n', { mode: 0o644 });
symlinkSync('/bin/true', join(dir, 'escape'));
symlinkSync(join(dir, 'ok'), join(dir, 'inside-link'));

const ctx = { dnsServer: '', execDir: dir };
const plugins = { dnsServer: '', execDir: PLUGINS };
const exec = (params: Record<string, unknown>, c: { dnsServer: string; execDir?: string } = ctx) => runCheck('exec', JSON.stringify(params), c);

async function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

// .ci/run installs monitoring-plugins-basic; without it these fail rather than pass silently.
describe('exec with the real plugins of monitoring-plugins-basic', () => {
  test('check_tcp: a listening port is online with its response time as perfdata; a closed one is offline', async () => {
    const port = await listen(createServer((s) => s.end()));
    const up = await exec({ command: 'check_tcp', args: ['-H', '127.0.0.1', '-p', String(port)] }, plugins);
    assert.equal(up.status, 'online', up.message);
    assert.match(up.message, /^TCP OK - [\d.]+ second response time on 127\.0\.0\.1 port \d+$/);
    const perf = (up.facts!.perfdata as { label: string; unit: string; value: number }[])[0];
    assert.equal(perf.label, 'time');
    assert.equal(perf.unit, 's');
    assert.ok(perf.value >= 0);
    assert.equal(up.facts!.exitCode, 0);

    const closed = await freePort();
    const down = await exec({ command: 'check_tcp', args: ['-H', '127.0.0.1', '-p', String(closed)] }, plugins);
    assert.equal(down.status, 'offline');
    assert.match(down.message, /Connection refused/);
  });

  test('check_http: 200 online, 404 (WARNING) online or offline with "warning":"offline", 500 (CRITICAL) offline', async () => {
    const port = await listen(createHttpServer((req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : req.url === '/broken' ? 500 : 200;
      res.end('hello');
    }));
    const args = (path: string) => ['-H', '127.0.0.1', '-p', String(port), '-u', path];
    const ok = await exec({ command: 'check_http', args: args('/') }, plugins);
    assert.equal(ok.status, 'online', ok.message);
    assert.match(ok.message, /^HTTP OK: HTTP\/1\.1 200 OK/);
    assert.deepEqual((ok.facts!.perfdata as { label: string }[]).map((p) => p.label), ['time', 'size']);
    const warn = await exec({ command: 'check_http', args: args('/missing') }, plugins);
    assert.equal(warn.status, 'online');
    assert.match(warn.message, /^HTTP WARNING: HTTP\/1\.1 404 Not Found/);
    const strict = await exec({ command: 'check_http', args: args('/missing'), warning: 'offline' }, plugins);
    assert.equal(strict.status, 'offline');
    const crit = await exec({ command: 'check_http', args: args('/broken') }, plugins);
    assert.equal(crit.status, 'offline');
    assert.match(crit.message, /^HTTP CRITICAL: HTTP\/1\.1 500/);
  });

  test('a plugin given bad arguments exits UNKNOWN (3): fail, which never counts toward a flip', async () => {
    const r = await exec({ command: 'check_tcp', args: ['--no-such-option'] }, plugins);
    assert.equal(r.status, 'fail');
    assert.equal(r.facts!.exitCode, 3);
  });
});

test('exit codes: 0 online, 1 online (message kept), 2 offline, 3 and others fail; args passed exactly, no shell', async () => {
  const r0 = await exec({ command: 'exit0', args: ['a b', '$HOME;rm'] });
  assert.deepEqual([r0.status, r0.message], ['online', 'OK a b $HOME;rm']);
  assert.deepEqual([(await exec({ command: 'exit1' })).status, (await exec({ command: 'exit1' })).message], ['online', 'WARNING']);
  assert.equal((await exec({ command: 'exit1', warning: 'offline' })).status, 'offline');
  assert.equal((await exec({ command: 'exit2' })).status, 'offline');
  const unknown = await exec({ command: 'unknown' });
  assert.deepEqual([unknown.status, unknown.message], ['fail', 'UNKNOWN - could not parse arguments']);
  const weird = await exec({ command: 'weird' });
  assert.deepEqual([weird.status, weird.message], ['fail', 'something odd (exit status 42)']);
  const killed = await exec({ command: 'killed' });
  assert.deepEqual([killed.status, killed.message], ['fail', 'killed was killed by SIGKILL']);
  assert.equal((await exec({ command: 'silent' })).message, 'silent exited with status 2 and printed nothing');
  assert.equal((await exec({ command: 'stderr-only' })).message, 'broken pipe');
});

test('the message is the first line; perfdata from the first line and the long text go into facts', async () => {
  const ok = await exec({ command: 'ok' });
  assert.equal(ok.message, 'DISK OK - free space: 70%');
  assert.deepEqual(ok.facts!.perfdata, [
    { label: '/', value: 30, unit: 'MB', warn: '80', crit: '90', min: 0, max: 100 },
    { label: 'inodes', value: 12, unit: '%', min: 0, max: 100 },
  ]);
  const crit = await exec({ command: 'critical' });
  assert.equal(crit.message, 'PROCS CRITICAL: 0 processes');
  assert.deepEqual(crit.facts!.perfdata, [{ label: 'procs', value: 0, unit: '', warn: '1:', crit: '1:', min: 0 }]);
  const warn = await exec({ command: 'warning' });
  assert.deepEqual(warn.facts!.perfdata, [{ label: 'load1', value: 5.1, unit: '', warn: '5', crit: '10', min: 0 }]);
});

test('a plugin that hangs is killed with its process group at the time limit: offline', async () => {
  rmSync(join(dir, 'hang.pid'), { force: true });
  const r = await exec({ command: 'hang', timeout: 3 });
  assert.equal(r.status, 'offline');
  assert.equal(r.message, 'hang did not finish within 3 s, killed');
  const pid = Number(readFileSync(join(dir, 'hang.pid'), 'utf8'));
  await waitFor('the plugin\'s child to be killed', () => {
    try {
      process.kill(pid, 0);
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] === 'Z';
    } catch {
      return true;
    }
  }, 10_000);
});

test('a plugin that floods its output: kept to a cap, the rest drained and counted, the message cut', async () => {
  const r = await exec({ command: 'flood' });
  assert.equal(r.status, 'online');
  assert.equal(r.message.length, 1025);
  assert.ok((r.facts!.outputDroppedBytes as number) > 2_000_000);
});

test('plugins see a small fixed environment (C locale), not the worker\'s', async () => {
  process.env.GBM_SECRET_FOR_TEST = 'leak';
  const r = await exec({ command: 'env' });
  delete process.env.GBM_SECRET_FOR_TEST;
  assert.ok(!r.message.includes('GBM_SECRET_FOR_TEST'), r.message);
  assert.match(r.message, /LC_ALL=C/);
});

test('programs outside the directory are refused: "..", absolute paths, symlinks leading out, missing ones', async () => {
  assert.match(validateCheck('exec', JSON.stringify({ command: '../bin/true' }))!, /must name a program inside the worker's \[exec\] dir/);
  assert.match(validateCheck('exec', JSON.stringify({ command: '/bin/true' }))!, /no absolute path/);
  assert.match(validateCheck('exec', JSON.stringify({ command: 'ok', args: 'x' }))!, /"args" must be an array of strings, got string/);
  assert.match(validateCheck('exec', JSON.stringify({ command: 'ok', args: [1] }))!, /"args" entry 0 must be a string, got number/);
  assert.match(validateCheck('exec', JSON.stringify({ command: 'ok', warning: 'maybe' }))!, /"warning" must be "online" or "offline"/);
  assert.match(validateCheck('exec', JSON.stringify({ args: [] }))!, /missing parameter "command"/);
  const escape = await exec({ command: 'escape' });
  assert.equal(escape.status, 'offline');
  assert.match(escape.message, /"escape" leads outside \[exec\] dir .* \(to \/.*true\); refused/);
  assert.equal((await exec({ command: 'inside-link' })).status, 'online', 'a symlink within the directory is fine');
  const missing = await exec({ command: 'nope' });
  assert.deepEqual([missing.status, missing.message], ['offline', `no program "nope" in [exec] dir ${dir}`]);
  const notExec = await exec({ command: 'not-executable' });
  assert.equal(notExec.status, 'offline');
  assert.match(notExec.message, /cannot run not-executable: .*EACCES/);
});

test('without [exec] dir exec checks are refused, naming the key, as fail', async () => {
  const r = await exec({ command: 'ok' }, { dnsServer: '' });
  assert.equal(r.status, 'fail');
  assert.match(r.message, /\[exec\] dir is not set/);
});

test('perfdata grammar: quoted labels, U, thresholds, garbage skipped', () => {
  assert.deepEqual(parsePerfData("'my disk''s free'=3.5GB;;;0 rta=U bogus x=1e3ms;@10:20;~:30"), [
    { label: "my disk's free", value: 3.5, unit: 'GB', min: 0 },
    { label: 'rta', value: null, unit: '' },
    { label: 'x', value: 1000, unit: 'ms', warn: '@10:20', crit: '~:30' },
  ]);
  assert.deepEqual(parsePluginOutput(''), { message: '', perfdata: [] });
  assert.deepEqual(parsePluginOutput('OK |'), { message: 'OK', perfdata: [] });
});

test('property: formatted perfdata parses back to the same values', () => {
  const label = fc.stringMatching(/^[A-Za-z_/][A-Za-z0-9_ /.'-]{0,20}$/);
  const datum = fc.record({
    label,
    value: fc.oneof(fc.constant(null), fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true })),
    unit: fc.constantFrom('', 's', 'ms', '%', 'B', 'KB', 'MB', 'c'),
    min: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(datum, { maxLength: 5 }), fc.string({ maxLength: 40 }).filter((s) => !/[|\n\r]/.test(s)), (data, text) => {
      const perf = data.map((d) => `'${d.label.replace(/'/g, "''")}'=${d.value === null ? 'U' : String(d.value)}${d.unit};;;${d.min ?? ''}`).join(' ');
      const out = parsePluginOutput(`${text}|${perf}\n`);
      assert.equal(out.message, text.trim().slice(0, 1024) + (text.trim().length > 1024 ? '…' : ''));
      assert.deepEqual(out.perfdata, data.map((d) => ({ label: d.label, value: d.value === null ? null : Number(String(d.value)), unit: d.unit, ...(d.min !== undefined ? { min: d.min } : {}) })));
    }),
    { numRuns: 300 },
  );
});

test('gobearmon probe exec --config FILE takes [exec] dir from the file; a bad [exec] dir exits 2 naming the key', async () => {
  const cfgDir = mkdtempSync(join(dir, 'cfg-'));
  const cfg = writeWorkerConfig(cfgDir, `sqlite:${join(cfgDir, 'x.db')}`);
  writeFileSync(cfg, `${readFileSync(cfg, 'utf8')}\n[exec]\ndir = ${dir}\n`);
  const r = await runGobearmon(['probe', 'exec', JSON.stringify({ command: 'exit0', args: ['from', 'probe'] }), '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { message: string }).message, 'OK from probe');
  const crit = await runGobearmon(['probe', 'exec', '{"command":"exit2"}', '--config', cfg]);
  assert.equal(crit.code, 1);
  const none = await runGobearmon(['probe', 'exec', '{"command":"exit0"}']);
  assert.equal(none.code, 1);
  assert.match(none.stdout, /\[exec\] dir is not set/);

  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(`dir = ${dir}`, `dir = ${join(dir, 'no-such-dir')}`));
  const bad = await runGobearmon(['probe', 'exec', '{"command":"exit0"}', '--config', cfg]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /\[exec\] dir/);
  assert.match(bad.stderr, /does not exist/);
});
