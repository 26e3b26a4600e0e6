import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sendAlert, validateContact } from '../../src/contacts/registry';
import { isPermanentContactError, type AlertNotice } from '../../src/contacts/types';
import { startChatProviders, type ChatProviders } from '../helpers/chat-providers';
import { workerConfig } from '../helpers/config';
import { freePort } from '../helpers/ports';

const notice: AlertNotice = {
  checkId: 7, checkName: 'web ünïcode', checkType: 'http', checkData: '{"url":"https://x"}',
  status: 'offline', message: 'HTTP 503', idempotencyKey: 'flip:7:3:contact:2', time: Date.UTC(2026, 0, 2, 3, 4, 5), tags: ['prod'],
};
const TOKEN = '123456:ABC-def_ghi';

async function rejects(p: Promise<unknown>, permanent: boolean, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.equal(isPermanentContactError(err), permanent, `${err.message} should be ${permanent ? 'permanent' : 'temporary'}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('chat and notification contacts against local provider APIs', () => {
  let p: ChatProviders;
  let config: ReturnType<typeof workerConfig>;
  before(async () => {
    p = await startChatProviders();
    p.telegramTokens.add(TOKEN);
    p.telegramChats.add('-100200');
    p.ntfyProtected.set('secret', 'tk_abc');
    config = workerConfig(`[telegram]\ntoken=${TOKEN}\napiUrl=${p.base}\n[pushover]\ntoken=${'a'.repeat(30)}\napiUrl=${p.base}\n`);
  });
  after(() => p.close());
  const last = () => p.requests.at(-1)!;

  test('webhook: JSON body with the documented fields, custom headers and the idempotency key', async () => {
    const data = JSON.stringify({ url: `${p.base}/hooks/any`, headers: { Authorization: 'Bearer s3cret', 'X-Team': 'ops' } });
    assert.equal(validateContact('webhook', data, config), null);
    const r = await sendAlert('webhook', data, { ...notice, event: 'reminder' }, config);
    assert.equal(r.providerId, 'HTTP 200');
    const req = last();
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.authorization, 'Bearer s3cret');
    assert.equal(req.headers['x-team'], 'ops');
    assert.equal(req.headers['idempotency-key'], notice.idempotencyKey);
    assert.deepEqual(req.json, {
      check: { id: 7, name: 'web ünïcode', type: 'http', tags: ['prod'] }, status: 'offline', previous: 'online',
      message: 'HTTP 503', time: '2026-01-02T03:04:05.000Z', idempotency_key: notice.idempotencyKey, event: 'reminder',
    });
  });

  test('webhook: plain URL data works; 4xx is permanent, 429 and 5xx temporary, refused connection temporary', async () => {
    await sendAlert('webhook', `${p.base}/plain`, notice, config);
    assert.equal((last().json as { event: string }).event, 'alert');
    p.forceStatus = 404;
    await rejects(sendAlert('webhook', `${p.base}/x`, notice, config), true, /HTTP 404/);
    p.forceStatus = 429;
    await rejects(sendAlert('webhook', `${p.base}/x`, notice, config), false, /HTTP 429/);
    p.forceStatus = 503;
    await rejects(sendAlert('webhook', `${p.base}/x`, notice, config), false, /HTTP 503/);
    p.forceStatus = null;
    await rejects(sendAlert('webhook', `http://127.0.0.1:${await freePort()}/x`, notice, config), false, /connection refused/);
    await rejects(sendAlert('webhook', 'ftp://x/y', notice, config), true, /only http and https/);
  });

  test('slack: posts {text}; a deleted webhook (404 no_service) is permanent', async () => {
    await sendAlert('slack', `${p.base}/services/T1/B1/xyz`, notice, config);
    assert.match((last().json as { text: string }).text, /Check \[web ünïcode\] is now offline: HTTP 503/);
    await rejects(sendAlert('slack', `${p.base}/services/gone/B/x`, notice, config), true, /HTTP 404: no_service/);
  });

  test('discord: posts {content} with no mentions; Unknown Webhook is permanent; long messages are cut to 2000', async () => {
    const r = await sendAlert('discord', `${p.base}/api/webhooks/42/tok`, { ...notice, message: 'x'.repeat(5000) }, config);
    assert.equal(r.providerId, 'HTTP 204');
    const body = last().json as { content: string; allowed_mentions: unknown };
    assert.ok(body.content.length <= 2000 && body.content.endsWith('…'));
    assert.deepEqual(body.allowed_mentions, { parse: [] });
    await rejects(sendAlert('discord', `${p.base}/api/webhooks/404/tok`, notice, config), true, /Unknown Webhook/);
    assert.match(validateContact('discord', `${p.base}/hooks/1`, config) ?? '', /api\/webhooks\/ID\/TOKEN/);
  });

  test('teams: posts an Adaptive Card message', async () => {
    const r = await sendAlert('teams', `${p.base}/workflows/abc/triggers/manual`, { ...notice, status: 'online' }, config);
    assert.equal(r.providerId, 'HTTP 202');
    const card = (last().json as { attachments: { content: { body: { text: string; color?: string }[] } }[] }).attachments[0].content;
    assert.equal(card.body[0].text, 'Check online: web ünïcode');
    assert.equal(card.body[0].color, 'Good');
  });

  test('telegram: token from the config or the data; unknown chat and bad token are permanent', async () => {
    const r = await sendAlert('telegram', '-100200', notice, config);
    assert.match(r.providerId, /^message \d+$/);
    assert.equal(last().path, `/bot${TOKEN}/sendMessage`);
    assert.deepEqual((last().json as { chat_id: string }).chat_id, '-100200');
    const other = '999:OTHER';
    p.telegramTokens.add(other);
    await sendAlert('telegram', JSON.stringify({ chat_id: -100200, token: other }), notice, config);
    assert.equal(last().path, `/bot${other}/sendMessage`);
    await rejects(sendAlert('telegram', '-555', notice, config), true, /chat not found/);
    await rejects(sendAlert('telegram', JSON.stringify({ chat_id: '-100200', token: '1:revoked' }), notice, config), true, /Unauthorized/);
    // The token is never part of an error message.
    await assert.rejects(sendAlert('telegram', JSON.stringify({ chat_id: '-100200', token: '1:revoked' }), notice, config), (e: Error) => !e.message.includes('revoked'));
    p.forceStatus = 502;
    await rejects(sendAlert('telegram', '-100200', notice, config), false, /HTTP 502/);
    p.forceStatus = null;
  });

  test('ntfy: text body, title and priority headers; a protected topic needs the token', async () => {
    const r = await sendAlert('ntfy', `${p.base}/alerts`, notice, config);
    assert.match(r.providerId, /^ntfy msg\d+$/);
    assert.equal(last().headers.priority, '4');
    assert.equal(last().headers.title, 'Check offline: web ?n?code');
    assert.match(last().body, /is now offline: HTTP 503/);
    await sendAlert('ntfy', `${p.base}/alerts`, { ...notice, status: 'online' }, config);
    assert.equal(last().headers.priority, '3');
    await rejects(sendAlert('ntfy', `${p.base}/secret`, notice, config), true, /HTTP 403: forbidden/);
    await sendAlert('ntfy', JSON.stringify({ url: `${p.base}/secret`, token: 'tk_abc' }), notice, config);
    assert.equal(last().headers.authorization, 'Bearer tk_abc');
  });

  test('pushover: form POST with the app token from the config; an invalid user is permanent', async () => {
    const r = await sendAlert('pushover', 'u'.repeat(30), notice, config);
    assert.match(r.providerId, /^request req-\d+$/);
    const form = new URLSearchParams(last().body);
    assert.equal(form.get('priority'), '1');
    await rejects(sendAlert('pushover', 'v'.repeat(30), notice, config), true, /user identifier/);
  });

  test('validate: each bad contact says why, good ones pass', () => {
    const bare = workerConfig();
    const cases: [string, string, RegExp | null][] = [
      ['webhook', 'not a url', /invalid webhook URL/],
      ['webhook', '{"url":"http://x","hedaers":{}}', /unknown key\(s\) hedaers/],
      ['webhook', '{"url":"http://x","headers":{"bad name":"v"}}', /not a valid HTTP header name/],
      ['slack', 'https://hooks.slack.com/services/T/B/x', null],
      ['slack', 'hooks.slack.com/x', /invalid Slack webhook URL/],
      ['teams', 'javascript:alert(1)', /only http and https/],
      ['telegram', '-100200', /no bot token/],
      ['telegram', '{"chat_id":"-1","token":"nope"}', /does not look like/],
      ['telegram', 'my chat', /must be a number or @channelname/],
      ['telegram', '{"chat_id":"@mychannel","token":"1:a"}', null],
      ['ntfy', 'https://ntfy.sh/', /has no topic/],
      ['ntfy', 'https://ntfy.sh/mytopic', null],
      ['pushover', 'u'.repeat(30), /no application token/],
      ['pager', 'x', /unknown contact type "pager"/],
    ];
    for (const [type, data, want] of cases) {
      const got = validateContact(type, data, bare);
      if (want === null) assert.equal(got, null, `${type} ${data}`);
      else assert.match(got ?? '(valid)', want, `${type} ${data}`);
    }
  });
});
