// The demo page's Train card: submits a training job (a sample from the service's data folder
// or an uploaded file), follows its events live, shows the report and hands the published model
// to the Classify or Forecast card. Built on the jobs contract: POST /v1/jobs, GET
// /v1/jobs/:id/events (SSE), GET /v1/jobs/:id, DELETE /v1/jobs/:id, all with a `train` key.
import { drawCurves } from './chart.js';
import { $, ApiError, FieldError, api, checkResponse, clearError, el, readNumber, showError, sseEvents } from './lib.js';

// The kinds offered per task; the neural ones take an epoch count and draw curves as they train.
const KINDS = {
  forecast: ['segrnn', 'linear', 'dlinear', 'holt-winters', 'seasonal-naive', 'auto'],
  'text-classification': ['tfidf-lr', 'fasttext', 'rnn', 'auto'],
};
const EPOCH_KINDS = new Set(['segrnn', 'seq2seq', 'rnn', 'auto']);
const FINAL = new Set(['completed', 'failed', 'cancelled']);
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

let running; // { id, key, controller } of the job this page follows

function headers() {
  const key = $('t-key').value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// What a failed call means for someone at this card, beyond the server's own message.
function explain(err) {
  if (!(err instanceof ApiError)) return err;
  const hint = {
    jobs_disabled: 'this server runs no jobs (start it with SEQLAB_API_KEYS set to a keys file)',
    unauthorized: 'the API key was not accepted: paste a key with the "train" scope',
    forbidden: 'this API key lacks the "train" scope',
    payload_too_large: 'the file is larger than the server accepts (SEQLAB_MAX_UPLOAD_MB)',
  }[err.code];
  return hint ? new Error(`${err.message} (${hint})`) : err;
}

function showKinds() {
  const task = $('t-task').value;
  const kind = $('t-kind');
  kind.replaceChildren(...KINDS[task].map((k) => el('option', {}, k)));
  for (const option of $('t-source').options) {
    option.hidden = option.dataset.task !== undefined && option.dataset.task !== task;
  }
  const source = $('t-source');
  if (source.selectedOptions[0]?.hidden) source.value = [...source.options].find((o) => !o.hidden).value;
  $('t-horizon-label').hidden = task !== 'forecast';
  if ($('t-name').dataset.auto !== 'false') $('t-name').value = task === 'forecast' ? 'demo-forecaster' : 'demo-classifier';
  showEpochs();
}

function showEpochs() {
  $('t-epochs-label').hidden = !EPOCH_KINDS.has($('t-kind').value);
}

/** The job spec (without `data`) from the card's fields; refuses what the server would. */
function readSpec() {
  const task = $('t-task').value;
  const kind = $('t-kind').value;
  const name = $('t-name').value.trim();
  if (!MODEL_NAME.test(name)) {
    throw new FieldError($('t-name'), 'publish as: 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  const options = { model: kind };
  if (task === 'forecast') options.horizon = readNumber('t-horizon', 'horizon');
  if (EPOCH_KINDS.has(kind)) options.epochs = readNumber('t-epochs', 'epochs');
  if (!$('t-key').value.trim()) throw new FieldError($('t-key'), 'API key: jobs need a key with the "train" scope');
  return { type: 'train', task, model: name, options };
}

// A sample goes as JSON naming a file in the service's data folder; an upload goes as
// multipart with the spec first, so the server can refuse a bad spec before reading the file.
async function submit(spec, signal) {
  const source = $('t-source').value;
  if (source !== 'upload') return api('/v1/jobs', { ...spec, data: source }, { headers: headers(), signal });
  const file = $('t-file').files[0];
  if (!file) throw new FieldError($('t-file'), 'choose a file to upload, or pick a sample');
  const form = new FormData();
  form.append('spec', JSON.stringify(spec));
  form.append('file', file, file.name);
  const res = await fetch('/v1/jobs', { method: 'POST', headers: headers(), body: form, signal });
  await checkResponse(res);
  return res.json();
}

function stateOf(data) {
  if (typeof data?.state === 'string') return data.state;
  return data?.state?.state ?? data?.state?.status ?? data?.status;
}

function progressLine(type, data) {
  if (type === 'stage') return `${data.stage}${data.candidate ? ` (${data.candidate})` : ''}: ${data.message}`;
  const eta = data.etaSeconds !== undefined ? ` · about ${Math.ceil(data.etaSeconds)} s left` : '';
  if (type === 'epoch') return `${data.candidate ?? data.stage}: epoch ${data.epoch}/${data.epochs} in ${data.seconds.toFixed(2)} s${eta}`;
  if (type === 'batch') return `${data.candidate ?? data.stage}: epoch ${data.epoch}/${data.epochs}, batch ${data.batch}/${data.batches}${eta}`;
  if (type === 'items') return `${data.stage}: ${data.done}/${data.total}${eta}`;
  return undefined;
}

/** Follows the job's event stream until a final state; draws each epoch as it arrives. */
async function follow(job) {
  const points = [];
  const res = await fetch(`/v1/jobs/${encodeURIComponent(job.id)}/events`, { headers: headers(), signal: job.controller.signal });
  await checkResponse(res);
  for await (const { event, data } of sseEvents(res)) {
    const line = progressLine(event, data);
    if (line) $('t-progress').textContent = line;
    if (event === 'epoch') {
      points.push({ epoch: data.epoch, metrics: data.metrics });
      drawCurves($('t-curve'), points);
      $('t-curve').dataset.epochs = String(points.length);
    } else if (event === 'state') {
      $('t-state').textContent = stateOf(data);
      if (FINAL.has(stateOf(data))) break;
    }
  }
}

// The stream can end without a final state (a proxy cut it, the server restarted): the job's
// record then says where it is.
async function finalRecord(job) {
  for (;;) {
    const record = await api(`/v1/jobs/${encodeURIComponent(job.id)}`, undefined, { headers: headers(), signal: job.controller.signal });
    if (FINAL.has(record.state)) return record;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function metricsText(metrics) {
  return Object.entries(metrics ?? {})
    .filter(([, v]) => typeof v === 'number')
    .slice(0, 4)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`)
    .join(' · ');
}

function showReport(record, onUse) {
  const box = $('t-report');
  if (record.state !== 'completed') {
    box.replaceChildren();
    if (record.state === 'failed') throw new Error(`job ${record.id} failed: ${record.error?.code ?? ''} ${record.error?.message ?? ''}`.trim());
    $('t-progress').textContent = `job ${record.id} ${record.state}`;
    return;
  }
  const r = record.report ?? {};
  const { name, version } = record.result ?? {};
  const list = el('ul', { class: 'candidates' });
  for (const c of r.candidates ?? []) list.append(el('li', {}, `${c.kind}: ${metricsText(c.metrics)}${c.seconds !== undefined ? ` · ${c.seconds.toFixed(1)} s` : ''}`));
  const summary = el('p', { class: 'summary' }, `Published ${name} v${version}: ${r.kind ?? '?'} in ${(r.seconds ?? 0).toFixed(1)} s. ${r.reason ?? ''}`);
  const target = record.task === 'forecast' ? 'Forecast' : 'Classify';
  const use = el('button', { id: 't-use', type: 'button' }, `Use ${name} v${version} in ${target}`);
  use.addEventListener('click', () => onUse(record.task, name, record));
  box.replaceChildren(summary, list, use);
}

async function startTraining(onUse) {
  clearError('train-error', 'train-section');
  $('t-report').replaceChildren();
  $('t-curve').replaceChildren();
  delete $('t-curve').dataset.epochs;
  $('t-state').textContent = '';
  $('t-job').textContent = '';
  $('t-progress').textContent = '';
  const controller = new AbortController();
  try {
    const spec = readSpec();
    $('t-run').disabled = true;
    const { id, state } = await submit(spec, controller.signal);
    running = { id, controller };
    $('t-cancel').disabled = false;
    $('t-state').textContent = state;
    $('t-job').textContent = `job ${id}`;
    await follow(running);
    showReport(await finalRecord(running), onUse);
  } catch (err) {
    if (err.name !== 'AbortError') showError('train-error', explain(err));
  } finally {
    $('t-run').disabled = false;
    $('t-cancel').disabled = true;
  }
}

async function cancelTraining() {
  if (!running) return;
  try {
    const answer = await api(`/v1/jobs/${encodeURIComponent(running.id)}`, undefined, { method: 'DELETE', headers: headers() });
    // The event stream may already have reported the final state; "cancelling" must not hide it.
    if (!FINAL.has($('t-state').textContent)) $('t-state').textContent = answer.state;
  } catch (err) {
    showError('train-error', explain(err));
  }
}

/** Wires the Train card; `onUse(task, name, jobRecord)` puts a published model to work. */
export function initTrainCard(onUse) {
  $('t-task').addEventListener('change', showKinds);
  $('t-kind').addEventListener('change', showEpochs);
  $('t-name').addEventListener('input', () => ($('t-name').dataset.auto = 'false'));
  $('t-file').addEventListener('change', () => {
    if ($('t-file').files[0]) $('t-source').value = 'upload';
  });
  $('t-run').addEventListener('click', () => startTraining(onUse));
  $('t-cancel').addEventListener('click', cancelTraining);
  showKinds();
}
