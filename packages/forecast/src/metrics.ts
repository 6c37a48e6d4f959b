import { ForecastInputError } from './errors.js';

type Values = ArrayLike<number> | ReadonlyArray<ArrayLike<number>>;

function flat(x: Values, what: string): ArrayLike<number> {
  if (x.length > 0 && typeof (x as ArrayLike<unknown>)[0] === 'object') {
    const parts = x as ReadonlyArray<ArrayLike<number>>;
    const out: number[] = [];
    for (const p of parts) for (let i = 0; i < p.length; i++) out.push(p[i]!);
    return out;
  }
  if (x.length === 0) throw new ForecastInputError(`${what} is empty`);
  return x as ArrayLike<number>;
}

function pair(actual: Values, predicted: Values): [ArrayLike<number>, ArrayLike<number>] {
  const a = flat(actual, 'actual');
  const p = flat(predicted, 'predicted');
  if (a.length !== p.length) throw new ForecastInputError(`actual has ${a.length} values, predicted ${p.length}`);
  if (a.length === 0) throw new ForecastInputError('metrics need at least one value');
  return [a, p];
}

/** Mean absolute error. Accepts flat arrays or arrays of columns (`[col][h]`). */
export function mae(actual: Values, predicted: Values): number {
  const [a, p] = pair(actual, predicted);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - p[i]!);
  return s / a.length;
}

/** Mean squared error. */
export function mse(actual: Values, predicted: Values): number {
  const [a, p] = pair(actual, predicted);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - p[i]!) ** 2;
  return s / a.length;
}

/** Root mean squared error. */
export function rmse(actual: Values, predicted: Values): number {
  return Math.sqrt(mse(actual, predicted));
}

/** Mean absolute percentage error, in percent. Rows where `actual` is 0 are skipped (NaN if all are). */
export function mape(actual: Values, predicted: Values): number {
  const [a, p] = pair(actual, predicted);
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue;
    s += Math.abs((a[i]! - p[i]!) / a[i]!);
    n++;
  }
  return n === 0 ? Number.NaN : (100 * s) / n;
}

/** Symmetric MAPE as in the M4 competition: `200/n * sum |a - p| / (|a| + |p|)`, in percent (0/0 counts 0). */
export function smape(actual: Values, predicted: Values): number {
  const [a, p] = pair(actual, predicted);
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]!) + Math.abs(p[i]!);
    if (d > 0) s += Math.abs(a[i]! - p[i]!) / d;
  }
  return (200 * s) / a.length;
}

/**
 * Mean absolute scaled error (Hyndman & Koehler 2006): MAE of the forecast divided by the
 * in-sample MAE of the seasonal naive forecast with period `seasonality` (1 = naive).
 */
export function mase(actual: ArrayLike<number>, predicted: ArrayLike<number>, insample: ArrayLike<number>, seasonality = 1): number {
  if (!Number.isInteger(seasonality) || seasonality < 1) throw new ForecastInputError(`seasonality must be a positive integer, got ${seasonality}`);
  if (insample.length <= seasonality) throw new ForecastInputError(`insample has ${insample.length} values; MASE with seasonality ${seasonality} needs more`);
  let s = 0;
  for (let i = seasonality; i < insample.length; i++) s += Math.abs(insample[i]! - insample[i - seasonality]!);
  const scale = s / (insample.length - seasonality);
  return mae(actual, predicted) / scale;
}

/** Fraction of actual values inside `[lower, upper]`. */
export function coverage(actual: Values, lower: Values, upper: Values): number {
  const [a, lo] = pair(actual, lower);
  const [, hi] = pair(actual, upper);
  let k = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! >= lo[i]! && a[i]! <= hi[i]!) k++;
  return k / a.length;
}
