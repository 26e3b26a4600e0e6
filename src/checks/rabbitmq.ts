/**
 * `rabbitmq`: asks the management API about one queue and is online when the queue exists, every
 * pattern of `consumers` has a live consumer whose tag it matches, and `messages_ready` ≤ `max_ready`
 * when set (SPEC §10.1, pipeline-heartbeat's listener rule).
 */
import { compilePatterns, judgeQueue } from '../rabbitmq/judge';
import { fetchQueue, QueueMissing, type ManagementTarget } from '../rabbitmq/management';
import { errorText, kind, object, optionalBool, optionalNumber, optionalString, requiredString, since, timeoutSeconds } from './params';
import { ParamError, resolverOf, type CheckContext, type CheckResult, type CheckType, type ParamSpec } from './types';

interface RabbitmqParams {
  target: ManagementTarget;
  patterns: string[];
  regexes: RegExp[];
  maxReady: number | null;
}

function parse(data: unknown): RabbitmqParams {
  const o = object(data);
  const url = requiredString(o, 'url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ParamError(`parameter "url" must be the management API's base URL such as http://127.0.0.1:15672, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ParamError(`parameter "url" must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
  const raw = o.consumers ?? [];
  if (!Array.isArray(raw)) throw new ParamError(`parameter "consumers" must be an array of regular expressions, got ${kind(raw)}`);
  const patterns = raw.map((p, i) => {
    if (typeof p !== 'string') throw new ParamError(`parameter "consumers" entry ${i} must be a string, got ${kind(p)}`);
    return p;
  });
  let regexes: RegExp[];
  try {
    regexes = compilePatterns(patterns);
  } catch (err) {
    throw new ParamError(`parameter "consumers" holds an invalid regular expression: ${(err as Error).message}`);
  }
  const maxReady = o.max_ready === undefined || o.max_ready === null ? null : optionalNumber(o, 'max_ready');
  if (maxReady !== null && (maxReady < 0 || !Number.isInteger(maxReady))) throw new ParamError(`parameter "max_ready" must be a whole number from 0, got ${maxReady}`);
  return {
    target: {
      url,
      vhost: optionalString(o, 'vhost', '/') || '/',
      queue: requiredString(o, 'queue'),
      username: optionalString(o, 'username', 'guest'),
      password: optionalString(o, 'password', 'guest'),
      timeoutMs: timeoutSeconds(o) * 1000,
      insecure: optionalBool(o, 'insecure'),
    },
    patterns,
    regexes,
    maxReady,
  };
}

async function run(p: RabbitmqParams, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  const { queue } = p.target;
  try {
    const info = await fetchQueue(p.target, resolverOf(ctx));
    const verdict = judgeQueue(info, p.patterns, p.regexes, p.maxReady);
    const facts = {
      consumers: info.consumers.map((c) => c.tag),
      consumersUp: info.consumers.filter((c) => c.activity === 'up').length,
      messagesReady: info.messagesReady,
      messagesUnacknowledged: info.messagesUnacknowledged,
      ...(verdict.missing.length ? { missing: verdict.missing } : {}),
    };
    const problems = [
      ...(verdict.missing.length ? [`no live consumer matches ${verdict.missing.map((m) => JSON.stringify(m)).join(', ')}`] : []),
      ...(verdict.backedUp ? [`${info.messagesReady} messages ready, above max_ready ${p.maxReady}`] : []),
    ];
    const message = problems.length
      ? `queue ${queue}: ${problems.join('; ')}`
      : `queue ${queue}: ${info.consumers.length} consumer(s), ${info.messagesReady ?? '?'} message(s) ready`;
    return { status: verdict.ok ? 'online' : 'offline', message, durationMs: since(t0), facts };
  } catch (err) {
    const message = err instanceof QueueMissing ? err.message : `error asking the management API: ${errorText(err)}`;
    return { status: 'offline', message, durationMs: since(t0) };
  }
}

/** The parameters `parse` reads (flags of `gobearmon check add rabbitmq`). */
export const PARAMS: readonly ParamSpec[] = [
  { key: 'url', kind: 'string', required: true, help: "management API base URL, e.g. http://127.0.0.1:15672" },
  { key: 'queue', kind: 'string', required: true, help: 'queue name' },
  { key: 'vhost', kind: 'string', help: 'virtual host (default /)' },
  { key: 'username', kind: 'string', help: 'management user (default guest)' },
  { key: 'password', kind: 'string', help: 'management password (default guest)' },
  { key: 'timeout', kind: 'number', help: 'seconds, clamped to 3..30 (default 10)' },
  { key: 'insecure', kind: 'bool', help: 'do not verify the TLS certificate' },
  { key: 'consumers', kind: 'list', help: 'regular expression a consumer tag must match (repeatable)' },
  { key: 'max_ready', kind: 'number', help: 'offline above this many ready messages' },
];

export const rabbitmqCheck: CheckType<RabbitmqParams> = { name: 'rabbitmq', params: PARAMS, parse, run };
