/**
 * The monitoring-plugins output convention (Nagios plugin API), pure: the first line is the message,
 * performance data follows `|` on the first line and on any later line after the first `|` of the
 * long text, as `'label'=value[UOM];[warn];[crit];[min];[max]` items separated by spaces.
 */

export interface PerfDatum {
  label: string;
  /** null when the plugin printed `U` (value could not be determined). */
  value: number | null;
  unit: string;
  /** Thresholds are ranges (`10`, `10:`, `~:10`, `@10:20`), kept as the plugin wrote them. */
  warn?: string;
  crit?: string;
  min?: number;
  max?: number;
}

export interface PluginOutput {
  /** First line without its performance data ('' when the plugin printed nothing). */
  message: string;
  perfdata: PerfDatum[];
}

/** Longest message kept (a result message is one line for people). */
const MESSAGE_MAX = 1024;

function unquote(label: string): string {
  return label.startsWith("'") && label.endsWith("'") && label.length >= 2 ? label.slice(1, -1).replace(/''/g, "'") : label;
}

function optionalNumber(s: string | undefined): number | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** Parses the space-separated items; items that do not follow the grammar are skipped. */
export function parsePerfData(text: string): PerfDatum[] {
  const out: PerfDatum[] = [];
  // A label is quoted ('' escapes a quote, spaces allowed) or runs up to '='.
  const item = /\s*('(?:[^']|'')*'|[^\s=']+)=(\S*)/g;
  for (let m = item.exec(text); m; m = item.exec(text)) {
    const [valueUnit, warn, crit, min, max] = m[2].split(';');
    const vm = /^(U|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)([a-zA-Z%/]*)$/.exec(valueUnit);
    if (!vm) continue;
    const datum: PerfDatum = { label: unquote(m[1]), value: vm[1] === 'U' ? null : Number(vm[1]), unit: vm[2] };
    if (warn) datum.warn = warn;
    if (crit) datum.crit = crit;
    const mn = optionalNumber(min);
    const mx = optionalNumber(max);
    if (mn !== undefined) datum.min = mn;
    if (mx !== undefined) datum.max = mx;
    out.push(datum);
  }
  return out;
}

export function parsePluginOutput(output: string): PluginOutput {
  const lines = output.replace(/\r\n/g, '\n').split('\n');
  const first = lines[0] ?? '';
  const bar = first.indexOf('|');
  const message = (bar < 0 ? first : first.slice(0, bar)).trim();
  const perfTexts = bar < 0 ? [] : [first.slice(bar + 1)];
  // Long text: perfdata starts after the first '|' found in the following lines, and runs to the end.
  const rest = lines.slice(1).join('\n');
  const restBar = rest.indexOf('|');
  if (restBar >= 0) perfTexts.push(rest.slice(restBar + 1));
  return {
    message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX)}…` : message,
    perfdata: perfTexts.flatMap(parsePerfData),
  };
}
