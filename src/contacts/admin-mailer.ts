/**
 * Trouble mails to `[smtp] admin` that are not lost quietly: a failed send is logged with its cause
 * and tried again after growing waits; when the last try fails, that is logged as an error too.
 * Never rejects, so callers can fire and forget.
 */
import type { Logger } from '../util/log';

export type MailFn = (subject: string, body: string) => Promise<void>;

/** Waits before each retry (so four tries in all, over about eleven minutes). */
export const ADMIN_MAIL_RETRY_MS = [30_000, 120_000, 480_000];

export class AdminMailer {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly mail: MailFn,
    private readonly log: Logger,
    private readonly retryMs: readonly number[] = ADMIN_MAIL_RETRY_MS,
  ) {}

  /** Sends now; on failure logs and retries in the background. Resolves after the first try. */
  send(subject: string, body: string): Promise<void> {
    return this.attempt(subject, body, 0);
  }

  /** Drops pending retries (shutdown), logging each as not sent. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async attempt(subject: string, body: string, retries: number): Promise<void> {
    try {
      await this.mail(subject, body);
      if (retries > 0) this.log.info({ event: 'admin_mail_sent', subject, retries }, 'admin mail sent after retrying');
    } catch (err) {
      const error = (err as Error)?.message ?? String(err);
      const wait = this.retryMs[retries];
      if (wait === undefined || this.stopped) {
        this.log.error({ event: 'admin_mail_dropped', subject, tries: retries + 1, err: error, body }, 'could not mail the admin; giving up (the text is in this line)');
        return;
      }
      this.log.warn({ event: 'admin_mail_failed', subject, tries: retries + 1, err: error, retry_in_ms: wait }, 'could not mail the admin; will retry');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        void this.attempt(subject, body, retries + 1);
      }, wait);
      timer.unref();
      this.timers.add(timer);
    }
  }
}
