/**
 * The controller in-process on a real MariaDB (through the MySQL-aware proxy where the store must
 * fail), driven over its signed routes as the viewserver and the workers drive it:
 * - issue 12 item 3: workers whose slots are all held by slow checks stay live, so a check only the
 *   free worker sees down does not flip;
 * - issue 11 item 6: a controller that hears only one of the three workers the viewserver sees is
 *   partitioned: it flips nothing and says it is unhealthy; hearing them again, it judges again;
 * - issue 11 item 5: a store that stops answering makes the probe answer unhealthy (with a
 *   timeout on the stalled reload, logged), and a candidate whose takeOffice fails says so;
 * - issue 12 item 12: a failing takeOffice is logged on change with a count, not at every probe,
 *   and takeOffice fails when it changed no lease row.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Controller } from '../../src/controller/controller';
import type { ControllerStatus, ProbeResponse, WorkResponse } from '../../src/protocol/messages';
import { openStore } from '../../src/store/open';
import type { CheckRow, Store } from '../../src/store/store';
import { addCheck, captureLogger, count, kitConfig, signedCaller, sleep, statusOf, waitFor } from '../helpers/controller-kit';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { SqlProxy } from '../helpers/sql-proxy';

interface Node {
  controller: Controller;
  store: Store;
  call: ReturnType<typeof signedCaller>;
  logs: ReturnType<typeof captureLogger>;
}

let db: TestDatabase;
let store: Store;
let proxy: SqlProxy | null = null;
const nodes: Node[] = [];

beforeEach(async () => {
  db = await createTestDatabase('gbm_health');
  store = await openStore([db.urlDsn]);
  await store.migrate();
});

afterEach(async () => {
  proxy?.releaseAll();
  proxy?.dropAll();
  for (const n of nodes.splice(0)) {
    await n.controller.close();
    await n.store.close();
  }
  await proxy?.close();
  proxy = null;
  await store.close();
  await db.drop();
});

async function node(controller: Record<string, string> = {}, dsn = db.urlDsn): Promise<Node> {
  const config = kitConfig({ controller: { confirmations: '2', reloadInterval: '0.2', workerTimeout: '1', storeTimeout: '1', ...controller }, worker: { name: 'ctl' } });
  const nodeStore = await openStore([dsn], { timeoutMs: config.controller.storeTimeoutMs, connectTimeoutMs: 500, rounds: 1 });
  const logs = captureLogger();
  const ctl = new Controller({ store: nodeStore, config, log: logs.log });
  const n = { controller: ctl, store: nodeStore, call: signedCaller(ctl.app), logs };
  nodes.push(n);
  return n;
}

async function probe(n: Node, view: number, live?: string[], active = true): Promise<ProbeResponse> {
  const res = await n.call<ProbeResponse>('POST', '/probe', { view, active, elected: true, ...(live ? { live } : {}) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function status(n: Node): Promise<ControllerStatus> {
  return (await n.call<ControllerStatus>('GET', '/status')).body;
}

async function elect(n: Node, view: number, live?: string[]): Promise<void> {
  await probe(n, view, live);
  await waitFor('office', async () => {
    const s = await status(n);
    return s.inOffice && s.checks.length > 0;
  }, 20_000);
}

function work(n: Node, worker: string, view: number, slots = 1, waitMs = 300) {
  return n.call<WorkResponse>('POST', '/work', { worker, view, slots, waitMs });
}

function report(n: Node, worker: string, view: number, a: { id: number; lock: number }, result: 'online' | 'offline') {
  return n.call<{ accepted: number }>('POST', '/results', { worker, view, results: [{ id: a.id, lock: a.lock, status: result, message: 'down', durationMs: 1 }] });
}

/** For `ms`, `worker` takes whatever it is handed and reports it offline; returns how many it reported. */
async function keepReporting(n: Node, worker: string, view: number, ms: number, only?: number): Promise<number> {
  let reported = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const res = await work(n, worker, view, 3);
    for (const a of res.body.checks ?? []) {
      if (only !== undefined && a.id !== only) continue;
      if ((await report(n, worker, view, a, 'offline')).body.accepted === 1) reported++;
    }
  }
  return reported;
}

const checks = async (n: number): Promise<CheckRow[]> => {
  const out: CheckRow[] = [];
  for (let i = 0; i < n; i++) out.push(await addCheck(store, { name: `c${i}`, interval: 1, delay: 1 }));
  return out;
};

describe('busy workers (issue 12 item 3)', () => {
  test('two workers whose every slot waits on a slow target stay live: a check only the free worker sees down does not flip', async () => {
    await checks(3);
    const n = await node({ confirmations: '2' });
    await elect(n, 1); // an older viewserver's probe (no live set): liveness is the controller's own
    // w1 and w2 each take one check (their only slot) and never answer: slow targets.
    const w1 = await work(n, 'w1', 1, 1, 0);
    const w2 = await work(n, 'w2', 1, 1, 0);
    assert.equal(w1.body.checks.length + w2.body.checks.length, 2);
    const busy = new Set([...w1.body.checks, ...w2.body.checks].map((c) => c.id));
    const down = (await store.loadChecks()).find((c) => !busy.has(c.id))!;
    await sleep(1_500); // past workerTimeout: on the old rule w1 and w2 are dead and the quorum falls to 1
    const reported = await keepReporting(n, 'w3', 1, 4_000, down.id);
    assert.ok(reported >= 1, 'w3 did run the check');
    assert.equal(await statusOf(store, down.id), 'online', 'no flip on one worker');
    assert.equal(await count(store, 'check_events'), 0);
    const s = await status(n);
    assert.equal(s.quorum, 2, 'the quorum stays 2');
    assert.deepEqual(s.workers.filter((w) => w.live).map((w) => w.name).sort(), ['w1', 'w2', 'w3']);
    assert.equal(n.logs.events('quorum_degraded').length, 0, 'slowness is not degradation');
    // A saturated worker polling with no free slot is live too, even once its locks have gone.
    assert.equal((await work(n, 'w4', 1, 0, 10_000)).body.checks.length, 0, 'a poll for no slot is answered at once');
    assert.ok((await status(n)).workers.find((w) => w.name === 'w4')?.live);
  });
});

