/**
 * Admin trouble mails are never dropped silently (issue 12.12): a failed send is logged with its
 * cause and retried; a relay that comes back gets the mail; one that never does ends in an error
 * line that still holds the text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mailAdmin } from '../../src/contacts/admin';
import { AdminMailer } from '../../src/contacts/admin-mailer';
import { captureLogger, waitFor } from '../helpers/controller-kit';
import { workerConfig } from '../helpers/config';
import { freePort } from '../helpers/ports';
import { startSmtp } from '../helpers/smtp';

test('a relay that is down at first: the failure is logged, the retry delivers the mail', async () => {
  const port = await freePort();
  const config = workerConfig(`[smtp]\nhost=127.0.0.1\nport=${port}\nadmin=root@example.org\nfrom=mon@example.org`);
  const logs = captureLogger();
  const mailer = new AdminMailer((s, b) => mailAdmin(config, s, b), logs.log, [300, 300, 300]);
  await mailer.send('gobearmon: degraded quorum', 'only 1 worker');
  const failed = logs.events('admin_mail_failed');
  assert.equal(failed.length, 1);
  assert.match(String(failed[0].err), /connection refused/);
  const smtp = await startSmtp({ port });
  try {
    await waitFor('the retried mail', () => smtp.received.length === 1, 10_000);
    assert.equal(smtp.received[0].subject, 'gobearmon: degraded quorum');
    assert.deepEqual(smtp.received[0].to, ['root@example.org']);
    await waitFor('admin_mail_sent', () => logs.events('admin_mail_sent').length === 1, 5_000);
  } finally {
    mailer.stop();
    await smtp.close();
  }
});

test('a relay that never answers: every try is logged and the last one keeps the text', async () => {
  const config = workerConfig(`[smtp]\nhost=127.0.0.1\nport=${await freePort()}\nadmin=root@example.org`);
  const logs = captureLogger();
  const mailer = new AdminMailer((s, b) => mailAdmin(config, s, b), logs.log, [50, 50]);
  await mailer.send('gobearmon: the database was unreachable', 'down for 30 s');
  await waitFor('admin_mail_dropped', () => logs.events('admin_mail_dropped').length === 1, 10_000);
  assert.equal(logs.events('admin_mail_failed').length, 2);
  const dropped = logs.events('admin_mail_dropped')[0];
  assert.equal(dropped.tries, 3);
  assert.equal(dropped.body, 'down for 30 s');
  assert.equal(dropped.level, 50, 'logged as an error');
});
