import { ForecastInputError } from '../errors.js';

/**
 * Multiplicative Holt-Winters level and seasonality of one series (no trend: the shared network
 * models what is left), the preprocessing of an ES-RNN-style model; optionally with a second,
 * longer seasonality (Taylor's double seasonal Holt-Winters: a day and a week for hourly data).
 *
 * `level[t]` is the level after observing `y[t]`; `seasonal[t]` is the factor that multiplies the
 * level to model `y[t]`, for `t < n + season` (the last `season` entries are the factors of the
 * next season, known at the end of the series). `seasonal2` likewise for `t < n + season2`; the
 * value model is then level x seasonal x seasonal2.
 */
export interface SeriesSmoothing {
  alpha: number;
  gamma: number;
  season: number;
  /** Second seasonality's period (a multiple of `season`), when there is one. */
  season2?: number;
  /** Smoothing weight of the second seasonality. */
  gamma2?: number;
  seasonal2?: Float64Array;
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
/** Weights tried for a second (longer) seasonality: it sees a cycle only every `season2` rows, so it moves slowly. */
const GAMMAS2 = [0.01, 0.05, 0.1, 0.2];

/** A second seasonality: its period and weight. */
export interface SecondSeason {
  season: number;
  gamma: number;
}

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

/**
 * Runs the smoothing recursions with given weights. With `second`, the first `second.season` rows
 * initialise the level (their mean), the short factors (each phase's mean ratio to it) and the
 * long factors (what the short ones leave); the one-step loss is counted after them.
 */
export function smoothSeries(y: ArrayLike<number>, season: number, alpha: number, gamma: number, shift: number, second?: SecondSeason): SeriesSmoothing {
  const n = y.length;
  const m = season;
  const m2 = second?.season ?? m;
  if (second && (m2 <= m || m2 % m !== 0)) throw new ForecastInputError(`a second seasonality must be a multiple of the first (${m}) and longer; got ${m2}`);
  if (n < 2 * m2) throw new ForecastInputError(`a series of ${n} rows is too short for multiplicative smoothing with season ${m2} (needs ${2 * m2})`);
  const level = new Float64Array(n);
  const seasonal = new Float64Array(n + m);
  const seasonal2 = second ? new Float64Array(n + m2) : undefined;
  let l0 = 0;
  for (let j = 0; j < m2; j++) l0 += y[j]! + shift;
  l0 /= m2;
  // A first season of zeros after shifting cannot happen (shift lifts the minimum above 0).
  if (!seasonal2) {
    for (let j = 0; j < m; j++) seasonal[j] = (y[j]! + shift) / l0;
  } else {
    const cycles = m2 / m;
    for (let j = 0; j < m; j++) {
      let sum = 0;
      for (let c = 0; c < cycles; c++) sum += (y[c * m + j]! + shift) / l0;
      seasonal[j] = sum / cycles;
    }
    for (let j = 0; j < m2; j++) {
      seasonal2[j] = (y[j]! + shift) / (l0 * seasonal[j % m]!);
      // The short factors of the first long cycle are its phase means (not yet updated).
      if (j >= m) seasonal[j] = seasonal[j % m]!;
    }
  }
  const g2 = second?.gamma ?? 0;
  let prev = l0;
  let loss = 0;
  for (let t = 0; t < n; t++) {
    const v = y[t]! + shift;
    const s1 = seasonal[t]!;
    const s2 = seasonal2 ? seasonal2[t]! : 1;
    if (t >= m2) loss += Math.abs(Math.log(v / (prev * s1 * s2)));
    const l = alpha * (v / (s1 * s2)) + (1 - alpha) * prev;
    level[t] = l;
    // Within the first long cycle the short factors are already set; later ones are updated.
    if (!seasonal2 || t + m >= m2) seasonal[t + m] = gamma * (v / (l * s2)) + (1 - gamma) * s1;
    if (seasonal2) seasonal2[t + m2] = g2 * (v / (l * s1)) + (1 - g2) * s2;
    prev = l;
  }
  return {
    alpha,
    gamma,
    season: m,
    ...(second ? { season2: m2, gamma2: g2, seasonal2 } : {}),
    shift,
    level,
    seasonal,
    loss: loss / Math.max(1, n - m2),
  };
}

/**
 * Chooses the level and seasonality weights of one series by its one-step-ahead error in log
 * space (a small grid: the recursions are cheap, and a grid cannot wander off the way a
 * gradient on 42 points of a non-convex surface can).
 */
export function fitSmoothing(y: ArrayLike<number>, season: number, shift = positiveShift(y), season2?: number): SeriesSmoothing {
  let best: SeriesSmoothing | undefined;
  for (const a of ALPHAS) {
    for (const g of GAMMAS) {
      for (const g2 of season2 === undefined ? [undefined] : GAMMAS2) {
        const s = smoothSeries(y, season, a, g, shift, g2 === undefined ? undefined : { season: season2!, gamma: g2 });
        if (!best || s.loss < best.loss) best = s;
      }
    }
  }
  return best!;
}

function knownFactor(factors: Float64Array, m: number, origin: number, t: number): number {
  const lastKnown = origin - 1 + m;
  if (t <= lastKnown) return factors[t]!;
  return factors[t - m * Math.ceil((t - lastKnown) / m)]!;
}

/**
 * The seasonal factor of row `t` as known after observing rows `< origin` (the product of both
 * seasonalities when there are two): factors up to `origin - 1 + season` are known; later rows
 * repeat the last known season.
 */
export function seasonalAt(s: SeriesSmoothing, origin: number, t: number): number {
  const f = knownFactor(s.seasonal, s.season, origin, t);
  return s.seasonal2 ? f * knownFactor(s.seasonal2, s.season2!, origin, t) : f;
}

/** The seasonal factor of an observed row `t` (both seasonalities' when there are two). */
export function seasonalFactor(s: SeriesSmoothing, t: number): number {
  return s.seasonal2 ? s.seasonal[t]! * s.seasonal2[t]! : s.seasonal[t]!;
}
