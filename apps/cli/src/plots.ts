import { mkdirSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { UsageError } from './errors.js';

/*
 * Charts are declarative Vega-Lite specs: the spec builders below only describe data and
 * encodings; vega-lite compiles them to Vega, Vega's headless View lays them out and emits
 * SVG (no DOM, no canvas), and resvg rasterises SVG to PNG with real font shaping. The
 * renderers are imported on first use so commands that draw nothing start fast.
 */

const FONT = 'DejaVu Sans';
const BASE_CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
} as const;

/** Compiles a Vega-Lite spec and renders it to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const compiled = compile({ ...spec, config: { ...BASE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG string to PNG bytes at `scale` times its size. */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: FONT, sansSerifFamily: FONT },
  });
  return resvg.render().asPng();
}

/**
 * Renders `spec` to `path`: PNG when it ends in `.png`, SVG when `.svg`. Written atomically so
 * a reader never sees half a file. Returns the number of bytes written.
 */
export async function writeChart(spec: TopLevelSpec, path: string): Promise<number> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.png' && ext !== '.svg') throw new UsageError(`plot file must end in .png or .svg, got ${JSON.stringify(path)}`);
  const svg = await renderSvg(spec);
  const data = ext === '.svg' ? Buffer.from(svg, 'utf8') : Buffer.from(await svgToPng(svg));
  mkdirSync(dirname(path), { recursive: true });
  const { writeFileAtomic } = await import('@seqlab/core');
  await writeFileAtomic(path, data);
  return data.length;
}

/** One point of a forecast chart. */
export interface ForecastPoint {
  /** ISO date or step index. */
  x: string | number;
  series: string;
  kind: 'history' | 'forecast' | 'actual';
  value: number;
}

/** One prediction-interval point. */
export interface IntervalPoint {
  x: string | number;
  series: string;
  /** Nominal coverage in percent, e.g. 80. */
  level: number;
  lower: number;
  upper: number;
}

/** A d3 time format suited to the span of the plotted dates. */
function dateFormat(points: ForecastPoint[]): string {
  const times = points.map((p) => Date.parse(String(p.x))).filter(Number.isFinite);
  const days = times.length ? (Math.max(...times) - Math.min(...times)) / 86_400_000 : 0;
  if (days > 3 * 365) return '%Y';
  if (days > 90) return '%b %Y';
  if (days > 3) return '%b %d';
  return '%b %d %H:%M';
}

