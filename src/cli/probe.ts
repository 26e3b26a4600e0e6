/** `gobearmon probe TYPE 'JSON' [--config FILE]`: runs one check now, as a worker would, and prints the result. */
import { loadConfig } from '../config/load';
import { checkTypes, runCheck, validateCheck } from '../checks/registry';
import { parseArgs, UsageError, type Command } from './command';

export const probeCommand: Command = {
  name: 'probe',
  summary: 'run one check now and print its result as JSON (exit 0 online, 1 offline)',
  usage: `usage: gobearmon probe TYPE 'JSON' [--config FILE]

Runs one check of TYPE (${Object.keys(checkTypes).join(', ')}) with the JSON parameters a
checks.data row would hold, and prints the result (status, message, durationMs, facts) as JSON.
--config FILE   take [dns] server (dns checks that name no server) and [exec] dir (exec checks) from it

Exit status: 0 online, 1 offline (or fail: could not run, e.g. a plugin's UNKNOWN), 2 bad input (unknown type, bad JSON, bad parameters).
Example: gobearmon probe http '{"url":"https://example.com","expect_status":200}'`,
  async run(args) {
    const { positionals, flags } = parseArgs(args, { values: ['config'] });
    if (positionals.length !== 2) throw new UsageError(`probe takes TYPE and 'JSON', got ${positionals.length} argument(s)`);
    const [type, data] = positionals;
    if (type === 'push') {
      console.error('gobearmon probe: push checks are pinged, not probed: nothing runs them; their senders report in (gobearmon ping, or curl …/ping/<token>)');
      return 2;
    }
    // Bad input is told apart from an offline target: a typo in the JSON must not look like an outage.
    const invalid = validateCheck(type, data);
    if (invalid) {
      console.error(`gobearmon probe: ${invalid}`);
      return 2;
    }
    let dnsServer = '';
    let execDir = '';
    if (flags.config !== undefined) {
      try {
        const config = loadConfig(flags.config);
        dnsServer = config.dns.server;
        execDir = config.exec.dir;
      } catch (err) {
        console.error(`gobearmon probe: ${(err as Error).message}`);
        return 2;
      }
    }
    const result = await runCheck(type, data, { dnsServer, execDir });
    console.log(JSON.stringify({ type, ...result }, null, 2));
    return result.status === 'online' ? 0 : 1;
  },
};
