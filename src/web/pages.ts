/** The dashboard's server-rendered pages. Every value from the database goes through `html`. */
import { ago, html, iso, jsonScript, percent, raw, type Html } from './html';
import { maskData, maskUrl, type CheckFilter } from './model';
import type { AttemptView, FlipRow, MinuteStat, PingRow } from './queries';
import type { CheckLine, ListResult, PushView, Uptimes } from './service';

export function layout(title: string, body: Html, opts: { nav?: boolean; publicLink?: boolean; head?: Html } = {}): string {
  const nav = opts.nav
    ? html`<nav><a href="/">Checks</a> · <a href="/cluster">Cluster</a>${opts.publicLink ? html` · <a href="/status">Status page</a>` : ''}</nav>
      <form method="post" action="/logout"><button type="submit">Log out</button></form>`
    : '';
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · gobearmon</title><link rel="stylesheet" href="/assets/app.css">${opts.head ?? ''}</head>
<body><header><a class="brand" href="/">gobearmon</a>${nav}</header><main>${body}</main><script src="/assets/app.js"></script></body></html>`}`;
}

export function loginPage(error: string | null, next: string): string {
  return layout('Log in', html`<form class="login" method="post" action="/login">
  <h1>Log in</h1>${error ? html`<p class="error">${error}</p>` : ''}
  <input type="hidden" name="next" value="${next}">
  <label>User <input name="user" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button></form>`);
}

const statusBadge = (s: string) => html`<span class="badge ${s}">${s}</span>`;

function spark(points: (number | null)[]): Html {
  const values = points.filter((p): p is number => p !== null);
  if (!values.length) return html`<span class="muted">–</span>`;
  const max = Math.max(...values, 1);
  const step = 120 / Math.max(1, points.length - 1);
  const coords = points.map((p, i) => (p === null ? null : `${(i * step).toFixed(1)},${(23 - (p / max) * 22).toFixed(1)}`)).filter(Boolean).join(' ');
  return html`<svg class="spark" viewBox="0 0 120 24" preserveAspectRatio="none" role="img" aria-label="response time, last hour"><polyline points="${coords}"/></svg>`;
}

/** Query string of a filter plus overrides, for links that keep the other filters. */
export function filterQuery(f: CheckFilter, extra: Record<string, string | number> = {}): string {
  const q = new URLSearchParams();
  if (f.tags.length) q.set('tags', f.tags.join(' '));
  if (f.status) q.set('status', f.status);
  if (f.type) q.set('type', f.type);
  if (f.q) q.set('q', f.q);
  for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
  return q.toString();
}

const uptimeCells = (u: Uptimes) => html`<td class="num">${percent(u['24h'])}</td><td class="num hide-sm">${percent(u['7d'])}</td><td class="num hide-sm">${percent(u['30d'])}</td>`;

export function rowsHtml(lines: CheckLine[], f: CheckFilter, now: number): Html {
  if (!lines.length) return html`<tr><td colspan="10" class="muted">No check matches.</td></tr>`;
  return html`${lines.map((c) => html`<tr data-id="${c.id}" data-status="${c.status}">
  <td>${statusBadge(c.status)}</td>
  <td><a href="/check/${c.id}">${c.name}</a></td>
  <td class="hide-sm">${c.type}</td>
  <td class="hide-sm">${c.tags.map((t) => html`<a class="tag" href="/?${filterQuery({ ...f, tags: [...new Set([...f.tags, t])] })}">${t}</a>`)}</td>
  <td>${c.last ? html`${c.last.ok ? 'ok' : 'fail'} <span class="muted">${c.last.ms} ms</span>` : html`<span class="muted">–</span>`}</td>
  <td class="num">${ago(c.last?.at ?? null, now)}</td>
  <td class="hide-sm">${spark(c.spark)}</td>
  ${uptimeCells(c.uptime)}</tr>`)}`;
}

