/*
 * Charts of forecasts: history, forecast, intervals and held-out actuals, for `seqlab forecast`
 * (one chart per series of a panel).
 */
import { basename, dirname, extname, join } from 'node:path';
import type { Forecast, PanelForecastResult, PanelSeries } from '@seqlab/tasks';
import { forecastChart, writeChart, type ForecastPoint, type IntervalPoint } from './plots.js';

interface SeriesLike {
  columns: string[];
  values: Float64Array[];
  dates?: Date[];
}

/** The chart spec of `forecasts` after `train`'s last `historyRows` rows (0: all), with `actual` when held out. */
export function forecastChartFor(train: SeriesLike, forecasts: Forecast[], dates: string[] | undefined, actual: number[][] | undefined, historyRows: number, title: string) {
  const n = train.values[0]!.length;
  const start = historyRows > 0 ? Math.max(0, n - historyRows) : 0;
  const temporal = dates !== undefined && train.dates !== undefined;
  const xAt = (i: number) => (temporal ? train.dates![i]!.toISOString() : i + 1);
  const xFuture = (h: number) => (temporal ? dates![h]! : n + h + 1);
  const points: ForecastPoint[] = [];
  const intervals: IntervalPoint[] = [];
  forecasts[0]!.columns.forEach((name, c) => {
    const v = train.values[c]!;
    for (let i = start; i < n; i++) points.push({ x: xAt(i), series: name, kind: 'history', value: v[i]! });
    // The forecast line starts at the last observed point so the two lines join.
    points.push({ x: xAt(n - 1), series: name, kind: 'forecast', value: v[n - 1]! });
    forecasts[0]!.mean[c]!.forEach((m, h) => points.push({ x: xFuture(h), series: name, kind: 'forecast', value: m }));
    if (actual) {
      points.push({ x: xAt(n - 1), series: name, kind: 'actual', value: v[n - 1]! });
      actual[c]!.forEach((a, h) => points.push({ x: xFuture(h), series: name, kind: 'actual', value: a }));
    }
    for (const f of forecasts) {
      if (!f.lower || !f.upper || !f.level) continue;
      f.mean[c]!.forEach((_, h) => intervals.push({ x: xFuture(h), series: name, level: Math.round(f.level! * 100), lower: f.lower![c]![h]!, upper: f.upper![c]![h]! }));
    }
  });
  return forecastChart(points, intervals, { title, temporal });
}

/** A file name safe on every platform for a series id (ids come from the data). */
function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'series';
}

/** One chart per forecast series: `--plot dir/name.png` becomes `dir/name-<id>.png`. */
export async function plotPanel(panel: readonly PanelSeries[], result: PanelForecastResult, plot: string, historyRows: number): Promise<string[]> {
  const byId = new Map(panel.map((p) => [p.id, p.series]));
  const ext = extname(plot);
  const stem = join(dirname(plot), basename(plot, ext));
  const files: string[] = [];
  for (const s of result.series) {
    const series = { ...byId.get(s.id)!, columns: [s.id] };
    const forecasts: Forecast[] = s.intervals.length
      ? s.intervals.map((iv) => ({ columns: [s.id], mean: [s.mean], lower: [iv.lower], upper: [iv.upper], level: iv.level }))
      : [{ columns: [s.id], mean: [s.mean] }];
    const file = `${stem}-${fileSafe(s.id)}${ext}`;
    await writeChart(forecastChartFor(series, forecasts, s.dates, undefined, historyRows, `${result.model} forecast of ${s.id}, horizon ${result.horizon}`), file);
    files.push(file);
  }
  return files;
}
