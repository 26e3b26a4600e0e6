/** The messages nodes exchange. Every state-changing one carries the sender's view or epoch. */
import type { ResultStatus, Status } from '../checks/types';

/** Viewserver → controller, every probe period: are you alive, and are you the one. */
export interface ProbeRequest {
  view: number;
  /** True when the viewserver names this controller as the active one in `view`. */
  active: boolean;
  /** False while the viewserver names no controller (just restarted): nobody should step down. */
  elected: boolean;
  /**
   * Worker names of the nodes that answer the viewserver's probes: the controller in office never
   * counts them gone (absent from older viewservers).
   */
  live?: string[];
}
export interface ProbeResponse {
  ok: true;
  /** The epoch this controller holds in the database, 0 when not in office. */
  epoch: number;
  inOffice: boolean;
  /** The node's health: store reads and writes answering within their deadline, not partitioned from the workers. */
  healthy: boolean;
  /** Why it is unhealthy; empty when healthy. */
  problems: string[];
  /** The node's worker name. */
  worker: string;
}

/** Worker → viewserver: long-poll for the view, answered at once when it differs from `after`. */
export interface ViewRequest {
  after: number;
  waitMs: number;
}
export interface ViewResponse {
  view: number;
  controller: string | null;
}

export interface Assignment {
  id: number;
  name: string;
  type: string;
  data: string;
  /** Lock token: a result is accepted only with the token of the current lock. */
  lock: number;
  /** When the check became due (epoch ms, controller clock): lateness is measured from here. */
  due: number;
}

/** The refusal (409) a second worker process under an already live worker's name gets, and its log event. */
export const DUPLICATE_WORKER_NAME = 'duplicate_worker_name';

/** Worker → controller: long-poll for up to `slots` checks. */
export interface WorkRequest {
  worker: string;
  view: number;
  slots: number;
  waitMs: number;
  /** A random id per worker process: two processes configured with one name are told apart. */
  instance?: string;
}
export interface WorkResponse {
  epoch: number;
  checks: Assignment[];
}

export interface ReportedResult {
  id: number;
  lock: number;
  status: ResultStatus;
  message: string;
  durationMs: number;
  /** When the worker started the check (epoch ms, worker clock); optional for older workers. */
  startedAt?: number;
}
export interface ResultsRequest {
  worker: string;
  view: number;
  results: ReportedResult[];
}
export interface ReleaseRequest {
  worker: string;
  view: number;
  locks: { id: number; lock: number }[];
}

export interface CheckStatusView {
  id: number;
  name: string;
  type: string;
  status: Status;
  lastResult: { status: ResultStatus; message: string; durationMs: number; worker: string; at: number } | null;
  lastWorker: string | null;
  ageMs: number | null;
}
export interface ControllerStatus {
  inOffice: boolean;
  epoch: number;
  view: number;
  /** The health this node reports to the viewserver, and why not. */
  healthy: boolean;
  problems: string[];
  workers: { name: string; lastSeenMs: number; live: boolean }[];
  quorum: number;
  checks: CheckStatusView[];
  /** Push checks: state, last ping and next deadline (epoch ms). */
  push?: { id: number; name: string; state: string; status: 'online' | 'offline'; message: string; lastPingAt: number | null; deadline: number | null }[];
}

/** JSON schemas for the routes, so a malformed request is a 400 with the reason. */
const str = { type: 'string', maxLength: 512 } as const;
const int = { type: 'integer', minimum: 0 } as const;
export const schemas = {
  probe: {
    type: 'object', required: ['view', 'active', 'elected'],
    properties: { view: int, active: { type: 'boolean' }, elected: { type: 'boolean' }, live: { type: 'array', maxItems: 10_000, items: str } },
  },
  view: { type: 'object', required: ['after'], properties: { after: int, waitMs: { type: 'integer', minimum: 0, maximum: 60_000 } } },
  work: {
    type: 'object', required: ['worker', 'view', 'slots'],
    properties: {
      worker: str, view: int, slots: { type: 'integer', minimum: 0, maximum: 100_000 }, waitMs: { type: 'integer', minimum: 0, maximum: 60_000 },
      instance: { type: 'string', maxLength: 64 },
    },
  },
  results: {
    type: 'object', required: ['worker', 'view', 'results'],
    properties: {
      worker: str, view: int,
      results: {
        type: 'array', maxItems: 100_000,
        items: {
          type: 'object', required: ['id', 'lock', 'status'],
          properties: { id: int, lock: int, status: { enum: ['online', 'offline', 'fail'] }, message: { type: 'string' }, durationMs: { type: 'number' }, startedAt: { type: 'number' } },
        },
      },
    },
  },
  release: {
    type: 'object', required: ['worker', 'view', 'locks'],
    properties: { worker: str, view: int, locks: { type: 'array', items: { type: 'object', required: ['id', 'lock'], properties: { id: int, lock: int } } } },
  },
} as const;
