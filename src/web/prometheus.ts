/**
 * Prometheus text format 0.0.4. Process metrics come from prom-client (a registry of our own, no
 * global state); per-check lines are written directly (cheaper than a labelled gauge per check).
 * Labels carry only id, name, type and tags: never a check's data.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { CheckSummary } from './model';
import type { LastResult } from './queries';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gobearmon_' });
  return registry;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export interface ClusterFacts {
  inOffice: boolean;
  epoch: number;
  liveWorkers: number | null;
  results: number;
  flips: number;
  alertsSent: number;
  alertsFailed: number;
}

type Family = { name: string; type: 'gauge' | 'counter'; help: string; lines: string[] };

function family(name: string, type: Family['type'], help: string): Family {
  return { name, type, help, lines: [] };
}

function write(families: Family[]): string {
  return families.map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines].join('\n')).join('\n') + '\n';
}

/** The per-check and cluster families (process metrics are appended by the caller). */
export function checkMetrics(checks: CheckSummary[], last: Map<number, LastResult>, pings: Map<number, number>, cluster: ClusterFacts): string {
  const up = family('gobearmon_check_up', 'gauge', 'Whether the check is online (1) or offline (0); paused checks are left out.');
  const duration = family('gobearmon_check_duration_seconds', 'gauge', 'Duration of the check\'s last run.');
  const lastAt = family('gobearmon_check_last_result_timestamp_seconds', 'gauge', 'Unix time of the check\'s last result.');
  const ping = family('gobearmon_push_last_ping_timestamp_seconds', 'gauge', 'Unix time of the last ping of a push check.');
  for (const c of checks) {
    if (c.status === 'paused') continue;
    const labels = `{id="${c.id}",name="${escapeLabel(c.name)}",type="${escapeLabel(c.type)}",tags="${escapeLabel(c.tags.join(','))}"}`;
    up.lines.push(`gobearmon_check_up${labels} ${c.status === 'online' ? 1 : 0}`);
    const l = last.get(c.id);
    if (l) {
      duration.lines.push(`gobearmon_check_duration_seconds${labels} ${l.ms / 1000}`);
      lastAt.lines.push(`gobearmon_check_last_result_timestamp_seconds${labels} ${l.at / 1000}`);
    }
    const p = pings.get(c.id);
    if (p !== undefined) ping.lines.push(`gobearmon_push_last_ping_timestamp_seconds${labels} ${p / 1000}`);
  }
  const one = (name: string, type: Family['type'], help: string, value: number | null): Family => {
    const f = family(name, type, help);
    if (value !== null) f.lines.push(`${name} ${value}`);
    return f;
  };
  return write([
    up, duration, lastAt, ping,
    one('gobearmon_controller_in_office', 'gauge', 'Whether this node\'s controller holds office (1) or not (0).', cluster.inOffice ? 1 : 0),
    one('gobearmon_controller_epoch', 'gauge', 'The fencing epoch of the lease in the database.', cluster.epoch),
    one('gobearmon_live_workers', 'gauge', 'Workers the active controller counts as live.', cluster.liveWorkers),
    one('gobearmon_results_total', 'counter', 'Check results applied (from the retained per-minute history).', cluster.results),
    one('gobearmon_flips_total', 'counter', 'Status flips recorded.', cluster.flips),
    one('gobearmon_alerts_sent_total', 'counter', 'Alerts delivered.', cluster.alertsSent),
    one('gobearmon_alerts_failed_total', 'counter', 'Failed alert delivery attempts.', cluster.alertsFailed),
  ]);
}

/**
 * prom-client names three gauges `nodejs_active_*_total`; `_total` belongs to counters only, so
 * those families are left out (promtool check metrics refuses them).
 */
export function withoutMisnamedGauges(text: string): string {
  const bad = new Set([...text.matchAll(/^# TYPE (\S+_total) gauge$/gm)].map((m) => m[1]));
  return text.split('\n').filter((line) => {
    const name = /^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)?.[1];
    return !name || !bad.has(name);
  }).join('\n');
}
