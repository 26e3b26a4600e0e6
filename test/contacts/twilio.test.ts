import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/types';
import { sendAlert } from '../../src/contacts/registry';
import type { AlertNotice } from '../../src/contacts/types';
import { INVALID_NUMBER, startTwilio, type TestTwilio } from '../helpers/twilio';
import { workerConfig } from '../helpers/config';
import { freePort } from '../helpers/ports';

const notice: AlertNotice = {
  checkId: 9, checkName: 'api & co', checkType: 'http', checkData: '{}',
  status: 'offline', message: 'HTTP 502', idempotencyKey: 'flip:9:1:contact:2',
};

function config(twilio: string): Config {
  return workerConfig(`[twilio]\n${twilio}`);
}

describe('twilio contacts against a local Twilio API', () => {
  let tw: TestTwilio;
  let cfg: Config;
  before(async () => {
    tw = await startTwilio();
    cfg = config(`accountSid=${tw.accountSid}\nauthToken=${tw.authToken}\nfrom=+15550001111\napiBase=${tw.apiBase}`);
  });
  after(() => tw.close());

  test('sms posts From/To/Body to Messages.json and returns the SID as a charge', async () => {
    const result = await sendAlert('sms', '+15550002222', notice, cfg);
    const req = tw.requests.at(-1)!;
    assert.equal(req.resource, 'Messages');
    assert.equal(req.user, tw.accountSid);
    assert.equal(req.form.get('From'), '+15550001111');
    assert.equal(req.form.get('To'), '+15550002222');
    assert.equal(req.form.get('Body'), 'Check [api & co] is now offline: HTTP 502');
    assert.match(result.providerId, /^SM[0-9a-f]{32}$/);
    assert.deepEqual(result.charge, { type: 'sms', data: result.providerId });
  });

  test('voice posts inline TwiML (no Url) to Calls.json and returns the SID as a charge', async () => {
    const result = await sendAlert('voice', '+15550002222', { ...notice, status: 'online', message: '' }, cfg);
    const req = tw.requests.at(-1)!;
    assert.equal(req.resource, 'Calls');
    assert.equal(req.form.get('To'), '+15550002222');
    assert.equal(req.form.get('From'), '+15550001111');
    assert.equal(req.form.get('Url'), null);
    const twiml = req.form.get('Twiml') ?? '';
    assert.match(twiml, /<Response><Say loop="2">[^<]*The check \. api &amp; co \. has been recorded \. online<\/Say><\/Response>$/);
    assert.match(result.providerId, /^CA[0-9a-f]{32}$/);
    assert.deepEqual(result.charge, { type: 'voice', data: result.providerId });
  });

  test('the call says the reason when offline', async () => {
    await sendAlert('voice', '+15550002222', notice, cfg);
    assert.match(tw.requests.at(-1)!.form.get('Twiml') ?? '', /recorded \. offline \. Reason is \. HTTP 502/);
  });

  test('an invalid number carries Twilio code 21211 and its message', async () => {
    for (const type of ['sms', 'voice']) {
      await assert.rejects(sendAlert(type, INVALID_NUMBER, notice, cfg), (err: Error) => {
        assert.match(err.message, /HTTP 400, code 21211/);
        assert.match(err.message, /The 'To' number \+15005550001 is not a valid phone number\./);
        return true;
      });
    }
  });

  test('a wrong token is "authentication refused" (401)', async () => {
    const bad = config(`accountSid=${tw.accountSid}\nauthToken=wrong\nfrom=+15550001111\napiBase=${tw.apiBase}`);
    for (const type of ['sms', 'voice']) {
      await assert.rejects(sendAlert(type, '+15550002222', notice, bad), /Twilio authentication refused \(HTTP 401, code 20003\)/);
    }
  });
});

describe('twilio failures before any answer', () => {
  test('missing settings are named', async () => {
    await assert.rejects(sendAlert('sms', '+15550002222', notice, config('from=+1555')), /\[twilio\] accountSid, authToken not set/);
    await assert.rejects(sendAlert('voice', '+15550002222', notice, config('accountSid=AC1\nauthToken=t')), /\[twilio\] from not set/);
  });

  test('an account SID not starting with AC is named', async () => {
    await assert.rejects(sendAlert('sms', '+15550002222', notice, config('accountSid=XX1\nauthToken=t\nfrom=+1555')), /\[twilio\] accountSid: .*AC/);
  });

  test('an API that is down is "connection refused"', async () => {
    const port = await freePort();
    const cfg = config(`accountSid=AC1\nauthToken=t\nfrom=+1555\napiBase=http://127.0.0.1:${port}`);
    await assert.rejects(sendAlert('sms', '+15550002222', notice, cfg), new RegExp(`Twilio http://127\\.0\\.0\\.1:${port}: connection refused`));
  });
});
