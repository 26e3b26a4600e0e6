/**
 * pipeline-heartbeat's publisher file and message, pure (SPEC §10.2). The message keeps the original
 * shape (`status`, `service`, `timestamp`, `hosts`, `rmq_consumers.{queues_status,services_status}`,
 * components `{name, status: ok|not_ok, timestamp}`); we add `publisher` (its name) and `interval`
 * (seconds) so a consumer can name and time the publisher's push check. Original consumers ignore them.
 */

export interface ComponentsFile {
  hosts: { host: string; port: number; name: string }[];
  rmqConsumers: { queue: string; listeners: { tag: string; name: string }[] }[];
}

export type ComponentStatus = 'ok' | 'not_ok';

export interface Component {
  name: string;
  status: ComponentStatus;
  timestamp: string;
}

export interface HeartbeatMessage {
  status: 'heartbeat';
  service: string;
  timestamp: string;
  publisher?: string;
  interval?: number;
  hosts: Component[];
  rmq_consumers: { queues_status: Component[]; services_status: Component[] };
}

/** The original's `%Y-%m-%d %H:%M:%S %Z` in UTC. */
export function heartbeatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates the publisher JSON; throws an Error naming the bad entry. */
export function parseComponentsFile(text: string): ComponentsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  if (!isObj(json) || !isObj(json.heartbeat)) throw new Error('expected {"heartbeat": {"hosts": [...], "rmq_consumers": [...]}}');
  const hb = json.heartbeat;
  const list = (key: string): unknown[] => {
    const v = hb[key] ?? [];
    if (!Array.isArray(v)) throw new Error(`heartbeat.${key} must be an array`);
    return v;
  };
  const hosts = list('hosts').map((h, i) => {
    if (!isObj(h) || typeof h.host !== 'string' || !h.host) throw new Error(`heartbeat.hosts[${i}] needs a "host"`);
    const port = Number(h.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`heartbeat.hosts[${i}].port must be a port number, got ${JSON.stringify(h.port)}`);
    return { host: h.host, port, name: typeof h.name === 'string' && h.name ? h.name : h.host };
  });
  const rmqConsumers = list('rmq_consumers').map((q, i) => {
    if (!isObj(q) || typeof q.queue !== 'string' || !q.queue) throw new Error(`heartbeat.rmq_consumers[${i}] needs a "queue"`);
    const listeners = (Array.isArray(q.listeners) ? q.listeners : []).map((l: unknown, j: number) => {
      if (!isObj(l) || typeof l.tag !== 'string') throw new Error(`heartbeat.rmq_consumers[${i}].listeners[${j}] needs a "tag"`);
      try {
        new RegExp(l.tag);
      } catch (err) {
        throw new Error(`heartbeat.rmq_consumers[${i}].listeners[${j}].tag is not a valid regular expression: ${(err as Error).message}`);
      }
      return { tag: l.tag, name: typeof l.name === 'string' && l.name ? l.name : l.tag };
    });
    return { queue: q.queue, listeners };
  });
  return { hosts, rmqConsumers };
}

export function buildHeartbeat(opts: {
  now: number;
  publisher: string;
  intervalS: number;
  hosts: { name: string; ok: boolean }[];
  queues: { name: string; ok: boolean }[];
  services: { name: string; ok: boolean }[];
}): HeartbeatMessage {
  const ts = heartbeatTime(opts.now);
  const component = (c: { name: string; ok: boolean }): Component => ({ name: c.name, status: c.ok ? 'ok' : 'not_ok', timestamp: ts });
  return {
    status: 'heartbeat',
    service: 'publisher',
    timestamp: ts,
    publisher: opts.publisher,
    interval: opts.intervalS,
    hosts: opts.hosts.map(component),
    rmq_consumers: { queues_status: opts.queues.map(component), services_status: opts.services.map(component) },
  };
}

/** What a consumer makes of one message: the publisher's ping, then one per component. */
export interface HeartbeatPings {
  publisher: string;
  intervalS: number;
  components: { name: string; ok: boolean }[];
}

/** Reads a message body; throws an Error saying what is wrong (a malformed message). */
export function readHeartbeat(body: Buffer, defaultIntervalS: number): HeartbeatPings {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  if (!isObj(json) || json.status !== 'heartbeat') throw new Error('not a heartbeat (expected "status": "heartbeat")');
  const publisher = typeof json.publisher === 'string' && json.publisher ? json.publisher : typeof json.service === 'string' && json.service ? json.service : 'publisher';
  const intervalS = typeof json.interval === 'number' && json.interval > 0 && json.interval < 86_400 * 7 ? json.interval : defaultIntervalS;
  const componentsOf = (v: unknown, where: string): { name: string; ok: boolean }[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new Error(`${where} must be an array`);
    return v.map((c, i) => {
      if (!isObj(c) || typeof c.name !== 'string' || !c.name) throw new Error(`${where}[${i}] needs a "name"`);
      if (c.status !== 'ok' && c.status !== 'not_ok') throw new Error(`${where}[${i}].status must be "ok" or "not_ok", got ${JSON.stringify(c.status)}`);
      return { name: c.name, ok: c.status === 'ok' };
    });
  };
  const rmq = json.rmq_consumers;
  if (rmq !== undefined && !isObj(rmq)) throw new Error('rmq_consumers must be an object');
  return {
    publisher,
    intervalS,
    components: [
      ...componentsOf(json.hosts, 'hosts'),
      ...componentsOf(rmq?.queues_status, 'rmq_consumers.queues_status'),
      ...componentsOf(rmq?.services_status, 'rmq_consumers.services_status'),
    ],
  };
}
