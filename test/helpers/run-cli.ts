/** Runs the built `gobearmon` program as a real process, with worker configs written for the test. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './sqlscript';

export const GOBEARMON = resolve(REPO_ROOT, 'dist/cmd/gobearmon.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runGobearmon(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [GOBEARMON, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** A minimal worker-node config naming `dsn` as its database; nothing here is ever contacted but the database. */
export function writeWorkerConfig(dir: string, dsn: string): string {
  const file = join(dir, 'worker.cfg');
  writeFileSync(file, `[default]\npassword = test-secret\n\n[controller]\naddr = :18999\ndatabase = ${dsn}\n\n[worker]\nviewAddr = 127.0.0.1:1\n`);
  return file;
}
