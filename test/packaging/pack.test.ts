/**
 * `npm pack` makes an installable package: the gobearmon command, the compiled sources, install.sql,
 * sample configs and systemd units, and nothing from test/ or bench/. The tarball is unpacked into
 * a temporary prefix (dependencies linked from this checkout, since tests have no network) and its
 * own bin entry must answer --version.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(__dirname, '../../..');

test('npm pack: the gobearmon command and runtime files, nothing from test/ or bench/; the unpacked package runs --version', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbm-pack-'));
  try {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    const files = info.files.map((f) => f.path);
    const leaked = files.filter((f) => /^(dist\/)?(test|bench)\//.test(f) || f.startsWith('src/') || f.startsWith('node_modules/'));
    assert.deepEqual(leaked, [], 'files that do not belong in the package');
    for (const want of ['package.json', 'dist/cmd/gobearmon.js', 'dist/src/cli/dispatch.js', 'install.sql', 'gobearmon.worker.cfg',
      'contrib/systemd/gobearmon-worker.service', 'contrib/systemd/gobearmon-viewserver.service', 'README.md']) {
      assert.ok(files.includes(want), `${want} missing from the package`);
    }

    const prefix = join(dir, 'prefix');
    execFileSync('mkdir', ['-p', prefix]);
    execFileSync('tar', ['xzf', join(dir, info.filename), '-C', prefix]);
    const pkgDir = join(prefix, 'package');
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };
    const bin = join(pkgDir, pkg.bin.gobearmon);
    assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the command starts with a node shebang');
    symlinkSync(join(ROOT, 'node_modules'), join(pkgDir, 'node_modules'));
    const version = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim();
    assert.equal(version, `gobearmon ${pkg.version}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('systemd units: restart on failure, a dedicated user, hardening', () => {
  for (const role of ['worker', 'viewserver']) {
    const unit = readFileSync(join(ROOT, 'contrib/systemd', `gobearmon-${role}.service`), 'utf8');
    for (const line of ['Restart=on-failure', 'User=gobearmon', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'RestartPreventExitStatus=2']) {
      assert.ok(unit.split('\n').includes(line), `${role}: ${line}`);
    }
    assert.match(unit, new RegExp(`^ExecStart=/usr/local/bin/gobearmon /etc/gobearmon/${role}\\.cfg$`, 'm'));
  }
});