export function dashboardPage(r: ListResult, f: CheckFilter, now: number, publicLink: boolean): string {
  const { page } = r;
  const option = (v: string, cur: string | undefined, label = v) => html`<option value="${v}"${cur === v ? raw(' selected') : ''}>${label}</option>`;
  const live = `/ui/rows?${filterQuery(f, { page: page.page, per: page.per })}`;
  const body = html`<h1>Checks</h1>
<div class="summary" id="summary" data-live="/ui/summary">${summaryHtml(r.counts)}</div>
<form class="filters" method="get" action="/">
  <label>Name <input name="q" value="${f.q ?? ''}" placeholder="search"></label>
  <label>Tags (all must match) <input name="tags" value="${f.tags.join(' ')}" placeholder="prod eu"></label>
  <label>Status <select name="status">${option('', f.status, 'any')}${option('online', f.status)}${option('offline', f.status)}${option('paused', f.status)}</select></label>
  <label>Type <select name="type">${option('', f.type, 'any')}${r.types.map((t) => option(t, f.type))}</select></label>
  <button type="submit">Filter</button> <a href="/">clear</a>
</form>
<div class="scroll"><table><thead><tr><th>Status</th><th>Name</th><th class="hide-sm">Type</th><th class="hide-sm">Tags</th><th>Last result</th><th class="num">Age</th><th class="hide-sm">Last hour</th><th class="num">24 h</th><th class="num hide-sm">7 d</th><th class="num hide-sm">30 d</th></tr></thead>
<tbody id="rows" data-live="${live}">${rowsHtml(page.items, f, now)}</tbody></table></div>
<div class="pager">${page.page > 1 ? html`<a rel="prev" href="/?${filterQuery(f, { page: page.page - 1, per: page.per })}">← previous</a>` : ''}
<span class="muted">page ${page.page} of ${page.pages} · ${page.total} checks</span>
${page.page < page.pages ? html`<a rel="next" href="/?${filterQuery(f, { page: page.page + 1, per: page.per })}">next →</a>` : ''}</div>`;
  return layout('Checks', body, { nav: true, publicLink });
}

export function summaryHtml(c: ListResult['counts']): Html {
  return html`<span>${statusBadge('offline')} ${c.offline}</span><span>${statusBadge('online')} ${c.online}</span><span>${statusBadge('paused')} ${c.paused}</span>`;
}

export interface CheckPageData {
  line: CheckLine;
  data: string;
  delay: number;
  flips: FlipRow[];
  alerts: AttemptView[];
  history: MinuteStat[];
  push: PushView | null;
  pings: PingRow[];
  badge: string;
}

export function checkHeadHtml(d: Pick<CheckPageData, 'line' | 'push'>, now: number): Html {
  const c = d.line;
  return html`<p>${statusBadge(c.status)} last result: ${c.last ? html`<b>${c.last.ok ? 'ok' : 'fail'}</b> in ${c.last.ms} ms, ${ago(c.last.at, now)}` : 'none yet'}
  ${d.push ? html` · push: <b>${d.push.state}</b> (${d.push.message})${d.push.deadline !== null ? html` · next deadline <time>${iso(d.push.deadline)}</time>` : ''}` : ''}</p>
  <p>Uptime: 24 h ${percent(c.uptime['24h'])} · 7 d ${percent(c.uptime['7d'])} · 30 d ${percent(c.uptime['30d'])}</p>`;
}

export function flipsHtml(flips: FlipRow[]): Html {
  if (!flips.length) return html`<p class="muted">No flips in the last 30 days.</p>`;
  return html`<table><thead><tr><th>Time</th><th>Became</th><th>Message</th></tr></thead><tbody>${[...flips].reverse().map((f) => html`<tr><td>${iso(f.at)}</td><td>${statusBadge(f.status)}</td><td><pre>${maskUrl(f.message)}</pre></td></tr>`)}</tbody></table>`;
}

