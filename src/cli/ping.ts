/** `gobearmon ping` and `gobearmon run`: send pings of push checks to every receiver (SPEC §8.4). */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { diskCheck, OutputTail, parseSenderConfig, payload, sendPing, targetsOf, type Signal, type Target } from '../push/sender';
import { parseArgs, UsageError, type Command } from './command';

interface Common {
  targets: Target[];
  timeoutMs: number;
  createPeriodS: number | null;
  payloads: [string, string][];
  diskCheck: boolean;
}

function common(positionals: string[], flags: Record<string, string>, bools: Set<string>, payloadFlags: string[]): Common {
  let targets: Target[] = positionals.map((url) => {
    if (!/^https?:\/\//.test(url)) throw new UsageError(`not a ping URL: ${url} (allowed: http://host:port/ping/<token> and the like)`);
    return { url };
  });
  let createPeriodS: number | null = null;
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${flags.config}: ${(err as Error).message}`);
    }
    let config;
    try {
      config = parseSenderConfig(text, flags.config);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    targets = [...targets, ...targetsOf(config)];
    createPeriodS = config.createPeriodS;
  }
  if (!targets.length) throw new UsageError('give the check\'s ping URL(s) or --config FILE');
  const timeoutS = flags.timeout === undefined ? 10 : Number(flags.timeout);
  if (!(timeoutS > 0 && timeoutS <= 300)) throw new UsageError('--timeout takes seconds from 0 to 300');
  const payloads = payloadFlags.map((p): [string, string] => {
    const i = p.indexOf('=');
    if (i < 1) throw new UsageError(`--payload takes NAME=COMMAND, got ${JSON.stringify(p)}`);
    return [p.slice(0, i), p.slice(i + 1)];
  });
  return { targets, timeoutMs: timeoutS * 1000, createPeriodS, payloads, diskCheck: bools.has('disk-check') };
}

/** parseArgs keeps one value per flag; --payload may repeat, so those are taken out first. */
function takePayloads(args: string[]): { rest: string[]; payloads: string[] } {
  const rest: string[] = [];
  const payloads: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--payload') payloads.push(args[++i] ?? '');
    else if (args[i].startsWith('--payload=')) payloads.push(args[i].slice('--payload='.length));
    else rest.push(args[i]);
  }
  return { rest, payloads };
}

async function withExtras(c: Common, body: string): Promise<{ body: string; diskError: string | null }> {
  const diskError = c.diskCheck ? await diskCheck() : null;
  const parts = await Promise.all(c.payloads.map(([name, cmd]) => payload(name, cmd)));
  return { body: [body, ...parts].filter(Boolean).join('\n'), diskError };
}

async function send(c: Common, signal: Signal, body: string, rid?: string): Promise<boolean> {
  const out = await sendPing(c.targets, signal, body, { timeoutMs: c.timeoutMs, rid, createPeriodS: c.createPeriodS });
  for (const r of out.refused) console.error(`gobearmon: receiver refused the ping: ${r}`);
  if (out.stored === 0) console.error(`gobearmon: no receiver stored the ping (${out.unreachable} unreachable, ${out.refused.length} refused)`);
  return out.stored > 0;
}

const SENDER_FILE = `The --config FILE is a small INI file:
  [ping]
  receiver = http://node1:8090      ; one line per receiver (repeat)
  receiver = http://node2:8090
  token = k3y-cert-sync             ; or: key = <[push] key> and name = <check name>
  ; basicAuth = user:password       ; when the receivers require it
  ; create = true and period = 300  ; create the check by name when missing`;

export const pingCommand: Command = {
  name: 'ping',
  summary: 'send one ping of a push check to every receiver (exit 1 only when none stored it)',
  usage: `usage: gobearmon ping [--config FILE] [URL…] [--start|--fail|--exit N|--log|--deregister] [--data TEXT] [--rid ID] [--timeout S] [--payload NAME=CMD]… [--disk-check]

Sends one ping to every receiver at once: each URL (e.g. http://node1:8090/ping/<token>) and each
receiver of --config FILE. An unreachable receiver is skipped without error; the exit status is 1
only when no receiver stored the ping. --data is the ping's text; --payload NAME=CMD adds a
command's output to it; --disk-check first writes, fsyncs and reads back a temp file and sends a
failure when the disk does not answer. --timeout is per receiver, seconds (default 10).
${SENDER_FILE}`,
  async run(args) {
    const { rest, payloads } = takePayloads(args);
    const { positionals, flags, bools } = parseArgs(rest, { values: ['config', 'exit', 'data', 'timeout', 'rid'], booleans: ['start', 'fail', 'log', 'deregister', 'disk-check'] });
    const c = common(positionals, flags, bools, payloads);
    const chosen = ['start', 'fail', 'log', 'deregister'].filter((b) => bools.has(b));
    if (chosen.length + (flags.exit !== undefined ? 1 : 0) > 1) throw new UsageError('give at most one of --start, --fail, --exit N, --log, --deregister');
    let signal: Signal = chosen.length ? ({ kind: chosen[0] } as Signal) : { kind: 'success' };
    if (flags.exit !== undefined) {
      if (!/^\d+$/.test(flags.exit) || Number(flags.exit) > 255) throw new UsageError('--exit takes an exit status from 0 to 255');
      signal = { kind: 'exit', code: Number(flags.exit) };
    }
    const { body, diskError } = await withExtras(c, flags.data ?? '');
    if (diskError) {
      console.error(`gobearmon: ${diskError}`);
      await send(c, { kind: 'fail' }, [diskError, body].filter(Boolean).join('\n'), flags.rid);
      return 1;
    }
    return (await send(c, signal, body, flags.rid)) ? 0 : 1;
  },
};

export const runCommand: Command = {
  name: 'run',
  summary: 'wrap a job: ping start, run it, then ping its exit status with the last 10 kB of its output',
  usage: `usage: gobearmon run [--config FILE] [URL…] [--timeout S] [--payload NAME=CMD]… [--disk-check] -- CMD ARGS…

Sends a start ping (with a fresh rid), runs CMD with its output passed through, then sends the
exit status (/0 … /255) with the last 10 kB of the output as the ping's text, to every receiver.
Exits with the command's own status (127 when it cannot be started).
${SENDER_FILE}`,
  async run(args) {
    const dash = args.indexOf('--');
    if (dash < 0 || dash === args.length - 1) throw new UsageError('give the command after --');
    const command = args.slice(dash + 1);
    const { rest, payloads } = takePayloads(args.slice(0, dash));
    const { positionals, flags, bools } = parseArgs(rest, { values: ['config', 'timeout'], booleans: ['disk-check'] });
    const c = common(positionals, flags, bools, payloads);
    const rid = randomBytes(8).toString('hex');
    await send(c, { kind: 'start' }, '', rid);
    const tail = new OutputTail();
    const code = await new Promise<number>((resolve) => {
      const child = spawn(command[0], command.slice(1), { stdio: ['inherit', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => (tail.push(d), process.stdout.write(d)));
      child.stderr.on('data', (d: Buffer) => (tail.push(d), process.stderr.write(d)));
      child.on('error', (err) => {
        tail.push(Buffer.from(`gobearmon run: cannot start ${command[0]}: ${err.message}\n`));
        resolve(127);
      });
      child.on('close', (status, signal) => resolve(status ?? (signal ? 128 + (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[signal] ?? 1) : 1)));
    });
    const { body, diskError } = await withExtras(c, tail.text());
    const sent = diskError
      ? await send(c, { kind: 'fail' }, `${diskError}\n${body}`, rid)
      : await send(c, { kind: 'exit', code: Math.min(255, code) }, body, rid);
    if (!sent) console.error('gobearmon run: the result was not stored by any receiver');
    return code;
  },
};
