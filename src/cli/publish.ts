/** `gobearmon publish --config FILE`: pipeline-heartbeat's publisher (SPEC §10.2); see src/amqp/. */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { readAmqpSection, type AmqpConfig } from '../amqp/config';
import { parseComponentsFile, type ComponentsFile } from '../amqp/heartbeat';
import { HeartbeatPublisher } from '../amqp/publisher';
import { ConfigError } from '../config/error';
import { parseIni } from '../config/load';
import { parseSecondsMs, parseUrl } from '../config/values';
import { createLogger } from '../util/log';
import { parseArgs, UsageError, type Command } from './command';

const usage = `usage: gobearmon publish --config FILE

Publishes a heartbeat every [amqp] interval to [amqp] exchange with [amqp] routingKey (declaring
the exchange, the durable queue and the binding when missing), like pipeline-heartbeat's publisher:
each host of the [amqp] components file is checked by TCP connect (5 s) and each queue's listeners
through the management API ([amqp] managementUrl, default http://<broker host>:15672, with the
URL's user and password). Reconnects with backoff when the broker goes away.

FILE holds an [amqp] section: url (amqp:// or amqps://), exchange, routingKey (default: queue),
queue, ca (PEM, for amqps), interval (seconds, default 60), components (the publisher JSON),
managementUrl. Exit status: 0 after SIGINT/SIGTERM, 2 bad config.`;

export function loadPublishConfig(file: string): { amqp: AmqpConfig; components: ComponentsFile } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '', '', undefined, `cannot read config file: ${(err as Error).message}`);
  }
  const section = parseIni(text, file).get('amqp');
  const amqp = readAmqpSection((key, dflt, parse) => {
    const v = section?.get(key)?.[0];
    if (v === undefined) return dflt;
    try {
      return parse(v);
    } catch (err) {
      throw new ConfigError(file, 'amqp', key, v, (err as Error).message);
    }
  }, parseSecondsMs, parseUrl);
  const required: [string, string, string][] = [
    ['url', amqp.url, 'amqp://user:password@host:port/vhost or amqps://…'],
    ['exchange', amqp.exchange, 'the exchange to publish to'],
    ['queue', amqp.queue, 'the queue the heartbeats go to'],
    ['components', amqp.components, 'the path of pipeline-heartbeat\'s publisher JSON'],
  ];
  for (const [key, value, allowed] of required) if (!value) throw new ConfigError(file, 'amqp', key, undefined, `required by gobearmon publish; allowed: ${allowed}`);
  let components: ComponentsFile;
  try {
    components = parseComponentsFile(readFileSync(amqp.components, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, 'amqp', 'components', amqp.components, `allowed: pipeline-heartbeat's publisher JSON; ${(err as Error).message}`);
  }
  return { amqp, components };
}

export const publishCommand: Command = {
  name: 'publish',
  summary: 'publish pipeline-heartbeat heartbeats to RabbitMQ every interval',
  usage,
  async run(args) {
    const { positionals, flags } = parseArgs(args, { values: ['config'] });
    if (!flags.config || positionals.length) throw new UsageError('publish takes exactly --config FILE');
    const { amqp, components } = loadPublishConfig(flags.config);
    const log = createLogger(false, 'publisher');
    const publisher = new HeartbeatPublisher(amqp, components, hostname(), log);
    const stop = new AbortController();
    const onSignal = (signal: string) => {
      log.info({ event: 'shutdown', signal }, 'stopping');
      stop.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await publisher.run(stop.signal);
    return 0;
  },
};
