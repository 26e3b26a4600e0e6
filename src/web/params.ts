/** Query and path parameters of the web routes: parsed or refused with a 400 that says why. */
import { parseTags, type CheckFilter, type WebStatus } from './model';

export class BadRequest extends Error {
  readonly statusCode = 400;
}

type Query = Record<string, unknown>;

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function single(q: Query, key: string): string | undefined {
  const v = list(q[key]);
  if (v.length > 1) throw new BadRequest(`parameter "${key}" given more than once`);
  return v[0] === '' ? undefined : v[0];
}

export function parseId(v: string): number {
  if (!/^\d{1,10}$/.test(v) || Number(v) < 1 || Number(v) > 2_147_483_647) throw new BadRequest(`check id must be a positive whole number, got ${JSON.stringify(v.slice(0, 40))}`);
  return Number(v);
}

export function intParam(q: Query, key: string, dflt: number, min: number, max: number): number {
  const v = single(q, key);
  if (v === undefined) return dflt;
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new BadRequest(`parameter "${key}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(v.slice(0, 40))}`);
  return Number(v);
}

const STATUSES: WebStatus[] = ['online', 'offline', 'paused'];

/** tag=a&tag=b and/or tags="a b,c"; status; type; q (name search). */
export function parseFilter(q: Query): CheckFilter {
  const tags = parseTags([...list(q.tag), ...list(q.tags)].join(' '));
  const status = single(q, 'status');
  if (status !== undefined && !STATUSES.includes(status as WebStatus)) throw new BadRequest(`parameter "status" must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(status.slice(0, 40))}`);
  const type = single(q, 'type');
  if (type !== undefined && !/^[a-z0-9_-]{1,16}$/i.test(type)) throw new BadRequest('parameter "type" must be a check type such as http, tcp, dns, push');
  const search = single(q, 'q');
  if (search !== undefined && search.length > 64) throw new BadRequest('parameter "q" must be at most 64 characters');
  return { tags, status: status as WebStatus | undefined, type, q: search };
}

export const unknownParams = (q: Query, allowed: string[]): void => {
  const extra = Object.keys(q).filter((k) => !allowed.includes(k));
  if (extra.length) throw new BadRequest(`unknown parameter ${JSON.stringify(extra[0])}; allowed: ${allowed.join(', ')}`);
};
