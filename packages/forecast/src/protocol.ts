import { ForecastInputError, positiveInt } from './errors.js';
import type { FitOptions, Forecaster } from './forecaster.js';
import { Scaler, type ScalerKind } from './data/scalers.js';
import { seriesLength, type TimeSeries } from './data/series.js';
import { ettSplit, splitAtRows, type SeriesSplit } from './data/windows.js';
import { inferSeasonality } from './season.js';

/**
 * Splits a series by a `train:val:test` specification:
 * - `ett`: the ETT protocol's 12 / 4 / 4 months (30-day months of the data's own sampling rate:
 *   720 rows a month for hourly data, 2,880 for 15-minute data);
 * - three fractions, `0.7:0.1:0.2` (they may sum to less than 1: the rest is left unused);
 * - three row counts, `8640:2880:2880`;
 * - two or three dates, `2017-07-01:2017-11-01[:2018-03-01]`: where validation starts, where
 *   test starts, and optionally where it ends (exclusive); use commas instead of colons when
 *   the dates carry times (`2017-07-01 00:00,2017-11-01 00:00`).
 * Validation and test parts carry `lookback` rows of context in front, as {@link ettSplit}'s do.
 *
 * @throws ForecastInputError naming the part of the specification at fault.
 */
export function splitBySpec(series: TimeSeries, spec: string, lookback: number): SeriesSplit {
  positiveInt(lookback, 'lookback');
  const n = seriesLength(series);
  const text = spec.trim();
  if (text.toLowerCase() === 'ett') return ettSplit(series, lookback, 30 * rowsPerDay(series));
  const parts = (text.includes(',') ? text.split(',') : text.split(':')).map((p) => p.trim());
  const bad = (why: string) => new ForecastInputError(`split "${spec}": ${why}; expected ett, fractions (0.7:0.1:0.2), row counts (8640:2880:2880) or dates (2017-07-01:2017-11-01)`);
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw bad(`${parts.length} parts`);
  if (parts.every((p) => /^\d*\.?\d+$/.test(p))) {
    if (parts.length !== 3) throw bad('fractions and row counts need three parts, train:val:test');
    const [a, b, c] = parts.map(Number) as [number, number, number];
    if ([a, b, c].every((x) => x < 1)) {
      if (!(a > 0 && b > 0 && c > 0) || a + b + c > 1 + 1e-9) throw bad(`fractions must be > 0 and sum to at most 1, got ${a + b + c}`);
      const trainEnd = Math.floor(n * a);
      const valEnd = Math.floor(n * (a + b));
      return splitAtRows(series, trainEnd, valEnd, Math.abs(a + b + c - 1) < 1e-9 ? n : Math.floor(n * (a + b + c)), lookback);
    }
    if (![a, b, c].every((x) => Number.isInteger(x) && x > 0)) throw bad('row counts must be positive integers (fractions must all be below 1)');
    return splitAtRows(series, a, a + b, a + b + c, lookback);
  }
  if (!series.dates) throw bad('date boundaries need a series with dates');
  const at = (p: string, what: string): number => {
    const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(p) ? `${p}T00:00:00Z` : /^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2})?$/.test(p) ? `${p.replace(' ', 'T')}Z` : p);
    if (Number.isNaN(t)) throw bad(`${what} "${p}" is not a date`);
    const i = series.dates!.findIndex((d) => d.getTime() >= t);
    if (i < 0) throw bad(`${what} ${new Date(t).toISOString()} is after the last row`);
    return i;
  };
  const valStart = at(parts[0]!, 'validation start');
  const testStart = at(parts[1]!, 'test start');
  const testEnd = parts[2] !== undefined ? at(parts[2], 'test end') : n;
  return splitAtRows(series, valStart, testStart, testEnd, lookback);
}

/** Rows per day for sub-daily data (24 when the series has no dates or is daily or coarser). */
function rowsPerDay(series: TimeSeries): number {
  const s = inferSeasonality(series);
  return s.source === 'inferred' && s.candidates[0]?.cycle === 'daily' ? s.period! : 24;
}

/** Errors pooled over every column, window and step. */
export interface ErrorSummary {
  mse: number;
  mae: number;
  rmse: number;
}

/** Options of {@link evaluateOnSplit}. */
export interface SplitEvaluationOptions {
  /** Steps ahead of each forecast. */
  horizon: number;
  /** Rows between forecast origins in the test range. Default 1 (every window, as the literature scores ETT). */
  stride?: number;
  /** Scaler fitted on the training rows only; errors in its units are the "normalised" ones. Default `'standard'`. */
  scaler?: ScalerKind;
  /** Interval level for coverage, calibrated on validation windows; `null` for none. Default 0.9. */
  level?: number | null;
  /** Seasonal period of MASE's in-sample scale. Default: the season inferred from the dates, else 1. */
  season?: number;
  /** Forecast origins per batch: bounds memory to `chunk x columns x horizon` numbers. Default 256. */
  chunk?: number;
  /** Called after each batch with the windows scored so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Passed to `fit` (progress of neural training). */
  onEpoch?: FitOptions['onEpoch'];
}