describe('partitioned controller (issue 11 item 6)', () => {
  test('hearing one of the three workers the viewserver sees: no flip, unhealthy in the probe answer; hearing them again heals it', async () => {
    const [c] = await checks(1);
    const n = await node({ confirmations: '1' });
    const live = ['w1', 'w2', 'w3'];
    await elect(n, 1, live);
    await sleep(1_200); // past the settling time of a new office (workerTimeout)
    const reported = await keepReporting(n, 'w1', 1, 3_000);
    assert.ok(reported >= 3);
    assert.equal(await statusOf(store, c.id), 'online', 'with confirmations 1 the old rule flipped on w1 alone');
    assert.equal(await count(store, 'check_events'), 0);
    const answer = await probe(n, 1, live);
    assert.equal(answer.healthy, false);
    assert.match(answer.problems.join(';'), /partitioned: hears 1 of 3 live workers; the viewserver sees w2, w3/);
    assert.equal(answer.worker, 'ctl');
    assert.equal(n.logs.events('partitioned').length, 1);

    // The partition heals: w2 and w3 poll again, and the check flips on the rule.
    await Promise.all([work(n, 'w2', 1, 0, 0), work(n, 'w3', 1, 0, 0)]);
    await waitFor('healthy again', async () => (await probe(n, 1, live)).healthy, 10_000);
    assert.equal(n.logs.events('partition_healed').length, 1);
    await Promise.all(['w1', 'w2', 'w3'].map((w) => keepReporting(n, w, 1, 3_000)));
    await waitFor('the flip', async () => (await statusOf(store, c.id)) === 'offline', 10_000);
  });
});

describe('store health (issue 11 item 5, issue 12 item 12)', () => {
  test('a store that stops answering makes the probe answer unhealthy within seconds; the stalled reload times out with a log line', async () => {
    await checks(1);
    proxy = await SqlProxy.start();
    const n = await node({}, proxy.dsn(db.name));
    await elect(n, 1);
    // Healthy first (a loaded machine may miss one deadline: wait for it rather than assume it).
    const fine = await waitFor('a healthy answer', async () => {
      const p = await probe(n, 1);
      return p.healthy ? p : null;
    }, 15_000);
    assert.deepEqual([fine.inOffice, fine.epoch, fine.problems, fine.worker], [true, 1, [], 'ctl']);
    proxy.blackhole = true;
    proxy.holdAll();
    const answer = await waitFor('an unhealthy answer', async () => {
      const p = await probe(n, 1);
      return p.healthy ? null : p;
    }, 15_000);
    assert.match(answer.problems.join(';'), /store (read failing|write failing|has not answered)/); // the lease renewal may notice first
    await waitFor('a reload error naming the timeout', () => [...n.logs.events('reload_error'), ...n.logs.events('database_unreachable')].some((l) => /took longer than 1000 ms|ETIMEDOUT|unavailable/.test(String(l.err))), 15_000);
    // The store comes back: healthy again.
    proxy.blackhole = false;
    proxy.releaseAll();
    proxy.dropAll();
    await waitFor('healthy again', async () => (await probe(n, 1)).healthy, 20_000);
  });

  test('takeOffice that changes no lease row fails; the failure is logged once with a count, not at every probe, and the node says it is unhealthy', async () => {
    await checks(1);
    await store.driver.run('DELETE FROM controller_lease');
    await assert.rejects(store.takeOffice('someone', Date.now()), /changed 0 rows, not 1/);
    const n = await node();
    let answer: ProbeResponse | null = null;
    for (let i = 0; i < 12; i++) {
      answer = await probe(n, 1);
      await sleep(150);
    }
    assert.equal((await status(n)).inOffice, false);
    const failed = n.logs.events('election_failed');
    assert.equal(failed.length, 1, `logged once, not at each of 12 probes: ${JSON.stringify(failed)}`);
    assert.match(String(failed[0].err), /lease row is missing|changed 0 rows/);
    assert.equal(answer!.healthy, false);
    assert.match(answer!.problems.join(';'), /store (write|read) failing/);
    // Put back, office is taken and the end of the failures is logged with their count.
    await store.driver.run('INSERT INTO controller_lease (id, epoch, holder, taken_at) VALUES (1, 0, \'\', 0)');
    await waitFor('office', async () => (await probe(n, 2)).inOffice, 10_000);
    const restored = n.logs.events('election_failed_restored');
    assert.equal(restored.length, 1);
    assert.ok(Number(restored[0].occurrences) >= 10, `occurrences ${restored[0].occurrences}`);
  });
});
