// Small helpers shared by the demo page's cards: DOM building, JSON calls, SSE parsing and
// client-side field limits. User and model text is only ever inserted with textContent.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** An error answer of the API, with its status and code kept for callers that branch on them. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(code ? `${status} ${code}: ${message}` : `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** Throws an ApiError for a non-2xx response (the body's `error` when it has one). */
export async function checkResponse(res) {
  if (res.ok) return res;
  const data = await res.json().catch(() => ({}));
  throw new ApiError(res.status, data.error?.code, data.error?.message ?? res.statusText);
}

/** JSON request (POST unless `init.method` says otherwise); resolves to the parsed answer. */
export async function api(path, body, init = {}) {
  const res = await fetch(path, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...init.headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: init.signal,
  });
  await checkResponse(res);
  return res.json();
}

// Server-Sent Events read from a fetch response. EventSource cannot POST nor send an
// Authorization header, so both the generation stream and the job events are parsed here.
export async function* sseEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, '\n');
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
      if (data || event !== 'message') yield { event, data: data ? JSON.parse(data) : undefined };
    }
  }
}

/** A value the page refuses before sending anything; `field` is the offending input. */
export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/**
 * Reads a number input and holds it to the input's own min/max/step, which the page sets from
 * the server's limits. Browsers only check those on form submission, and these cards have no
 * form, so without this a typed 500 went out as 500. `extra.max` tightens the maximum for this
 * request (the series' length, say) and `extra.why` explains it in the message.
 */
export function readNumber(id, label, extra = {}) {
  const input = $(id);
  const raw = input.value.trim();
  const min = input.min === '' ? -Infinity : Number(input.min);
  const fieldMax = input.max === '' ? Infinity : Number(input.max);
  const max = Math.min(fieldMax, extra.max ?? Infinity);
  const whole = input.step === '' || Number(input.step) === 1;
  const value = Number(raw);
  const range = `${whole ? 'a whole number' : 'a number'} from ${min} to ${max}`;
  if (raw === '' || !Number.isFinite(value)) throw new FieldError(input, `${label} must be ${range}, got "${raw}"`);
  if ((whole && !Number.isInteger(value)) || value < min || value > max) {
    const why = value > max && max < fieldMax && extra.why ? ` (${extra.why})` : '';
    throw new FieldError(input, `${label} must be ${range}${why}, got ${raw}`);
  }
  return value;
}

/** Splits a textarea into non-empty lines and holds them to the server's text limits. */
export function readLines(id, label, limits) {
  const input = $(id);
  const lines = input.value.split('\n').map((s) => s.trim()).filter(Boolean);
  if (lines.length === 0) throw new FieldError(input, `${label}: type at least one line`);
  if (lines.length > limits.maxTexts) throw new FieldError(input, `${label}: ${lines.length} lines, at most ${limits.maxTexts} per request (the server's MAX_TEXTS)`);
  const long = lines.findIndex((l) => l.length > limits.maxTextLength);
  if (long >= 0) throw new FieldError(input, `${label}: line ${long + 1} has ${lines[long].length} characters, at most ${limits.maxTextLength} (the server's MAX_TEXT_LENGTH)`);
  return lines;
}

/** Shows an error in a card's alert box and marks the offending field, if any. */
export function showError(box, err) {
  $(box).textContent = err.message;
  if (err instanceof FieldError) {
    err.field.setAttribute('aria-invalid', 'true');
    err.field.focus();
  }
}

/** Clears a card's alert box and the invalid marks of its fields. */
export function clearError(box, card) {
  $(box).textContent = '';
  for (const f of $(card).querySelectorAll('[aria-invalid]')) f.removeAttribute('aria-invalid');
}

/** Round tick values covering [lo, hi]. */
export function niceTicks(lo, hi, count = 5) {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}
