// seqlab demo page: plain browser JavaScript, no framework, no outside assets.
// User and model text is only ever inserted with textContent, never as HTML.

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, body, signal) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ? `${res.status} ${data.error.code}: ${data.error.message}` : `HTTP ${res.status}`);
  return data;
}

// ---- status ---------------------------------------------------------------------------------

async function refreshStatus() {
  const box = $('status');
  try {
    const res = await fetch('/readyz');
    const r = await res.json();
    box.className = `status ${r.ready ? 'ready' : 'not-ready'}`;
    box.textContent = r.ready ? `ready · backend ${r.backend}` : `not ready: ${r.reasons.join('; ')}`;
  } catch {
    box.className = 'status not-ready';
    box.textContent = 'server unreachable';
  }
}

// ---- sentiment ------------------------------------------------------------------------------

function renderSentence(text, tokens) {
  const line = el('span', { class: 'sentence' });
  const max = Math.max(1e-9, ...tokens.map((t) => t.weight));
  let at = 0;
  for (const t of tokens) {
    if (t.start < at || t.end > text.length) continue;
    if (t.start > at) line.append(text.slice(at, t.start));
    const span = el('span', { class: 'tok', title: `attention ${t.weight.toFixed(3)}` }, text.slice(t.start, t.end));
    // Shade relative to the strongest token so short and long sentences read the same way.
    span.style.backgroundColor = `rgba(var(--hl), ${(0.08 + 0.72 * (t.weight / max)).toFixed(3)})`;
    span.dataset.weight = String(t.weight);
    line.append(span);
    at = t.end;
  }
  if (at < text.length) line.append(text.slice(at));
  return line;
}

async function runSentiment() {
  const texts = $('sentiment-input').value.split('\n').map((s) => s.trim()).filter(Boolean);
  const list = $('sentiment-results');
  $('sentiment-error').textContent = '';
  if (texts.length === 0) return void ($('sentiment-error').textContent = 'type at least one sentence');
  $('sentiment-run').disabled = true;
  const t0 = performance.now();
  try {
    const { results } = await api('/v1/sentiment', { texts });
    $('sentiment-time').textContent = `${(performance.now() - t0).toFixed(0)} ms`;
    list.replaceChildren(
      ...results.map((r, i) => {
        const li = el('li', { class: 'result' });
        li.append(el('span', { class: `label ${r.label}` }, `${r.label} ${(r.score * 100).toFixed(0)}%`), renderSentence(texts[i], r.tokens));
        return li;
      }),
    );
  } catch (err) {
    $('sentiment-error').textContent = err.message;
  } finally {
    $('sentiment-run').disabled = false;
  }
}

// ---- generation -----------------------------------------------------------------------------

let generation;

function generateBody() {
  const num = (id) => Number($(id).value);
  const body = {
    prompt: $('generate-prompt').value,
    maxTokens: num('g-maxTokens'),
    temperature: num('g-temperature'),
    topK: num('g-topK'),
    topP: num('g-topP'),
    stream: $('g-stream').checked,
  };
  if ($('g-seed').value !== '') body.seed = num('g-seed');
  return body;
}

// Server-Sent Events over a POST body: EventSource only does GET, so the stream is parsed here.
async function* sseEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      yield { event, data: data ? JSON.parse(data) : undefined };
    }
  }
}

async function runGenerate() {
  const out = $('generate-output');
  const body = generateBody();
  $('generate-error').textContent = '';
  $('generate-stats').textContent = '';
  out.textContent = body.prompt;
  generation = new AbortController();
  $('generate-run').disabled = true;
  $('generate-stop').disabled = false;
  const t0 = performance.now();
  try {
    if (!body.stream) {
      const r = await api('/v1/generate', body, generation.signal);
      out.textContent = body.prompt + r.text;
      $('generate-stats').textContent = `${r.tokens} tokens in ${((performance.now() - t0) / 1000).toFixed(2)} s`;
      return;
    }
    const res = await fetch('/v1/generate', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
      signal: generation.signal,
    });
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      throw new Error(data.error ? `${res.status} ${data.error.code}: ${data.error.message}` : `HTTP ${res.status}`);
    }
    let n = 0;
    for await (const { event, data } of sseEvents(res)) {
      if (event === 'token') {
        out.append(data.text);
        out.scrollTop = out.scrollHeight;
        n++;
        $('generate-stats').textContent = `${n} tokens`;
      } else if (event === 'done') {
        $('generate-stats').textContent = `${data.tokens} tokens · ${data.tokensPerSecond.toFixed(1)} tokens/s`;
        out.dataset.done = 'true';
      } else if (event === 'error') {
        throw new Error(`${data.code}: ${data.message}`);
      }
    }
  } catch (err) {
    if (err.name !== 'AbortError') $('generate-error').textContent = err.message;
  } finally {
    $('generate-run').disabled = false;
    $('generate-stop').disabled = true;
  }
}

// ---- forecast -------------------------------------------------------------------------------

let uploaded;

