import { ForecastInputError, positiveInt } from '../errors.js';
import type { TimeSeries } from '../data/series.js';
import { Forecaster, type BaseOptions, type ForecasterCapabilities } from '../forecaster.js';

/**
 * A baseline that is a fixed rule over the recent history: fitting learns nothing, so there is
 * no state to save, and a copy needs only the options.
 */
export abstract class RuleForecaster<O extends BaseOptions = BaseOptions> extends Forecaster<O> {
  protected async fitScaled(): Promise<void> {}
  protected getState(): Record<string, unknown> {
    return {};
  }
  protected setState(): void {}
  clone(): this {
    return new (this.constructor as new (options: O) => this)(this.options);
  }
}

/** What a rule baseline can do: any number of columns, with intervals, from `minTrainLength` rows. */
function ruleCapabilities(minTrainLength: number): ForecasterCapabilities {
  return { supportsMultivariate: true, probabilistic: true, minTrainLength, neural: false };
}

/** Repeats the last observed value. */
export class NaiveForecaster extends RuleForecaster {
  readonly name = 'naive';
  readonly capabilities = ruleCapabilities(1);
  constructor(options: BaseOptions = {}) {
    super(options);
  }
  protected async forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]> {
    return history.map((v) => new Float64Array(horizon).fill(v[v.length - 1]!));
  }
}

/** Options of {@link SeasonalNaiveForecaster}. */
export interface SeasonalOptions extends BaseOptions {
  /** Season length in rows (12 for monthly data with a yearly cycle, 24 for hourly). Default 12. */
  season?: number;
}

/** Repeats the last full season: `y[t + h] = y[t + h - k * season]`. */
export class SeasonalNaiveForecaster extends RuleForecaster<SeasonalOptions> {
  readonly name = 'seasonal-naive';
  readonly season = positiveInt(this.options.season ?? 12, 'seasonal-naive: season');
  readonly capabilities = ruleCapabilities(this.season);
  constructor(options: SeasonalOptions = {}) {
    super(options);
  }
  protected override minHistory(): number {
    return this.season;
  }
  protected async forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]> {
    const m = this.season;
    return history.map((v) => {
      if (v.length < m) throw new ForecastInputError(`seasonal-naive needs at least one season (${m} rows) of history; got ${v.length}`);
      const n = v.length;
      return Float64Array.from({ length: horizon }, (_, h) => v[n - m + (h % m)]!);
    });
  }
}

/** Extends the line from the first to the last observation (random walk with drift). */
export class DriftForecaster extends RuleForecaster {
  readonly name = 'drift';
  readonly capabilities = ruleCapabilities(2);
  constructor(options: BaseOptions = {}) {
    super(options);
  }
  protected override minHistory(): number {
    return 2;
  }
  protected async forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]> {
    return history.map((v) => {
      const n = v.length;
      const slope = n > 1 ? (v[n - 1]! - v[0]!) / (n - 1) : 0;
      return Float64Array.from({ length: horizon }, (_, h) => v[n - 1]! + slope * (h + 1));
    });
  }
}

/** Options of {@link MovingAverageForecaster}. */
export interface MovingAverageOptions extends BaseOptions {
  /** Number of most recent rows averaged. Default 12. */
  window?: number;
}

/** Forecasts the mean of the last `window` rows at every step. */
export class MovingAverageForecaster extends RuleForecaster<MovingAverageOptions> {
  readonly name = 'moving-average';
  readonly capabilities = ruleCapabilities(1);
  readonly window = positiveInt(this.options.window ?? 12, 'moving-average: window');
  constructor(options: MovingAverageOptions = {}) {
    super(options);
  }
  protected async forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]> {
    return history.map((v) => {
      const k = Math.min(this.window, v.length);
      let s = 0;
      for (let i = v.length - k; i < v.length; i++) s += v[i]!;
      return new Float64Array(horizon).fill(s / k);
    });
  }
}

/** Options of {@link HoltWintersForecaster}. */
export interface HoltWintersOptions extends BaseOptions {
  /** Season length in rows. Default 12. */
  season?: number;
  /** Smoothing weights in (0, 1); any left out are fitted by minimising one-step squared error. */
  alpha?: number;
  beta?: number;
  gamma?: number;
  /** Damping of the trend in (0, 1]; default 1 (no damping). */
  phi?: number;
}

interface HwParams {
  alpha: number;
  beta: number;
  gamma: number;
  /** Trend damping fitted by the non-seasonal fallback (the seasonal model uses `options.phi`). */
  phi?: number;
}

