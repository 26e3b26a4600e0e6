/** The texts every contact type sends, worded as in the original gobearmon (alert.go). */
import type { AlertNotice } from './types';

/** `Check offline: NAME` */
export function subjectLine(n: AlertNotice): string {
  return `Check ${n.status}: ${n.checkName}`;
}

/** The one-line summary used as the SMS text and the first line of the e-mail. */
export function summaryLine(n: AlertNotice): string {
  return n.status === 'online'
    ? `Check [${n.checkName}] is now online.`
    : `Check [${n.checkName}] is now ${n.status}: ${n.message}`;
}

/** The one line chat providers post: the summary, or "still offline" for a reminder. */
export function chatLine(n: AlertNotice): string {
  if (n.event === 'reminder') return `Check [${n.checkName}] is still ${n.status}: ${n.message}`;
  return summaryLine(n);
}

/** The e-mail body: summary, blank line, the check's facts, signature (as the original). */
export function emailBody(n: AlertNotice): string {
  return `${summaryLine(n)}\n\nID: ${n.checkId}\nName: ${n.checkName}\nType: ${n.checkType}\nData: ${n.checkData}\n\ngobearmon`;
}

/**
 * What the voice call says. The spaced dots make the speech engine pause between parts, and
 * "go bear mon" is spelled so it is pronounced as intended (both from the original).
 */
export function spokenText(n: AlertNotice): string {
  const reason = n.message.trim() ? ` . Reason is . ${truncate(n.message, 1000)}` : '';
  return `This is a monitoring-related call from go bear mon . The check . ${n.checkName} . has been recorded . ${n.status}${reason}`;
}

/** Cuts `text` to at most `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * One readable cause for a network-level failure (Node system errors, undici/axios timeouts),
 * so the operator sees "connection refused" rather than a bare errno or an empty message.
 */
export function describeNetError(err: unknown, timeoutMs?: number): string {
  const e = err as { code?: string; name?: string; message?: string; errors?: unknown[] };
  const code = e?.code ?? '';
  const timedOut =
    e?.name === 'TimeoutError' || code === 'ETIMEDOUT' || code === 'ECONNABORTED' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  if (timedOut) return timeoutMs ? `timeout after ${timeoutMs / 1000} s` : 'timeout';
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host lookup failed (temporary)',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
  };
  // Node 20 reports a dual-stack connect failure as an AggregateError with an empty message.
  const inner = Array.isArray(e?.errors) && e.errors.length > 0 ? (e.errors[0] as { message?: string }) : undefined;
  const detail = e?.message || inner?.message || String(err);
  return known[code] ? `${known[code]} (${detail})` : detail;
}
