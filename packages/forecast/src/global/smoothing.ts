import { ForecastInputError } from '../errors.js';

/**
 * Multiplicative Holt-Winters level and seasonality of one series (no trend: the shared network
 * models what is left), the preprocessing of an ES-RNN-style model.
 *
 * `level[t]` is the level after observing `y[t]`; `seasonal[t]` is the factor that multiplies the
 * level to model `y[t]`, for `t < n + season` (the last `season` entries are the factors of the
 * next season, known at the end of the series).
 */
export interface SeriesSmoothing {
  alpha: number;
  gamma: number;
  season: number;
  /** Added to every value before smoothing so that the series is positive (0 for positive series). */
  shift: number;
  level: Float64Array;
  seasonal: Float64Array;
  /** Mean absolute one-step-ahead error in log space (what the smoothing weights were chosen by). */
  loss: number;
}

/** Smoothing weights tried per series (level alpha x seasonality gamma). */
const ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7];
const GAMMAS = [0.01, 0.05, 0.1, 0.2, 0.35, 0.5];

/**
 * The shift that makes a series positive: 0 when it already is, else enough to lift its minimum
 * to a tenth of its mean absolute value (a multiplicative model cannot divide by 0).
 */
export function positiveShift(y: ArrayLike<number>): number {
  let min = Infinity;
  let absSum = 0;
  for (let i = 0; i < y.length; i++) {
    min = Math.min(min, y[i]!);
    absSum += Math.abs(y[i]!);
  }
  if (min > 0) return 0;
  const typical = absSum / y.length || 1;
  return -min + 0.1 * typical;
}

/** Runs the smoothing recursions with given weights. */
export function smoothSeries(y: ArrayLike<number>, season: number, alpha: number, gamma: number, shift: number): SeriesSmoothing {
  const n = y.length;
  const m = season;
  if (n < 2 * m) throw new ForecastInputError(`a series of ${n} rows is too short for multiplicative smoothing with season ${m} (needs ${2 * m})`);
  const level = new Float64Array(n);
  const seasonal = new Float64Array(n + m);
  let l0 = 0;
  for (let j = 0; j < m; j++) l0 += y[j]! + shift;
  l0 /= m;
  // A first season of zeros after shifting cannot happen (shift lifts the minimum above 0).
  for (let j = 0; j < m; j++) seasonal[j] = (y[j]! + shift) / l0;
  let prev = l0;
  let loss = 0;
  for (let t = 0; t < n; t++) {
    const v = y[t]! + shift;
    if (t >= m) loss += Math.abs(Math.log(v / (prev * seasonal[t]!)));
    const l = alpha * (v / seasonal[t]!) + (1 - alpha) * prev;
    level[t] = l;
    seasonal[t + m] = gamma * (v / l) + (1 - gamma) * seasonal[t]!;
    prev = l;
  }
  return { alpha, gamma, season: m, shift, level, seasonal, loss: loss / Math.max(1, n - m) };
}

/**
 * Chooses the level and seasonality weights of one series by its one-step-ahead error in log
 * space (a small grid: the recursions are cheap, and a grid cannot wander off the way a
 * gradient on 42 points of a non-convex surface can).
 */
export function fitSmoothing(y: ArrayLike<number>, season: number, shift = positiveShift(y)): SeriesSmoothing {
  let best: SeriesSmoothing | undefined;
  for (const a of ALPHAS) {
    for (const g of GAMMAS) {
      const s = smoothSeries(y, season, a, g, shift);
      if (!best || s.loss < best.loss) best = s;
    }
  }
  return best!;
}

/**
 * The seasonal factor of row `t` as known after observing rows `< origin`: factors up to
 * `origin - 1 + season` are known; later rows repeat the last known season.
 */
export function seasonalAt(s: SeriesSmoothing, origin: number, t: number): number {
  const m = s.season;
  const lastKnown = origin - 1 + m;
  if (t <= lastKnown) return s.seasonal[t]!;
  return s.seasonal[t - m * Math.ceil((t - lastKnown) / m)]!;
}
