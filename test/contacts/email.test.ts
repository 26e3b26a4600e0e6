import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/types';
import { mailAdmin } from '../../src/contacts/admin';
import { sendAlert } from '../../src/contacts/registry';
import type { AlertNotice } from '../../src/contacts/types';
import { startSmtp, type TestSmtp } from '../helpers/smtp';
import { workerConfig } from '../helpers/config';
import { freePort } from '../helpers/ports';

const notice: AlertNotice = {
  checkId: 7, checkName: 'db1', checkType: 'tcp', checkData: '{"host":"db1","port":3306}',
  status: 'offline', message: 'timeout', idempotencyKey: 'flip:7:3:contact:1',
};

function config(smtp: string): Config {
  return workerConfig(`[smtp]\nfrom=monitor@example.org\n${smtp}`);
}

describe('email without auth', () => {
  let smtp: TestSmtp;
  before(async () => { smtp = await startSmtp(); });
  after(() => smtp.close());

  test('sends subject, body, idempotency headers; no AUTH', async () => {
    const result = await sendAlert('email', 'ops@example.org', notice, config(`host=127.0.0.1\nport=${smtp.port}`));
    const mail = smtp.received.at(-1)!;
    assert.equal(mail.from, 'monitor@example.org');
    assert.deepEqual(mail.to, ['ops@example.org']);
    assert.equal(mail.user, undefined);
    assert.equal(mail.subject, 'Check offline: db1');
    assert.equal(mail.text.trimEnd(), 'Check [db1] is now offline: timeout\n\nID: 7\nName: db1\nType: tcp\nData: {"host":"db1","port":3306}\n\ngobearmon');
    assert.equal(mail.headers.get('x-gobearmon-idempotency-key'), 'flip:7:3:contact:1');
    assert.match(mail.headers.get('message-id') ?? '', /^<gobearmon\.[0-9a-f]{32}@example\.org>$/);
    assert.equal(result.providerId, mail.headers.get('message-id'));
    assert.equal(result.charge, undefined);
  });

  test('a resend carries the same Message-ID, another flip a different one', async () => {
    const cfg = config(`host=127.0.0.1\nport=${smtp.port}`);
    const a = await sendAlert('email', 'ops@example.org', notice, cfg);
    const b = await sendAlert('email', 'ops@example.org', notice, cfg);
    const c = await sendAlert('email', 'ops@example.org', { ...notice, idempotencyKey: 'flip:7:4:contact:1' }, cfg);
    assert.equal(a.providerId, b.providerId);
    assert.notEqual(a.providerId, c.providerId);
  });

  test('online body has no reason', async () => {
    await sendAlert('email', 'ops@example.org', { ...notice, status: 'online', message: '' }, config(`host=127.0.0.1\nport=${smtp.port}`));
    const mail = smtp.received.at(-1)!;
    assert.equal(mail.subject, 'Check online: db1');
    assert.match(mail.text, /^Check \[db1\] is now online\.\n\nID: 7\n/);
  });

  test('mailAdmin sends to [smtp] admin; without admin or host it sends nothing', async () => {
    const before = smtp.received.length;
    await mailAdmin(config(`host=127.0.0.1\nport=${smtp.port}\nadmin=boss@example.org`), 'quorum degraded', 'only 1 worker alive');
    assert.equal(smtp.received.length, before + 1);
    const mail = smtp.received.at(-1)!;
    assert.deepEqual(mail.to, ['boss@example.org']);
    assert.equal(mail.subject, 'quorum degraded');
    assert.equal(mail.text.trimEnd(), 'only 1 worker alive');
    await mailAdmin(config(`host=127.0.0.1\nport=${smtp.port}`), 's', 'b');
    await mailAdmin(config('admin=boss@example.org'), 's', 'b');
    assert.equal(smtp.received.length, before + 1);
  });
});

describe('email with auth', () => {
  let smtp: TestSmtp;
  before(async () => { smtp = await startSmtp({ auth: { user: 'mon', pass: 's3cret' } }); });
  after(() => smtp.close());

  test('authenticates with [smtp] username/password', async () => {
    await sendAlert('email', 'ops@example.org', notice, config(`host=127.0.0.1\nport=${smtp.port}\nusername=mon\npassword=s3cret`));
    assert.equal(smtp.received.at(-1)!.user, 'mon');
  });

  test('a wrong password is "authentication refused"', async () => {
    await assert.rejects(
      sendAlert('email', 'ops@example.org', notice, config(`host=127.0.0.1\nport=${smtp.port}\nusername=mon\npassword=wrong`)),
      /authentication refused/,
    );
  });
});

describe('email failures', () => {
  test('STARTTLS is used when offered, with the certificate checked', async () => {
    const smtp = await startSmtp({ starttls: true });
    try {
      await assert.rejects(
        sendAlert('email', 'ops@example.org', notice, config(`host=127.0.0.1\nport=${smtp.port}`)),
        /TLS failed: .*certificate/,
      );
      assert.equal(smtp.received.length, 0);
    } finally {
      await smtp.close();
    }
  });

  test('server down is "connection refused"', async () => {
    const port = await freePort();
    await assert.rejects(
      sendAlert('email', 'ops@example.org', notice, config(`host=127.0.0.1\nport=${port}`)),
      new RegExp(`SMTP 127\\.0\\.0\\.1:${port}: connection refused`),
    );
  });

  test('no [smtp] host is a clear error', async () => {
    await assert.rejects(sendAlert('email', 'ops@example.org', notice, config('')), /\[smtp\] host is not set/);
  });
});
