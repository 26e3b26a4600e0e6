/**
 * `[default] logFormat = pretty`: turns one pino JSON line into one readable line,
 * `2026-01-02 04:05:06.789 WARN  [worker1:8888 worker] cannot reach the viewserver  event=… peer=…`
 * (local time, level, node and component, message, then the remaining fields as key=value).
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'node', 'component', 'pid', 'hostname']);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Local wall-clock time with milliseconds. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function show(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/** One JSON log line to one pretty line (without the newline); anything unparsable is passed through. */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const level = (LEVELS[Number(o.level)] ?? String(o.level)).padEnd(5);
  const who = [o.node, o.component].filter((x) => x !== undefined && x !== '').join(' ');
  const fields = Object.entries(o)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(' ');
  const time = typeof o.time === 'number' ? localTime(o.time) : '';
  return `${time} ${level} ${who ? `[${who}] ` : ''}${String(o.msg ?? '')}${fields ? `  ${fields}` : ''}`;
}