/** The result of {@link evaluateOnSplit}. */
export interface SplitEvaluation {
  model: string;
  /** Row boundaries: train `[0, trainEnd)`, validation targets `[trainEnd, valEnd)`, test targets `[valEnd, testEnd)`. */
  bounds: SeriesSplit['bounds'];
  horizon: number;
  stride: number;
  /** Forecast origins scored (each for every column). */
  windows: number;
  scaler: ScalerKind;
  /** Errors in the train-fitted scaler's units (what ETT papers report for `standard`). */
  normalised: ErrorSummary;
  /** Errors in the data's own units, with sMAPE (percent), MASE and interval coverage. */
  original: ErrorSummary & { smape: number; mase: number; coverage?: number };
  /** MASE's seasonal period and where it came from. */
  maseSeason: { period: number; source: 'given' | 'inferred' | 'default' };
  /** Interval level of `coverage`, when measured. */
  level?: number;
  /** Why coverage is missing when a level was asked for. */
  warning?: string;
  fitSeconds: number;
  scoreSeconds: number;
}

/**
 * The standard protocol on one split: fit a scaler on the training rows only, fit `model` (an
 * unfitted forecaster built with `scaler: 'none'`, as the data arrives scaled) on the scaled
 * training part with the validation part for early stopping, penalty choice and conformal
 * calibration, then score forecasts from every `stride`-th origin whose `horizon` targets lie in
 * the test range. Predictions are scored batch by batch and never all held, so memory stays
 * bounded however many windows there are.
 */
export async function evaluateOnSplit(model: Forecaster, series: TimeSeries, split: SeriesSplit, options: SplitEvaluationOptions): Promise<SplitEvaluation> {
  if (model.options.scaler !== 'none') {
    throw new ForecastInputError(`evaluateOnSplit: build ${model.name} with scaler: 'none'; the split's own scaler, fitted on the training rows, already scales its input`);
  }
  const H = positiveInt(options.horizon, 'horizon');
  const stride = positiveInt(options.stride ?? 1, 'stride');
  const chunk = positiveInt(options.chunk ?? 256, 'chunk');
  const kind = options.scaler ?? 'standard';
  const level = options.level === undefined ? 0.9 : options.level;
  const { lookback: L } = split.bounds;
  const scaler = Scaler.fit(split.train, kind);
  const [train, val, test] = [split.train, split.val, split.test].map((s) => scaler.transform(s)) as [TimeSeries, TimeSeries, TimeSeries];
  const testRows = seriesLength(test);
  if (testRows < L + H) throw new ForecastInputError(`the test part has ${testRows - L} rows after its ${L}-row context; horizon ${H} needs at least ${H}`);

  const t0 = performance.now();
  const calibration = level === null ? false : { horizon: H, windows: 200 };
  await model.fit(train, { validation: val, calibration, ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}) });
  const fitSeconds = (performance.now() - t0) / 1000;
  let half: number[][] | undefined;
  let warning: string | undefined;
  if (level !== null) {
    if (model.calibrated) half = model.intervalHalfWidths(level, H);
    else warning = `${model.name}: the validation part is too short to calibrate intervals at horizon ${H}; no coverage`;
  }

  const inferred = inferSeasonality(series).period;
  const m = options.season ?? inferred ?? 1;
  const maseSeason = { period: m, source: options.season !== undefined ? ('given' as const) : inferred !== undefined ? ('inferred' as const) : ('default' as const) };
  // MASE's scale: the in-sample seasonal-naive error of each column on the training rows.
  const maseScale = split.train.values.map((v, c) => {
    if (v.length <= m) throw new ForecastInputError(`MASE season ${m} needs more than ${m} training rows; column "${series.columns[c]}" has ${v.length}`);
    let s = 0;
    for (let t = m; t < v.length; t++) s += Math.abs(v[t]! - v[t - m]!);
    return s / (v.length - m);
  });

  const t1 = performance.now();
  const origins: number[] = [];
  for (let o = L; o + H <= testRows; o += stride) origins.push(o);
  const raw = split.test.values;
  let seN = 0, aeN = 0, seO = 0, aeO = 0, sm = 0, ms = 0, inside = 0, count = 0;
  for (let i = 0; i < origins.length; i += chunk) {
    const batch = origins.slice(i, i + chunk);
    const preds = await model.predictAt(test, batch, H);
    batch.forEach((o, k) => {
      test.values.forEach((v, c) => {
        const p = preds[k]![c]!;
        const po = scaler.inverseColumn(c, p);
        const a = raw[c]!;
        for (let h = 0; h < H; h++) {
          const e = v[o + h]! - p[h]!;
          seN += e * e;
          aeN += Math.abs(e);
          const eo = a[o + h]! - po[h]!;
          seO += eo * eo;
          aeO += Math.abs(eo);
          const d = Math.abs(a[o + h]!) + Math.abs(po[h]!);
          if (d > 0) sm += Math.abs(eo) / d;
          ms += Math.abs(eo) / (maseScale[c]! || Number.EPSILON);
          if (half && Math.abs(e) <= half[c]![h]!) inside++;
          count++;
        }
      });
    });
    options.onProgress?.(Math.min(origins.length, i + chunk), origins.length);
  }
  return {
    model: model.name,
    bounds: split.bounds,
    horizon: H,
    stride,
    windows: origins.length,
    scaler: kind,
    normalised: { mse: seN / count, mae: aeN / count, rmse: Math.sqrt(seN / count) },
    original: { mse: seO / count, mae: aeO / count, rmse: Math.sqrt(seO / count), smape: (200 * sm) / count, mase: ms / count, ...(half ? { coverage: inside / count } : {}) },
    maseSeason,
    ...(half ? { level: level! } : {}),
    ...(warning ? { warning } : {}),
    fitSeconds,
    scoreSeconds: (performance.now() - t1) / 1000,
  };
}
