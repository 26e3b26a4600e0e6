import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postWebhook } from '../../src/contacts/http';
import { sendAlert } from '../../src/contacts/registry';
import type { AlertNotice } from '../../src/contacts/types';
import { startWebhook, type TestWebhook } from '../helpers/webhook';
import { workerConfig } from '../helpers/config';
import { freePort } from '../helpers/ports';

const notice: AlertNotice = {
  checkId: 12, checkName: 'mail & more', checkType: 'tcp', checkData: '{"host":"mx","port":25}',
  status: 'offline', message: 'connect: connection refused', idempotencyKey: 'flip:12:5:contact:4',
};
const config = workerConfig();

describe('http webhook', () => {
  let hook: TestWebhook;
  before(async () => { hook = await startWebhook(); });
  after(() => hook.close());

  test('form POST with every field and the idempotency key', async () => {
    hook.status = 200;
    const result = await sendAlert('http', hook.url, notice, config);
    assert.deepEqual(result, { providerId: 'HTTP 200' });
    const req = hook.requests.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/hook');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(req.headers['idempotency-key'], 'flip:12:5:contact:4');
    assert.deepEqual(Object.fromEntries(req.form), {
      check_id: '12', name: 'mail & more', type: 'tcp', data: '{"host":"mx","port":25}',
      status: 'offline', message: 'connect: connection refused', idempotency_key: 'flip:12:5:contact:4',
    });
  });

  test('any 2xx is success', async () => {
    hook.status = 204;
    assert.equal((await sendAlert('http', hook.url, notice, config)).providerId, 'HTTP 204');
  });

  test('a 500 answer is a failure naming the code', async () => {
    hook.status = 500;
    await assert.rejects(sendAlert('http', hook.url, notice, config), /webhook http:\/\/127\.0\.0\.1:\d+: answered HTTP 500$/);
  });

  test('a redirect is not followed', async () => {
    hook.status = 302;
    hook.headers = { location: 'http://elsewhere/' };
    await assert.rejects(sendAlert('http', hook.url, notice, config), /answered HTTP 302 \(redirect to http:\/\/elsewhere\/ not followed\)/);
    hook.headers = {};
  });

  test('an answer slower than the timeout is "timeout"', async () => {
    hook.status = 200;
    hook.delayMs = 2_000;
    const started = Date.now();
    await assert.rejects(postWebhook(hook.url, notice, 200), /: timeout after 0\.2 s$/);
    assert.ok(Date.now() - started < 1_500);
    hook.delayMs = 0;
  });
});

describe('http webhook failures before any answer', () => {
  test('a receiver that is down is "connection refused"', async () => {
    const port = await freePort();
    await assert.rejects(sendAlert('http', `http://127.0.0.1:${port}/`, notice, config), /: connection refused/);
  });

  test('a bad URL is named', async () => {
    await assert.rejects(sendAlert('http', 'not a url', notice, config), /invalid webhook URL "not a url"/);
    await assert.rejects(sendAlert('http', 'ftp://x/', notice, config), /only http and https/);
  });
});
