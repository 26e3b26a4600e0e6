/**
 * The demo's console: turns the nodes' JSON log lines, the webhook's alerts and the controller's
 * status into short readable lines. Pure functions of their input, except the clock prefix.
 */
import type { ControllerStatus } from '../protocol/messages';
import type { AlertForm } from './targets';

type Color = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';
const CODES: Record<Color, string> = { red: '31', green: '32', yellow: '33', cyan: '36', bold: '1', dim: '2' };

export class Painter {
  constructor(readonly enabled: boolean) {}
  paint(color: Color, text: string): string {
    return this.enabled ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
  }
  status(status: string): string {
    return this.paint(status === 'online' ? 'green' : status === 'offline' ? 'red' : 'yellow', status);
  }
}

export function clock(now = new Date()): string {
  return now.toTimeString().slice(0, 8);
}

/** One pino record as the nodes write it. */
export interface LogRecord {
  level?: number;
  node?: string;
  component?: string;
  event?: string;
  msg?: string;
  [key: string]: unknown;
}

export function parseLogLine(line: string): LogRecord | null {
  if (!line.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as LogRecord) : null;
  } catch {
    return null;
  }
}

const WARN = 40;

/** How the console names things the logs give by address or id. */
export interface Names {
  /** A controller address (127.0.0.1:PORT) as its worker's name. */
  node(addr: unknown): string;
  /** A check id as its name. */
  check(id: unknown): string;
}

/** The console line for one log record of node `label`, or null for routine records. */
export function formatRecord(label: string, r: LogRecord, p: Painter, names: Names): string | null {
  const nameOf = (addr: unknown) => names.node(addr);
  const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const who = `[${label}]`;
  switch (r.event) {
    case 'viewserver_started':
      return null; // the demo's table of nodes already says where it listens
    case 'node_started':
      return `${who} worker node started (controller component on port ${s(r.port)})`;
    case 'election':
      if (r.component === 'viewserver') return `${who} elected ${nameOf(r.controller)} as the controller`;
      return p.paint('bold', `${who} took office as controller (epoch ${s(r.epoch)})`);
    case 'failover':
      return p.paint('yellow', `${who} FAILOVER: controller ${nameOf(r.from)} is gone, ${nameOf(r.to)} takes over`);
    case 'no_replacement':
      return p.paint('red', `${who} controller ${nameOf(r.from)} failed and no other controller answers`);
    case 'controller_down':
      return p.paint('yellow', `${who} controller ${nameOf(r.controller)} stopped answering`);
    case 'controller_up':
      return `${who} controller candidate ${nameOf(r.controller)} is up`;
    case 'controller_changed':
      return `${who} worker now follows controller ${r.to ? nameOf(r.to) : 'none'}`;
    case 'step_down':
      return p.paint('yellow', `${who} stepped down as controller: ${s(r.reason)}`);
    case 'reload': {
      const parts = [['added', r.added], ['removed', r.removed], ['changed', r.changed]].filter(([, n]) => Number(n) > 0).map(([k, n]) => `${s(n)} ${s(k)}`);
      return `${who} controller loaded ${s(r.checks)} check(s)${parts.length ? ` (${parts.join(', ')})` : ''}`;
    }
    case 'flip': {
      const to = s(r.to);
      const why = r.message ? `: ${s(r.message)}` : '';
      return p.paint('bold', `${who} FLIP ${s(r.check)} → `) + p.status(to) + `${why} (${s(r.contacts)} contact(s) to alert)`;
    }
    case 'alert_sent':
      return `${who} alert delivered: check ${names.check(r.check_id)} → ${s(r.status)} to ${s(r.contact_type)} contact ${s(r.contact_id)} (${s(r.provider_id)})`;
    case 'alert_failed':
      return p.paint('yellow', `${who} alert for check ${names.check(r.check_id)} failed (attempt ${s(r.attempt)}): ${s(r.error)}${r.retry_at ? ' (will retry)' : ' (giving up)'}`);
    case 'quorum_degraded':
      return p.paint('yellow', `${who} quorum degraded: ${s(r.live_workers)} live worker(s) for ${s(r.confirmations)} confirmations`);
    case 'quorum_restored':
      return `${who} quorum restored: ${s(r.live_workers)} live workers`;
    case 'shutdown':
      return `${who} shutting down (${s(r.signal)})`;
    default:
      if ((r.level ?? 0) < WARN) return null;
      return p.paint((r.level ?? 0) >= 50 ? 'red' : 'yellow', `${who} ${s(r.msg)}${r.event ? ` (${s(r.event)}${r.err ? `: ${s(r.err)}` : ''})` : ''}`);
  }
}

export function formatAlert(form: AlertForm, p: Painter): string {
  const status = form.status ?? '?';
  const why = form.message && status !== 'online' ? `: ${form.message}` : '';
  return p.paint('bold', 'ALERT ') + `webhook received: check ${form.name ?? form.check_id ?? '?'} is ${p.status(status)}${why}`;
}

function ago(ms: number | null): string {
  if (ms === null) return 'never run';
  return ms < 1000 ? 'just now' : `${Math.round(ms / 1000)} s ago`;
}

/** The periodic results summary from the active controller's GET /status. */
export function formatStatus(st: ControllerStatus, controllerName: string, p: Painter): string[] {
  const live = st.workers.filter((w) => w.live).map((w) => w.name);
  const head = p.paint('dim', `── results · controller ${controllerName} (epoch ${st.epoch}) · live workers: ${live.join(' ') || 'none'} · quorum ${st.quorum} ──`);
  const width = Math.max(8, ...st.checks.map((c) => c.name.length));
  const lines = [...st.checks]
    .sort((a, b) => a.id - b.id)
    .map((c) => {
      const r = c.lastResult;
      const last = r ? `last ${r.status} from ${r.worker} in ${r.durationMs} ms, ${ago(c.ageMs)}: ${r.message}` : 'not run yet';
      return `  ${c.name.padEnd(width)}  ${p.status(c.status)}${' '.repeat(Math.max(0, 7 - c.status.length))}  ${last.replace(/\s+/g, ' ')}`;
    });
  return [head, ...lines];
}