/** What Holt-Winters fitted: the seasonal model, or the damped-trend fallback for short series. */
export type HoltWintersMode = 'seasonal' | 'damped-trend';

/**
 * Additive Holt-Winters (triple exponential smoothing). Smoothing weights are fitted per
 * column by Nelder-Mead on the one-step-ahead squared error; at prediction the smoother is
 * re-run over the given history with the fitted weights, so new data needs no refit.
 * A series shorter than two seasons cannot initialise the seasonal terms: it gets a
 * non-seasonal damped-trend model instead (trend damping fitted in [0.8, 0.98]), and `notes`
 * says so, rather than being refused.
 */
export class HoltWintersForecaster extends Forecaster<HoltWintersOptions> {
  readonly name = 'holt-winters';
  readonly capabilities: ForecasterCapabilities;
  readonly season: number;
  private params: HwParams[] = [];
  /** The model fitted; `'seasonal'` until a short series makes `fit` fall back. */
  mode: HoltWintersMode = 'seasonal';
  constructor(options: HoltWintersOptions = {}) {
    super(options);
    this.season = positiveInt(options.season ?? 12, 'holt-winters: season');
    for (const k of ['alpha', 'beta', 'gamma'] as const) {
      const v = options[k];
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new ForecastInputError(`holt-winters: ${k} must be in [0, 1], got ${v}`);
    }
    this.capabilities = { supportsMultivariate: true, probabilistic: true, minTrainLength: 4, neural: false };
  }
  protected override minHistory(): number {
    return this.mode === 'seasonal' ? 2 * this.season : 2;
  }
  protected override historyRows(): number {
    return Math.max(4096, 10 * this.season);
  }

  protected async fitScaled(series: TimeSeries): Promise<void> {
    const n = series.values[0]!.length;
    this.mode = n >= 2 * this.season ? 'seasonal' : 'damped-trend';
    if (this.mode === 'seasonal') {
      this.params = series.values.map((v) => this.fitColumn(v));
      return;
    }
    this.note(`holt-winters: ${n} rows are fewer than two seasons (${2 * this.season} rows for season ${this.season}); fitted a damped-trend model without seasonality instead`);
    this.params = series.values.map((v) => this.fitDamped(v));
  }

  /** Alpha, beta and the damping phi (in [0.8, 0.98] unless given) of the non-seasonal fallback. */
  private fitDamped(v: Float64Array): HwParams {
    const o = this.options;
    const logit = (p: number) => Math.log(p / (1 - p));
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    const build = (z: number[]): HwParams => ({
      alpha: o.alpha ?? sig(z[0]!),
      beta: o.beta ?? sig(z[1]!),
      gamma: 0,
      phi: o.phi ?? 0.8 + 0.18 * sig(z[2]!),
    });
    const loss = (z: number[]): number => this.smoothDamped(v, build(z), 0).sse;
    return build(nelderMead(loss, [logit(0.3), logit(0.05), 0], 150));
  }

  /** Damped-trend (Holt) smoothing without seasonality: one-step SSE and a `horizon`-step forecast. */
  private smoothDamped(v: Float64Array, p: HwParams, horizon: number): { sse: number; forecast: Float64Array } {
    const phi = p.phi!;
    let level = v[0]!;
    let trend = v.length > 1 ? v[1]! - v[0]! : 0;
    let sse = 0;
    for (let t = 1; t < v.length; t++) {
      const e = v[t]! - (level + phi * trend);
      sse += e * e;
      const prev = level;
      level = p.alpha * v[t]! + (1 - p.alpha) * (prev + phi * trend);
      trend = p.beta * (level - prev) + (1 - p.beta) * phi * trend;
    }
    const forecast = new Float64Array(horizon);
    let damp = 0;
    for (let h = 1; h <= horizon; h++) {
      damp += phi ** h;
      forecast[h - 1] = level + damp * trend;
    }
    return { sse, forecast };
  }

  private fitColumn(v: Float64Array): HwParams {
    const o = this.options;
    const fixed = [o.alpha, o.beta, o.gamma];
    const free = fixed.map((x, i) => (x === undefined ? i : -1)).filter((i) => i >= 0);
    const build = (z: number[]): HwParams => {
      const p = fixed.map((x) => x ?? 0) as number[];
      free.forEach((i, k) => (p[i] = 1 / (1 + Math.exp(-z[k]!))));
      return { alpha: p[0]!, beta: p[1]!, gamma: p[2]! };
    };
    if (free.length === 0) return build([]);
    const loss = (z: number[]): number => this.smooth(v, build(z), 0).sse;
    // Start from common textbook values (alpha 0.3, beta 0.05, gamma 0.1) in logit space.
    const start = free.map((i) => [Math.log(0.3 / 0.7), Math.log(0.05 / 0.95), Math.log(0.1 / 0.9)][i]!);
    return build(nelderMead(loss, start, 150));
  }

