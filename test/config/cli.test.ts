import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Compiled to dist/test/config/; the entry point is dist/cmd/gobearmon.js.
const BIN = join(__dirname, '../../cmd/gobearmon.js');

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gobearmon-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function gobearmon(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const WORKER = '[default]\npassword = s\n[controller]\naddr = :8888\ndatabase = u@tcp(db:3306)/m\n[worker]\nviewAddr = vs:8888\n';

describe('gobearmon CONFIG with a bad config: exit 2, one line on stderr', () => {
  const cases: [name: string, text: string, where: string, value: string][] = [
    ['not a number', `${WORKER}numThreads = lots\n`, '[worker] numthreads', 'lots'],
    ['unknown key', `${WORKER}[smtp]\nhots = mail.example.com\n`, '[smtp] hots', 'mail.example.com'],
    ['both roles', `${WORKER}[viewserver]\naddr = :9999\n`, '[viewserver] addr', ':9999'],
    ['bad DSN', WORKER.replace('u@tcp(db:3306)/m', 'mysql1:3306'), '[controller] database', 'mysql1:3306'],
  ];
  cases.forEach(([name, text, where, value], i) => {
    test(name, () => {
      const file = join(dir, `bad${i}.cfg`);
      writeFileSync(file, text);
      const r = gobearmon(file);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].includes(file), r.stderr);
      assert.ok(lines[0].toLowerCase().includes(where), r.stderr);
      assert.ok(lines[0].includes(JSON.stringify(value)), r.stderr);
      assert.equal(r.stdout, '');
    });
  });
});

describe('command line', () => {
  test('--version: exit 0 with the version on stdout', () => {
    const r = gobearmon('--version');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^gobearmon \d+\.\d+\.\d+/);
  });

  test('unknown subcommand: usage on stderr, exit 2', () => {
    const r = gobearmon('frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /frobnicate/);
    assert.match(r.stderr, /usage: gobearmon/);
    assert.equal(r.stdout, '');
  });

  test('unknown option: usage on stderr, exit 2', () => {
    const r = gobearmon('--frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: gobearmon/);
  });

  test('a missing config file: exit 2 naming it', () => {
    const file = join(dir, 'missing.cfg');
    const r = gobearmon(file);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(file), r.stderr);
  });

  test('migrate --config with a missing file: exit 2, one line naming it', () => {
    const file = join(dir, 'missing.cfg');
    const r = gobearmon('migrate', '--config', file);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);
  });

  test("a -h that belongs to the program watch runs reaches it; watch's own --help is help", () => {
    assert.equal(gobearmon('watch', '--help').code, 0);
    assert.equal(gobearmon('watch', '-i', '1', '-h').code, 0);
    // Here -h is an argument of the check (grep -h): watch parses its flags, so the bad one shows.
    const passed = gobearmon('watch', '--bogus', '1', 'grep', '-h', 'x');
    assert.equal(passed.code, 2);
    assert.match(passed.stderr, /unknown flag --bogus/);
    const afterSeparator = gobearmon('probe', 'tcp', '--bogus', '--', '-h');
    assert.equal(afterSeparator.code, 2, 'a -h after -- is not a help request');
  });

  test('migrate --help: exit 0 with its usage', () => {
    const r = gobearmon('migrate', '--help');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /usage: gobearmon migrate --config FILE/);
  });
});
