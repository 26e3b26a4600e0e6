/**
 * `gobearmon demo` as a real process: a whole cluster with its own targets reaches an election,
 * a flip and an alert, fails over when the controller is killed, and stops cleanly on SIGINT.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GOBEARMON } from '../helpers/run-cli';

const DEADLINE_MS = 90_000;

interface Demo {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the first match of `re` in the output so far or to come. */
  waitFor(re: RegExp, what: string, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** label → pid, from the demo's table of nodes. */
  pids(): Map<string, number>;
}

function startDemo(dir: string): Demo {
  const proc = spawn(process.execPath, [GOBEARMON, 'demo', '--dir', dir, '--flap-seconds', '4', '--interval', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const feed = (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of [...listeners]) l();
  };
  proc.stdout!.on('data', feed);
  proc.stderr!.on('data', feed);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => {
      for (const l of [...listeners]) l();
      resolve({ code, signal });
    });
  });
  return {
    proc,
    exited,
    output: () => out,
    pids: () => new Map([...out.matchAll(/^\s+(viewserver|w\d)\s+pid (\d+)/gm)].map((m) => [m[1], Number(m[2])])),
    waitFor(re, what, timeoutMs = DEADLINE_MS) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (m) {
            done();
            resolve(m);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            done();
            reject(new Error(`demo exited before showing ${what}; output:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${what} within ${timeoutMs / 1000} s; output:\n${out}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('gobearmon demo', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gbm-demo-'));
  const started: Demo[] = [];

  after(() => {
    // Whatever failed, leave no process behind.
    for (const d of started) {
      for (const pid of d.pids().values()) if (alive(pid)) process.kill(pid, 'SIGKILL');
      if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('shows an election, a flip and an alert, fails over when the controller is killed, exits 0 on SIGINT', async () => {
    const demo = startDemo(join(dir, 'data'));
    started.push(demo);

    const [, first] = await demo.waitFor(/\[(w\d)\] took office as controller/, 'a controller taking office');
    await demo.waitFor(/elected w\d as the controller/, "the viewserver's election");
    await demo.waitFor(/FLIP \S+ → (offline|online)/, 'a flip');
    await demo.waitFor(/ALERT webhook received: check \S+ is (offline|online)/, 'an alert at the webhook');
    await demo.waitFor(/INSERT INTO checks/, 'the hint on adding a check');
    // The TLS target's certificate, made at run time, is seen by the ssl_expire check as expiring soon.
    await demo.waitFor(/ALERT webhook received: check tls-expiry is offline: certificate \(demo\.gobearmon\.test\) expires in [45] days/, 'the TLS expiry alert');

    // The curl line the console prints for pinging a push check by hand works when pasted.
    const [, pingUrl] = await demo.waitFor(/curl -fsS (http:\/\/127\.0\.0\.1:\d+\/ping\/[\w-]+)/, 'the curl line of a push check');
    const res = await fetch(pingUrl);
    assert.equal(res.status, 200, await res.text());

    const pids = demo.pids();
    assert.deepEqual([...pids.keys()].sort(), ['viewserver', 'w1', 'w2', 'w3'], demo.output());
    const victim = pids.get(first)!;
    process.kill(victim, 'SIGKILL');
    const [, gone, next] = await demo.waitFor(/FAILOVER: controller (w\d) is gone, (w\d) takes over/, 'a failover');
    assert.equal(gone, first);
    assert.notEqual(next, first);
    await demo.waitFor(new RegExp(`\\[${next}\\] took office as controller`), 'the new controller taking office');
    assert.match(demo.output(), new RegExp(`\\[${first}\\] process ${victim} killed by SIGKILL`));
    // The sender that stops (after 40 s) makes its push check time out, alerted through the webhook.
    await demo.waitFor(/ALERT webhook received: check heartbeat-stops is offline/, 'the stopped push sender timing out', 120_000);
    assert.doesNotMatch(demo.output(), /check heartbeat is offline/, 'the on-time sender never alerts');

    demo.proc.kill('SIGINT');
    const { code, signal } = await demo.exited;
    assert.equal(signal, null, demo.output());
    assert.equal(code, 0, demo.output());
    assert.match(demo.output(), /demo stopped/);
    for (const [label, pid] of pids) assert.equal(alive(pid), false, `${label} (pid ${pid}) is still running`);
  });

  test('a second run reuses the database and stops cleanly too', async () => {
    const demo = startDemo(join(dir, 'data'));
    started.push(demo);
    await demo.waitFor(/reused; demo checks re-pointed/, 'the reused database');
    await demo.waitFor(/took office as controller/, 'a controller taking office');
    await demo.waitFor(/controller loaded 5 check\(s\)/, 'the five pulled demo checks (push checks are not loaded as pulled), not ten');
    demo.proc.kill('SIGINT');
    const { code } = await demo.exited;
    assert.equal(code, 0, demo.output());
    for (const [label, pid] of demo.pids()) assert.equal(alive(pid), false, `${label} (pid ${pid}) is still running`);
  });
});
