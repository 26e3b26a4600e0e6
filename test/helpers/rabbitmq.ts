/**
 * The real RabbitMQ broker of the test machines (127.0.0.1:5672 guest/guest, management API on 15672):
 * throwaway vhosts and unique queue names, made and deleted through the management API.
 */
import { randomBytes } from 'node:crypto';

export const AMQP_HOST = '127.0.0.1';
export const AMQP_PORT = 5672;
export const MANAGEMENT_URL = 'http://127.0.0.1:15672';
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

export async function management(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${MANAGEMENT_URL}/api/${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status >= 400 && !(method === 'DELETE' && res.status === 404)) throw new Error(`${method} /api/${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** A new vhost that guest may use fully; returns its name. */
export async function createVhost(prefix = 'gbm'): Promise<string> {
  const vhost = uniqueName(prefix);
  await management('PUT', `vhosts/${encodeURIComponent(vhost)}`);
  await management('PUT', `permissions/${encodeURIComponent(vhost)}/guest`, { configure: '.*', write: '.*', read: '.*' });
  return vhost;
}

export async function deleteVhost(vhost: string): Promise<void> {
  await management('DELETE', `vhosts/${encodeURIComponent(vhost)}`);
}

export async function deleteQueue(vhost: string, queue: string): Promise<void> {
  await management('DELETE', `queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`);
}

export function amqpUrl(vhost: string, user = 'guest', password = 'guest'): string {
  return `amqp://${user}:${password}@${AMQP_HOST}:${AMQP_PORT}/${encodeURIComponent(vhost)}`;
}
