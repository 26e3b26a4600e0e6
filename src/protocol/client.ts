/** Signed JSON requests to other nodes over undici, one keep-alive pool per peer. */
import { Agent, request } from 'undici';
import { AUTH_HEADER, TO_HEADER, sign } from './auth';

export class PeerError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly body?: unknown,
    /** Set when the peer refused us for clock skew: its clock minus ours, in ms. */
    readonly skewMs?: number,
  ) {
    super(message);
    this.name = 'PeerError';
  }
}

export interface PeerClientOptions {
  /** This node's clock (tests inject a skewed one). */
  clock?: () => number;
}

export class PeerClient {
  private readonly agent = new Agent({ keepAliveTimeout: 60_000, connections: 8, connectTimeout: 2_000 });
  private readonly clock: () => number;

  constructor(private readonly password: string, options: PeerClientOptions = {}) {
    this.clock = options.clock ?? Date.now;
  }

  /**
   * POSTs `body` (or GETs when undefined) to http://addr/path; resolves to the parsed JSON answer.
   * The signature names `addr`, so the request is good for that node only.
   */
  async call<T>(addr: string, path: string, body: unknown, options: { timeoutMs: number; signal?: AbortSignal }): Promise<T> {
    const method = body === undefined ? 'GET' : 'POST';
    const payload = body === undefined ? '' : JSON.stringify(body);
    // No AbortSignal.any: combined with a long-lived signal it leaks a little per call on Node 20.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`timed out after ${options.timeoutMs / 1000} s`)), options.timeoutMs);
    const outer = options.signal;
    const onAbort = () => ac.abort(outer?.reason);
    if (outer?.aborted) onAbort();
    else outer?.addEventListener('abort', onAbort, { once: true });
    try {
      let res;
      try {
        res = await request(`http://${addr}${path}`, {
          method,
          body: body === undefined ? undefined : payload,
          headers: {
            'content-type': 'application/json',
            [AUTH_HEADER]: sign(this.password, { method, path, to: addr, body: payload }, this.clock()),
            [TO_HEADER]: addr,
          },
          dispatcher: this.agent,
          signal: ac.signal,
        });
      } catch (err) {
        throw new PeerError(`${method} ${addr}${path}: ${(err as Error).message}`);
      }
      const text = await res.body.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // a non-JSON answer is reported below by status
      }
      if (res.statusCode >= 300) {
        const answer = parsed as { error?: string; reason?: string; serverTime?: number } | undefined;
        const reason = answer?.error ?? text.slice(0, 200);
        const skewMs = res.statusCode === 401 && answer?.reason === 'skew' && typeof answer.serverTime === 'number' ? answer.serverTime - this.clock() : undefined;
        throw new PeerError(`${method} ${addr}${path}: HTTP ${res.statusCode}: ${reason}`, res.statusCode, parsed, skewMs);
      }
      return parsed as T;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Dials a config address: `:port` means this host. */
export function dialAddr(addr: string): string {
  return addr.startsWith(':') ? `127.0.0.1${addr}` : addr;
}
