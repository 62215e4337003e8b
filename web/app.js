'use strict';
// tokenscope viewer: scores a text through /v1/score, streams a generation from /v1/completions (with the
// tokenscope extension: rank, entropy and the sampler chain's distribution per token), and compares two models
// through /v1/compare. A document is rendered in one pass (one HTML string, set once; generated tokens are appended
// per chunk), every token a <span class="t"> whose colour classes for all metrics are fixed at render time; hover
// and keyboard use event delegation on the container. So a 20,000-token document stays responsive.

const $ = (id) => document.getElementById(id);
const LN2 = Math.log(2);
const state = { health: null, key: localStorage.getItem('tokenscope-key') || '' };

const esc = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
// Alternatives are shown with their whitespace visible.
const shown = (s) => s.replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
const fmt = (x, d = 3) => (x == null || !isFinite(x) ? '—' : x.toFixed(d));
const pct = (lp) => {
  const p = Math.exp(lp) * 100;
  return p >= 10 ? p.toFixed(1) + '%' : p >= 0.01 ? p.toFixed(2) + '%' : p.toExponential(1) + '%';
};

function setStatus(msg, err) {
  const s = $('status');
  s.textContent = msg || '';
  s.classList.toggle('err', !!err);
}

async function api(path, body, signal) {
  const headers = { 'Content-Type': 'application/json' };
  if (state.key) headers.Authorization = 'Bearer ' + state.key;
  const r = await fetch(path, { method: body ? 'POST' : 'GET', headers, body: body ? JSON.stringify(body) : undefined, signal });
  if (!r.ok) {
    let msg = `HTTP ${r.status}`;
    try { const j = await r.json(); if (j.error) msg = j.error.message; } catch (e) { /* not JSON */ }
    if (r.status === 401) $('settings').open = true;
    throw new Error(msg);
  }
  return r;
}

// ---- colour buckets (the CSS classes of app.css) ----
const band = (x, cuts) => { let i = 0; while (i < cuts.length && x >= cuts[i]) i++; return i; };
const S_CUTS = [1, 2, 4, 6, 8, 11, 14];          // surprisal, bits
const E_CUTS = [0.5, 1, 2, 3, 4, 6, 8];          // entropy, bits
const R_CUTS = [2, 11, 101, 1001];               // rank
const D_CUTS = [-4, -2, -1, -0.25, 0.25, 1, 2, 4]; // log p_A − log p_B, nats
const K_CUTS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2]; // KL, nats
const sClass = (lp) => 's' + band(-lp / LN2, S_CUTS);
const eClass = (h) => 'e' + band(h / LN2, E_CUTS);
const rClass = (r) => 'r' + band(r, R_CUTS);

const LEGENDS = {
  s: ['surprisal (bits)', ['s0', '<1'], ['s1', '1–2'], ['s2', '2–4'], ['s3', '4–6'], ['s4', '6–8'], ['s5', '8–11'], ['s6', '11–14'], ['s7', '≥14']],
  e: ['entropy (bits)', ['e0', '<0.5'], ['e1', '0.5–1'], ['e2', '1–2'], ['e3', '2–3'], ['e4', '3–4'], ['e5', '4–6'], ['e6', '6–8'], ['e7', '≥8']],
  r: ['rank', ['r0', '1'], ['r1', '2–10'], ['r2', '11–100'], ['r3', '101–1000'], ['r4', '>1000']],
  d: ['log p(A) − log p(B)', ['d0', 'B ≫'], ['d1', ''], ['d2', ''], ['d3', ''], ['d4', '≈'], ['d5', ''], ['d6', ''], ['d7', ''], ['d8', 'A ≫']],
  k: ['KL(A‖B) (nats)', ['k0', '<.01'], ['k1', ''], ['k2', ''], ['k3', '.1–.25'], ['k4', ''], ['k5', '.5–1'], ['k6', ''], ['k7', '≥2']],
};
function legend(el, m) {
  const [title, ...items] = LEGENDS[m];
  el.innerHTML = `<span>${esc(title)}</span>` + items.map(([c, l]) => `<span class="${c}">${esc(l || '\u00a0')}</span>`).join('');
}

// ---- token views: hover, focus, keyboard ----
const tip = $('tip');