/** History, forecast, interval band(s) and held-out actuals, one panel per target. */
export function forecastChart(
  points: ForecastPoint[],
  intervals: IntervalPoint[],
  options: { title?: string; temporal: boolean; xTitle?: string },
): TopLevelSpec {
  const xType = options.temporal ? 'temporal' : 'quantitative';
  const x = {
    field: 'x',
    type: xType,
    title: options.xTitle ?? (options.temporal ? 'date' : 'step'),
    ...(options.temporal ? { axis: { format: dateFormat(points), labelOverlap: true } } : {}),
  } as const;
  const series = [...new Set(points.map((p) => p.series))];
  const kinds = ['history', 'forecast', 'actual'].filter((k) => points.some((p) => p.kind === k));
  const colours: Record<string, string> = { history: '#4c78a8', forecast: '#e45756', actual: '#222222' };
  const levels = [...new Set(intervals.map((i) => i.level))].sort((a, b) => b - a);
  // Every band is drawn with the same low opacity, widest first: where bands overlap the
  // narrower ones come out darker, and one band alone stays translucent, never hiding the line.
  const bandOpacity = 0.18;
  // Each layer carries its own inline data, so a panel-level filter would not reach it:
  // every panel gets layers built from its own series' rows.
  const layers = (name: string, pts: ForecastPoint[], ivs: IntervalPoint[]) => [
    ...levels
      .filter((level) => ivs.some((i) => i.level === level))
      .map((level) => ({
        data: { values: ivs.filter((i) => i.level === level) },
        mark: { type: 'area', color: '#e45756', opacity: bandOpacity },
        encoding: {
          x,
          y: { field: 'lower', type: 'quantitative', title: name },
          y2: { field: 'upper' },
          tooltip: [
            { field: 'level', type: 'quantitative', title: 'interval %' },
            { field: 'lower', type: 'quantitative' },
            { field: 'upper', type: 'quantitative' },
          ],
        },
      })),
    {
      data: { values: pts },
      mark: { type: 'line', strokeWidth: 1.8 },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: name, scale: { zero: false } },
        color: { field: 'kind', type: 'nominal', title: null, scale: { domain: kinds, range: kinds.map((k) => colours[k]!) } },
        strokeDash: {
          field: 'kind',
          type: 'nominal',
          title: null,
          scale: { domain: kinds, range: kinds.map((k) => (k === 'forecast' ? [6, 3] : [1, 0])) },
        },
      },
    },
    ...(pts.some((p) => p.kind === 'actual')
      ? [
          {
            data: { values: pts.filter((p) => p.kind === 'actual') },
            mark: { type: 'point', filled: true, size: 18, color: colours.actual },
            encoding: { x, y: { field: 'value', type: 'quantitative', title: name } },
          },
        ]
      : []),
  ];
  const panel = (name: string) => ({
    title: series.length > 1 ? name : undefined,
    width: 640,
    height: 260,
    layer: layers(
      name,
      points.filter((p) => p.series === name),
      intervals.filter((i) => i.series === name),
    ),
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: levels.length
      ? { text: options.title ?? '', subtitle: `shaded: ${levels.join('%, ')}% prediction interval${levels.length > 1 ? 's (darker = narrower)' : ''}` }
      : options.title,
    vconcat: series.map(panel),
    resolve: { scale: { y: 'independent' } },
  } as unknown as TopLevelSpec;
}

/** One value of a training curve. */
export interface CurvePoint {
  epoch: number;
  metric: string;
  split: 'train' | 'validation';
  value: number;
}

/** Loss and metric curves per epoch, one panel per metric, train vs validation. */
export function trainingCurveChart(points: CurvePoint[], options: { title?: string; resumedFrom?: number; partialEpoch?: number } = {}): TopLevelSpec {
  const metrics = [...new Set(points.map((p) => p.metric))];
  // Dashed vertical markers with a label: where a run was resumed, and an epoch the time budget
  // cut short (its figures cover only the batches that ran, so it must not read as a full epoch).
  const marker = (epoch: number, label: string) => ({
    data: { values: [{ epoch, label }] },
    layer: [
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#888' } },
      { mark: { type: 'text', color: '#666', align: 'left', dx: 4, y: 8, fontSize: 11 }, encoding: { text: { field: 'label' } } },
    ],
    encoding: { x: { field: 'epoch', type: 'quantitative' } },
  });
  const panel = (metric: string) => ({
    title: metric,
    width: 320,
    height: 220,
    data: { values: points.filter((p) => p.metric === metric) },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
          y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
          color: { field: 'split', type: 'nominal', title: null, scale: { domain: ['train', 'validation'], range: ['#4c78a8', '#f58518'] } },
        },
      },
      ...(options.resumedFrom !== undefined ? [marker(options.resumedFrom + 0.5, 'resumed')] : []),
      ...(options.partialEpoch !== undefined ? [marker(options.partialEpoch, 'partial epoch (time budget)')] : []),
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    hconcat: metrics.map(panel),
  } as unknown as TopLevelSpec;
}

/** A confusion-matrix heat map with counts written in the cells. */
export function confusionChart(labels: string[], matrix: number[][], options: { title?: string } = {}): TopLevelSpec {
  const values = matrix.flatMap((row, i) => row.map((count, j) => ({ actual: labels[i], predicted: labels[j], count })));
  const max = Math.max(1, ...values.map((v) => v.count));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: 60 * labels.length + 80,
    height: 60 * labels.length + 80,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: labels, title: 'predicted', axis: { labelAngle: 0 } },
      y: { field: 'actual', type: 'nominal', sort: labels, title: 'actual' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, title: 'count' } } },
      {
        mark: { type: 'text', fontSize: 14 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  } as unknown as TopLevelSpec;
}
