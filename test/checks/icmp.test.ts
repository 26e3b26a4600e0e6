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