function makeView(el, describe) {
  const view = { el, describe, spans: el.getElementsByClassName('t'), sel: -1 };
  el.addEventListener('mouseover', (e) => {
    const t = e.target.closest('.t');
    if (t && el.contains(t)) showTip(view, +t.dataset.i, t);
  });
  el.addEventListener('mouseleave', () => (view.sel >= 0 && document.activeElement === el ? select(view, view.sel) : hideTip()));
  el.addEventListener('click', (e) => {
    const t = e.target.closest('.t');
    if (!t) return;
    el.focus({ preventScroll: true });
    select(view, +t.dataset.i);
  });
  el.addEventListener('focus', () => { if (view.spans.length) select(view, view.sel >= 0 ? view.sel : 0); });
  el.addEventListener('blur', hideTip);
  el.addEventListener('keydown', (e) => {
    const n = view.spans.length;
    if (!n) return;
    let i = view.sel;
    switch (e.key) {
      case 'ArrowRight': i++; break;
      case 'ArrowLeft': i--; break;
      case 'ArrowDown': i = lineMove(view, 1); break;
      case 'ArrowUp': i = lineMove(view, -1); break;
      case 'PageDown': i += 100; break;
      case 'PageUp': i -= 100; break;
      case 'Home': i = 0; break;
      case 'End': i = n - 1; break;
      case 'Escape': hideTip(); return;
      default: return;
    }
    e.preventDefault();
    select(view, Math.max(0, Math.min(n - 1, i)));
  });
  return view;
}

// The token on the next (dir 1) or previous (dir −1) visual line nearest the current token's left edge.
function lineMove(view, dir) {
  const r0 = view.spans[view.sel].getBoundingClientRect();
  let line = null, best = view.sel;
  for (let j = view.sel + dir, k = 0; j >= 0 && j < view.spans.length && k < 3000; j += dir, k++) {
    const r = view.spans[j].getBoundingClientRect();
    if (line === null) {
      if (dir > 0 ? r.top > r0.top + 2 : r.top < r0.top - 2) line = r.top; else continue;
    }
    if (Math.abs(r.top - line) > 2) break;
    best = j;
    if (dir > 0 ? r.right > r0.left : r.left <= r0.left) break;
  }
  return best;
}

function select(view, i) {
  if (view.sel >= 0 && view.spans[view.sel]) view.spans[view.sel].classList.remove('sel');
  view.sel = i;
  const s = view.spans[i];
  if (!s) return;
  s.classList.add('sel');
  s.scrollIntoView({ block: 'nearest' });
  showTip(view, i, s);
}

function showTip(view, i, span) {
  tip.innerHTML = view.describe(i);
  tip.hidden = false;
  const r = span.getBoundingClientRect();
  const w = tip.offsetWidth, h = tip.offsetHeight;
  const left = Math.max(8, Math.min(window.innerWidth - w - 8, r.left));
  const below = r.bottom + 6 + h < window.innerHeight;
  tip.style.left = left + 'px';
  tip.style.top = (below ? r.bottom + 6 : Math.max(8, r.top - h - 6)) + 'px';
}
function hideTip() { tip.hidden = true; }

function altTable(rows, actual, title) {
  // rows: [{piece, logprob}], most likely first; `actual` marks the token that came
  const max = rows.length ? Math.exp(rows[0].logprob) : 1;
  let html = `<div class="sub">${esc(title)}</div><table><tr><th>token</th><th>p</th><th>logprob</th><th></th></tr>`;
  for (const a of rows) {
    const p = Math.exp(a.logprob);
    html += `<tr class="${a.piece === actual ? 'is' : ''}"><td class="tok">${esc(shown(a.piece) || '∅')}</td>` +
      `<td>${pct(a.logprob)}</td><td>${fmt(a.logprob)}</td><td><span class="bar" style="width:${Math.round(60 * p / max)}px"></span></td></tr>`;
  }
  return html + '</table>';
}

function statsGrid(pairs) {
  return '<div class="stats">' + pairs.map(([k, v]) => `<span>${esc(k)}</span><span>${v}</span>`).join('') + '</div>';
}

// ---- splitting the text at token offsets (UTF-8 bytes; a token that starts inside a character starts after it) ----
function pieces(text, offsets) {
  const bytes = new TextEncoder().encode(text);
  const dec = new TextDecoder();
  const at = (o) => { while (o < bytes.length && (bytes[o] & 0xc0) === 0x80) o++; return Math.min(o, bytes.length); };
  const starts = offsets.map(at);
  const out = [];
  for (let i = 0; i < starts.length; i++) {
    const a = starts[i], b = i + 1 < starts.length ? Math.max(a, starts[i + 1]) : bytes.length;
    out.push(dec.decode(bytes.subarray(a, b)));
  }
  return { before: starts.length ? dec.decode(bytes.subarray(0, starts[0])) : text, pieces: out };
}