  /** Runs the smoother over `v`; returns the one-step SSE and a `horizon`-step forecast. */
  private smooth(v: Float64Array, p: HwParams, horizon: number): { sse: number; forecast: Float64Array } {
    const m = this.season;
    const n = v.length;
    const phi = this.options.phi ?? 1;
    let m1 = 0;
    let m2 = 0;
    for (let i = 0; i < m; i++) {
      m1 += v[i]!;
      m2 += v[m + i]!;
    }
    m1 /= m;
    m2 /= m;
    let level = m1;
    let trend = (m2 - m1) / m;
    const season = new Float64Array(m);
    for (let i = 0; i < m; i++) season[i] = v[i]! - m1;
    let sse = 0;
    for (let t = m; t < n; t++) {
      const s = season[t % m]!;
      const yhat = level + phi * trend + s;
      const e = v[t]! - yhat;
      sse += e * e;
      const prevLevel = level;
      level = p.alpha * (v[t]! - s) + (1 - p.alpha) * (prevLevel + phi * trend);
      trend = p.beta * (level - prevLevel) + (1 - p.beta) * phi * trend;
      season[t % m] = p.gamma * (v[t]! - level) + (1 - p.gamma) * s;
    }
    const forecast = new Float64Array(horizon);
    let damp = 0;
    for (let h = 1; h <= horizon; h++) {
      damp += phi ** h;
      forecast[h - 1] = level + damp * trend + season[(n + h - 1) % m]!;
    }
    return { sse, forecast };
  }

  protected async forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]> {
    return history.map((v, c) => {
      if (this.mode === 'damped-trend') return this.smoothDamped(v, this.params[c]!, horizon).forecast;
      if (v.length < 2 * this.season) throw new ForecastInputError(`holt-winters needs two seasons (${2 * this.season} rows) of history; got ${v.length}`);
      return this.smooth(v, this.params[c]!, horizon).forecast;
    });
  }
  protected getState(): Record<string, unknown> {
    return { params: this.params, mode: this.mode };
  }
  protected setState(state: Record<string, unknown>): void {
    this.params = state.params as HwParams[];
    // Models saved before the fallback existed are seasonal.
    this.mode = state.mode === 'damped-trend' ? 'damped-trend' : 'seasonal';
  }
  clone(): HoltWintersForecaster {
    return new HoltWintersForecaster(this.options);
  }
}

/** Minimises `f` from `x0` with the Nelder-Mead simplex method (no gradients). */
export function nelderMead(f: (x: number[]) => number, x0: number[], maxIter = 200): number[] {
  const d = x0.length;
  let simplex = [x0, ...x0.map((_, i) => x0.map((v, j) => (i === j ? v + 1 : v)))];
  let values = simplex.map(f);
  for (let it = 0; it < maxIter; it++) {
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
    simplex = order.map((i) => simplex[i]!);
    values = order.map((i) => values[i]!);
    if (Math.abs(values[d]! - values[0]!) <= 1e-10 * (Math.abs(values[0]!) + 1e-12)) break;
    const centroid = x0.map((_, j) => simplex.slice(0, d).reduce((s, p) => s + p[j]!, 0) / d);
    const along = (t: number) => centroid.map((c, j) => c + t * (simplex[d]![j]! - c));
    const xr = along(-1);
    const fr = f(xr);
    if (fr < values[0]!) {
      const xe = along(-2);
      const fe = f(xe);
      [simplex[d], values[d]] = fe < fr ? [xe, fe] : [xr, fr];
    } else if (fr < values[d - 1]!) {
      [simplex[d], values[d]] = [xr, fr];
    } else {
      const xc = along(0.5);
      const fc = f(xc);
      if (fc < values[d]!) [simplex[d], values[d]] = [xc, fc];
      else {
        for (let i = 1; i <= d; i++) {
          simplex[i] = simplex[i]!.map((v, j) => simplex[0]![j]! + 0.5 * (v - simplex[0]![j]!));
          values[i] = f(simplex[i]!);
        }
      }
    }
  }
  // A loss that is NaN everywhere (overflowing input) has no minimum; the caller's finite-output
  // check reports it, so return a point instead of undefined.
  const best = values.indexOf(Math.min(...values));
  return simplex[best >= 0 ? best : 0]!;
}
