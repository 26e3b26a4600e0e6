/**
 * The `[amqp]` section (SPEC §10.2), shared by worker nodes (the heartbeat consumer) and
 * `gobearmon publish`: broker URL, exchange, routing key, queue, CA file, name prefix, interval,
 * the publisher's components file and the management API URL.
 */
import { readFileSync } from 'node:fs';

export interface AmqpConfig {
  /** amqp:// or amqps:// URL with user, password and vhost; '' = no AMQP. */
  url: string;
  exchange: string;
  routingKey: string;
  queue: string;
  /** PEM file of the CA that signed the broker's certificate (amqps). */
  ca: string;
  /** Put before the publisher's and each component's name to make push check names. */
  prefix: string;
  intervalMs: number;
  /** pipeline-heartbeat's publisher JSON (publish only). */
  components: string;
  managementUrl: string;
}

/** One value reader per key, as buildConfig's `read`: returns the default when absent, throws ConfigError otherwise. */
export type Reader = <T>(key: string, dflt: T, parse: (v: string) => T) => T;

export function parseAmqpUrl(v: string): string {
  const s = v.trim();
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error('allowed: amqp://user:password@host:port/vhost or amqps://…');
  }
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') throw new Error('allowed: amqp://user:password@host:port/vhost or amqps://…');
  if (!u.hostname) throw new Error('allowed: a URL with a host, amqp://user:password@host:port/vhost');
  return s;
}

function readableFile(v: string): string {
  const s = v.trim();
  try {
    readFileSync(s);
  } catch (err) {
    throw new Error(`allowed: a readable file (${(err as Error).message})`);
  }
  return s;
}

function name(v: string): string {
  const s = v.trim();
  if (!s || s.length > 255) throw new Error('allowed: a name of 1 to 255 characters');
  return s;
}

/** The vhost an AMQP URL names ('/' when its path is empty), and its credentials (guest/guest by default, as amqplib). */
export function brokerParts(url: string): { host: string; vhost: string; username: string; password: string; tls: boolean } {
  const u = new URL(url);
  const path = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname,
    vhost: path === '' ? '/' : decodeURIComponent(path),
    username: u.username ? decodeURIComponent(u.username) : 'guest',
    password: u.password ? decodeURIComponent(u.password) : 'guest',
    tls: u.protocol === 'amqps:',
  };
}

export function readAmqpSection(read: Reader, parseSecondsMs: (v: string, min: number, max: number) => number, parseUrl: (v: string) => string): AmqpConfig {
  const url = read('url', '', parseAmqpUrl);
  const queue = read('queue', '', name);
  const host = url ? new URL(url).hostname : '127.0.0.1';
  return {
    url,
    exchange: read('exchange', '', name),
    // As the original: the routing key falls back to the queue's name.
    routingKey: read('routingkey', '', name) || queue,
    queue,
    ca: read('ca', '', readableFile),
    prefix: read('prefix', '', (v) => v),
    intervalMs: read('interval', 60_000, (v) => parseSecondsMs(v, 0.1, 86_400)),
    components: read('components', '', readableFile),
    managementUrl: read('managementurl', `http://${host.includes(':') ? `[${host}]` : host}:15672`, parseUrl),
  };
}

export const AMQP_KEYS = ['url', 'exchange', 'routingkey', 'queue', 'ca', 'prefix', 'interval', 'components', 'managementurl'] as const;
