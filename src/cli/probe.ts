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
--config FILE   take [dns] server from this config file (for dns checks that name no server)

Exit status: 0 online, 1 offline, 2 bad input (unknown type, bad JSON, bad parameters).
Example: gobearmon probe http '{"url":"https://example.com","expect_status":200}'`,
  async run(args) {
    const { positionals, flags } = parseArgs(args, { values: ['config'] });
    if (positionals.length !== 2) throw new UsageError(`probe takes TYPE and 'JSON', got ${positionals.length} argument(s)`);
    const [type, data] = positionals;
    // Bad input is told apart from an offline target: a typo in the JSON must not look like an outage.
    const invalid = validateCheck(type, data);
    if (invalid) {
      console.error(`gobearmon probe: ${invalid}`);
      return 2;
    }
    let dnsServer = '';
    if (flags.config !== undefined) {
      try {
        dnsServer = loadConfig(flags.config).dns.server;
      } catch (err) {
        console.error(`gobearmon probe: ${(err as Error).message}`);
        return 2;
      }
    }
    const result = await runCheck(type, data, { dnsServer });
    console.log(JSON.stringify({ type, ...result }, null, 2));
    return result.status === 'online' ? 0 : 1;
  },
};