function tokenSpans(parts, classesOf) {
  const html = new Array(parts.pieces.length + 1);
  html[0] = parts.before ? `<span class="pre">${esc(parts.before)}</span>` : '';
  for (let i = 0; i < parts.pieces.length; i++) {
    const p = parts.pieces[i];
    html[i + 1] = `<span class="t ${classesOf(i)}${p ? '' : ' empty'}" data-i="${i}">${esc(p)}</span>`;
  }
  return html.join('');
}

// ---- Score ----
const score = { toks: [], parts: null };
const scoreView = makeView($('score-doc'), (i) => {
  const t = score.toks[i];
  const piece = score.parts.pieces[i];
  const rows = (t.top || []).map((a) => ({ piece: a.piece ?? a.token, logprob: a.logprob }));
  const inTop = rows.some((a) => a.piece === t.piece);
  if (!inTop) rows.push({ piece: t.piece, logprob: t.logprob });
  return `<h2>"${esc(shown(piece))}"</h2>` +
    statsGrid([['p', pct(t.logprob)], ['logprob', fmt(t.logprob)], ['surprisal', fmt(-t.logprob / LN2, 2) + ' bits'],
      ['rank', String(t.rank)], ['entropy', fmt(t.entropy / LN2, 2) + ' bits'], ['position', String(t.pos)],
      ['id', String(t.id)], ['vocab', esc(t.token)]]) +
    altTable(rows, t.piece, inTop ? 'what the model expected' : 'what the model expected (… the actual token)');
});

