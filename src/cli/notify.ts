/** `gobearmon notify`: sends one test alert to one contact now, to prove a contact works. */
import type { Status } from '../checks/types';
import { loadConfig } from '../config/load';
import { contactTypes, sendAlert } from '../contacts/registry';
import type { AlertNotice } from '../contacts/types';
import { type Command, UsageError, parseArgs } from './command';

const usage = `usage: gobearmon notify TYPE DATA --config FILE [--status offline|online] [--check-name NAME] [--message TEXT]

Sends one test alert to one contact now, using the [smtp] or [twilio] settings of FILE.
  TYPE           ${[...contactTypes.keys()].join(', ')}
  DATA           the contact's address: e-mail address, phone number or URL
  --status       the status announced (default offline)
  --check-name   the check named in the alert (default "gobearmon test")
  --message      the reason given (default "test alert sent by gobearmon notify")

Exit status: 0 sent (the provider's id is printed), 1 sending failed, 2 bad input or config.`;

export const notifyCommand: Command = {
  name: 'notify',
  summary: 'send one test alert to one contact now',
  usage,
  async run(args: string[]): Promise<number> {
    const { positionals, flags } = parseArgs(args, { values: ['config', 'status', 'check-name', 'message'] });
    if (positionals.length !== 2) throw new UsageError(`expected TYPE and DATA, got ${positionals.length} argument(s)`);
    const [type, data] = positionals;
    if (!contactTypes.has(type)) {
      throw new UsageError(`unknown contact type ${JSON.stringify(type)}; known types: ${[...contactTypes.keys()].join(', ')}`);
    }
    if (!flags.config) throw new UsageError('--config FILE is required');
    const status = flags.status ?? 'offline';
    if (status !== 'offline' && status !== 'online') throw new UsageError(`--status must be offline or online, not ${JSON.stringify(status)}`);
    const config = loadConfig(flags.config);

    const notice: AlertNotice = {
      checkId: 0,
      checkName: flags['check-name'] ?? 'gobearmon test',
      checkType: 'test',
      checkData: '',
      status: status as Status,
      message: flags.message ?? 'test alert sent by gobearmon notify',
      // Unique per run: a test alert is never a resend of another.
      idempotencyKey: `notify:${Date.now()}`,
    };
    try {
      const result = await sendAlert(type, data, notice, config);
      console.log(result.providerId);
      return 0;
    } catch (err) {
      console.error(`gobearmon notify: ${type} ${data}: ${(err as Error).message}`);
      return 1;
    }
  },
};
