/**
 * A peer refused us for clock skew (its 401 carries its time): say so plainly — "clock skew of N s
 * between A and B" — instead of "wrong password", and mail the admin, both rate-limited per peer.
 */
import type { Logger } from '../util/log';
import { LogThrottle } from '../util/log-throttle';
import { RateLimiter } from '../util/rate-limit';

const LOG_EVERY_MS = 60_000;
const MAIL_EVERY_MS = 3_600_000;

export class SkewReporter {
  private readonly logs: LogThrottle;
  private readonly mailLimit = new RateLimiter(MAIL_EVERY_MS);

  constructor(
    /** This node, as the messages name it. */
    private readonly self: string,
    private readonly log: Logger,
    private readonly mailAdmin: (subject: string, body: string) => Promise<void>,
    private readonly clock: () => number,
  ) {
    this.logs = new LogThrottle(log, clock, LOG_EVERY_MS);
  }

  /** `skewMs`: the peer's clock minus ours. */
  report(peer: string, skewMs: number): void {
    const now = this.clock();
    const seconds = Math.round(skewMs / 1000);
    const text = `clock skew of ${seconds} s between ${this.self} and ${peer}`;
    this.logs.failing(peer, {
      event: 'clock_skew', detail: String(seconds), msg: `${text}: signed requests are refused until the clocks agree within 30 s (check NTP)`,
      fields: { peer, skew_s: seconds },
    });
    if (this.mailLimit.hit(peer, now) !== null) {
      this.mailAdmin(`gobearmon: ${text}`, `${text} (${peer}'s clock minus ${this.self}'s). Signed requests between them are refused while the clocks differ by more than 30 s. Check NTP on both hosts.`)
        .catch((err: Error) => this.log.error({ event: 'admin_mail_failed', err: err.message }, 'could not mail the admin about clock skew'));
    }
  }
}
