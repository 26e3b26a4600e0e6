/** `gobearmon status --config FILE [--json]`: the cluster as the viewserver and its controller see it. */
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import { PeerClient, dialAddr } from '../protocol/client';
import type { ControllerStatus } from '../protocol/messages';
import type { ViewserverStatus } from '../viewserver/viewserver';
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

/** Asks the viewserver who the controller is, then asks that controller for its checks and workers. */
export async function clusterStatus(config: Config): Promise<ClusterStatus> {
  const client = new PeerClient(config.default.password);
  try {
    const viewAddr = dialAddr(config.role === 'viewserver' ? config.viewserver.addr : config.worker.viewAddr);
    const view = await client.call<ViewserverStatus>(viewAddr, '/status', undefined, { timeoutMs: 5_000 });
    const base = { controller: view.controller, view: view.view, candidates: view.controllers };
    if (!view.controller) return { ...base, epoch: null, workers: [], quorum: null, checks: [], push: [], error: 'no active controller' };
    try {
      const c = await client.call<ControllerStatus>(dialAddr(view.controller), '/status', undefined, { timeoutMs: 5_000 });
      return { ...base, epoch: c.epoch, workers: c.workers, quorum: c.quorum, checks: c.checks, push: c.push ?? [] };
    } catch (err) {
      return { ...base, epoch: null, workers: [], quorum: null, checks: [], push: [], error: `controller did not answer: ${(err as Error).message}` };
    }
  } finally {
    await client.close();
  }
}

const ago = (ms: number | null) => (ms === null ? '-' : ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function render(s: ClusterStatus): string {
  const lines = [
    `controller: ${s.controller ?? 'none'}    view: ${s.view}    epoch: ${s.epoch ?? '-'}    quorum: ${s.quorum ?? '-'}`,
    '',
    table([['CANDIDATE', 'LIVE', 'PROBES OK', 'IN OFFICE'], ...s.candidates.map((c) => [c.addr, c.live ? 'yes' : 'no', String(c.successes), c.inOffice ? `epoch ${c.epoch}` : ''])]),
    '',
    table([['WORKER', 'LIVE', 'LAST SEEN'], ...s.workers.map((w) => [w.name, w.live ? 'yes' : 'no', ago(w.lastSeenMs)])]),
    '',
    table([
      ['ID', 'NAME', 'TYPE', 'STATUS', 'LAST RESULT', 'WORKER', 'AGE', 'MESSAGE'],
      ...s.checks.map((c) => [String(c.id), c.name, c.type, c.status, c.lastResult?.status ?? '-', c.lastWorker ?? '-', ago(c.ageMs), (c.lastResult?.message ?? '').slice(0, 60)]),
    ]),
  ];
  if (s.push.length) {
    const when = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    lines.push('', table([
      ['ID', 'PUSH CHECK', 'STATE', 'STATUS', 'LAST PING', 'NEXT DEADLINE', 'MESSAGE'],
      ...s.push.map((p) => [String(p.id), p.name, p.state, p.status, when(p.lastPingAt), when(p.deadline), p.message.slice(0, 60)]),
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
paused/invalid, last ping, next deadline). Exit 0 when a controller answered, 1 otherwise.`,
  async run(args) {
    const { positionals, flags, bools } = parseArgs(args, { values: ['config'], booleans: ['json'] });
    if (!flags.config || positionals.length) throw new UsageError('status takes --config FILE [--json]');
    const status = await clusterStatus(loadConfig(flags.config)).catch((err: Error) => {
      console.error(`gobearmon status: cannot reach the viewserver: ${err.message}`);
      return null;
    });
    if (!status) return 1;
    console.log(bools.has('json') ? JSON.stringify(status, null, 2) : render(status));
    return status.epoch ? 0 : 1;
  },
};
