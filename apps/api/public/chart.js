// Inline-SVG charts of the demo page: the forecast chart and the live training curves.
import { el, niceTicks, svg } from './lib.js';

// The drawing is as wide as its box (within limits) so labels keep their size on a phone: a
// 900-unit drawing shrunk into 360 pixels would print 11-unit labels at 4 pixels.
function frame(box, tall) {
  const W = Math.max(300, Math.min(900, Math.round(box.clientWidth || 900)));
  const H = W < 600 ? Math.round(tall * 0.75) : tall;
  const m = { l: W < 600 ? 44 : 56, r: 12, t: 14, b: 30 };
  return { W, H, m, root: svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' }) };
}

// A box that changes width (a phone turned, a window resized) gets its chart drawn again for the
// new width rather than scaled. A cleared box (no svg left) is not redrawn.
const drawn = new WeakMap();
const resized = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const last = drawn.get(entry.target);
    if (last && entry.target.querySelector('svg') && Math.abs(entry.contentRect.width - last.width) > 40) last.redraw();
  }
});

function remember(box, redraw) {
  drawn.set(box, { width: box.clientWidth, redraw });
  resized.observe(box);
}

function axes(f, y0, y1, y, xLabels) {
  const { W, H, m, root } = f;
  for (const t of niceTicks(y0, y1, H < 300 ? 4 : 5)) {
    root.append(svg('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(t), y2: y(t) }));
    root.append(svg('text', { x: m.l - 6, y: y(t) + 4, 'text-anchor': 'end' }, String(t)));
  }
  for (const [px, text] of xLabels) root.append(svg('text', { x: px, y: H - m.b + 16, 'text-anchor': 'middle' }, text));
  root.append(svg('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }));
  root.append(svg('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }));
}

const pathOf = (pts) => pts.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join('');

function legend(entries) {
  const box = el('div', { class: 'legend' });
  for (const [color, text] of entries) {
    const s = el('span');
    const i = el('i');
    i.style.background = color;
    s.append(i, text);
    box.append(s);
  }
  return box;
}

/** Draws history, forecast mean and interval band of the first column into `box`. */
export function drawForecast(box, series, fc) {
  const f = frame(box, 340);
  const { W, H, m, root } = f;
  const n = series.values.length;
  const mean = fc.mean[0];
  const h = mean.length;
  const lower = fc.lower?.[0] ?? mean;
  const upper = fc.upper?.[0] ?? mean;
  const all = [...series.values, ...lower, ...upper, ...mean];
  const lo = Math.min(...all), hi = Math.max(...all);
  const pad = (hi - lo) * 0.05 || 1;
  const y0 = lo - pad, y1 = hi + pad;
  const x = (i) => m.l + (i / (n + h - 1)) * (W - m.l - m.r);
  const y = (v) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const dates = series.dates ? [...series.dates, ...(fc.dates ?? [])] : undefined;
  const every = Math.max(1, Math.ceil((n + h) / (W < 600 ? 4 : 8)));
  const xLabels = [];
  for (let i = 0; i < n + h; i += every) xLabels.push([x(i), dates?.[i]?.slice(0, series.dates[0].length) ?? String(i)]);
  axes(f, y0, y1, y, xLabels);
  const last = [x(n - 1), y(series.values[n - 1])];
  if (fc.lower && fc.upper) {
    const top = upper.map((v, i) => [x(n + i), y(v)]);
    const bottom = lower.map((v, i) => [x(n + i), y(v)]).reverse();
    root.append(svg('path', { class: 'band', d: `${pathOf([last, ...top])}L${bottom.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join('L')}Z` }));
  }
  root.append(svg('path', { class: 'history', d: pathOf(series.values.map((v, i) => [x(i), y(v)])) }));
  root.append(svg('path', { class: 'mean', d: pathOf([last, ...mean.map((v, i) => [x(n + i), y(v)])]) }));
  const keys = [['#1d2430', 'history'], ['#2f6fdf', 'forecast']];
  if (fc.lower) keys.push(['rgba(47,111,223,0.25)', `${Math.round(fc.level * 100)}% interval`]);
  box.replaceChildren(root, legend(keys));
  remember(box, () => drawForecast(box, series, fc));
}

const CURVE_COLORS = ['#2f6fdf', '#d9822b', '#1f8a4c', '#8e44ad', '#c0392b', '#16a085'];

/**
 * Draws training curves: one line per metric over the epochs received so far. `points` are
 * `{ step, metrics }` in arrival order (`step` counts epochs over every candidate, so a run that
 * fits several candidates reads left to right); the x labels are each point's own epoch number.
 * One axis from 0 serves every metric: losses and accuracies of these small runs share a scale.
 */
export function drawCurves(box, points) {
  const names = [...new Set(points.flatMap((p) => Object.keys(p.metrics)))].filter((k) => points.some((p) => Number.isFinite(p.metrics[k])));
  const f = frame(box, 260);
  const { W, H, m, root } = f;
  const values = points.flatMap((p) => names.map((k) => p.metrics[k]).filter(Number.isFinite));
  const lo = Math.min(0, ...values), hi = Math.max(1e-9, ...values);
  const last = Math.max(2, points.length);
  const x = (i) => m.l + (i / (last - 1)) * (W - m.l - m.r);
  const y = (v) => H - m.b - ((v - lo) / (hi - lo)) * (H - m.t - m.b);
  const every = Math.max(1, Math.ceil(last / (W < 600 ? 5 : 10)));
  const xLabels = [];
  for (let i = 0; i < points.length; i += every) xLabels.push([x(i), String(points[i].epoch)]);
  axes(f, lo, hi, y, xLabels);
  names.forEach((k, j) => {
    const pts = points.map((p, i) => [i, p.metrics[k]]).filter(([, v]) => Number.isFinite(v)).map(([i, v]) => [x(i), y(v)]);
    root.append(svg('path', { class: 'curve', 'data-metric': k, stroke: CURVE_COLORS[j % CURVE_COLORS.length], d: pathOf(pts) }));
    if (pts.length === 1) root.append(svg('circle', { cx: pts[0][0], cy: pts[0][1], r: 3, fill: CURVE_COLORS[j % CURVE_COLORS.length] }));
  });
  box.replaceChildren(root, legend(names.map((k, j) => [CURVE_COLORS[j % CURVE_COLORS.length], k])));
  remember(box, () => drawCurves(box, points));
}
