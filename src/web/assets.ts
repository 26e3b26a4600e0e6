/** The dashboard's own CSS and script: small enough to live here, served with a long cache. */

export const CSS = `
:root{--up:#1a7f37;--down:#cf222e;--paused:#6e7781;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.6rem 1rem;background:#24292f;color:#fff}
header a{color:#fff;text-decoration:none}header .brand{font-weight:700}header form{margin-left:auto}
main{padding:1rem;max-width:1400px;margin:0 auto}h1{font-size:1.3rem;margin:.2rem 0 .8rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
a{color:#0969da}table{border-collapse:collapse;width:100%}th,td{padding:.35rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
th{font-weight:600;color:var(--muted);font-size:.85rem;white-space:nowrap}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;color:#fff;font-size:.8rem;font-weight:600}
.online{background:var(--up)}.offline{background:var(--down)}.paused{background:var(--paused)}
.tag{display:inline-block;background:var(--soft);border:1px solid var(--line);border-radius:.3rem;padding:0 .35rem;margin:0 .2rem .1rem 0;font-size:.8rem;color:var(--fg);text-decoration:none}
.muted{color:var(--muted)}.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:.8rem}form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
input,select,button{font:inherit;padding:.3rem .45rem;border:1px solid var(--line);border-radius:.3rem;background:#fff}button{cursor:pointer;background:var(--soft)}
.summary{display:flex;gap:1rem;margin-bottom:.6rem}.pager{display:flex;gap:.6rem;align-items:center;margin:.8rem 0}
.spark{width:120px;height:24px}.spark polyline{fill:none;stroke:#0969da;stroke-width:1.2}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-all}
.bars{display:flex;gap:2px}.bars span{flex:1;height:22px;border-radius:2px;min-width:3px}.bars .full{background:var(--up)}.bars .part{background:#d4a72c}.bars .none{background:var(--down)}
pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:.85rem}.login{max-width:320px;margin:4rem auto;display:flex;flex-direction:column;gap:.6rem}
.error{color:var(--down)}#chart{min-height:260px}
#chart{overflow:hidden}.scroll{overflow-x:auto}
@media (max-width:720px){form.filters input{width:9rem}.hide-sm{display:none}main{padding:.5rem}td,th{padding:.3rem .3rem}.spark{width:70px}}
`;

/**
 * Live updates by short polling: every element with data-live="<url>" has its inner HTML replaced
 * by what the URL returns, every few seconds, without reloading the page. A chart div with
 * data-series draws itself with uPlot.
 */
export const JS = `
(function(){
  var every = Number(document.body.getAttribute('data-poll') || 3000);
  function refresh(el){
    fetch(el.getAttribute('data-live'), {headers:{'x-requested-with':'live'}, credentials:'same-origin'})
      .then(function(r){ if (r.status === 401) { location.reload(); return null; } return r.ok ? r.text() : null; })
      .then(function(t){ if (t !== null && t !== el.innerHTML) el.innerHTML = t; })
      .catch(function(){});
  }
  setInterval(function(){ document.querySelectorAll('[data-live]').forEach(refresh); }, every);
  var chart = document.getElementById('chart');
  if (chart && window.uPlot) {
    var s = JSON.parse(document.getElementById('series').textContent);
    var opts = { width: Math.max(280, chart.clientWidth), height: 260, scales: { x: { time: true } },
      series: [{}, { label: 'mean ms', stroke: '#0969da', width: 1.5 }, { label: 'max ms', stroke: '#d4a72c', width: 1 }, { label: 'failures', stroke: '#cf222e', width: 1, scale: 'n' }],
      axes: [{}, { label: 'ms' }, { scale: 'n', side: 1, grid: { show: false } }] };
    var u = new uPlot(opts, [s.t, s.mean, s.max, s.failures], chart);
    window.addEventListener('resize', function(){ u.setSize({ width: Math.max(280, chart.clientWidth), height: 260 }); });
    chart.setAttribute('data-drawn', String(s.t.length));
  }
})();
`;
