/** `gobearmon sql` as a real process, against embedded SQLite and MySQL alike. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { runGobearmon, writeWorkerConfig } from '../helpers/run-cli';
import { sqlStatements } from '../helpers/sqlscript';

/** The original README's http check, with its `\/` escapes. */
const README_HTTP_INSERT = sqlStatements('test/fixtures/original-readme-inserts.sql')[1];
const SYNTAX_ERROR = { mysql: /You have an error in your SQL syntax/, sqlite: /near "SELEC": syntax error/ };

for (const engine of ENGINES) {
  describe(`gobearmon sql on ${engine.name}`, () => {
    let db: EngineDb;
    let dir: string;
    let config: string;
    const sql = (...args: string[]) => runGobearmon(['sql', '--config', config, ...args]);

    before(async () => {
      db = await engine.create();
      dir = mkdtempSync(join(tmpdir(), 'gbm-sql-'));
      config = writeWorkerConfig(dir, db.dsn);
      const migrated = await runGobearmon(['migrate', '--config', config]);
      assert.equal(migrated.code, 0, migrated.stderr);
    });
    after(async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the README insert reports the change and the new id', async () => {
      assert.match(README_HTTP_INSERT, /'\{"url":"https:\\\/\\\/example\.com"/);
      const r = await sql(README_HTTP_INSERT);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1 row(s) affected\nlast insert id 1\n');
    });

    test('a query prints an aligned table, NULL for null', async () => {
      const r = await sql('SELECT id, name, type, check_interval AS ivl, delay, status, NULL AS note FROM checks');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        [
          'id  name           type  ivl  delay  status  note',
          '--  -------------  ----  ---  -----  ------  ----',
          '1   my http check  http  120  5      online  NULL',
          '',
        ].join('\n'),
      );
    });

    test('--json prints an array of row objects', async () => {
      const r = await sql('--json', 'SELECT * FROM checks');
      assert.equal(r.code, 0, r.stderr);
      const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
      assert.equal(rows.length, 1);
      const { data, ...rest } = rows[0];
      assert.deepEqual(rest, { id: 1, name: 'my http check', type: 'http', check_interval: 120, delay: 5, status: 'online', enabled: 1, tags: '' });
      // MySQL turns `\/` into `/`; SQLite keeps it, which JSON reads the same.
      assert.deepEqual(JSON.parse(String(data)), { url: 'https://example.com', method: 'GET', expect_status: 200, timeout: 15 });
    });

    test('an empty result still prints the header', async () => {
      const r = await sql('SELECT id, name FROM checks WHERE id = 99');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'id  name\n--  ----\n');
    });

    test('an update prints the affected count only', async () => {
      const r = await sql('UPDATE checks SET enabled = 0 WHERE id = 1');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1 row(s) affected\n');
    });

    test("a bad statement exits 1 with the database's message", async () => {
      const r = await sql('SELEC * FROM checks');
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, SYNTAX_ERROR[engine.name]);
    });

    test('bad usage exits 2 with the usage text', async () => {
      for (const args of [[], ['SELECT 1', 'SELECT 2'], ['--bogus', 'SELECT 1']]) {
        const r = await sql(...args);
        assert.equal(r.code, 2, `${JSON.stringify(args)}: ${r.stderr}`);
        assert.match(r.stderr, /usage: gobearmon sql --config FILE/);
      }
      const r = await runGobearmon(['sql', 'SELECT 1']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--config FILE is required/);
    });
  });
}
