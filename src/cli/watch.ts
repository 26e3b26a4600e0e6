/** `gobearmon watch`: HEAT-compatible local supervisor (SPEC §9.1); see src/watch/. */
import { parseWatchArgs, watchFlags } from '../watch/options';
import { WatchShell } from '../watch/shell';
import type { Command } from './command';

const usage = `usage: gobearmon watch [FLAGS] -s PATH
       gobearmon watch [FLAGS] COMMAND [ARGS...]

Runs a check every interval and reacts to failures with signals and scripts, like HEAT.
The trailing COMMAND and its ARGS are run exactly as given (no shell, never re-split).

  -i, --interval S          seconds between checks; the first runs at once (default 1)
  -s, --script PATH         the check program (instead of a trailing COMMAND)
  --pid PID                 process to signal; must exist at start, watched (gone: exit 1)
  --signal SIG              sent to --pid on each failure below the threshold (default HUP)
  --fail PATH               run on each failure (not during recovery)
  --threshold N             consecutive failures that trigger recovery and the fault signal (default 1)
  --recovery PATH           run when the threshold is reached
  --recovery-timeout S      after recovery, failures only count for S seconds; then recovery again (default 0)
  --fault-signal SIG        sent to --pid at the threshold
  --success-signal SIG      sent to --pid on the first success after failures
  --log PATH                verbose log, appended (default ./heat.verbose.log)
  --push URL                also ping a gobearmon push check: URL/0 on success, URL/N with the output
  --script-timeout S        limit for fail and recovery scripts (default 300)

Signals by name with or without SIG (HUP, SIGUSR1) or by number. Fail and recovery scripts get
HEAT_FAIL_CODE, HEAT_FAIL_TIME, HEAT_FAIL_TIME_LAST, HEAT_FAIL_INTERVAL, HEAT_FAIL_PID, HEAT_FAIL_CNT.
Exit status: 0 after SIGINT/SIGTERM, 1 on an error (a script failed, --pid gone), 2 bad flags.`;

export const watchCommand: Command = {
  name: 'watch',
  summary: 'supervise a local service like HEAT: check, signal, run fail/recovery scripts',
  usage,
  ownOptions: watchFlags,
  async run(args) {
    const options = parseWatchArgs(args);
    let shell: WatchShell;
    try {
      shell = new WatchShell(options);
    } catch (err) {
      console.error(`gobearmon watch: --log ${options.log}: ${(err as Error).message}`);
      return 1;
    }
    return shell.run();
  },
};
