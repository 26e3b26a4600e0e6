/** Signed JSON requests to other nodes over undici, one keep-alive pool per peer. */
import { Agent, request } from 'undici';
import { sign } from './auth';

export class PeerError extends Error {
  constructor(message: string, readonly statusCode?: number, readonly body?: unknown) {
    super(message);
    this.name = 'PeerError';
  }
}

export class PeerClient {
  private readonly agent = new Agent({ keepAliveTimeout: 60_000, connections: 8, connectTimeout: 2_000 });

  constructor(private readonly password: string) {}

  /** POSTs `body` (or GETs when undefined) to http://addr/path; resolves to the parsed JSON answer. */
  async call<T>(addr: string, path: string, body: unknown, options: { timeoutMs: number; signal?: AbortSignal }): Promise<T> {
    const method = body === undefined ? 'GET' : 'POST';
    const payload = body === undefined ? '' : JSON.stringify(body);
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
    let res;
    try {
      res = await request(`http://${addr}${path}`, {
        method,
        body: body === undefined ? undefined : payload,
        headers: { 'content-type': 'application/json', 'x-gobearmon-auth': sign(this.password, method, path, payload) },
        dispatcher: this.agent,
        signal,
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
      const reason = (parsed as { error?: string } | undefined)?.error ?? text.slice(0, 200);
      throw new PeerError(`${method} ${addr}${path}: HTTP ${res.statusCode}: ${reason}`, res.statusCode, parsed);
    }
    return parsed as T;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Dials a config address: `:port` means this host. */
export function dialAddr(addr: string): string {
  return addr.startsWith(':') ? `127.0.0.1${addr}` : addr;
}
