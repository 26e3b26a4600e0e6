/**
 * `exec`: runs a monitoring plugin (Nagios plugin API) from the worker's `[exec] dir`, never through a
 * shell, with a time limit that kills its whole process group. Exit 0 online, 1 online with the
 * message (offline with `"warning":"offline"`), 2 offline, anything else `fail` (SPEC §9.2).
 */
import { spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { captureCapped } from '../util/capped';
import { killGroup } from '../util/process-group';
import { errorText, object, optionalString, requiredString, since, timeoutSeconds, kind } from './params';
import { parsePluginOutput } from './plugin-output';
import { ParamError, type CheckContext, type CheckResult, type CheckType, type ParamSpec } from './types';

interface ExecParams {
  command: string;
  args: string[];
  timeoutMs: number;
  warningStatus: 'online' | 'offline';
}

const STDOUT_CAP = 64 * 1024;
const STDERR_CAP = 8 * 1024;

function parse(data: unknown): ExecParams {
  const o = object(data);
  const command = requiredString(o, 'command');
  if (isAbsolute(command) || command.split(/[/\\]/).includes('..') || command.includes('\0')) {
    throw new ParamError(`parameter "command" must name a program inside the worker's [exec] dir (no absolute path, no ".."), got ${JSON.stringify(command)}`);
  }
  const rawArgs = o.args ?? [];
  if (!Array.isArray(rawArgs)) throw new ParamError(`parameter "args" must be an array of strings, got ${kind(rawArgs)}`);
  const args = rawArgs.map((a, i) => {
    if (typeof a !== 'string') throw new ParamError(`parameter "args" entry ${i} must be a string, got ${kind(a)}`);
    if (a.includes('\0')) throw new ParamError(`parameter "args" entry ${i} must not contain a NUL byte`);
    return a;
  });
  const warning = optionalString(o, 'warning', 'online');
  if (warning !== 'online' && warning !== 'offline') throw new ParamError(`parameter "warning" must be "online" or "offline", got ${JSON.stringify(warning)}`);
  return { command, args, timeoutMs: timeoutSeconds(o) * 1000, warningStatus: warning };
}

/** The program's real path, refused when it is missing or leads (by symlink or otherwise) out of `dir`. */
async function locate(dir: string, command: string): Promise<string> {
  const realDir = await realpath(dir);
  let real: string;
  try {
    real = await realpath(resolve(realDir, command));
  } catch {
    throw new Error(`no program ${JSON.stringify(command)} in [exec] dir ${dir}`);
  }
  if (!real.startsWith(realDir + sep)) throw new Error(`${JSON.stringify(command)} leads outside [exec] dir ${dir} (to ${real}); refused`);
  return real;
}

async function run(p: ExecParams, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  if (!ctx.execDir) {
    return { status: 'fail', message: 'exec checks are refused on this worker: [exec] dir is not set in its config', durationMs: since(t0) };
  }
  let program: string;
  try {
    program = await locate(ctx.execDir, p.command);
  } catch (err) {
    return { status: 'offline', message: errorText(err), durationMs: since(t0) };
  }
  return new Promise<CheckResult>((done) => {
    // A small, fixed environment: plugins print in English with '.' decimals, and see nothing of ours.
    const child = spawn(program, p.args, {
      cwd: resolve(program, '..'),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
    });
    const stdout = captureCapped(child.stdout, STDOUT_CAP);
    const stderr = captureCapped(child.stderr, STDERR_CAP);
    let settled = false;
    const finish = (r: Omit<CheckResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done({ ...r, durationMs: since(t0) });
    };
    const timer = setTimeout(() => {
      killGroup(child.pid, 'SIGKILL');
      finish({ status: 'offline', message: `${p.command} did not finish within ${p.timeoutMs / 1000} s, killed` });
    }, p.timeoutMs);
    child.once('error', (err) => finish({ status: 'offline', message: `cannot run ${p.command}: ${errorText(err)}` }));
    child.once('close', (code, signal) => {
      // Stray grandchildren holding no pipe must not outlive the check either.
      killGroup(child.pid, 'SIGKILL');
      const text = stdout.text() || stderr.text();
      const out = parsePluginOutput(text);
      const facts = { exitCode: code, perfdata: out.perfdata, ...(stdout.dropped() ? { outputDroppedBytes: stdout.dropped() } : {}) };
      if (signal) return finish({ status: 'fail', message: `${p.command} was killed by ${signal}${out.message ? `: ${out.message}` : ''}`, facts });
      const message = out.message || `${p.command} exited with status ${code} and printed nothing`;
      if (code === 0) return finish({ status: 'online', message, facts });
      if (code === 1) return finish({ status: p.warningStatus, message, facts });
      if (code === 2) return finish({ status: 'offline', message, facts });
      finish({ status: 'fail', message: code === 3 ? message : `${message} (exit status ${code})`, facts });
    });
  });
}

/** The parameters `parse` reads (flags of `gobearmon check add exec`). */
export const PARAMS: readonly ParamSpec[] = [
  { key: 'command', kind: 'string', required: true, help: "program inside the worker's [exec] dir" },
  { key: 'args', kind: 'list', help: 'arguments (repeatable)' },
  { key: 'timeout', kind: 'number', help: 'seconds, clamped to 3..30 (default 10)' },
  { key: 'warning', kind: 'string', help: 'status of a WARNING result: online or offline' },
];

export const execCheck: CheckType<ExecParams> = { name: 'exec', params: PARAMS, parse, run };
