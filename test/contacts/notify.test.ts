import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTwilio, type TestTwilio } from '../helpers/twilio';
import { startWebhook, type TestWebhook } from '../helpers/webhook';

const CLI = resolve(__dirname, '../../cmd/gobearmon.js');

/** Runs the built CLI asynchronously, so the servers in this process can answer it. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

describe('gobearmon notify', () => {
  let dir: string;
  let cfg: string;
  let hook: TestWebhook;
  let tw: TestTwilio;
  before(async () => {
    hook = await startWebhook();
    tw = await startTwilio();
    dir = mkdtempSync(join(tmpdir(), 'gobearmon-notify-'));
    cfg = join(dir, 'worker.cfg');
    writeFileSync(cfg, [
      '[default]', 'password = secret',
      '[controller]', 'addr = 127.0.0.1:7000', 'database = sqlite:/tmp/gobearmon-none.db',
      '[worker]', 'viewAddr = 127.0.0.1:7001',
      '[twilio]', `accountSid = ${tw.accountSid}`, `authToken = ${tw.authToken}`, 'from = +15550001111', `apiBase = ${tw.apiBase}`,
    ].join('\n'));
  });
  after(async () => {
    await hook.close();
    await tw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sent: exit 0, provider id on stdout, the options reach the alert', async () => {
    hook.status = 200;
    const r = await run(['notify', 'http', hook.url, '--config', cfg, '--status', 'online', '--check-name', 'shop', '--message', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'HTTP 200');
    const form = hook.requests.at(-1)!.form;
    assert.equal(form.get('check_id'), '0');
    assert.equal(form.get('name'), 'shop');
    assert.equal(form.get('status'), 'online');
    assert.equal(form.get('message'), 'hi');
    assert.match(form.get('idempotency_key') ?? '', /^notify:\d+$/);
  });

  test('sms through the configured apiBase prints the SID', async () => {
    const r = await run(['notify', 'sms', '+15550002222', '--config', cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^SM[0-9a-f]{32}$/);
    assert.equal(tw.requests.at(-1)!.form.get('Body'), 'Check [gobearmon test] is now offline: test alert sent by gobearmon notify');
  });

  test('failed: exit 1, reason on stderr', async () => {
    hook.status = 500;
    const r = await run(['notify', 'http', hook.url, '--config', cfg]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /answered HTTP 500/);
    assert.equal(r.stdout, '');
    hook.status = 200;
  });

  test('bad input: exit 2', async () => {
    const cases = [
      ['notify', 'http', hook.url, '--config', cfg, '--status', 'down'],
      ['notify', 'pager', 'x', '--config', cfg],
      ['notify', 'http', hook.url],
      ['notify', 'http', '--config', cfg],
      ['notify', 'http', hook.url, '--config', cfg, '--bogus', 'x'],
      ['notify', 'http', hook.url, '--config', join(dir, 'missing.cfg')],
    ];
    for (const args of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.notEqual(r.stderr, '');
    }
  });

  test('an invalid config is exit 2 with the config error', async () => {
    const bad = join(dir, 'bad.cfg');
    writeFileSync(bad, '[default]\npassword = x\n[controller]\naddr = 127.0.0.1:7000\n');
    const r = await run(['notify', 'http', hook.url, '--config', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\[controller\] database/);
  });
});
