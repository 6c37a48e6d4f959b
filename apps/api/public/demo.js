// seqlab demo page: plain browser JavaScript, no framework, no outside assets.
// User and model text is only ever inserted with textContent, never as HTML.
// Every card clears its previous result when a request fails or is refused, so what is shown
// always belongs to the inputs above it.
import { drawForecast } from './chart.js';
import { $, FieldError, api, checkResponse, clearError, el, readLines, readNumber, showError, sseEvents } from './lib.js';
import { initTrainCard } from './train.js';

// The server's request limits, from /v1/info (these defaults are the server's own until it answers).
const limits = { maxTexts: 64, maxTextLength: 2000, maxGenerateTokens: 500 };

async function loadLimits() {
  try {
    Object.assign(limits, (await api('/v1/info')).limits);
  } catch {
    // The page still works with the defaults; the server refuses what it must.
  }
  $('g-maxTokens').max = String(limits.maxGenerateTokens);
}

// The model-store version that answered, for models published by the Train card (or any store).
const versionOf = (answer) => (typeof answer.version === 'number' ? ` v${answer.version}` : '');

// Right after a publish the server may answer with the previous version until its store poll
// (MODEL_POLL_MS, 1 s by default) sees the new one: ask again for a few seconds until it does.
async function askForVersion(call, want) {
  for (let tries = 1; ; tries++) {
    const answer = await call();
    if (want === undefined || typeof answer.version !== 'number' || answer.version >= want || tries >= 20) return answer;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
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
  clearError('sentiment-error', 'sentiment-section');
  $('sentiment-run').disabled = true;
  const t0 = performance.now();
  try {
    const texts = readLines('sentiment-input', 'sentences', limits);
    const { results } = await api('/v1/sentiment', { texts });
    $('sentiment-time').textContent = `${(performance.now() - t0).toFixed(0)} ms`;
    $('sentiment-results').replaceChildren(
      ...results.map((r, i) => {
        const li = el('li', { class: 'result' });
        li.append(el('span', { class: `label ${r.label}` }, `${r.label} ${(r.score * 100).toFixed(0)}%`), renderSentence(texts[i], r.tokens));
        return li;
      }),
    );
  } catch (err) {
    $('sentiment-results').replaceChildren();
    $('sentiment-time').textContent = '';
    showError('sentiment-error', err);
  } finally {
    $('sentiment-run').disabled = false;
  }
}

// ---- classify -------------------------------------------------------------------------------

function classifyResult(text, r) {
  const li = el('li', { class: 'result' });
  li.append(el('span', { class: 'label neutral' }, `${r.label} ${(r.score * 100).toFixed(0)}%`), el('span', { class: 'sentence' }, text));
  const others = r.labels.slice(1).map((l) => `${l.label} ${(l.score * 100).toFixed(0)}%`).join(' · ');
  if (others) li.append(el('div', { class: 'muted' }, `then ${others}`));
  return li;
}

async function runClassify(want) {
  clearError('classify-error', 'classify-section');
  $('classify-run').disabled = true;
  const t0 = performance.now();
  try {
    const texts = readLines('classify-input', 'texts', limits);
    const model = $('c-model').value.trim();
    const out = await askForVersion(() => api('/v1/classify', { texts, labels: 3, ...(model ? { model } : {}) }), want);
    $('classify-info').textContent = `${out.model}${versionOf(out)} (${out.kind}, ${out.classes.length} classes) · ${(performance.now() - t0).toFixed(0)} ms`;
    $('classify-results').replaceChildren(...out.results.map((r, i) => classifyResult(texts[i], r)));
  } catch (err) {
    $('classify-results').replaceChildren();
    $('classify-info').textContent = '';
    showError('classify-error', err);
  } finally {
    $('classify-run').disabled = false;
  }
}

// ---- generation -----------------------------------------------------------------------------

let generation;

function generateBody() {
  const prompt = $('generate-prompt').value;
  if (prompt.trim() === '') throw new FieldError($('generate-prompt'), 'prompt: type a few characters to continue');
  if (prompt.length > limits.maxTextLength) throw new FieldError($('generate-prompt'), `prompt: ${prompt.length} characters, at most ${limits.maxTextLength} (the server's MAX_TEXT_LENGTH)`);
  const body = {
    prompt,
    maxTokens: readNumber('g-maxTokens', 'max tokens'),
    temperature: readNumber('g-temperature', 'temperature'),
    topK: readNumber('g-topK', 'top-k'),
    topP: readNumber('g-topP', 'top-p'),
    stream: $('g-stream').checked,
  };
  if ($('g-seed').value !== '') body.seed = readNumber('g-seed', 'seed');
  return body;
}

async function streamGeneration(body, out, signal) {
  const res = await fetch('/v1/generate', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  await checkResponse(res);
  let n = 0;
  for await (const { event, data } of sseEvents(res)) {
    if (event === 'token') {
      out.append(data.text);
      out.scrollTop = out.scrollHeight;
      $('generate-stats').textContent = `${++n} tokens`;
    } else if (event === 'done') {
      $('generate-stats').textContent = `${data.tokens} tokens · ${data.tokensPerSecond.toFixed(1)} tokens/s`;
      out.dataset.done = 'true';
    } else if (event === 'error') {
      throw new Error(`${data.code}: ${data.message}`);
    }
  }
}

async function runGenerate() {
  const out = $('generate-output');
  clearError('generate-error', 'generate-section');
  $('generate-stats').textContent = '';
  out.textContent = '';
  delete out.dataset.done;
  generation = new AbortController();
  $('generate-run').disabled = true;
  $('generate-stop').disabled = false;
  const t0 = performance.now();
  try {
    const body = generateBody();
    out.textContent = body.prompt;
    if (body.stream) return await streamGeneration(body, out, generation.signal);
    const r = await api('/v1/generate', body, { signal: generation.signal });
    out.textContent = body.prompt + r.text;
    $('generate-stats').textContent = `${r.tokens} tokens in ${((performance.now() - t0) / 1000).toFixed(2)} s`;
  } catch (err) {
    if (err.name !== 'AbortError') {
      // A stream cut short keeps the text it produced (the error says why it stopped); a request
      // that produced nothing leaves no output behind.
      if (!out.textContent || out.textContent === $('generate-prompt').value) out.textContent = '';
      showError('generate-error', err);
    }
  } finally {
    $('generate-run').disabled = false;
    $('generate-stop').disabled = true;
  }
}

// ---- forecast -------------------------------------------------------------------------------

let uploaded;
// Column names of forecasters the Train card published, by model name: a saved forecaster checks
// that the history it gets has the columns it was fitted on (the sample's CSV column is "Passengers").
const trainedColumns = new Map();

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

async function forecastSeries() {
  if ($('f-source').value !== 'upload') return api('/v1/samples/airline-passengers');
  if (!uploaded) throw new Error('choose a CSV file first');
  return uploaded;
}

// Bumped by every forecast run and every upload: a forecast that resolves after either is stale
// and must not draw over what the card shows now (an upload's error, or a newer forecast).
let forecastTurn = 0;

async function runForecast(want) {
  const turn = ++forecastTurn;
  clearError('forecast-error', 'forecast-section');
  $('forecast-run').disabled = true;
  try {
    const series = await forecastSeries();
    const n = series.values.length;
    // Past the history's own length a forecast extrapolates further than the data can support.
    const horizon = readNumber('f-horizon', 'horizon', { max: n, why: `at most the ${n} points of the series` });
    const model = $('f-model').value.trim() || 'auto';
    const columns = trainedColumns.get(model);
    const data = columns?.length === 1 ? { columns: { [columns[0]]: series.values } } : { series: series.values };
    const body = { ...data, horizon, model, level: Number($('f-level').value) };
    if (series.dates) body.dates = series.dates;
    const fc = await askForVersion(() => api('/v1/forecast', body), want);
    if (turn !== forecastTurn) return;
    const fit = typeof fc.fitMs === 'number' ? ` in ${fc.fitMs.toFixed(0)} ms` : '';
    $('forecast-info').textContent = `${fc.model}${versionOf(fc)} fitted on ${n} points${fit}`;
    drawForecast($('forecast-chart'), series, fc);
  } catch (err) {
    if (turn !== forecastTurn) return;
    $('forecast-chart').replaceChildren();
    $('forecast-info').textContent = '';
    showError('forecast-error', err);
  } finally {
    $('forecast-run').disabled = false;
  }
}

async function readUpload(e) {
  const file = e.target.files[0];
  if (!file) return;
  forecastTurn++;
  try {
    uploaded = parseCsv(await file.text());
    $('f-source').value = 'upload';
    clearError('forecast-error', 'forecast-section');
  } catch (err) {
    uploaded = undefined;
    $('forecast-chart').replaceChildren();
    $('forecast-info').textContent = '';
    $('forecast-error').textContent = `${file.name}: ${err.message}`;
  }
}

// ---- wiring ---------------------------------------------------------------------------------

// A model the Train card published goes into the card that uses it, which then runs with it.
function useTrainedModel(task, name, record) {
  if (task === 'forecast' && Array.isArray(record.report?.details?.columns)) trainedColumns.set(name, record.report.details.columns);
  const [field, card, run] = task === 'forecast' ? ['f-model', 'forecast-section', runForecast] : ['c-model', 'classify-section', runClassify];
  $(field).value = name;
  $(card).scrollIntoView({ block: 'start' });
  run(record.result?.version);
}

for (const range of document.querySelectorAll('input[type=range]')) {
  const out = document.querySelector(`output[for="${range.id}"]`);
  const show = () => (out.textContent = range.value);
  range.addEventListener('input', show);
  show();
}
$('sentiment-run').addEventListener('click', runSentiment);
$('classify-run').addEventListener('click', () => runClassify());
$('generate-run').addEventListener('click', runGenerate);
$('generate-stop').addEventListener('click', () => generation?.abort());
$('forecast-run').addEventListener('click', () => runForecast());
$('f-file').addEventListener('change', readUpload);
// A field marked invalid loses the mark as soon as it is edited.
document.addEventListener('input', (e) => e.target.removeAttribute?.('aria-invalid'));
initTrainCard(useTrainedModel);
refreshStatus();
setInterval(refreshStatus, 15_000);
await loadLimits();
runForecast();
