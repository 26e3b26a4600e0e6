/**
 * The imperative shell of `gobearmon watch`: runs the check and the scripts as real processes (each
 * in its own process group, so a kill reaches its children), sends signals, keeps the timer, writes
 * HEAT's log and pushes results. Every decision is made by the pure machine (machine.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { captureCapped } from '../util/capped';
import { killGroup } from '../util/process-group';
import { HeatLog } from './heatlog';
import { initialState, step, type Action, type FailEnv, type MachineOptions, type MachineState, type Script, type WatchEvent } from './machine';
import { describeCommand, type WatchOptions } from './options';
import { PushSender } from './push';

/** Output kept per stream of one run (the log gets this much; a flood is cut and says so). */
const OUTPUT_CAP = 64 * 1024;
/** How often `--pid` is looked at between signals. */
const PID_POLL_MS = 250;
/** After SIGTERM, children get this long before SIGKILL. */
const STOP_GRACE_MS = 2_000;

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was stopped by ${signal}` : `exited with status ${code}`;
}

/** The exit status a shell would report: the code, or 128 + the signal's number. */
function statusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? constants.signals[signal] : 0);
}

function outputNote(text: string, dropped: number): string {
  return dropped > 0 ? `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}[${dropped} more bytes of output dropped]` : text;
}

export class WatchShell {
  private state: MachineState = initialState();
  private readonly machine: MachineOptions;
  private readonly program: string;
  private readonly log: HeatLog;
  private readonly push?: PushSender;
  private timer?: NodeJS.Timeout;
  private pidPoll?: NodeJS.Timeout;
  private readonly children = new Set<ChildProcess>();
  /** Output of check runs not yet reported, for --push. */
  private readonly outputs = new Map<number, string>();
  private finish!: (code: number) => void;
  private logClosed = false;
  private readonly onSignal = (signal: NodeJS.Signals) => this.dispatch({ type: 'stop', signal });

  constructor(private readonly o: WatchOptions) {
    this.machine = {
      intervalMs: o.intervalMs, threshold: o.threshold, recoveryTimeoutMs: o.recoveryTimeoutMs,
      hasFailScript: Boolean(o.fail), hasRecoveryScript: Boolean(o.recovery), hasPid: o.pid !== undefined,
      signal: o.signal, faultSignal: o.faultSignal, successSignal: o.successSignal,
    };
    this.program = describeCommand(o.check);
    this.log = new HeatLog(o.log);
    if (o.push) this.push = new PushSender(o.push, (err) => this.record('ERR', 'gobearmon watch --push', err));
  }

  /** Runs until stopped; resolves to the exit code (0 after SIGINT/SIGTERM, 1 after an error). */
  run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    if (this.o.pid !== undefined && !pidExists(this.o.pid)) {
      const text = `process ${this.o.pid} (--pid) does not exist`;
      this.record('ERR', this.program, text);
      this.logClosed = true;
      this.log.close();
      return Promise.resolve(1);
    }
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    if (this.o.pid !== undefined) {
      const pid = this.o.pid;
      this.pidPoll = setInterval(() => {
        if (!pidExists(pid)) this.dispatch({ type: 'pid-gone' });
      }, PID_POLL_MS);
    }
    this.dispatch({ type: 'start' });
    return done;
  }

  private record(level: 'INFO' | 'FAIL' | 'ERR', program: string, text: string): void {
    if (this.logClosed) return;
    this.log.write(Date.now(), level, program, text);
    if (level === 'ERR') process.stderr.write(`gobearmon watch: ${text}\n`);
  }

  private dispatch(event: WatchEvent): void {
    const { state, actions } = step(this.state, event, Date.now(), this.machine);
    this.state = state;
    for (const action of actions) this.perform(action);
    this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.state.phase === 'stopped') return;
    this.timer = setTimeout(() => this.dispatch({ type: 'tick' }), Math.max(0, this.state.nextTickAt - Date.now()));
  }

  private perform(action: Action): void {
    switch (action.type) {
      case 'run-check':
        return this.runCheck(action.run);
      case 'kill-check':
        return this.killCheck(action.run);
      case 'signal':
        return this.sendSignal(action.signal, action.why);
      case 'run-script':
        return this.runScript(action.script, action.env);
      case 'log':
        return this.record(action.level, this.program, action.text);
      case 'report': {
        const output = this.outputs.get(action.run) ?? '';
        this.outputs.delete(action.run);
        this.push?.send(action.code, output);
        return;
      }
      case 'exit':
        void this.exit(action.code);
    }
  }

  private readonly checks = new Map<number, ChildProcess>();

  private spawnGroup(argv: string[], env?: FailEnv): ChildProcess {
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
    this.children.add(child);
    child.once('close', () => this.children.delete(child));
    return child;
  }

  /** Logs a finished process's stdout as INFO and its stderr as FAIL, as HEAT does. */
  private collect(child: ChildProcess, program: string): () => string {
    const out = captureCapped(child.stdout!, OUTPUT_CAP);
    const err = captureCapped(child.stderr!, OUTPUT_CAP);
    return () => {
      const stdout = outputNote(out.text(), out.dropped());
      const stderr = outputNote(err.text(), err.dropped());
      if (stdout) this.record('INFO', program, stdout);
      if (stderr) this.record('FAIL', program, stderr);
      return stdout + stderr;
    };
  }

  private runCheck(run: number): void {
    const child = this.spawnGroup(this.o.check);
    const flush = this.collect(child, this.program);
    let settled = false;
    child.once('error', (err) => {
      if (settled) return;
      settled = true;
      this.dispatch({ type: 'check-spawn-failed', run, reason: err.message });
    });
    child.once('close', (code, signal) => {
      this.checks.delete(run);
      if (settled) return;
      settled = true;
      this.outputs.set(run, flush());
      this.dispatch({ type: 'check-exited', run, code: statusOf(code, signal) });
      this.outputs.delete(run);
    });
    if (child.pid) {
      this.checks.set(run, child);
      this.dispatch({ type: 'check-spawned', run, pid: child.pid });
    }
  }

  private killCheck(run: number): void {
    const child = this.checks.get(run);
    // Its output is still logged when it closes; its result no longer counts (the machine moved on).
    killGroup(child?.pid, 'SIGKILL');
  }

  private sendSignal(signal: string, why: string): void {
    const pid = this.o.pid!;
    try {
      process.kill(pid, signal);
      this.record('INFO', this.program, `sent ${signal} to process ${pid} (${why})`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') this.dispatch({ type: 'pid-gone' });
      else this.record('ERR', this.program, `cannot send ${signal} to process ${pid}: ${(err as Error).message}`);
    }
  }

  private runScript(script: Script, env: FailEnv): void {
    const path = script === 'fail' ? this.o.fail! : this.o.recovery!;
    const child = this.spawnGroup([path], env);
    const flush = this.collect(child, path);
    let settled = false;
    const end = (ok: boolean, reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      this.dispatch({ type: 'script-exited', script, ok, reason });
    };
    const limit = setTimeout(() => {
      killGroup(child.pid, 'SIGKILL');
      end(false, `${path} did not finish within ${this.o.scriptTimeoutMs / 1000} s (--script-timeout), killed`);
    }, this.o.scriptTimeoutMs);
    child.once('error', (err) => end(false, `${path} cannot start: ${err.message}`));
    child.once('close', (code, signal) => {
      flush();
      end(code === 0, `${path} ${exitText(code, signal)}`);
    });
  }

  private async exit(code: number): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.pidPoll);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    const alive = [...this.children];
    for (const child of alive) killGroup(child.pid, 'SIGTERM');
    const closed = Promise.all(alive.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('close', () => r())))));
    let force: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((r) => (force = setTimeout(r, STOP_GRACE_MS)))]);
    clearTimeout(force);
    for (const child of this.children) killGroup(child.pid, 'SIGKILL');
    await this.push?.drain(3_000);
    this.logClosed = true;
    this.log.close();
    this.finish(code);
  }
}
