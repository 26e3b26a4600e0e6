/** The icmp check: only 127.0.0.1 is pinged; bad targets are refused before anything runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCheck, validateCheck } from '../../src/checks/registry';

const ctx = { dnsServer: '' };
const check = (params: Record<string, unknown>) => runCheck('icmp', JSON.stringify(params), ctx);

test('127.0.0.1 answers: online, 0% loss, five round trips', async () => {
  const r = await check({ target: '127.0.0.1', packetloss: true });
  assert.equal(r.status, 'online', r.message);
  assert.equal(r.facts?.lossPercent, 0);
  assert.equal((r.facts?.rttsMs as number[]).length, 5);
  assert.ok(r.durationMs < 15_000, `took ${r.durationMs} ms`);
});

test('targets with shell metacharacters or spaces are refused', async () => {
  for (const target of [';rm -rf', '$(reboot)', 'a&b', 'host name', '`id`', 'a|b', "x'y", 'a>b', 'a/b', 'a\\b']) {
    const r = await check({ target });
    assert.equal(r.status, 'offline');
    assert.match(r.message, /^invalid parameter "target": ping target contains invalid characters/, target);
  }
});

test('a leading "-" is refused: it would be read as an option', async () => {
  for (const target of ['-f', '-c1000', '--help']) {
    assert.equal(validateCheck('icmp', JSON.stringify({ target })), `invalid parameter "target": ${target} starts with "-" (it would be read as a ping option)`);
  }
});

test('a missing ping binary is a clear offline result, not a crash', async () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const r = await check({ target: '127.0.0.1' });
    assert.equal(r.status, 'offline');
    assert.equal(r.message, 'failed to run ping command: ping was not found or could not be run (install iputils-ping)');
  } finally {
    process.env.PATH = path;
  }
});

test('a ping that outlives its time limit is killed, not left running', async () => {
  const { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { runPing } = await import('../../src/checks/icmp');
  const dir = mkdtempSync(join(tmpdir(), 'gbm-ping-'));
  // A "ping" that never finishes, as one stuck on a name lookup or a wedged network would.
  writeFileSync(join(dir, 'ping'), `#!/bin/sh\necho $$ > ${dir}/pid\nexec sleep 600\n`);
  chmodSync(join(dir, 'ping'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path}`;
  try {
    await assert.rejects(runPing('127.0.0.1', false, 1_000), /did not finish within 1 s and was killed/);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(), false, 'the child is gone');
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ping output is read for loss, round trips and the address', async () => {
  const { parsePingOutput } = await import('../../src/checks/icmp');
  const out = 'PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms\n64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.050 ms\n\n--- 127.0.0.1 ping statistics ---\n5 packets transmitted, 2 received, 60% packet loss, time 4100ms\n';
  assert.deepEqual(parsePingOutput(out), { lossPercent: 60, rttsMs: [0.045, 0.05], address: '127.0.0.1' });
  assert.deepEqual(parsePingOutput('ping: unknown host'), { lossPercent: null, rttsMs: [], address: null });
});
