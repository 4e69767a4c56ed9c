// sipwarden's operator page: the overview, a user's page and the search,
// rendered from the JSON API. Everything from SIP traffic (users, user agents,
// contacts, details) is attacker-controlled: it only ever becomes text nodes
// (el() below), never HTML.
'use strict';

const main = document.getElementById('main');
let causes = null; // id -> {severity, explanation, fix}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'bg') e.style.background = v; // CSSOM: allowed by the page's CSP, a style attribute is not
    else e.setAttribute(k, v);
  }
  for (const k of kids) {
    if (k === null || k === undefined) continue;
    e.appendChild(typeof k === 'object' ? k : document.createTextNode(String(k)));
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function setStatus(text) { document.getElementById('status').textContent = text; }

async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem('sipwarden-token');
  if (token) headers.Authorization = 'Bearer ' + token;
  const r = await fetch(path, { headers });
  if (r.status === 401) {
    document.getElementById('token-box').hidden = false;
    throw new Error('a token is required');
  }
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
  return body;
}

async function loadCauses() {
  if (causes) return;
  causes = {};
  for (const c of await api('/api/causes')) causes[c.id] = c;
}

function when(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
    p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
}

function causeTag(id) {
  const sev = causes && causes[id] ? causes[id].severity : 'info';
  return el('span', { class: 'cause sev-' + sev }, id);
}

function userLink(aor) {
  if (!aor) return '-';
  return el('a', { href: '/user?aor=' + encodeURIComponent(aor) }, aor);
}

function sourceLink(addr, port) {
  if (!addr) return '-';
  const shown = addr.includes(':') ? '[' + addr + ']:' + port : addr + ':' + port;
  return el('a', { href: '/search?q=' + encodeURIComponent(addr), class: 'mono' }, shown);
}

function table(headers, rows, empty) {
  if (!rows.length) return el('p', { class: 'muted' }, empty);
  return el('table', {}, el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))));
}

function eventsTable(events, empty) {
  return table(['time', 'user', 'source', 'method', 'cause', 'what it means', 'device'],
    events.map((e) => [when(e.time_ms), userLink(e.aor || e.auth_user), sourceLink(e.source, e.port),
      e.method, causeTag(e.cause), e.explanation || '', e.user_agent || '']), empty);
}

function bansTable(bans) {
  return table(['address', 'user', 'until', 'reason'],
    bans.map((b) => [el('span', { class: 'mono' }, b.address + (b.prefix === 32 || b.prefix === 128 ? '' : '/' + b.prefix)),
      b.user || 'every user', b.until ? b.until + ' (' + b.remaining_s + ' s left)' : 'until deleted', b.reason]),
    'No bans in force.');
}

const palette = ['#c0392b', '#e67e22', '#8e44ad', '#2980b9', '#d35400', '#7f8c8d', '#16a085', '#f1c40f',
  '#e84393', '#6c5ce7', '#00b894', '#b33939'];
function colour(id, i) {
  if (id === 'ok') return '#2e8b57';
  if (id === 'no-credentials') return '#b8c2cc';
  if (id === 'stale-nonce') return '#9fb8d0';
  return palette[i % palette.length];
}

// Decisions per minute by cause: stacked bars, one per minute, oldest left.
function chart(d) {
  const ids = Object.keys(d.causes);
  const n = d.minutes.length;
  const totals = d.minutes.map((_, i) => ids.reduce((s, id) => s + d.causes[id][i], 0));
  const max = Math.max(1, ...totals);
  const W = 1000, H = 200, pad = 24, bw = (W - pad) / n;
  const s = svg('svg', { class: 'chart', viewBox: '0 0 ' + W + ' ' + (H + 18), role: 'img', 'aria-label': 'decisions per minute by cause, last hour' });
  s.appendChild(svg('text', { x: 2, y: 12, 'font-size': 10, fill: '#667' })).textContent = String(max);
  for (let i = 0; i < n; i++) {
    let y = H;
    ids.forEach((id, k) => {
      const v = d.causes[id][i];
      if (!v) return;
      const h = (v / max) * (H - 16);
      y -= h;
      const r = svg('rect', { x: pad + i * bw + 0.5, y, width: Math.max(1, bw - 1), height: h, fill: colour(id, k) });
      r.appendChild(svg('title', {})).textContent =
        new Date(d.minutes[i] * 1000).toTimeString().slice(0, 5) + ' ' + id + ': ' + v;
      s.appendChild(r);
    });
  }
  for (const i of [0, Math.floor(n / 2), n - 1]) {
    const t = svg('text', { x: pad + (i + 0.5) * bw, y: H + 14, 'font-size': 10, fill: '#667',
      'text-anchor': i === n - 1 ? 'end' : 'middle' });
    t.textContent = new Date(d.minutes[i] * 1000).toTimeString().slice(0, 5);
    s.appendChild(t);
  }
  const legend = el('div', { class: 'legend' }, ...ids.map((id, k) => el('span', {},
    el('i', { bg: colour(id, k) }), id + ' ' + d.causes[id].reduce((a, b) => a + b, 0))));
  return el('div', { id: 'chart' }, s, ids.length ? legend : el('p', { class: 'muted' }, 'No decisions in the last hour.'));
}

