/**
 * Talking to the broker, shared by the publisher and the worker's consumer: connecting (amqps with
 * `[amqp] ca`), and declaring the exchange, queue and binding when missing (SPEC §10.2).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import amqp from 'amqplib';
import { brokerParts, type AmqpConfig } from './config';

export type Connection = amqp.ChannelModel;

/** `name` shows as the connection's name in the management UI (who is connected, and which to kill in a test). */
export async function connectBroker(cfg: AmqpConfig, name: string, timeoutMs = 10_000): Promise<Connection> {
  const { host, tls } = brokerParts(cfg.url);
  const socketOptions: Record<string, unknown> = { timeout: timeoutMs, clientProperties: { connection_name: name } };
  if (tls) {
    // SNI carries names only (RFC 6066); an IP address is verified against the certificate's IP SANs.
    if (!isIP(host)) socketOptions.servername = host;
    if (cfg.ca) socketOptions.ca = [readFileSync(cfg.ca)];
  }
  return amqp.connect(cfg.url, socketOptions);
}

/**
 * The exchange is declared (topic, durable, as the original's commented-out line) only when it does
 * not exist, so an existing exchange of another type is used as it is; queue (durable) and binding
 * are asserted, which is idempotent.
 */
export async function declareTopology(conn: Connection, cfg: AmqpConfig): Promise<void> {
  const probe = await conn.createChannel();
  let exists = true;
  // A failed check closes its channel with a 404; that error is the answer, not a fault.
  probe.on('error', () => undefined);
  try {
    await probe.checkExchange(cfg.exchange);
  } catch {
    exists = false;
  }
  await probe.close().catch(() => undefined);
  const ch = await conn.createChannel();
  try {
    if (!exists) await ch.assertExchange(cfg.exchange, 'topic', { durable: true });
    await ch.assertQueue(cfg.queue, { durable: true });
    await ch.bindQueue(cfg.queue, cfg.exchange, cfg.routingKey);
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** 1 s, 2 s, 4 s … up to 30 s, with ±20% jitter so several nodes do not reconnect in step. */
export function reconnectDelayMs(attempt: number, random = Math.random): number {
  const base = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5));
  return Math.round(base * (0.8 + 0.4 * random()));
}
