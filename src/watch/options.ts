/**
 * HEAT's command line (SPEC §9.1): flags first, then either `-s PATH` or a trailing `COMMAND ARGS…`
 * kept exactly as given (HEAT re-split it on spaces). Pure: returns options or throws UsageError.
 */
import { constants } from 'node:os';
import { UsageError } from '../cli/command';

export interface WatchOptions {
  /** The check's argv: `[PATH]` for -s, or the trailing command. */
  check: string[];
  intervalMs: number;
  pid?: number;
  signal: string;
  fail?: string;
  threshold: number;
  recovery?: string;
  recoveryTimeoutMs: number;
  faultSignal?: string;
  successSignal?: string;
  log: string;
  push?: string;
  scriptTimeoutMs: number;
}

const signalNames = constants.signals as Record<string, number>;

/** `HUP`, `SIGHUP`, `hup` or `1` → `SIGHUP`; anything else is a UsageError naming the flag. */
export function parseSignal(flag: string, value: string): string {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    const name = Object.keys(signalNames).find((k) => signalNames[k] === n);
    if (name && n > 0) return name;
    throw new UsageError(`${flag}: no signal numbered ${v}`);
  }
  const upper = v.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (Object.hasOwn(signalNames, name)) return name;
  throw new UsageError(`${flag}: unknown signal ${JSON.stringify(value)} (a name such as HUP, SIGUSR1, or a number)`);
}

function seconds(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > 86_400 * 365) {
    throw new UsageError(`${flag}: expected a number of seconds ${min > 0 ? 'above 0' : 'from 0'}, got ${JSON.stringify(value)}`);
  }
  if (min > 0 && n <= 0) throw new UsageError(`${flag}: expected a number of seconds above 0, got ${JSON.stringify(value)}`);
  return Math.round(n * 1000);
}

function wholeNumber(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > 2 ** 31) {
    throw new UsageError(`${flag}: expected a whole number from ${min}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Flags that take a value, by every spelling. */
const VALUE_FLAGS: Record<string, string> = {
  '-i': 'interval', '--interval': 'interval', '-s': 'script', '--script': 'script', '--pid': 'pid',
  '--signal': 'signal', '--fail': 'fail', '--threshold': 'threshold', '--recovery': 'recovery',
  '--recovery-timeout': 'recovery-timeout', '--fault-signal': 'fault-signal', '--success-signal': 'success-signal',
  '--log': 'log', '--push': 'push', '--script-timeout': 'script-timeout',
};

/** The flags before the check's trailing COMMAND (whose own `-h` must reach it untouched). */
export function watchFlags(args: string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--' || !arg.startsWith('-') || arg === '-') break;
    flags.push(arg);
    if (Object.hasOwn(VALUE_FLAGS, arg)) i++; // its value, which may itself start with '-'
  }
  return flags;
}

export function parseWatchArgs(args: string[]): WatchOptions {
  const given: Record<string, { flag: string; value: string }> = {};
  let trailing: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      trailing = args.slice(i + 1);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      trailing = args.slice(i);
      break;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const name = Object.hasOwn(VALUE_FLAGS, flag) ? VALUE_FLAGS[flag] : undefined;
    if (!name) throw new UsageError(`unknown flag ${flag}`);
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    if (given[name]) throw new UsageError(`${flag} given twice`);
    given[name] = { flag, value };
  }
  const get = (name: string) => given[name];
  const script = get('script');
  if (script && trailing.length) throw new UsageError(`-s/--script and a trailing command ${JSON.stringify(trailing[0])} are both given; use one`);
  if (!script && !trailing.length) throw new UsageError('no check: give -s/--script PATH or a trailing COMMAND [ARGS…]');
  if (script && !script.value) throw new UsageError(`${script.flag} needs a path`);

  const opt = <T>(name: string, parse: (flag: string, value: string) => T): T | undefined => {
    const g = get(name);
    return g ? parse(g.flag, g.value) : undefined;
  };
  const path = (flag: string, value: string) => {
    if (!value) throw new UsageError(`${flag} needs a path`);
    return value;
  };
  const push = opt('push', (flag, value) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new UsageError(`${flag}: not a URL: ${JSON.stringify(value)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag}: expected an http:// or https:// ping URL, got ${JSON.stringify(value)}`);
    return value.replace(/\/+$/, '');
  });
  return {
    check: script ? [script.value] : trailing,
    intervalMs: opt('interval', (f, v) => seconds(f, v, 0.001)) ?? 1000,
    pid: opt('pid', (f, v) => wholeNumber(f, v, 1)),
    signal: opt('signal', parseSignal) ?? 'SIGHUP',
    fail: opt('fail', path),
    threshold: opt('threshold', (f, v) => wholeNumber(f, v, 1)) ?? 1,
    recovery: opt('recovery', path),
    recoveryTimeoutMs: opt('recovery-timeout', (f, v) => seconds(f, v, 0)) ?? 0,
    faultSignal: opt('fault-signal', parseSignal),
    successSignal: opt('success-signal', parseSignal),
    log: opt('log', path) ?? './heat.verbose.log',
    push,
    scriptTimeoutMs: opt('script-timeout', (f, v) => seconds(f, v, 0.001)) ?? 300_000,
  };
}

/** The check as the log names it: HEAT's `<program>` field. */
export function describeCommand(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
