/**
 * The rabbitmq check against the real broker and its management API: real amqplib consumers with
 * chosen tags in a throwaway vhost (its name holds a '/', so URL-encoding is exercised) and in '/'.
 * The management API refreshes consumer and depth figures every few seconds: conditions are awaited.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { runCheck, validateCheck } from '../../src/checks/registry';
import type { CheckResult } from '../../src/checks/types';
import { freePort } from '../helpers/ports';
import { amqpUrl, createVhost, deleteQueue, deleteVhost, MANAGEMENT_URL, uniqueName } from '../helpers/rabbitmq';
import { runGobearmon } from '../helpers/run-cli';
import { waitFor } from '../helpers/wait';

const ctx = { dnsServer: '' };
let vhost = '';
let conn: amqp.ChannelModel;
let rootConn: amqp.ChannelModel;
const rootQueues: string[] = [];

before(async () => {
  vhost = await createVhost('gbm-rmq/check');
  conn = await amqp.connect(amqpUrl(vhost));
  rootConn = await amqp.connect(amqpUrl('/'));
});
after(async () => {
  await conn.close().catch(() => undefined);
  await rootConn.close().catch(() => undefined);
  for (const q of rootQueues) await deleteQueue('/', q);
  await deleteVhost(vhost);
});

const check = (params: Record<string, unknown>) => runCheck('rabbitmq', JSON.stringify({ url: MANAGEMENT_URL, username: 'guest', password: 'guest', vhost, ...params }), ctx);

/** Runs the check until `ok` holds for its result (the API's figures lag by up to ~5 s). */
async function until(params: Record<string, unknown>, what: string, ok: (r: CheckResult) => boolean): Promise<CheckResult> {
  let last: CheckResult | undefined;
  try {
    return await waitFor(what, async () => {
      last = await check(params);
      return ok(last) ? last : null;
    }, 30_000, 300);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last result: ${JSON.stringify(last)}`);
  }
}

async function queueWithConsumers(tags: string[], c = conn): Promise<{ queue: string; channel: amqp.Channel }> {
  const channel = await c.createChannel();
  const queue = uniqueName('ingest');
  await channel.assertQueue(queue, { durable: false, autoDelete: false });
  for (const tag of tags) await channel.consume(queue, () => undefined, { consumerTag: tag });
  return { queue, channel };
}

describe('rabbitmq check on the real broker', { concurrency: 6 }, () => {
  test('every pattern matched by a live consumer: online, with the tags and counts as facts', async () => {
    const { queue } = await queueWithConsumers(['sda-ingest-7f3a', 'mq-interceptor']);
    const r = await until({ queue, consumers: ['sda-ingest', 'mq-.*', '^mq-interceptor$'] }, 'online', (x) => x.status === 'online');
    assert.match(r.message, new RegExp(`^queue ${queue}: 2 consumer\\(s\\), 0 message\\(s\\) ready$`));
    assert.deepEqual((r.facts!.consumers as string[]).sort(), ['mq-interceptor', 'sda-ingest-7f3a']);
    assert.equal(r.facts!.consumersUp, 2);
  });

  test('a pattern no consumer matches: offline, naming the missing one', async () => {
    const { queue } = await queueWithConsumers(['sda-ingest-1']);
    const r = await until({ queue, consumers: ['sda-ingest', 'sda-verify'] }, 'the consumer to show', (x) => (x.facts?.consumers as string[] | undefined)?.length === 1);
    assert.equal(r.status, 'offline');
    assert.equal(r.message, `queue ${queue}: no live consumer matches "sda-verify"`);
    assert.deepEqual(r.facts!.missing, ['sda-verify']);
  });

  test('a consumer cancelled mid-test: online, then offline', async () => {
    const { queue, channel } = await queueWithConsumers(['worker-a', 'worker-b']);
    const params = { queue, consumers: ['worker-a', 'worker-b'] };
    await until(params, 'online', (x) => x.status === 'online');
    await channel.cancel('worker-b');
    const r = await until(params, 'offline after the cancel', (x) => x.status === 'offline');
    assert.match(r.message, /no live consumer matches "worker-b"/);
  });

  test('a queue that backs up past max_ready: offline with the depth', async () => {
    const channel = await conn.createConfirmChannel();
    const queue = uniqueName('backlog');
    await channel.assertQueue(queue, { durable: false });
    for (let i = 0; i < 25; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`));
    await channel.waitForConfirms();
    assert.equal((await check({ queue, max_ready: 100 })).status, 'online');
    const r = await until({ queue, max_ready: 20 }, 'the depth to show', (x) => x.facts?.messagesReady === 25);
    assert.equal(r.status, 'offline');
    assert.equal(r.message, `queue ${queue}: 25 messages ready, above max_ready 20`);
  });

  test('a missing queue, a wrong password, the management port down: offline saying why', async () => {
    const missing = await check({ queue: uniqueName('nope') });
    assert.equal(missing.status, 'offline');
    assert.match(missing.message, /^queue "nope-[0-9a-f]+" does not exist in vhost "gbm-rmq\/check-[0-9a-f]+"$/);
    const { queue } = await queueWithConsumers([]);
    const denied = await check({ queue, password: 'wrong' });
    assert.equal(denied.status, 'offline');
    assert.match(denied.message, /refused the credentials of user "guest" \(401\)/);
    const port = await freePort();
    const down = await check({ queue, url: `http://127.0.0.1:${port}` });
    assert.equal(down.status, 'offline');
    assert.match(down.message, /^error asking the management API: .*ECONNREFUSED/);
  });

  test('the default vhost "/" works', async () => {
    const { queue } = await queueWithConsumers(['root-consumer'], rootConn);
    rootQueues.push(queue);
    const r = await until({ queue, vhost: '/', consumers: ['root-'] }, 'online in /', (x) => x.status === 'online');
    assert.deepEqual(r.facts!.consumers, ['root-consumer']);
  });

  test('bad parameters are clear errors: a bad regex, a bad max_ready, no queue, a bad url', () => {
    assert.match(validateCheck('rabbitmq', JSON.stringify({ url: MANAGEMENT_URL, queue: 'q', consumers: ['sda-(ingest'] }))!, /^parameter "consumers" holds an invalid regular expression: .*Unterminated group/);
    assert.match(validateCheck('rabbitmq', JSON.stringify({ url: MANAGEMENT_URL, queue: 'q', consumers: 'x' }))!, /"consumers" must be an array/);
    assert.match(validateCheck('rabbitmq', JSON.stringify({ url: MANAGEMENT_URL, queue: 'q', max_ready: -1 }))!, /"max_ready" must be a whole number from 0/);
    assert.match(validateCheck('rabbitmq', JSON.stringify({ url: MANAGEMENT_URL }))!, /missing parameter "queue"/);
    assert.match(validateCheck('rabbitmq', JSON.stringify({ url: 'amqp://x', queue: 'q' }))!, /"url" must be an http:\/\/ or https:\/\/ URL/);
  });

  test('gobearmon probe rabbitmq', async () => {
    const { queue } = await queueWithConsumers(['probe-me']);
    const params = { url: MANAGEMENT_URL, vhost, queue, consumers: ['probe-me'] };
    await until(params, 'online', (x) => x.status === 'online');
    const r = await runGobearmon(['probe', 'rabbitmq', JSON.stringify(params)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { status: string }).status, 'online');
    const bad = await runGobearmon(['probe', 'rabbitmq', JSON.stringify({ ...params, consumers: ['('] })]);
    assert.equal(bad.code, 2);
  });
});
