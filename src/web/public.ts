/** Public status pages and badges: up/down, uptime bars and incidents; never a check's data or messages. */
import { html, iso, percent, raw } from './html';
import { dailyUptime, type CheckSummary } from './model';
import { layout } from './pages';
import type { FlipRow } from './queries';

export interface PublicCheck {
  summary: CheckSummary;
  days: number[];
}

export function publicChecks(checks: CheckSummary[], flips: Map<number, FlipRow[]>, now: number): PublicCheck[] {
  return checks.map((c) => ({ summary: c, days: dailyUptime(flips.get(c.id) ?? [], c.status === 'offline' ? 'offline' : 'online', now, 30) }));
}

export function statusBody(title: string, checks: PublicCheck[], incidents: { name: string; at: number; status: string }[]): ReturnType<typeof html> {
  const down = checks.filter((c) => c.summary.status === 'offline').length;
  return html`<h1>${title}</h1>
<p>${down ? html`<span class="badge offline">${down} down</span>` : html`<span class="badge online">all systems up</span>`}</p>
<table><thead><tr><th>Service</th><th>Status</th><th>Last 30 days</th><th class="num">30 d</th></tr></thead><tbody>
${checks.map((c) => html`<tr data-status="${c.summary.status}"><td>${c.summary.name}</td><td><span class="badge ${c.summary.status}">${c.summary.status === 'offline' ? 'down' : 'up'}</span></td>
<td><div class="bars">${c.days.map((u) => html`<span class="${u >= 0.9999 ? 'full' : u > 0 ? 'part' : 'none'}" title="${percent(u)}"></span>`)}</div></td>
<td class="num">${percent(c.days.reduce((a, b) => a + b, 0) / Math.max(1, c.days.length))}</td></tr>`)}
</tbody></table>
<h2>Recent incidents</h2>${incidents.length ? html`<table><tbody>${incidents.map((i) => html`<tr><td>${iso(i.at)}</td><td>${i.name}</td><td><span class="badge ${i.status}">${i.status === 'offline' ? 'went down' : 'recovered'}</span></td></tr>`)}</tbody></table>` : html`<p class="muted">No incidents.</p>`}`;
}

export function statusPage(title: string, liveUrl: string, checks: PublicCheck[], incidents: { name: string; at: number; status: string }[]): string {
  return layout(title, html`<div id="public" data-live="${liveUrl}">${statusBody(title, checks, incidents)}</div>`);
}

const BADGE_COLORS = { up: '#1a7f37', down: '#cf222e', paused: '#6e7781', unknown: '#6e7781' } as const;

/** A shields-style SVG: label on the left, value on the right. Text is escaped; widths from length. */
export function badgeSvg(label: string, value: string, color: keyof typeof BADGE_COLORS | string): string {
  const fill = (BADGE_COLORS as Record<string, string>)[color] ?? color;
  const w = (s: string) => 10 + s.length * 7;
  const lw = w(label);
  const vw = w(value);
  return html`<svg xmlns="http://www.w3.org/2000/svg" width="${lw + vw}" height="20" role="img" aria-label="${label}: ${value}">
<rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${vw}" height="20" fill="${fill}"/>
<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">
<text x="${lw / 2}" y="14">${label}</text><text x="${lw + vw / 2}" y="14">${value}</text></g></svg>`.text + raw('').text;
}
