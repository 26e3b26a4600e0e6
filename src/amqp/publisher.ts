/**
 * `gobearmon publish`: pipeline-heartbeat's publisher. Every interval it checks each host by TCP
 * connect (5 s) and each queue's listeners through the management API, and publishes one persistent
 * heartbeat (confirmed by the broker); it reconnects with backoff whenever the broker goes away.
 */
import { connect } from 'node:net';
import { HostResolver } from '../net/resolver';
import type { Logger } from '../util/log';
import { abortableSleep } from '../util/sleep';
import { connectBroker, declareTopology, reconnectDelayMs } from './broker';
import { brokerParts, type AmqpConfig } from './config';
import { buildHeartbeat, type ComponentsFile, type HeartbeatMessage } from './heartbeat';
import { compilePatterns, patternSatisfied } from '../rabbitmq/judge';
import { fetchQueue } from '../rabbitmq/management';

const HOST_TIMEOUT_MS = 5_000;

function tcpReachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: HOST_TIMEOUT_MS });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

export class HeartbeatPublisher {
  /** Heartbeats the broker confirmed. */
  published = 0;
  private readonly resolver = new HostResolver();
  private readonly bootId = Date.now().toString(36);

  constructor(
    private readonly cfg: AmqpConfig,
    private readonly components: ComponentsFile,
    private readonly name: string,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The message for now: every host and listener checked afresh. */
  async collect(): Promise<HeartbeatMessage> {
    const { vhost, username, password } = brokerParts(this.cfg.url);
    const hosts = await Promise.all(this.components.hosts.map(async (h) => ({ name: h.name, ok: await tcpReachable(h.host, h.port) })));
    const perQueue = await Promise.all(this.components.rmqConsumers.map(async (q) => {
      let info = null;
      try {
        info = await fetchQueue({ url: this.cfg.managementUrl, vhost, queue: q.queue, username, password, timeoutMs: HOST_TIMEOUT_MS, insecure: false }, this.resolver);
      } catch (err) {
        this.log.warn({ event: 'management_error', queue: q.queue, err: (err as Error).message }, 'cannot read the queue\'s consumers');
      }
      const regexes = compilePatterns(q.listeners.map((l) => l.tag));
      const services = q.listeners.map((l, i) => ({ name: l.name, ok: info !== null && patternSatisfied(regexes[i], info) }));
      return { queue: { name: q.queue, ok: services.every((s) => s.ok) }, services };
    }));
    return buildHeartbeat({
      now: this.clock(),
      publisher: this.name,
      intervalS: this.cfg.intervalMs / 1000,
      hosts,
      queues: perQueue.map((q) => q.queue),
      services: perQueue.flatMap((q) => q.services),
    });
  }

  /** Publishes until `stop` aborts; never throws. */
  async run(stop: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!stop.aborted) {
      let conn: Awaited<ReturnType<typeof connectBroker>> | undefined;
      try {
        conn = await connectBroker(this.cfg, `gobearmon publish ${this.name}`);
        let closed = false;
        const lost = new Promise<void>((resolve) => conn!.once('close', () => {
          closed = true;
          resolve();
        }));
        conn.on('error', (err: Error) => this.log.warn({ event: 'amqp_error', err: err.message }, 'broker connection error'));
        await declareTopology(conn, this.cfg);
        const channel = await conn.createConfirmChannel();
        channel.on('error', (err: Error) => this.log.warn({ event: 'amqp_channel_error', err: err.message }, 'channel error'));
        attempt = 0;
        this.log.info({ event: 'amqp_connected', exchange: this.cfg.exchange, queue: this.cfg.queue }, 'connected to the broker');
        while (!stop.aborted && !closed) {
          const message = await this.collect();
          // A unique id per heartbeat lets a consumer's records be matched to what was sent.
          const messageId = `${this.name}/${this.bootId}/${this.published + 1}`;
          channel.publish(this.cfg.exchange, this.cfg.routingKey, Buffer.from(JSON.stringify(message)), {
            persistent: true, contentType: 'application/json', timestamp: Math.floor(this.clock() / 1000), messageId,
          });
          await channel.waitForConfirms();
          this.published++;
          const notOk = [...message.hosts, ...message.rmq_consumers.services_status].filter((c) => c.status !== 'ok').map((c) => c.name);
          this.log.info({ event: 'heartbeat_published', count: this.published, messageId, not_ok: notOk }, 'heartbeat published');
          await Promise.race([abortableSleep(this.cfg.intervalMs, stop), lost]);
        }
        if (stop.aborted) {
          await conn.close().catch(() => undefined);
          break;
        }
        throw new Error('the broker closed the connection');
      } catch (err) {
        await conn?.close().catch(() => undefined);
        if (stop.aborted) break;
        const delay = reconnectDelayMs(attempt++);
        this.log.warn({ event: 'amqp_unreachable', err: (err as Error).message, retryInMs: delay }, 'broker unreachable; reconnecting');
        await abortableSleep(delay, stop);
      }
    }
  }
}
