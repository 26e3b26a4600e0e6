/**
 * Which contact failures are permanent (the dispatcher ends them at once and tells the admin)
 * and which may pass on a retry, through the real sendAlert against real receivers on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sendAlert } from '../../src/contacts/registry';
import { isPermanentContactError, isPermanentHttpStatus, PermanentContactError, type AlertNotice } from '../../src/contacts/types';
import { workerConfig } from '../helpers/config';
import { freePort } from '../helpers/ports';
import { startSmtp, type TestSmtp } from '../helpers/smtp';
import { INVALID_NUMBER, startTwilio, type TestTwilio } from '../helpers/twilio';
import { startWebhook, type TestWebhook } from '../helpers/webhook';

const notice: AlertNotice = {
  checkId: 3, checkName: 'api', checkType: 'http', checkData: '{}', status: 'offline', message: 'HTTP 502', idempotencyKey: 'k-3',
};

/** Resolves with whether the send failed permanently; fails the test when the send succeeded. */
async function permanence(send: Promise<unknown>): Promise<boolean> {
  try {
    await send;
  } catch (err) {
    assert.ok(err instanceof Error);
    if (isPermanentContactError(err)) assert.equal(err.name, 'PermanentContactError');
    return isPermanentContactError(err);
  }
  assert.fail('the send was expected to fail');
}

test('HTTP statuses: 4xx except 408 and 429 are permanent, nothing else is', () => {
  for (let s = 100; s < 600; s++) assert.equal(isPermanentHttpStatus(s), s >= 400 && s < 500 && s !== 408 && s !== 429, `HTTP ${s}`);
  assert.ok(new PermanentContactError('x') instanceof Error);
});

describe('webhook', () => {
  let hook: TestWebhook;
  before(async () => { hook = await startWebhook(); });
  after(() => hook.close());

  for (const [status, permanent] of [[400, true], [401, true], [404, true], [410, true], [408, false], [429, false], [500, false], [503, false], [302, false]] as const) {
    test(`HTTP ${status} is ${permanent ? 'permanent' : 'temporary'}`, async () => {
      hook.status = status;
      assert.equal(await permanence(sendAlert('http', hook.url, notice, workerConfig())), permanent);
    });
  }

  test('a bad URL is permanent; a refused connection and a timeout are temporary', async () => {
    assert.equal(await permanence(sendAlert('http', 'not a url', notice, workerConfig())), true);
    assert.equal(await permanence(sendAlert('http', 'ftp://x/', notice, workerConfig())), true);
    assert.equal(await permanence(sendAlert('http', `http://127.0.0.1:${await freePort()}/`, notice, workerConfig())), false);
  });
});

describe('twilio', () => {
  let tw: TestTwilio;
  const cfg = (token: string) => workerConfig(`[twilio]\naccountSid=${tw.accountSid}\nauthToken=${token}\nfrom=+15550001111\napiBase=${tw.apiBase}`);
  before(async () => { tw = await startTwilio(); });
  after(() => tw.close());

  test('an invalid number (21211) and refused credentials (20003) are permanent, for sms and voice', async () => {
    for (const type of ['sms', 'voice']) {
      assert.equal(await permanence(sendAlert(type, INVALID_NUMBER, notice, cfg(tw.authToken))), true, `${type} invalid number`);
      assert.equal(await permanence(sendAlert(type, '+15550002222', notice, cfg('wrong'))), true, `${type} wrong token`);
      assert.equal(await permanence(sendAlert(type, '  ', notice, cfg(tw.authToken))), true, `${type} no number`);
    }
  });

  test('missing [twilio] settings are permanent; an unreachable API is temporary', async () => {
    assert.equal(await permanence(sendAlert('sms', '+15550002222', notice, workerConfig())), true);
    assert.equal(await permanence(sendAlert('voice', '+15550002222', notice, workerConfig('[twilio]\naccountSid=XX1\nauthToken=t\nfrom=+1'))), true);
    const down = workerConfig(`[twilio]\naccountSid=AC1\nauthToken=t\nfrom=+1555\napiBase=http://127.0.0.1:${await freePort()}`);
    assert.equal(await permanence(sendAlert('sms', '+15550002222', notice, down)), false);
  });
});

describe('email', () => {
  let smtp: TestSmtp;
  const cfg = (extra = '') => workerConfig(`[smtp]\nfrom=monitor@example.org\nhost=127.0.0.1\nport=${smtp.port}\n${extra}`);
  before(async () => { smtp = await startSmtp({ auth: { user: 'mon', pass: 'good' }, refuse: { 'gone@example.org': 550, 'full@example.org': 452 } }); });
  after(() => smtp.close());

  test('a refused mailbox (550) and refused credentials are permanent; a 4xx reply is temporary', async () => {
    const auth = 'username=mon\npassword=good';
    assert.equal(await permanence(sendAlert('email', 'gone@example.org', notice, cfg(auth))), true);
    assert.equal(await permanence(sendAlert('email', 'ops@example.org', notice, cfg('username=mon\npassword=bad'))), true);
    assert.equal(await permanence(sendAlert('email', 'full@example.org', notice, cfg(auth))), false);
    assert.equal(await permanence(sendAlert('email', ' ', notice, cfg(auth))), true);
  });

  test('no [smtp] host is permanent; a server that is down is temporary', async () => {
    assert.equal(await permanence(sendAlert('email', 'ops@example.org', notice, workerConfig())), true);
    const down = workerConfig(`[smtp]\nhost=127.0.0.1\nport=${await freePort()}`);
    assert.equal(await permanence(sendAlert('email', 'ops@example.org', notice, down)), false);
  });
});

test('an unknown contact type is permanent', async () => {
  assert.equal(await permanence(sendAlert('pigeon', 'x', notice, workerConfig())), true);
});
