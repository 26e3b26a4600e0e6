/**
 * `--push URL`: each check result goes to a gobearmon push check as an exit-status ping
 * (`URL/0` success, `URL/N` failure with the output's tail as the body, SPEC §8.2). Pings are sent
 * one at a time in order; a receiver that is down costs an ERR log line, never the supervisor.
 */

/** The push API keeps 10 kB of a body; the tail is what explains a failure. */
const BODY_TAIL = 10 * 1024;
const TIMEOUT_MS = 5_000;
/** Pings waiting while the receiver is slow; beyond this the oldest are dropped (and that is logged). */
const MAX_QUEUE = 100;

export class PushSender {
  private queue: { code: number; body: string }[] = [];
  private sending?: Promise<void>;

  constructor(
    private readonly baseUrl: string,
    private readonly onError: (text: string) => void,
  ) {}

  send(code: number, output: string): void {
    const bytes = Buffer.from(output, 'utf8');
    const body = bytes.length > BODY_TAIL ? bytes.subarray(bytes.length - BODY_TAIL).toString('utf8') : output;
    this.queue.push({ code: Math.max(0, Math.min(255, code)), body });
    if (this.queue.length > MAX_QUEUE) {
      this.queue.shift();
      this.onError(`the push receiver is behind; dropped the oldest result (${MAX_QUEUE} waiting)`);
    }
    this.sending ??= this.pump().finally(() => (this.sending = undefined));
  }

  /** Waits for the queue to empty, at most `ms`. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.sending, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  private async pump(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      const url = `${this.baseUrl}/${next.code}`;
      try {
        const res = await fetch(url, { method: 'POST', body: next.body, headers: { 'content-type': 'text/plain; charset=utf-8' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
        await res.arrayBuffer();
        if (!res.ok) this.onError(`push to ${url} answered ${res.status}`);
      } catch (err) {
        this.onError(`push to ${url} failed: ${(err as Error).message}`);
      }
    }
  }
}
