/**
 * The worker side of heartbeats over AMQP (SPEC §10.2): consumes `[amqp] queue` with manual
 * acknowledgement and a prefetch, turns each heartbeat into pings of push checks named
 * `<prefix><publisher>` (success) and `<prefix><component>` (success or failure), created when missing
 * with a period of 3 × the publisher's interval, and acknowledges a message only once its pings are
 * durable. A malformed message is logged, counted and acknowledged: it is never redelivered forever.
 * Several nodes consuming the same queue share the work; unacked messages of a node that dies go back
 * to the queue.
 */
import type { ConsumeMessage } from 'amqplib';
import type { PingRequest, PingResult } from '../push/ingest';
import type { Logger } from '../util/log';
import { abortableSleep } from '../util/sleep';
import { connectBroker, declareTopology, reconnectDelayMs } from './broker';
import type { AmqpConfig } from './config';
import { heartbeatTime, readHeartbeat, type HeartbeatPings } from './heartbeat';

/** The part of PingIngest the consumer needs. */
export interface PingSink {
  record(pings: PingRequest[]): Promise<PingResult[]>;
}

/** Heartbeats in flight per node (unacked); the rest wait in the broker for this or another node. */
export const PREFETCH = 20;
/** A publisher without `interval` in its messages (the original) is taken to beat every minute. */
const DEFAULT_INTERVAL_S = 60;
/** Longest push check name the ping API accepts. */
const MAX_NAME = 64;

/** The pings for one heartbeat (pure). */
export function pingsFor(hb: HeartbeatPings, prefix: string, receivedAt: number, messageId = ''): PingRequest[] {
  const create = { periodS: Math.max(1, Math.round(3 * hb.intervalS)) };
  const name = (n: string) => `${prefix}${n}`.slice(0, MAX_NAME);
  const publisher: PingRequest = {
    target: { name: name(hb.publisher), create }, kind: 'success', route: 'amqp',
    body: `heartbeat${messageId ? ` ${messageId}` : ''} with ${hb.components.length} component(s), received ${heartbeatTime(receivedAt)}`,
  };
  return [
    publisher,
    ...hb.components.map((c): PingRequest => ({
      target: { name: name(c.name), create },
      kind: c.ok ? 'success' : 'fail',
      route: 'amqp',
      body: c.ok ? `ok (heartbeat from ${hb.publisher})` : `not_ok in the heartbeat from ${hb.publisher}`,
    })),
  ];
}

export class HeartbeatConsumer {
  readonly counters = { heartbeats: 0, malformed: 0, pings: 0, storeRetries: 0 };
  private readonly stop = new AbortController();
  private running?: Promise<void>;

  constructor(
    private readonly cfg: AmqpConfig,
    private readonly sink: PingSink,
    private readonly node: string,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Stops consuming; unacked messages go back to the queue when the connection closes. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    const stop = this.stop.signal;
    while (!stop.aborted) {
      let conn: Awaited<ReturnType<typeof connectBroker>> | undefined;
      try {
        conn = await connectBroker(this.cfg, `gobearmon worker ${this.node}`);
        const lost = new Promise<void>((resolve) => conn!.once('close', () => resolve()));
        conn.on('error', (err: Error) => this.log.warn({ event: 'amqp_error', err: err.message }, 'broker connection error'));
        await declareTopology(conn, this.cfg);
        const channel = await conn.createChannel();
        channel.on('error', (err: Error) => this.log.warn({ event: 'amqp_channel_error', err: err.message }, 'channel error'));
        await channel.prefetch(PREFETCH);
        let channelOpen = true;
        channel.once('close', () => (channelOpen = false));
        await channel.consume(this.cfg.queue, (msg) => {
          if (msg) void this.handle(msg, () => channelOpen && !stop.aborted).then((ack) => {
            if (ack && channelOpen) channel.ack(msg);
          });
        }, { noAck: false, consumerTag: `gobearmon-${this.node}-${process.pid}` });
        attempt = 0;
        this.log.info({ event: 'amqp_consuming', queue: this.cfg.queue }, 'consuming heartbeats');
        await Promise.race([lost, new Promise<void>((r) => stop.addEventListener('abort', () => r(), { once: true }))]);
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

  /** Resolves true when the message may be acknowledged; false when it must stay unacked (we are stopping). */
  private async handle(msg: ConsumeMessage, stillWanted: () => boolean): Promise<boolean> {
    let hb: HeartbeatPings;
    try {
      hb = readHeartbeat(msg.content, DEFAULT_INTERVAL_S);
    } catch (err) {
      this.counters.malformed++;
      this.log.warn({
        event: 'heartbeat_malformed', err: (err as Error).message, bytes: msg.content.length,
        head: msg.content.subarray(0, 200).toString('utf8'), malformed: this.counters.malformed,
      }, 'malformed heartbeat dropped (acknowledged)');
      return true;
    }
    const messageId = typeof msg.properties.messageId === 'string' ? msg.properties.messageId.slice(0, 200) : '';
    const pings = pingsFor(hb, this.cfg.prefix, this.clock(), messageId);
    for (let attempt = 0; stillWanted(); attempt++) {
      try {
        const results = await this.sink.record(pings);
        const refused = results.map((r, i) => ({ r, i })).filter(({ r }) => r.status === 404);
        for (const { r, i } of refused) {
          const target = pings[i].target;
          this.log.warn({ event: 'heartbeat_ping_refused', name: 'name' in target ? target.name : '', reason: (r as { reason: string }).reason }, 'a heartbeat ping was refused');
        }
        this.counters.heartbeats++;
        this.counters.pings += pings.length;
        return true;
      } catch (err) {
        this.counters.storeRetries++;
        if (attempt % 10 === 0) this.log.warn({ event: 'heartbeat_store_error', err: (err as Error).message, attempt }, 'cannot record a heartbeat yet; holding it unacked');
        await abortableSleep(Math.min(5_000, 200 * 2 ** Math.min(attempt, 5)), this.stop.signal);
      }
    }
    return false;
  }
}