async function runScore() {
  const text = $('text').value;
  if (!text) { setStatus('Paste or open a text first', true); return; }
  $('score-btn').disabled = true;
  setStatus('Scoring…');
  try {
    const t0 = performance.now();
    const r = await api('/v1/score', { text, top: +$('top-k').value, pieces: true });
    const res = await r.json();
    const t1 = performance.now();
    score.toks = res.tokens;
    score.parts = pieces(text, res.tokens.map((t) => t.offset));
    scoreView.sel = -1;
    $('score-doc').innerHTML = tokenSpans(score.parts, (i) => {
      const t = score.toks[i];
      return `${sClass(t.logprob)} ${eClass(t.entropy)} ${rClass(t.rank)}`;
    });
    summarizeScore(res);
    setStatus(`Scored ${res.tokens.length} tokens in ${((t1 - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    $('score-btn').disabled = false;
  }
}

function summarizeScore(res) {
  const s = res.summary, toks = res.tokens;
  let hsum = 0;
  for (const t of toks) hsum += t.entropy;
  const worst = toks.map((t, i) => [t.logprob, i]).sort((a, b) => a[0] - b[0]).slice(0, 5);
  $('score-summary').innerHTML =
    `<span>tokens <b>${s.tokens}</b></span><span>perplexity <b>${fmt(s.ppl, 2)}</b></span>` +
    `<span>bits per byte <b>${fmt(s.bits_per_byte, 3)}</b></span>` +
    `<span>mean surprisal <b>${fmt(s.nll / LN2, 2)}</b> bits</span>` +
    `<span>mean entropy <b>${fmt(toks.length ? hsum / toks.length / LN2 : 0, 2)}</b> bits</span>` +
    `<span class="worst">most surprising ${worst.map(([lp, i]) =>
      `<button data-i="${i}" title="${fmt(-lp / LN2, 1)} bits">${esc(shown(score.parts.pieces[i]) || '∅')}</button>`).join('')}</span>`;
}
$('score-summary').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-i]');
  if (!b) return;
  $('score-doc').focus({ preventScroll: true });
  select(scoreView, +b.dataset.i);
});

// ---- Generate (streamed) ----
const gen = { toks: [], abort: null };
const genView = makeView($('gen-doc'), (i) => {
  const t = gen.toks[i];
  let html = `<h2>"${esc(shown(t.text))}"</h2>` +
    statsGrid([['p', pct(t.logprob)], ['logprob', fmt(t.logprob)], ['surprisal', fmt(-t.logprob / LN2, 2) + ' bits'],
      ['rank', String(t.rank)], ['entropy', fmt(t.entropy / LN2, 2) + ' bits'], ['id', String(t.id)]]);
  html += altTable(t.top, t.text, 'the model’s distribution');
  if (t.processed) {
    const p = t.processed;
    html += `<div class="sub">after the sampler chain: kept ${p.kept}, entropy ${fmt(p.p_entropy / LN2, 2)} bits, ` +
      `p(chosen) ${pct(p.p_logprob)}${p.changed ? ' — <b>the chain chose other than the model’s top token</b>' : ''}</div>`;
    html += altTable(p.p_top.map((a) => ({ piece: a.token, logprob: a.logprob })), t.text, 'what the chain drew from');
  }
  return html;
});

function parseSSE(buffer, onData) {
  let idx;
  while ((idx = buffer.indexOf('\n\n')) >= 0) {
    const block = buffer.slice(0, idx);
    buffer = buffer.slice(idx + 2);
    for (const line of block.split('\n')) if (line.startsWith('data: ')) onData(line.slice(6));
  }
  return buffer;
}

async function runGenerate() {
  const prompt = $('text').value;
  if (!prompt) { setStatus('Write a prompt in the text box first', true); return; }
  const body = {
    prompt, max_tokens: +$('gen-n').value || 64, logprobs: 10, stream: true,
    tokenscope: { entropy: true, rank: true, processed: true, samplers: $('gen-samplers').value.trim() || 'default' },
  };
  if ($('gen-seed').value !== '') body.seed = +$('gen-seed').value;
  gen.toks = [];
  genView.sel = -1;
  $('gen-doc').innerHTML = `<span class="pre">${esc(prompt)}</span>`;
  $('gen-summary').textContent = '';
  gen.abort = new AbortController();
  $('gen-btn').disabled = true;
  $('gen-stop').disabled = false;
  setStatus('Generating…');
  const t0 = performance.now();
  let finish = '';
  try {
    const r = await api('/v1/completions', body, gen.abort.signal);
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf = parseSSE(buf + dec.decode(value, { stream: true }), (data) => {
        if (data === '[DONE]') return;
        const ch = JSON.parse(data);
        if (ch.error) throw new Error(ch.error.message);
        const c = ch.choices && ch.choices[0];
        if (!c) return;
        if (c.finish_reason) finish = c.finish_reason;
        if (c.logprobs) appendGenerated(c.logprobs);
      });
    }
    summarizeGen(finish, performance.now() - t0);
    setStatus('');
  } catch (e) {
    if (e.name === 'AbortError') { summarizeGen('stopped', performance.now() - t0); setStatus(''); }
    else setStatus(e.message, true);
  } finally {
    $('gen-btn').disabled = false;
    $('gen-stop').disabled = true;
  }
}

function appendGenerated(lp) {
  const ext = lp.tokenscope || {};
  const html = [];
  for (let j = 0; j < lp.tokens.length; j++) {
    const top = Object.entries(lp.top_logprobs[j] || {}).map(([piece, logprob]) => ({ piece, logprob }))
      .sort((a, b) => b.logprob - a.logprob);
    const t = { text: lp.tokens[j], logprob: lp.token_logprobs[j], rank: ext.rank ? ext.rank[j] : 0,
      entropy: ext.entropy ? ext.entropy[j] : 0, id: ext.ids ? ext.ids[j] : -1, top,
      processed: ext.processed ? ext.processed[j] : null };
    const i = gen.toks.length;
    gen.toks.push(t);
    const cls = `${sClass(t.logprob)} ${eClass(t.entropy)} ${rClass(t.rank)}${t.processed && t.processed.changed ? ' chg' : ''}`;
    html.push(`<span class="t ${cls}${t.text ? '' : ' empty'}" data-i="${i}">${esc(t.text)}</span>`);
  }
  $('gen-doc').insertAdjacentHTML('beforeend', html.join(''));
}

function summarizeGen(finish, ms) {
  const n = gen.toks.length;
  let nll = 0, changed = 0;
  for (const t of gen.toks) { nll -= t.logprob; if (t.processed && t.processed.changed) changed++; }
  $('gen-summary').innerHTML = `<span>tokens <b>${n}</b></span><span>tokens/s <b>${fmt(n / (ms / 1000), 1)}</b></span>` +
    `<span>perplexity <b>${fmt(n ? Math.exp(nll / n) : 0, 2)}</b></span><span>chain changed <b>${changed}</b></span>` +
    `<span>stop <b>${esc(finish || '—')}</b></span>`;
}

// ---- Compare (two models) ----
const cmp = { toks: [], parts: null };
const cmpView = makeView($('cmp-doc'), (i) => {
  const t = cmp.toks[i];
  const h = state.health || {};
  return `<h2>"${esc(shown(cmp.parts.pieces[i]))}"</h2>` +
    statsGrid([[`logprob ${h.model || 'A'}`, fmt(t.logprob_a)], [`logprob ${h.compare_model || 'B'}`, fmt(t.logprob_b)],
      ['log-ratio', fmt(t.log_ratio)], ['KL(A‖B)', fmt(t.kl, 4)], ['rank A', String(t.rank_a)], ['rank B', String(t.rank_b)],
      ['entropy A', fmt(t.entropy_a / LN2, 2) + ' bits'], ['entropy B', fmt(t.entropy_b / LN2, 2) + ' bits']]);
});

async function runCompare() {
  const text = $('text').value;
  if (!text) { setStatus('Paste or open a text first', true); return; }
  $('cmp-btn').disabled = true;
  setStatus('Comparing…');
  try {
    const res = await (await api('/v1/compare', { text })).json();
    cmp.toks = res.tokens;
    cmp.parts = pieces(text, res.tokens.map((t) => t.offset));
    cmpView.sel = -1;
    $('cmp-doc').innerHTML = tokenSpans(cmp.parts, (i) =>
      `d${band(cmp.toks[i].log_ratio, D_CUTS)} k${band(cmp.toks[i].kl, K_CUTS)}`);
    const s = res.summary;
    $('cmp-summary').innerHTML = `<span>tokens <b>${s.tokens}</b></span>` +
      `<span>perplexity ${esc(res.model_a)} <b>${fmt(s.ppl_a, 2)}</b></span><span>perplexity ${esc(res.model_b)} <b>${fmt(s.ppl_b, 2)}</b></span>` +
      `<span>bits/byte <b>${fmt(s.bits_per_byte_a)}</b> vs <b>${fmt(s.bits_per_byte_b)}</b></span>` +
      `<span>mean KL(A‖B) <b>${fmt(s.mean_kl, 4)}</b> nats</span>`;
    setStatus('');
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    $('cmp-btn').disabled = false;
  }
}

// ---- wiring ----
function metricSwitch(name, docId, legendId) {
  for (const r of document.querySelectorAll(`input[name="${name}"]`)) {
    r.addEventListener('change', () => {
      const el = $(docId);
      el.className = el.className.replace(/\bm-\w\b/, 'm-' + r.value);
      legend($(legendId), r.value);
    });
  }
}
metricSwitch('metric', 'score-doc', 'score-legend');
metricSwitch('cmetric', 'cmp-doc', 'cmp-legend');
legend($('score-legend'), 's');
legend($('cmp-legend'), 'd');

for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener('click', () => {
    for (const t of document.querySelectorAll('[role="tab"]')) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      $(t.getAttribute('aria-controls')).hidden = !on;
    }
    hideTip();
  });
}

$('score-btn').addEventListener('click', runScore);
$('gen-btn').addEventListener('click', runGenerate);
$('gen-stop').addEventListener('click', () => gen.abort && gen.abort.abort());
$('cmp-btn').addEventListener('click', runCompare);
$('text').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    const active = document.querySelector('[role="tab"][aria-selected="true"]').id;
    ({ 'tab-score': runScore, 'tab-generate': runGenerate, 'tab-compare': runCompare })[active]();
  }
});
$('text').addEventListener('input', () => { $('text-stats').textContent = `${$('text').value.length} characters`; });
$('file').addEventListener('change', async (e) => {
  const f = e.target.files[0];
  if (!f) return;
  $('text').value = await f.text();
  $('text-stats').textContent = `${f.name}: ${$('text').value.length} characters`;
});
$('api-key').value = state.key;
$('api-key').addEventListener('change', () => {
  state.key = $('api-key').value;
  localStorage.setItem('tokenscope-key', state.key);
});

(async () => {
  try {
    const h = await (await fetch('/health')).json();
    state.health = h;
    $('model').textContent = `${h.model} · context ${h.n_ctx}` + (h.compare_model ? ` · compare: ${h.compare_model}` : '');
    $('tab-compare').hidden = !h.compare_model;
    if (h.auth && !state.key) $('settings').open = true;
  } catch (e) {
    $('model').textContent = 'server not reachable';
  }
})();
