/**
 * Pieces for in-process tests of the controller and its alert dispatcher: a Config built from INI
 * text, a logger whose JSON lines the test can read, signed requests through fastify's inject,
 * seeding of checks and contacts, and polling.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Status } from '../../src/checks/types';
import { buildConfig, parseIni } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { AUTH_HEADER, TO_HEADER, sign } from '../../src/protocol/auth';
import type { CheckRow, Store } from '../../src/store/store';
import type { Logger } from '../../src/util/log';

export const PASSWORD = 'kit-secret';

/** A worker-node Config; `sections` adds or overrides keys, e.g. `{ controller: { confirmations: '3' } }`. */
export function kitConfig(sections: Record<string, Record<string, string | number>> = {}): Config {
  const merged: Record<string, Record<string, string | number>> = {
    default: { password: PASSWORD },
    controller: { addr: '127.0.0.1:1', database: 'sqlite:/tmp/gobearmon-kit-unused.db' },
    worker: { viewAddr: '127.0.0.1:1', name: 'ctl' },
  };
  for (const [section, keys] of Object.entries(sections)) merged[section] = { ...merged[section], ...keys };
  const text = Object.entries(merged)
    .map(([section, keys]) => [`[${section}]`, ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`)].join('\n'))
    .join('\n');
  return buildConfig(parseIni(text, 'kit.cfg'), 'kit.cfg');
}

export type LogLine = Record<string, unknown> & { event?: string; msg?: string; level?: number };

/** A pino logger at debug level that keeps every line, parsed. */
export function captureLogger(): { log: Logger; lines: LogLine[]; events(event: string): LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines, events: (event) => lines.filter((l) => l.event === event) };
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

/** The headers PeerClient sends, signed for `app`'s configured address (or `to`). */
export function signedHeaders(app: FastifyInstance, method: string, path: string, payload: string, options: { password?: string; to?: string; now?: number } = {}): Record<string, string> {
  const to = options.to ?? app.nodeSelf;
  return { [AUTH_HEADER]: sign(options.password ?? PASSWORD, { method, path, to, body: payload }, options.now), [TO_HEADER]: to };
}

/** Calls a node server in-process with a request signed as PeerClient signs it. */
export function signedCaller(app: FastifyInstance, password = PASSWORD) {
  return async <T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer<T>> => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = signedHeaders(app, method, path, payload, { password });
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.inject({ method, url: path, headers, payload: body === undefined ? undefined : payload });
    return { status: res.statusCode, body: (res.body ? JSON.parse(res.body) : undefined) as T };
  };
}

export { sleep, waitFor } from './wait';

/** Inserts a check; returns it as loadChecks maps it. */
export async function addCheck(store: Store, fields: { name?: string; interval?: number; delay?: number } = {}): Promise<CheckRow> {
  const { insertId } = await store.driver.run('INSERT INTO checks (name, type, data, check_interval, delay) VALUES (?, ?, ?, ?, ?)', [
    fields.name ?? 'web', 'http', '{"url":"http://127.0.0.1:9/"}', fields.interval ?? 60, fields.delay ?? 1,
  ]);
  return (await store.loadChecks()).find((c) => c.id === insertId)!;
}

/** Inserts a contact linked to the check by an enabled alert; returns the contact id. */
export async function addContact(store: Store, checkId: number, type: string, data: string, alertType: 'both' | Status = 'both'): Promise<number> {
  const { insertId } = await store.driver.run('INSERT INTO contacts (type, data) VALUES (?, ?)', [type, data]);
  await store.driver.run('INSERT INTO alerts (check_id, contact_id, type) VALUES (?, ?, ?)', [checkId, insertId, alertType]);
  return insertId;
}

export async function count(store: Store, table: string, where = '1 = 1', params: (string | number)[] = []): Promise<number> {
  return Number((await store.driver.all(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params))[0].n);
}

export async function statusOf(store: Store, checkId: number): Promise<string> {
  return String((await store.driver.all('SELECT status FROM checks WHERE id = ?', [checkId]))[0].status);
}

export interface SelectiveWebhook {
  url: string;
  /** Every form received, in order, with the code it was answered with. */
  requests: { form: URLSearchParams; key: string; code: number }[];
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that answers each request with the code `codeFor` picks for its form. */
export async function startSelectiveWebhook(codeFor: (form: URLSearchParams) => number): Promise<SelectiveWebhook> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const code = codeFor(form);
      hook.requests.push({ form, key: String(req.headers['idempotency-key'] ?? ''), code });
      res.writeHead(code, { 'content-type': 'text/plain' }).end(`status ${code}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const hook: SelectiveWebhook = {
    url: `http://127.0.0.1:${port}/hook`,
    requests: [],
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return hook;
}
