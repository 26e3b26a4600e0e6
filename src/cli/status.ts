/** `gobearmon status --config FILE [--json]`: the cluster as the viewserver and its controller see it. */
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import { PeerClient, dialAddr } from '../protocol/client';
import type { ControllerStatus } from '../protocol/messages';
import type { ViewserverStatus } from '../viewserver/viewserver';
import { truncate } from '../contacts/message';
import { openStore } from '../store/open';
import { parseArgs, UsageError, type Command } from './command';

export interface ClusterStatus {
  controller: string | null;
  view: number;
  epoch: number | null;
  candidates: ViewserverStatus['controllers'];
  workers: ControllerStatus['workers'];
  quorum: number | null;
  checks: ControllerStatus['checks'];
  push: NonNullable<ControllerStatus['push']>;
  error?: string;
}

/** What the database alone says, for when the viewserver or controller does not answer. */
export async function statusFromStore(config: Config): Promise<Pick<ClusterStatus, 'checks' | 'epoch' | 'controller'> | null> {
  if (config.controller.database.length === 0) return null;
  const store = await openStore(config.controller.database);
  try {
    const lease = await store.lease();
    const rows = await store.driver.all('SELECT id, name, type, status FROM checks WHERE enabled = 1 ORDER BY id');
    const checks = rows.map((r) => ({
      id: Number(r.id), name: String(r.name), type: String(r.type), status: r.status === 'offline' ? 'offline' as const : 'online' as const,
      lastResult: null, lastWorker: null, ageMs: null,
    }));
    return { checks, epoch: lease.epoch || null, controller: lease.holder || null };
  } finally {
    await store.close();
  }
}

/** Fills in what the database knows when a peer did not answer (the error says which). */
async function withStoreFallback(config: Config, partial: ClusterStatus): Promise<ClusterStatus> {
  try {
    const stored = await statusFromStore(config);
    if (!stored) return partial;
    return {
      ...partial, checks: stored.checks, epoch: null,
      controller: partial.controller ?? (stored.controller ? `${stored.controller} (last lease holder, epoch ${stored.epoch ?? 0})` : null),
      error: `${partial.error}; statuses below are read from the database`,
    };
  } catch (err) {
    return { ...partial, error: `${partial.error}; the database could not be read either: ${(err as Error).message}` };
  }
}

/** Asks the viewserver who the controller is, then asks that controller for its checks and workers. */
export async function clusterStatus(config: Config): Promise<ClusterStatus> {
  const client = new PeerClient(config.default.password);
  const empty = { epoch: null, workers: [], quorum: null, checks: [], push: [] };
  try {
    const viewAddr = dialAddr(config.role === 'viewserver' ? config.viewserver.addr : config.worker.viewAddr);
    let view: ViewserverStatus;
    try {
      view = await client.call<ViewserverStatus>(viewAddr, '/status', undefined, { timeoutMs: 5_000 });
    } catch (err) {
      return withStoreFallback(config, { controller: null, view: 0, candidates: [], ...empty, error: `the viewserver ${viewAddr} did not answer: ${(err as Error).message}` });
    }
    const base = { controller: view.controller, view: view.view, candidates: view.controllers };
    if (!view.controller) return withStoreFallback(config, { ...base, ...empty, error: 'no active controller' });
    try {
      const c = await client.call<ControllerStatus>(dialAddr(view.controller), '/status', undefined, { timeoutMs: 5_000 });
      return { ...base, epoch: c.epoch, workers: c.workers, quorum: c.quorum, checks: c.checks, push: c.push ?? [] };
    } catch (err) {
      return withStoreFallback(config, { ...base, ...empty, error: `controller did not answer: ${(err as Error).message}` });
    }
  } finally {
    await client.close();
  }
}

/** Why a candidate is not usable, in words (the viewserver's own view of it). */
export function candidateWhy(c: ViewserverStatus['controllers'][number]): string {
  const probes = `${c.failures} failed probe${c.failures === 1 ? '' : 's'}`;
  if (!c.live) return c.failures > 0 ? `${c.lastError ?? 'not answering'} (${probes})` : 'not answering';
  if (!c.healthy) return `unhealthy: ${c.problems.join('; ') || 'no reason given'}`;
  return '';
}

/** A duration for people: 850ms, 12.3s, 4m05s, 2h03m, 3d04h. */
export function duration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

/** Messages longer than this are cut with an ellipsis in the table (--json has them whole). */
const MESSAGE_WIDTH = 60;

const ago = duration;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function render(s: ClusterStatus): string {
  const lines = [
    `controller: ${s.controller ?? 'none'}    view: ${s.view}    epoch: ${s.epoch ?? '-'}    quorum: ${s.quorum ?? '-'}`,
    '',
    table([['CANDIDATE', 'LIVE', 'PROBES OK', 'IN OFFICE', 'WHY NOT'], ...s.candidates.map((c) => [c.addr, c.live ? 'yes' : 'no', String(c.successes), c.inOffice ? `epoch ${c.epoch}` : '', truncate(candidateWhy(c), MESSAGE_WIDTH)])]),
    '',
    table([['WORKER', 'LIVE', 'LAST SEEN'], ...s.workers.map((w) => [w.name, w.live ? 'yes' : 'no', ago(w.lastSeenMs)])]),
    '',
    table([
      ['ID', 'NAME', 'TYPE', 'STATUS', 'LAST RESULT', 'WORKER', 'AGE', 'MESSAGE'],
      ...s.checks.map((c) => [String(c.id), c.name, c.type, c.status, c.lastResult?.status ?? '-', c.lastWorker ?? '-', ago(c.ageMs), truncate((c.lastResult?.message ?? '').replace(/\s+/g, ' '), MESSAGE_WIDTH)]),
    ]),
  ];
  if (s.push.length) {
    const when = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    lines.push('', table([
      ['ID', 'PUSH CHECK', 'STATE', 'STATUS', 'LAST PING', 'NEXT DEADLINE', 'MESSAGE'],
      ...s.push.map((p) => [String(p.id), p.name, p.state, p.status, when(p.lastPingAt), when(p.deadline), truncate(p.message.replace(/\s+/g, ' '), MESSAGE_WIDTH)]),
    ]));
  }
  if (s.error) lines.unshift(`warning: ${s.error}`);
  return lines.join('\n');
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the active controller, epoch, live workers and every check',
  usage: `usage: gobearmon status --config FILE [--json]

Asks the viewserver (from [worker] viewAddr, or [viewserver] addr in a viewserver config) which
controller is active, then asks that controller for its live workers and each check's status,
last result, last worker and age. --json prints one object with controller, view, epoch,
candidates, workers, quorum, checks and push (push checks: state new/up/late/down/running/
paused/invalid, last ping, next deadline). When the viewserver or the controller does not
answer, it says so and shows each check's status from the database (worker configs). Long
messages are cut with … (--json has them whole); ages read 850ms, 12.3s, 4m05s, 2h03m, 3d04h.
Exit 0 when a controller answered, 1 otherwise.`,
  async run(args) {
    const { positionals, flags, bools } = parseArgs(args, { values: ['config'], booleans: ['json'] });
    if (!flags.config || positionals.length) throw new UsageError('status takes --config FILE [--json]');
    const status = await clusterStatus(loadConfig(flags.config)).catch((err: Error) => {
      console.error(`gobearmon status: ${err.message}`);
      return null;
    });
    if (!status) return 1;
    console.log(bools.has('json') ? JSON.stringify(status, null, 2) : render(status));
    return status.epoch ? 0 : 1;
  },
};