// Small CSV reader for uploads: header row, optional date first column, first numeric column.
function parseCsv(text) {
  const rows = text.trim().split(/\r?\n/).map((r) => r.split(',').map((c) => c.trim().replace(/^"|"$/g, '')));
  if (rows.length < 4) throw new Error('CSV needs a header and at least 3 rows');
  const [header, ...data] = rows;
  const dateCol = Number.isNaN(Number(data[0][0])) ? 0 : -1;
  const valueCol = header.findIndex((_, i) => i !== dateCol && !Number.isNaN(Number(data[0][i])));
  if (valueCol < 0) throw new Error('no numeric column found');
  const values = data.map((r, i) => {
    const v = Number(r[valueCol]);
    if (r[valueCol] === '' || !Number.isFinite(v)) throw new Error(`row ${i + 2}, column "${header[valueCol]}": "${r[valueCol]}" is not a number`);
    return v;
  });
  return { name: header[valueCol], dates: dateCol === 0 ? data.map((r) => r[0]) : undefined, values };
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceTicks(lo, hi, count = 5) {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function drawForecast(series, fc) {
  const W = 900, H = 340, m = { l: 56, r: 16, t: 14, b: 30 };
  const n = series.values.length;
  const h = fc.mean[0].length;
  const lower = fc.lower?.[0] ?? fc.mean[0];
  const upper = fc.upper?.[0] ?? fc.mean[0];
  const all = [...series.values, ...lower, ...upper, ...fc.mean[0]];
  const lo = Math.min(...all), hi = Math.max(...all);
  const pad = (hi - lo) * 0.05 || 1;
  const y0 = lo - pad, y1 = hi + pad;
  const x = (i) => m.l + (i / (n + h - 1)) * (W - m.l - m.r);
  const y = (v) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
  for (const t of niceTicks(y0, y1)) {
    root.append(svg('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(t), y2: y(t) }));
    root.append(svg('text', { x: m.l - 6, y: y(t) + 4, 'text-anchor': 'end' }, String(t)));
  }
  const labels = series.dates ? [...series.dates, ...(fc.dates ?? [])] : undefined;
  const every = Math.max(1, Math.ceil((n + h) / 8));
  for (let i = 0; i < n + h; i += every) {
    root.append(svg('text', { x: x(i), y: H - m.b + 16, 'text-anchor': 'middle' }, labels?.[i]?.slice(0, series.dates[0].length) ?? String(i)));
  }
  root.append(svg('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
  root.append(svg('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }));
  const path = (pts) => pts.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
  if (fc.lower && fc.upper) {
    const top = upper.map((v, i) => [x(n + i), y(v)]);
    const bottom = lower.map((v, i) => [x(n + i), y(v)]).reverse();
    root.append(svg('path', { class: 'band', d: `${path([[x(n - 1), y(series.values[n - 1])], ...top])}L${bottom.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join('L')}Z` }));
  }
  root.append(svg('path', { class: 'history', d: path(series.values.map((v, i) => [x(i), y(v)])) }));
  root.append(svg('path', { class: 'mean', d: path([[x(n - 1), y(series.values[n - 1])], ...fc.mean[0].map((v, i) => [x(n + i), y(v)])]) }));
  const legend = el('div', { class: 'legend' });
  const key = (color, text) => {
    const s = el('span');
    const i = el('i');
    i.style.background = color;
    s.append(i, text);
    return s;
  };
  legend.append(key('#1d2430', 'history'), key('#2f6fdf', 'forecast'));
  if (fc.lower) legend.append(key('rgba(47,111,223,0.25)', `${Math.round(fc.level * 100)}% interval`));
  $('forecast-chart').replaceChildren(root, legend);
}

async function runForecast() {
  $('forecast-error').textContent = '';
  $('forecast-run').disabled = true;
  try {
    let series;
    if ($('f-source').value === 'upload') {
      if (!uploaded) throw new Error('choose a CSV file first');
      series = uploaded;
    } else {
      const res = await fetch('/v1/samples/airline-passengers');
      series = await res.json();
    }
    const body = { series: series.values, horizon: Number($('f-horizon').value), model: $('f-model').value, level: Number($('f-level').value) };
    if (series.dates) body.dates = series.dates;
    const fc = await api('/v1/forecast', body);
    $('forecast-info').textContent = `${fc.model} fitted on ${series.values.length} points in ${fc.fitMs.toFixed(0)} ms`;
    drawForecast(series, fc);
  } catch (err) {
    $('forecast-error').textContent = err.message;
  } finally {
    $('forecast-run').disabled = false;
  }
}

// ---- wiring ---------------------------------------------------------------------------------

for (const range of document.querySelectorAll('input[type=range]')) {
  const out = document.querySelector(`output[for="${range.id}"]`);
  const show = () => (out.textContent = range.value);
  range.addEventListener('input', show);
  show();
}
$('sentiment-run').addEventListener('click', runSentiment);
$('generate-run').addEventListener('click', runGenerate);
$('generate-stop').addEventListener('click', () => generation?.abort());
$('forecast-run').addEventListener('click', runForecast);
$('f-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  try {
    uploaded = parseCsv(await file.text());
    $('f-source').value = 'upload';
    $('forecast-error').textContent = '';
  } catch (err) {
    uploaded = undefined;
    $('forecast-error').textContent = `${file.name}: ${err.message}`;
  }
});
refreshStatus();
setInterval(refreshStatus, 15_000);
runForecast();