async function overview() {
  await loadCauses();
  const o = await api('/api/overview');
  document.title = 'sipwarden';
  main.replaceChildren(
    el('h1', {}, 'Overview'),
    el('div', { class: 'cards' },
      el('div', { class: 'card' }, el('div', { class: 'n', id: 'bindings' }, o.bindings), 'registrations now'),
      el('div', { class: 'card' }, el('div', { class: 'n' }, o.subscribers), 'subscribers'),
      el('div', { class: 'card' }, el('div', { class: 'n' }, o.bans.length), 'bans in force')),
    el('h2', {}, 'Decisions per minute by cause, last hour'),
    chart(o.decisions_per_minute),
    el('h2', {}, 'Latest failures'),
    el('div', { id: 'failures' }, eventsTable(o.failures, 'No failure in the last hour.')),
    el('h2', {}, 'Bans in force'),
    el('div', { id: 'bans' }, bansTable(o.bans)));
  setStatus('updated ' + new Date().toLocaleTimeString() + ' · ' + o.domains.join(', '));
}

function decisionBox(title, e, id) {
  const ok = e.severity === 'info';
  return el('div', { class: 'verdict' + (ok ? ' ok' : ''), id },
    el('div', {}, title + ' ', el('b', {}, when(e.time_ms)), ' from ', sourceLink(e.source, e.port), ' (', e.method, '): ',
      causeTag(e.cause)),
    el('div', {}, e.explanation || ''),
    e.fix && !ok ? el('div', { class: 'fix' }, el('b', {}, 'Fix: '), e.fix) : null,
    e.detail ? el('div', { class: 'muted' }, 'Detail: ', e.detail) : null);
}

// What `sipwarden why` says first: the last decision and, when that one went
// well, the last failure before it with its fix.
function verdict(why) {
  if (!why.length) return el('div', { class: 'verdict' }, 'No authentication decision recorded for this user.');
  const failure = why.find((e) => e.severity !== 'info');
  return el('div', {}, decisionBox('Last decision', why[0], 'verdict'),
    failure && failure !== why[0] ? decisionBox('Last failure', failure, 'last-failure') : null);
}

async function userPage(aor) {
  await loadCauses();
  const u = await api('/api/user?aor=' + encodeURIComponent(aor));
  document.title = u.aor + ' · sipwarden';
  const sub = u.subscriber ? (u.subscriber.disabled ? 'account disabled' : 'account enabled')
    : 'no such subscriber in the database';
  main.replaceChildren(
    el('h1', {}, u.aor),
    el('p', { class: 'muted' }, sub),
    verdict(u.why),
    el('h2', {}, 'Current registrations'),
    el('div', { id: 'user-bindings' }, table(['contact', 'user agent', 'source', 'transport', 'expires in'],
      u.bindings.map((b) => [el('span', { class: 'mono' }, b.contact), b.user_agent || '-', sourceLink(b.source, b.port),
        b.transport, b.expires_in + ' s']), 'No device is registered.')),
    el('h2', {}, 'Recent decisions (sipwarden why)'),
    el('div', { id: 'why' }, table(['time', 'source', 'method', 'cause', 'what it means', 'fix', 'detail', 'device'],
      u.why.map((e) => [when(e.time_ms), sourceLink(e.source, e.port), e.method, causeTag(e.cause),
        e.explanation || '', e.severity === 'info' ? '' : (e.fix || ''), e.detail, e.user_agent || '']),
      'Nothing recorded.')));
  setStatus('updated ' + new Date().toLocaleTimeString());
}

async function searchPage(q) {
  document.getElementById('q').value = q;
  await loadCauses();
  const r = await api('/api/search?q=' + encodeURIComponent(q));
  document.title = q + ' · sipwarden';
  if (r.kind === 'source') {
    main.replaceChildren(el('h1', {}, 'Requests from ', el('span', { class: 'mono' }, r.query)),
      el('div', { id: 'results' }, eventsTable(r.events, 'No decision recorded for this address.')));
  } else {
    main.replaceChildren(el('h1', {}, 'Users named ', r.query),
      el('div', { id: 'results' }, r.users.length ? el('ul', {}, ...r.users.map((a) => el('li', {}, userLink(a))))
        : el('p', { class: 'muted' }, 'No subscriber of that name in the served domains.')));
  }
}

async function route() {
  const p = new URLSearchParams(location.search);
  try {
    if (location.pathname === '/user' && p.get('aor')) await userPage(p.get('aor'));
    else if (location.pathname === '/search' && p.get('q')) await searchPage(p.get('q'));
    else await overview();
    document.body.dataset.ready = '1'; // for the tests: rendered
  } catch (e) {
    main.replaceChildren(el('p', { class: 'error' }, 'Cannot load: ' + e.message));
  }
}

document.getElementById('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem('sipwarden-token', document.getElementById('token').value);
  document.getElementById('token-box').hidden = true;
  route();
});

route();
setInterval(() => { if (!document.hidden) route(); }, 10000);
