/**
 * The live status page served at `GET /` on the HTTP port: every upstream, its levels and named
 * clusters, each peer's state (operator down, passive, heartbeat), weight, last probe age and
 * latency and message, plus the event trail. It is three static assets (HTML, script, style)
 * with no build step and no third-party code, so it ships inside the server and works offline.
 *
 * How it stays live without reloads: it loads `GET /api/status` once, then follows
 * `GET /events` (server-sent events, resumed by the browser with Last-Event-ID). A health
 * event updates the peer's row at once; any event also schedules a refetch of `/api/status`
 * (at most one per REFRESH_MS), and so does a 5 s poll while the tab is visible, so probe ages,
 * latencies and messages catch up. Scale: one
 * table per cluster, rows built once per refresh with DocumentFragment, a filter box and a
 * "problems only" switch so 1,000 peers stay readable.
 *
 * Safety: every value from the server goes into the page with `textContent`, never as HTML;
 * the assets are served with a CSP that allows only same-origin scripts and connections.
 */

export const STATUS_PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>checkups</title>
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<header>
  <h1>checkups</h1>
  <span id="meta"></span>
  <span id="live" class="live off" title="event stream">connecting</span>
</header>
<nav>
  <input id="filter" type="search" placeholder="filter: upstream, host:port, state, message" autocomplete="off">
  <label><input id="problems" type="checkbox"> problems only</label>
  <span id="totals"></span>
</nav>
<main>
  <div id="upstreams"></div>
  <aside>
    <h2>Events</h2>
    <ol id="events"></ol>
  </aside>
