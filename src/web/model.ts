/**
 * The web's pure core: tags, filters, pagination, uptime from flips, masking of secrets. No I/O;
 * times are passed in.
 */

export type WebStatus = 'online' | 'offline' | 'paused';

/** A check as the list needs it: never its `data`. */
export interface CheckSummary {
  id: number;
  name: string;
  type: string;
  status: WebStatus;
  tags: string[];
  interval: number;
}

/** `checks.tags` is free text: words separated by commas and/or spaces; lower-cased, unique, in order. */
export function parseTags(text: string): string[] {
  const seen = new Set<string>();
  for (const t of text.split(/[\s,]+/)) if (t) seen.add(t.toLowerCase());
  return [...seen];
}

export interface CheckFilter {
  /** Every one must be among the check's tags. */
  tags: string[];
  status?: WebStatus;
  type?: string;
  /** Case-insensitive substring of the name. */
  q?: string;
}

export function matches(c: CheckSummary, f: CheckFilter): boolean {
  if (f.status && c.status !== f.status) return false;
  if (f.type && c.type !== f.type) return false;
  if (f.q && !c.name.toLowerCase().includes(f.q.toLowerCase())) return false;
  return f.tags.every((t) => c.tags.includes(t));
}

const STATUS_ORDER: Record<WebStatus, number> = { offline: 0, online: 1, paused: 2 };

/** Down first, then by name, then id: what an operator wants on top. */
export function byAttention(a: CheckSummary, b: CheckSummary): number {
  return STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.name.localeCompare(b.name) || a.id - b.id;
}

export interface Page<T> {
  items: T[];
  page: number;
  pages: number;
  total: number;
  per: number;
}

/** 1-based page, clamped into range. */
export function paginate<T>(all: T[], page: number, per: number): Page<T> {
  const pages = Math.max(1, Math.ceil(all.length / per));
  const p = Math.min(Math.max(1, page), pages);
  return { items: all.slice((p - 1) * per, p * per), page: p, pages, total: all.length, per };
}

export interface Flip {
  at: number;
  status: 'online' | 'offline';
}

/**
 * Share of [now - windowMs, now] spent online, from the flips (any order) and the current status.
 * Before the first flip in the window the check was in the opposite state of that flip; with no
 * flip in the window it was in its current state throughout.
 */
export function uptime(flips: Flip[], current: 'online' | 'offline', now: number, windowMs: number): number {
  const start = now - windowMs;
  const inWindow = flips.filter((f) => f.at > start && f.at <= now).sort((a, b) => a.at - b.at);
  if (windowMs <= 0) return current === 'online' ? 1 : 0;
  let state: 'online' | 'offline' = inWindow.length ? (inWindow[0].status === 'online' ? 'offline' : 'online') : current;
  let t = start;
  let up = 0;
  for (const f of inWindow) {
    if (state === 'online') up += f.at - t;
    state = f.status;
    t = f.at;
  }
  if (state === 'online') up += now - t;
  return up / windowMs;
}

const SECRET_KEY = /pass|secret|token|key|auth|cookie|credential|signature|sid/i;
export const MASK = '••••••';

/** Free text (a check's message, an alert error): passwords in URLs masked. */
export function maskUrl(s: string): string {
  // scheme://user:password@host → keep the user, hide the password; also ?token=… style query values.
  return s
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@/\s]*@/gi, `$1:${MASK}@`)
    .replace(/([?&][^=&#\s]*(?:pass|secret|token|key|auth|sig)[^=&#\s]*=)[^&#\s]*/gi, `$1${MASK}`);
}

function maskValue(v: unknown, secret: boolean): unknown {
  if (secret && v !== null && typeof v !== 'object') return MASK;
  if (typeof v === 'string') return maskUrl(v);
  if (Array.isArray(v)) return v.map((x) => maskValue(x, secret));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, maskValue(x, secret || SECRET_KEY.test(k))]));
  }
  return v;
}

/** A check's `data` fit to show an operator: values under secret-looking keys and URL passwords masked. */
export function maskData(data: string): string {
  try {
    return JSON.stringify(maskValue(JSON.parse(data), false));
  } catch {
    return maskUrl(data); // not JSON (a bad check): still no URL password
  }
}

/** The state at time `t`: the opposite of the first flip after it, or the current state. */
export function stateAt(flips: Flip[], current: 'online' | 'offline', t: number): 'online' | 'offline' {
  const after = flips.filter((f) => f.at > t).sort((a, b) => a.at - b.at)[0];
  return after ? (after.status === 'online' ? 'offline' : 'online') : current;
}

/** Uptime of each of the last `days` whole windows of 24 h ending at `now`, oldest first. */
export function dailyUptime(flips: Flip[], current: 'online' | 'offline', now: number, days: number): number[] {
  const day = 86_400_000;
  return Array.from({ length: days }, (_, i) => {
    const end = now - (days - 1 - i) * day;
    return uptime(flips, stateAt(flips, current, end), end, day);
  });
}
