/** `gobearmon demo`: a whole cluster on this machine, with example checks and targets (see src/demo/). */
import { runDemo } from '../demo/run';
import { parseArgs, UsageError, type Command } from './command';

const usage = `usage: gobearmon demo [--dir PATH] [--flap-seconds N] [--interval N] [--quiet-results]

Starts a viewserver and three worker nodes on free 127.0.0.1 ports; their configs and an
embedded SQLite database go under PATH (default ./demo-data). The demo serves the
targets of its example checks itself: a healthy HTTP endpoint, one that flaps, a TCP echo port,
a DNS record, and a TLS port whose certificate expires in a few days; a webhook contact prints
every alert here. The console shows the election, flips, alerts and the results.

Run it again with the same PATH to carry on with the same database (checks you added stay).
Kill a node from another terminal (kill -9 PID, the pids are printed) to watch a failover.
Ctrl-C stops everything and exits 0.

  --dir PATH          where the configs and gobearmon.db go (default ./demo-data)
  --flap-seconds N    how long the flapping endpoint stays up, then down (default 60)
  --interval N        check_interval of the example checks in seconds (default 5)
  --quiet-results     no results summary every 10 seconds`;

function number(flags: Record<string, string>, name: string, dflt: number, min: number, max: number): number {
  const v = flags[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a local cluster (viewserver + 3 workers) with example checks, targets and alerts',
  usage,
  async run(args) {
    const { positionals, flags, bools } = parseArgs(args, { values: ['dir', 'flap-seconds', 'interval'], booleans: ['quiet-results'] });
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    if (flags.dir !== undefined && !flags.dir.trim()) throw new UsageError('--dir needs a path');
    return runDemo({
      dir: flags.dir ?? 'demo-data',
      flapSeconds: number(flags, 'flap-seconds', 60, 1, 86_400),
      intervalSeconds: number(flags, 'interval', 5, 1, 3_600),
      resultsSeconds: bools.has('quiet-results') ? 0 : 10,
    });
  },
};