export function checkPage(d: CheckPageData, now: number, publicLink: boolean): string {
  const c = d.line;
  const series = { t: d.history.map((m) => m.minute * 60), mean: d.history.map((m) => Math.round(m.meanMs)), max: d.history.map((m) => m.maxMs), failures: d.history.map((m) => m.failures) };
  const body = html`<p><a href="/">← checks</a></p><h1>${c.name}</h1>
<div id="head" data-live="/ui/check/${c.id}/head">${checkHeadHtml(d, now)}</div>
<dl class="facts"><dt>id</dt><dd>${c.id}</dd><dt>type</dt><dd>${c.type}</dd><dt>interval</dt><dd>${c.interval} s, delay ${d.delay}</dd>
<dt>tags</dt><dd>${c.tags.map((t) => html`<a class="tag" href="/?tags=${encodeURIComponent(t)}">${t}</a>`)}</dd>
<dt>parameters</dt><dd><pre>${maskData(d.data)}</pre></dd><dt>badge</dt><dd><code>/badge/${d.badge}.svg</code></dd></dl>
<h2>Response time, last 24 h (per minute)</h2><div id="chart"></div><script type="application/json" id="series">${jsonScript(series)}</script>
<h2>Flips</h2><div id="flips" data-live="/ui/check/${c.id}/flips">${flipsHtml(d.flips)}</div>
<h2>Alert attempts</h2>${d.alerts.length ? html`<table><thead><tr><th>Created</th><th>Contact</th><th>For</th><th>State</th><th class="num">Attempts</th><th>Last error</th></tr></thead><tbody>${d.alerts.map((a) => html`<tr><td>${iso(a.createdAt)}</td><td>#${a.contactId} ${a.contactType}</td><td>${a.status}</td><td>${a.state}${a.sentAt ? html` <span class="muted">${iso(a.sentAt)}</span>` : ''}</td><td class="num">${a.attempts}</td><td><pre>${maskUrl(a.lastError ?? '')}</pre></td></tr>`)}</tbody></table>` : html`<p class="muted">No alert sent for this check.</p>`}
${d.push ? html`<h2>Last pings</h2>${d.pings.length ? html`<table><thead><tr><th>Received</th><th>Kind</th><th>Exit</th><th>From</th><th>Body</th></tr></thead><tbody>${d.pings.map((p) => html`<tr><td>${iso(p.receivedAt)}</td><td>${p.kind}</td><td>${p.exitStatus ?? ''}</td><td>${p.remote}</td><td><pre>${p.body}</pre></td></tr>`)}</tbody></table>` : html`<p class="muted">No ping received yet.</p>`}` : ''}`;
  return layout(c.name, body, { nav: true, publicLink, head: html`<link rel="stylesheet" href="/assets/uplot/uPlot.min.css"><script src="/assets/uplot/uPlot.iife.min.js"></script>` });
}

export interface ClusterView {
  lease: { epoch: number; holder: string; takenAt: number };
  controller: string | null;
  view: number | null;
  epoch: number | null;
  quorum: number | null;
  candidates: { addr: string; live: boolean; inOffice: boolean; epoch: number }[];
  workers: { name: string; live: boolean; lastSeenMs: number | null }[];
  error?: string;
}

export function clusterPage(c: ClusterView, publicLink: boolean): string {
  const body = html`<h1>Cluster</h1>${c.error ? html`<p class="error">${c.error}</p>` : ''}
<dl class="facts"><dt>viewserver view</dt><dd>${c.view ?? '–'}</dd><dt>active controller</dt><dd>${c.controller ?? 'none'}</dd>
<dt>epoch (lease)</dt><dd>${c.lease.epoch} held by ${c.lease.holder || '–'} since ${c.lease.takenAt ? iso(c.lease.takenAt) : '–'}</dd>
<dt>quorum</dt><dd>${c.quorum ?? '–'}</dd><dt>live workers</dt><dd>${c.workers.filter((w) => w.live).length} of ${c.workers.length}</dd></dl>
<h2>Controller candidates</h2><table><thead><tr><th>Address</th><th>Live</th><th>In office</th></tr></thead><tbody>${c.candidates.map((x) => html`<tr><td>${x.addr}</td><td>${x.live ? 'yes' : 'no'}</td><td>${x.inOffice ? `epoch ${x.epoch}` : ''}</td></tr>`)}</tbody></table>
<h2>Workers</h2><table><thead><tr><th>Name</th><th>Live</th><th class="num">Last seen</th></tr></thead><tbody>${c.workers.map((w) => html`<tr><td>${w.name}</td><td>${w.live ? 'yes' : 'no'}</td><td class="num">${w.lastSeenMs === null ? '–' : `${(w.lastSeenMs / 1000).toFixed(1)} s ago`}</td></tr>`)}</tbody></table>`;
  return layout('Cluster', body, { nav: true, publicLink });
}
