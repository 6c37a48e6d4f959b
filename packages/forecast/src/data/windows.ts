import { ForecastInputError, positiveInt } from '../errors.js';
import { seriesLength, sliceSeries, type TimeSeries } from './series.js';

/**
 * Start rows of every window with `lookback` input rows followed by `horizon` target rows in a
 * series of `length` rows, `stride` apart. Window `s` reads inputs `[s, s + L)` and targets
 * `[s + L, s + L + H)`: inputs always come strictly before their targets.
 */
export function windowStarts(length: number, lookback: number, horizon: number, stride = 1): number[] {
  positiveInt(lookback, 'lookback');
  positiveInt(horizon, 'horizon');
  positiveInt(stride, 'stride');
  const last = length - lookback - horizon;
  const out: number[] = [];
  for (let s = 0; s <= last; s += stride) out.push(s);
  return out;
}

/** Windows of one series as flat row-major arrays (channel-independent: one window per column). */
export interface WindowSet {
  /** `[count, lookback]` inputs. */
  inputs: Float32Array;
  /** `[count, horizon]` targets. */
  targets: Float32Array;
  /** Column index of each window. */
  channel: Int32Array;
  /** Start row of each window. */
  start: Int32Array;
  count: number;
  lookback: number;
  horizon: number;
}

/**
 * Cuts channel-independent windows from every column of a series.
 *
 * @throws ForecastInputError when the series is shorter than `lookback + horizon`.
 */
export function makeWindows(series: TimeSeries, lookback: number, horizon: number, options: { stride?: number } = {}): WindowSet {
  const n = seriesLength(series);
  if (n < lookback + horizon) {
    throw new ForecastInputError(`series has ${n} rows; lookback ${lookback} + horizon ${horizon} = ${lookback + horizon} are needed for one window`);
  }
  const starts = windowStarts(n, lookback, horizon, options.stride ?? 1);
  const C = series.values.length;
  const count = starts.length * C;
  const inputs = new Float32Array(count * lookback);
  const targets = new Float32Array(count * horizon);
  const channel = new Int32Array(count);
  const start = new Int32Array(count);
  let k = 0;
  for (let c = 0; c < C; c++) {
    const v = series.values[c]!;
    for (const s of starts) {
      for (let i = 0; i < lookback; i++) inputs[k * lookback + i] = v[s + i]!;
      for (let i = 0; i < horizon; i++) targets[k * horizon + i] = v[s + lookback + i]!;
      channel[k] = c;
      start[k] = s;
      k++;
    }
  }
  return { inputs, targets, channel, start, count, lookback, horizon };
}

/** Train / validation / test parts. Validation and test carry `lookback` rows of context in front. */
export interface SeriesSplit {
  train: TimeSeries;
  val: TimeSeries;
  test: TimeSeries;
  /** Row boundaries in the original series: train `[0, trainEnd)`, val targets `[trainEnd, valEnd)`, test targets `[valEnd, testEnd)`. */
  bounds: { trainEnd: number; valEnd: number; testEnd: number; lookback: number };
}

/**
 * Splits at row boundaries: train `[0, trainEnd)`, validation targets `[trainEnd, valEnd)`, test
 * targets `[valEnd, testEnd)`, validation and test with `lookback` rows of context in front.
 */
export function splitAtRows(series: TimeSeries, trainEnd: number, valEnd: number, testEnd: number, lookback: number): SeriesSplit {
  return splitAt(series, trainEnd, valEnd, testEnd, lookback);
}

function splitAt(series: TimeSeries, trainEnd: number, valEnd: number, testEnd: number, lookback: number): SeriesSplit {
  const n = seriesLength(series);
  if (testEnd > n) throw new ForecastInputError(`split needs ${testEnd} rows; the series has ${n}`);
  if (trainEnd < lookback) throw new ForecastInputError(`train part (${trainEnd} rows) is shorter than lookback ${lookback}`);
  if (!(trainEnd < valEnd && valEnd < testEnd)) throw new ForecastInputError(`split boundaries must increase: ${trainEnd}, ${valEnd}, ${testEnd}`);
  return {
    train: sliceSeries(series, 0, trainEnd),
    val: sliceSeries(series, trainEnd - lookback, valEnd),
    test: sliceSeries(series, valEnd - lookback, testEnd),
    bounds: { trainEnd, valEnd, testEnd, lookback },
  };
}

/**
 * The standard ETT protocol (Zhou et al. 2021, kept by DLinear, PatchTST, SegRNN): 12 / 4 / 4
 * months of hourly rows, so train `[0, 8640)`, validation `[8640 - L, 11520)`, test
 * `[11520 - L, 14400)`. Fit the scaler on `train` only.
 */
export function ettSplit(series: TimeSeries, lookback = 96, rowsPerMonth = 30 * 24): SeriesSplit {
  return splitAt(series, 12 * rowsPerMonth, 16 * rowsPerMonth, 20 * rowsPerMonth, lookback);
}

/** Splits by fractions of the rows (test takes the rest). */
export function splitByRatio(series: TimeSeries, ratios: { train: number; val: number }, lookback: number): SeriesSplit {
  const n = seriesLength(series);
  if (!(ratios.train > 0 && ratios.val >= 0 && ratios.train + ratios.val < 1)) {
    throw new ForecastInputError(`ratios must satisfy train > 0, val >= 0, train + val < 1; got ${ratios.train}, ${ratios.val}`);
  }
  const trainEnd = Math.floor(n * ratios.train);
  const valEnd = Math.floor(n * (ratios.train + ratios.val));
  return splitAt(series, trainEnd, valEnd, n, lookback);
}

/** Splits at dates: validation targets start at `valStart`, test targets at `testStart`. */
export function splitByDate(series: TimeSeries, valStart: Date | string, testStart: Date | string, lookback: number): SeriesSplit {
  if (!series.dates) throw new ForecastInputError('splitByDate needs a series with dates');
  const find = (d: Date | string, what: string): number => {
    const t = new Date(d).getTime();
    if (Number.isNaN(t)) throw new ForecastInputError(`${what} is not a valid date: ${String(d)}`);
    const i = series.dates!.findIndex((x) => x.getTime() >= t);
    if (i < 0) throw new ForecastInputError(`${what} ${new Date(t).toISOString()} is after the last row`);
    return i;
  };
  return splitAt(series, find(valStart, 'valStart'), find(testStart, 'testStart'), seriesLength(series), lookback);
}