</main>
</body>
</html>
`;

export const STATUS_PAGE_CSS = `
:root { --ok: #1a7f37; --err: #cf222e; --warn: #9a6700; --muted: #656d76; --line: #d0d7de; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; }
header { display: flex; gap: 1em; align-items: baseline; padding: .5em 1em; border-bottom: 1px solid var(--line); background: var(--bg); }
header h1 { font-size: 16px; margin: 0; }
#meta { color: var(--muted); }
.live { margin-left: auto; padding: 0 .6em; border-radius: 1em; color: #fff; background: var(--ok); }
.live.off { background: var(--muted); }
nav { display: flex; gap: 1em; align-items: center; padding: .5em 1em; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: #fff; z-index: 1; }
#filter { width: 28em; padding: .3em .5em; }
#totals { color: var(--muted); }
main { display: grid; grid-template-columns: minmax(0, 1fr) 24em; gap: 1em; padding: 1em; }
details.upstream { border: 1px solid var(--line); border-radius: 6px; margin-bottom: .8em; }
details.upstream > summary { padding: .4em .8em; background: var(--bg); cursor: pointer; }
summary .skey { font-weight: 600; margin-right: .8em; }
summary .facts, .cluster-title { color: var(--muted); }
.cluster-title { padding: .3em .8em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .15em .8em; border-top: 1px solid var(--line); white-space: nowrap; }
td.msg { white-space: normal; color: var(--muted); }
th { font-weight: 500; color: var(--muted); }
.state { font-weight: 600; }
.state-ok { color: var(--ok); } .state-err, .state-passive { color: var(--err); }
.state-unstable, .state-down { color: var(--warn); } .state-unchecked { color: var(--muted); }
tr.flash td { background: #fff8c5; }
aside h2 { font-size: 14px; margin: 0 0 .4em; }
#events { list-style: none; margin: 0; padding: 0; max-height: 85vh; overflow: auto; font-size: 12px; }
#events li { padding: .25em 0; border-top: 1px solid var(--line); }
#events time { color: var(--muted); margin-right: .5em; }
#events .kind { font-weight: 600; margin-right: .4em; }
.empty { color: var(--muted); padding: .4em .8em; }
`;

export const STATUS_PAGE_JS = `'use strict';
const REFRESH_MS = 1000;
const POLL_MS = 5000;
const MAX_EVENTS = 200;
const $ = (id) => document.getElementById(id);
const state = { view: null, rows: new Map(), timer: null, loading: false, again: false };

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function age(ms) {
  if (ms === null || ms === undefined) return '-';
  const s = Math.max(0, (Date.now() - ms) / 1000);
  return s < 60 ? s.toFixed(1) + ' s' : s < 3600 ? (s / 60).toFixed(1) + ' min' : (s / 3600).toFixed(1) + ' h';
}
function problem(p) { return p.state !== 'ok' && p.state !== 'unchecked'; }
function passiveText(p) {
  if (p.passive.status !== 'err') return p.passive.failedCount > 0 ? p.passive.failedCount + '/' + p.passive.maxFails + ' fails' : 'ok';
  return 'err until ' + (p.passive.until ? new Date(p.passive.until).toLocaleTimeString() : '?');
}
function matches(u, p, q) {
  if (!q) return true;
  const hay = (u.skey + ' ' + p.id + ' ' + p.state + ' ' + (p.msg || '')).toLowerCase();
  return q.split(/\\s+/).every((w) => hay.includes(w));
}
function setState(td, s) { td.textContent = s; td.className = 'state state-' + s; }

function row(u, p) {
  const tr = el('tr');
  tr.dataset.peer = p.id;
  tr.dataset.skey = u.skey;
  tr.append(el('td', 'peer', p.id), el('td', 'weight', p.weight));
  const st = el('td'); setState(st, p.state); tr.append(st);
  tr.append(el('td', 'status', p.status), el('td', 'passive', passiveText(p)), el('td', 'down', p.down ? 'down' : ''));
  const probeAge = el('td', 'age', age(p.lastProbeAt)); probeAge.dataset.at = p.lastProbeAt ?? '';
  tr.append(probeAge, el('td', 'latency', p.lastProbeLatencyMs === null ? '-' : p.lastProbeLatencyMs.toFixed(1) + ' ms'), el('td', 'msg', p.msg || ''));
  return tr;
}

function render() {
  const v = state.view;
  if (!v) return;
  const q = $('filter').value.trim().toLowerCase();
  const only = $('problems').checked;
  $('meta').textContent = 'version ' + v.version + ' · revision ' + v.revision + (v.checker ? ' · checker ' + (v.checker.alive ? 'alive' : 'NOT alive') + ', ' + v.checker.targets + ' targets, lateness p99 ' + v.checker.latenessP99Ms.toFixed(1) + ' ms' : ' · health checks off');
  const closed = new Set([...document.querySelectorAll('details.upstream')].filter((d) => !d.open).map((d) => d.dataset.skey));
  const frag = document.createDocumentFragment();
  const counts = new Map();
  let total = 0, shown = 0;
  state.rows.clear();
  for (const u of v.upstreams) {
    const det = el('details', 'upstream');
    det.dataset.skey = u.skey;
    det.open = !closed.has(u.skey);
    const sum = el('summary');
    const ucounts = new Map();
    let any = false;
    const body = document.createDocumentFragment();
    for (const c of u.clusters) {
      const rows = [];
      for (const p of c.peers) {
        total++;
        counts.set(p.state, (counts.get(p.state) || 0) + 1);
        ucounts.set(p.state, (ucounts.get(p.state) || 0) + 1);
        if ((only && !problem(p)) || !matches(u, p, q)) continue;
        const tr = row(u, p);
        const key = u.skey + ' ' + p.id;
        if (!state.rows.has(key)) state.rows.set(key, []);
        state.rows.get(key).push(tr);
        rows.push(tr);
      }
      if (rows.length === 0) continue;
      any = true; shown += rows.length;
      body.append(el('div', 'cluster-title', (/^\\d+$/.test(c.key) ? 'level ' : 'cluster ') + c.key + ' · ' + c.peers.length + ' peers'));
      const table = el('table');
      const head = el('tr');
      for (const h of ['peer', 'weight', 'state', 'heartbeat', 'passive', 'admin', 'last probe', 'latency', 'message']) head.append(el('th', null, h));
      table.append(head, ...rows);
      body.append(table);
    }
    if (!any && (q || only)) continue;
    sum.append(el('span', 'skey', u.skey), el('span', 'facts', u.typ + ' · ' + u.mode + (u.protected ? ' · protected' : '') + (u.heartbeat ? '' : ' · heartbeat off') + ' · v' + u.version + ' · ' + [...ucounts].map(([s, n]) => n + ' ' + s).join(', ')));
    det.append(sum, any ? body : el('div', 'empty', 'no servers'));
    frag.append(det);
  }
  $('upstreams').replaceChildren(frag);
  $('totals').textContent = total + ' peers (' + [...counts].map(([s, n]) => n + ' ' + s).join(', ') + ')' + (shown < total ? ', ' + shown + ' shown' : '');
}

async function refresh() {
  if (state.loading) { state.again = true; return; }
  state.loading = true;
  try {
    const r = await fetch('/api/status', { cache: 'no-store' });
    if (r.ok) { state.view = await r.json(); render(); }
  } catch (e) { /* the server is away: keep the last view; the event stream reconnects */ }
  finally {
    state.loading = false;
    if (state.again) { state.again = false; schedule(); }
  }
}
function schedule() {
  if (state.timer !== null) return;
  state.timer = setTimeout(() => { state.timer = null; refresh(); }, REFRESH_MS);
}

/** Applies a health event to the rows at once; the refetch brings the rest. */
function applyHealth(e) {
  const d = e.details || {};
  const rows = state.rows.get(e.skey + ' ' + e.peer) || [];
  let next = null;
  if (d.cause === 'admin') next = d.to === 'down' ? 'down' : null;
  else if (d.cause === 'passive') next = d.to === 'err' ? 'passive' : null;
  else if (typeof d.to === 'string') next = d.to;
  for (const tr of rows) {
    const st = tr.querySelector('.state');
    if (next !== null) setState(st, next);
    if (d.cause === 'active' && typeof d.to === 'string') tr.querySelector('.status').textContent = d.to;
    tr.classList.add('flash');
    setTimeout(() => tr.classList.remove('flash'), 1500);
  }
}

function addEvent(e) {
  const li = el('li');
  li.append(el('time', null, new Date(e.at).toLocaleTimeString()), el('span', 'kind', e.kind), el('span', null, e.message));
  const list = $('events');
  list.prepend(li);
  while (list.childElementCount > MAX_EVENTS) list.lastElementChild.remove();
}

function follow() {
  const es = new EventSource('/events?last=50');
  const live = $('live');
  es.onopen = () => { live.textContent = 'live'; live.classList.remove('off'); refresh(); };
  es.onerror = () => { live.textContent = 'reconnecting'; live.classList.add('off'); };
  for (const kind of ['health', 'admin', 'auth', 'config']) {
    es.addEventListener(kind, (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch { return; }
      addEvent(e);
      if (kind === 'health') applyHealth(e);
      schedule();
    });
  }
  es.addEventListener('missed', () => schedule());
}

function tickAges() {
  for (const td of document.querySelectorAll('td.age')) {
    const at = td.dataset.at;
    if (at) td.textContent = age(Number(at));
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('filter').addEventListener('input', render);
  $('problems').addEventListener('change', render);
  refresh();
  follow();
  setInterval(tickAges, 1000);
  // Probe ages, latencies and messages change without events: poll now and then while visible.
  setInterval(() => { if (!document.hidden) schedule(); }, POLL_MS);
});
`;
