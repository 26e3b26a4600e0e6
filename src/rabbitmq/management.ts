/**
 * One read of the RabbitMQ management HTTP API: `GET /api/queues/<vhost>/<queue>` with basic auth,
 * a deadline, and TLS verification unless `insecure` (the http check's agents). Throws a readable
 * Error for everything but a 200 with a JSON object.
 */
import { request } from 'undici';
import { agentFor } from '../checks/http';
import { lookupBudgetMs } from '../checks/types';
import type { HostResolver } from '../net/resolver';

export interface ManagementTarget {
  /** Base URL of the management API, e.g. http://127.0.0.1:15672 (a trailing /api is tolerated). */
  url: string;
  vhost: string;
  queue: string;
  username: string;
  password: string;
  timeoutMs: number;
  insecure: boolean;
}

export interface QueueConsumer {
  tag: string;
  /** `up`, or `single_active`/`waiting` etc.; the API leaves it out on brokers before 3.7 (taken as up). */
  activity: string;
}

export interface QueueInfo {
  consumers: QueueConsumer[];
  messagesReady: number | null;
  messagesUnacknowledged: number | null;
}

/** The queue is missing (404): a result, not a transport error. */
export class QueueMissing extends Error {}

const MAX_BODY = 4 * 1024 * 1024;

export function queueUrl(t: Pick<ManagementTarget, 'url' | 'vhost' | 'queue'>): string {
  const base = t.url.replace(/\/+$/, '').replace(/\/api$/, '');
  return `${base}/api/queues/${encodeURIComponent(t.vhost)}/${encodeURIComponent(t.queue)}`;
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function readQueueInfo(json: unknown): QueueInfo {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('the management API answered something other than a JSON object');
  const o = json as Record<string, unknown>;
  const details = Array.isArray(o.consumer_details) ? o.consumer_details : [];
  const consumers = details.flatMap((d): QueueConsumer[] => {
    if (typeof d !== 'object' || d === null) return [];
    const c = d as Record<string, unknown>;
    if (typeof c.consumer_tag !== 'string') return [];
    return [{ tag: c.consumer_tag, activity: typeof c.activity_status === 'string' ? c.activity_status : 'up' }];
  });
  return { consumers, messagesReady: numberOrNull(o.messages_ready), messagesUnacknowledged: numberOrNull(o.messages_unacknowledged) };
}

/** `resolver` looks up the API's host name (the worker's, off libuv's thread pool). */
export async function fetchQueue(t: ManagementTarget, resolver: HostResolver): Promise<QueueInfo> {
  const url = queueUrl(t);
  const auth = Buffer.from(`${t.username}:${t.password}`).toString('base64');
  const res = await request(url, {
    dispatcher: agentFor(resolver, t.insecure, lookupBudgetMs(t.timeoutMs)),
    reset: true,
    headers: { authorization: `Basic ${auth}`, accept: 'application/json', 'user-agent': 'gobearmon' },
    signal: AbortSignal.timeout(t.timeoutMs),
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) {
      res.body.destroy();
      throw new Error(`the management API answer is larger than ${MAX_BODY} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (res.statusCode === 404) throw new QueueMissing(`queue ${JSON.stringify(t.queue)} does not exist in vhost ${JSON.stringify(t.vhost)}`);
  if (res.statusCode === 401) throw new Error(`the management API refused the credentials of user ${JSON.stringify(t.username)} (401)`);
  if (res.statusCode !== 200) throw new Error(`the management API answered ${res.statusCode}: ${text.slice(0, 200).trim()}`);
  try {
    return readQueueInfo(JSON.parse(text));
  } catch (err) {
    throw new Error(`bad answer from the management API: ${(err as Error).message}`);
  }
}
