/** The one typed, validated configuration of a node (see load.ts for the keys and defaults). */
import type { AmqpConfig } from '../amqp/config';

export type Role = 'worker' | 'viewserver';

export interface Config {
  /** Path of the file it was read from, for messages. */
  file: string;
  role: Role;
  default: { debug: boolean; password: string; logFormat: 'json' | 'pretty' };
  controller: {
    addr: string;
    database: string[];
    confirmations: number;
    /** How often enabled checks are re-read from the database (ms). */
    reloadIntervalMs: number;
    /** How long a handed-out check stays locked to its worker (ms). */
    lockTimeoutMs: number;
    /** A worker not heard from for this long is not counted as live (ms). */
    workerTimeoutMs: number;
    /** Alert delivery: attempts per contact before giving up, first retry delay, cap (ms). */
    alertMaxAttempts: number;
    alertRetryBaseMs: number;
    alertRetryMaxMs: number;
    /** Deadline of every store query and transaction of a worker node (ms); past it the node reports itself unhealthy. */
    storeTimeoutMs: number;
    /** Office lease (ms), renewed on the store's clock every third of it; sends stop when it lapses. */
    leaseMs: number;
    /** A probe received longer than this after it was sent (beyond the usual delay) is not obeyed (ms). */
    maxProbeAgeMs: number;
  };
  worker: {
    viewAddr: string;
    numThreads: number;
    /** Identity of this worker in the cluster; default `<hostname>:<controller port>`. */
    name: string;
  };
  viewserver: {
    addr: string;
    controller: string[];
    probeIntervalMs: number;
    probeTimeoutMs: number;
    /** Consecutive failed probes that mark a controller down. */
    probeFailures: number;
  };
  smtp: { host: string; port: number; from: string; username: string; password: string; admin: string };
  dns: { server: string };
  /** The public ping listener of push checks (SPEC §8.2); off when addr is ''. */
  push: { addr: string; key: string; basicAuth: string };
  twilio: { accountSid: string; authToken: string; from: string; apiBase: string };
  /** Chat contacts: the default bot/app token and the API base URL (changed only for tests or proxies). */
  telegram: { token: string; apiUrl: string };
  pushover: { token: string; apiUrl: string };
  /** The web role (SPEC §11); served only when `addr` is set, on worker nodes. */
  web: {
    addr: string;
    /** Dashboard login; both empty: no dashboard. */
    user: string;
    password: string;
    /** Bearer key of /api/v1; empty: no API. */
    apiKey: string;
    /** Bearer token of /metrics; empty: /metrics is open. */
    metricsToken: string;
    /** Public status pages, health and badges without login. */
    public: boolean;
    /** Days of per-minute result history kept (the controller prunes older rollups). */
    retentionDays: number;
  };
  /** Directory whose programs `exec` checks may run; '' = exec checks are refused. */
  exec: { dir: string };
  /** Heartbeats over AMQP (SPEC §10.2): a worker node with `url` consumes `queue`. */
  amqp: AmqpConfig;
}
