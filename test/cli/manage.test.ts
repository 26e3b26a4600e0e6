/**
 * `gobearmon check|contact|alert` as real processes against MySQL and SQLite: flags come from each
 * type's parameter definition, everything is validated before it is written, and deleting or
 * disabling cancels pending deliveries.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { checkTypes, validateCheck } from '../../src/checks/registry';
import { flagName, parseCheckFlags } from '../../src/cli/check-flags';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { runGobearmon, writeWorkerConfig } from '../helpers/run-cli';

test('parseCheckFlags: every string value of every string parameter round-trips into the JSON', () => {
  const specs = checkTypes.http.params;
  fc.assert(fc.property(fc.string(), fc.integer({ min: 100, max: 599 }), (text, status) => {
    const { params } = parseCheckFlags(['--url', 'https://x/', '--expect-substring', text, `--expect-status=${status}`, '--insecure', '--headers', 'A=b=c'], specs);
    assert.deepEqual(params, { url: 'https://x/', expect_substring: text, expect_status: status, insecure: true, headers: { A: 'b=c' } });
    assert.equal(validateCheck('http', JSON.stringify(params)), null);
  }));
  assert.throws(() => parseCheckFlags(['--expect-stauts', '200'], specs), /unknown option --expect-stauts; this type takes: --url/);
  assert.throws(() => parseCheckFlags(['--timeout', 'soon'], specs), /--timeout must be a number/);
  assert.equal(flagName('expect_status'), 'expect-status');
});

for (const engine of ENGINES) {
  describe(`check/contact/alert commands on ${engine.name}`, () => {
    let db: EngineDb;
    let dir: string;
    let config: string;
    let store: Store;
    const cli = (...args: string[]) => runGobearmon([...args, '--config', config]);

    before(async () => {
      db = await engine.create();
      dir = mkdtempSync(join(tmpdir(), 'gbm-manage-'));
      config = writeWorkerConfig(dir, db.dsn);
      const migrated = await runGobearmon(['migrate', '--config', config]);
      assert.equal(migrated.code, 0, migrated.stderr);
      store = await openStore([db.dsn]);
    });
    after(async () => {
      await store.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('check add http: flags become the JSON, expect_status 200 by default, tags and schedule stored', async () => {
      const r = await cli('check', 'add', 'http', '--name', 'web', '--url', 'https://example.com/a b?q="x"', '--interval', '30', '--delay', '2', '--tags', 'Prod,web', '--headers', 'X-A=1');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^check 1 added: web \(http /);
      const [row] = await store.driver.all('SELECT name, type, data, check_interval, delay, enabled, tags FROM checks WHERE id = 1');
      assert.deepEqual(JSON.parse(String(row.data)), { url: 'https://example.com/a b?q="x"', headers: { 'X-A': '1' }, expect_status: 200 });
      assert.deepEqual([Number(row.check_interval), Number(row.delay), Number(row.enabled), String(row.tags)], [30, 2, 1, 'prod,web']);
      const any = await cli('check', 'add', 'http', '--name', 'any', '--url', 'https://example.com', '--expect-status', '0', '--disabled');
      assert.equal(any.code, 0, any.stderr);
      assert.match(any.stderr, /warning: no "expect_status": any HTTP answer/);
    });

    test('bad input is refused before anything is written, naming the problem', async () => {
      const before = Number((await store.driver.all('SELECT COUNT(*) AS n FROM checks'))[0].n);
      const cases: [string[], RegExp][] = [
        [['check', 'add', 'http', '--name', 'x', '--url', 'ftp://x'], /scheme must be http or https/],
        [['check', 'add', 'http', '--name', 'x', '--url', 'https://x', '--expect-stauts', '200'], /unknown option --expect-stauts/],
        [['check', 'add', 'http', '--name', 'x', '--url', 'https://x', '--interval', '0'], /--interval must be at least 1, got 0/],
        [['check', 'add', 'http', '--name', 'x', '--url', 'https://x', '--interval', '0.5'], /--interval must be a whole number/],
        [['check', 'add', 'http', '--name', 'x', '--url', 'https://x', '--data', '{"bogus":1}'], /unknown parameter "bogus" refused/],
        [['check', 'add', 'tcp', '--name', 'x'], /missing parameter "address"/],
        [['check', 'add', 'smtp', '--name', 'x'], /unknown check type "smtp"/],
        [['check', 'add', 'dns', '--url', 'x'], /unknown option --url; this type takes: --name, --type/],
        [['contact', 'add', 'slack', 'not a url'], /invalid Slack webhook URL/],
        [['contact', 'add', 'pager', 'x'], /unknown contact type "pager"/],
      ];
      for (const [args, want] of cases) {
        const r = await cli(...args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, want, args.join(' '));
      }
      assert.equal(Number((await store.driver.all('SELECT COUNT(*) AS n FROM checks'))[0].n), before);
      assert.equal(Number((await store.driver.all('SELECT COUNT(*) AS n FROM contacts'))[0].n), 0);
    });

    test('check list filters by tag and status; --json; show; disable/enable', async () => {
      const list = await cli('check', 'list', '--tag', 'prod', '--json');
      assert.equal(list.code, 0, list.stderr);
      const rows = JSON.parse(list.stdout) as { id: number; name: string; tags: string[] }[];
      assert.deepEqual(rows.map((r) => [r.id, r.name, r.tags]), [[1, 'web', ['prod', 'web']]]);
      assert.deepEqual(JSON.parse((await cli('check', 'list', '--status', 'offline', '--json')).stdout), []);
      const table = await cli('check', 'list');
      assert.match(table.stdout, /^id +name +type +status/);
      assert.match(table.stdout, /\n1 +web +http +online/);
      const show = await cli('check', 'show', '1');
      assert.match(show.stdout, /check 1: web \(http\)\nstatus: +online\ninterval: 30 s, delay 2\ntags: +prod,web\nparams: +\{"url"/);
      assert.equal((await cli('check', 'disable', '1')).code, 0);
      assert.equal(Number((await store.driver.all('SELECT enabled FROM checks WHERE id = 1'))[0].enabled), 0);
      assert.equal((await cli('check', 'enable', '1')).code, 0);
      assert.equal(Number((await store.driver.all('SELECT enabled FROM checks WHERE id = 1'))[0].enabled), 1);
      const missing = await cli('check', 'show', '99');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no check with id 99/);
    });

    test('contact add, alert add with --type and --remind; deleting cancels pending deliveries', async () => {
      const c = await cli('contact', 'add', 'slack', 'https://hooks.slack.com/services/T/B/X');
      assert.equal(c.code, 0, c.stderr);
      const contactId = Number(/contact (\d+) added/.exec(c.stdout)![1]);
      const a = await cli('alert', 'add', '1', String(contactId), '--type', 'offline', '--remind', '3600');
      assert.equal(a.code, 0, a.stderr);
      const [alert] = await store.driver.all('SELECT id, type, remind, enabled FROM alerts WHERE contact_id = ?', [contactId]);
      assert.deepEqual([String(alert.type), Number(alert.remind), Number(alert.enabled)], ['offline', 3600, 1]);
      assert.match((await cli('alert', 'add', '1', '999')).stderr, /no contact with id 999/);
      assert.match((await cli('alert', 'add', '1', String(contactId), '--remind', '5')).stderr, /--remind must be at least 60/);

      // A pending delivery of this contact, as a flip would have queued it.
      const epoch = await store.takeOffice('test', Date.now());
      const check = (await store.loadChecks()).find((x) => x.id === 1)!;
      await store.recordFlip(epoch, { check, status: 'offline', message: 'down', now: Date.now() });
      assert.equal((await store.outboxForCheck(1)).filter((r) => r.state === 'pending').length, 1);
      const disabled = await cli('alert', 'disable', String(alert.id));
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.match(disabled.stdout, /1 pending alert\(s\) cancelled/);
      assert.deepEqual((await store.outboxForCheck(1)).map((r) => r.state), ['cancelled']);

      const deleted = await cli('contact', 'delete', String(contactId));
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(Number((await store.driver.all('SELECT COUNT(*) AS n FROM alerts WHERE contact_id = ?', [contactId]))[0].n), 0);
      const gone = await cli('check', 'delete', '2');
      assert.equal(gone.code, 0, gone.stderr);
      assert.equal((await store.driver.all('SELECT id FROM checks WHERE id = 2')).length, 0);
    });
  });
}
