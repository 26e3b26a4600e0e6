import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emailBody, spokenText, subjectLine, summaryLine } from '../../src/contacts/message';
import { contactTypes, sendAlert } from '../../src/contacts/registry';
import type { AlertNotice } from '../../src/contacts/types';
import { voiceTwiml } from '../../src/contacts/voice';
import { workerConfig } from '../helpers/config';

const offline: AlertNotice = {
  checkId: 42, checkName: 'web1', checkType: 'http', checkData: '{"url":"http://web1/"}',
  status: 'offline', message: 'connection refused', idempotencyKey: 'flip:42:7:contact:3',
};
const online: AlertNotice = { ...offline, status: 'online', message: '' };

test('texts are worded as the original', () => {
  assert.equal(subjectLine(offline), 'Check offline: web1');
  assert.equal(subjectLine(online), 'Check online: web1');
  assert.equal(summaryLine(offline), 'Check [web1] is now offline: connection refused');
  assert.equal(summaryLine(online), 'Check [web1] is now online.');
  assert.equal(
    emailBody(offline),
    'Check [web1] is now offline: connection refused\n\nID: 42\nName: web1\nType: http\nData: {"url":"http://web1/"}\n\ngobearmon',
  );
});

test('the call speaks name, status and reason, XML-escaped inline TwiML', () => {
  assert.match(spokenText(offline), /The check \. web1 \. has been recorded \. offline \. Reason is \. connection refused$/);
  assert.doesNotMatch(spokenText(online), /Reason/);
  const twiml = voiceTwiml({ ...offline, checkName: 'a<b&c' });
  assert.match(twiml, /^<\?xml[^>]*\?><Response><Say loop="2">This is a monitoring-related call/);
  assert.match(twiml, /a&lt;b&amp;c/);
});

test('registry knows every type and rejects an unknown one by name', async () => {
  assert.deepEqual([...contactTypes.keys()], ['email', 'sms', 'voice', 'http', 'webhook', 'slack', 'discord', 'teams', 'telegram', 'ntfy', 'pushover']);
  const config = workerConfig();
  await assert.rejects(sendAlert('pager', 'x', offline, config), {
    message: 'unknown contact type "pager"; known types: email, sms, voice, http, webhook, slack, discord, teams, telegram, ntfy, pushover',
  });
});
