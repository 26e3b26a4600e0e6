import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { localTime, prettyLine } from '../../src/util/log-pretty';
import { createLogger } from '../../src/util/log';

test('pretty: local time, level, node and component, message, then the ids', () => {
  const t = new Date(2026, 0, 2, 4, 5, 6, 789).getTime();
  const line = prettyLine(JSON.stringify({ level: 40, time: t, node: 'w1:8888', component: 'worker', event: 'viewserver_unreachable', peer: 'viewserver', err: 'connect ECONNREFUSED 127.0.0.1:1', msg: 'cannot reach the viewserver' }));
  assert.equal(line, '2026-01-02 04:05:06.789 WARN  [w1:8888 worker] cannot reach the viewserver  event=viewserver_unreachable peer=viewserver err="connect ECONNREFUSED 127.0.0.1:1"');
  assert.equal(localTime(t), '2026-01-02 04:05:06.789');
  assert.equal(prettyLine('not json\n'), 'not json');
});

test('createLogger writes pretty lines, one per event, honouring GOBEARMON_LOG_LEVEL', async () => {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  const saved = process.env.GOBEARMON_LOG_LEVEL;
  process.env.GOBEARMON_LOG_LEVEL = 'warn';
  try {
    const log = createLogger(false, 'vs', 'pretty', out);
    log.info({ event: 'quiet' }, 'not shown');
    log.child({ component: 'viewserver' }).error({ event: 'controller_down', controller: 'w1:8888' }, 'controller w1:8888 is down');
  } finally {
    if (saved === undefined) delete process.env.GOBEARMON_LOG_LEVEL;
    else process.env.GOBEARMON_LOG_LEVEL = saved;
  }
  await new Promise((r) => setImmediate(r));
  const lines = chunks.join('').split('\n').filter(Boolean);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ERROR \[vs viewserver\] controller w1:8888 is down {2}event=controller_down controller=w1:8888$/);
});
