import { cancellationCheckpoint } from '@seqlab/core';
import { ForecastInputError, positiveInt } from '../errors.js';
import { seriesLength, type TimeSeries } from '../data/series.js';
import { windowStarts } from '../data/windows.js';
import { type BaseOptions, type FitOptions, type ForecasterCapabilities } from '../forecaster.js';
import { matMulRows, NormalEquations } from '../linalg.js';
import { WindowForecaster } from '../window-forecaster.js';

/** Options of the closed-form linear forecasters. */
export interface LinearOptions extends BaseOptions {
  /** Input rows L. Default 96. */
  lookback?: number;
  /** Steps H fitted directly; longer forecasts are produced recursively. Default 24. */
  horizon?: number;
  /**
   * Ridge penalty per training window (the penalty is `lambda * windows`), or `'auto'`
   * (default): chosen from a grid on the validation series, or on the last 20% of the training
   * windows when there is none.
   */
  lambda?: number | 'auto';
  /** Subtract the last input value from inputs and targets (NLinear-style); same as `normalization: 'last'` / `'none'`. */
  subtractLast?: boolean;
  /**
   * Per-window normalisation before the linear map: `'none'`, `'last'` (subtract the last input
   * value, NLinear), `'revin'` (subtract the window mean, divide by its standard deviation), or
   * `'auto'`: each fitted and the one with the lowest held-out squared error kept (validation
   * windows, or the last 20% of the training windows). Default `'last'` for `linear`, `'auto'`
   * for `dlinear`.
   */
  normalization?: LinearNormalization | 'auto';
  /** DLinear's moving-average kernel (odd). Default 25. */
  kernel?: number;
}

/** Per-window normalisations of the linear models. */
export type LinearNormalization = 'none' | 'last' | 'revin';
const NORMALIZATIONS: readonly LinearNormalization[] = ['none', 'last', 'revin'];

const GRID = [1e-6, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1];

/**
 * Shared machinery of the linear window models: one weight matrix for all columns
 * (channel-independent), fitted in closed form by ridge regression on every training window.
 */
abstract class WindowLinearForecaster extends WindowForecaster<LinearOptions> {
  abstract override readonly name: string;
  readonly capabilities: ForecasterCapabilities;
  readonly lookback: number;
  readonly horizon: number;
  /** Weights `[p, H]` with the intercept in the last row. */
  private weights: Float64Array | undefined;
  /** Penalty chosen at fit. */
  chosenLambda: number | undefined;
  /** Normalisation in use (chosen at fit when `'auto'`). */
  normalization: LinearNormalization;
  /** Held-out mean squared error of each candidate normalisation when it was chosen by `'auto'`. */
  normalizationErrors: Partial<Record<LinearNormalization, number>> | undefined;

  constructor(options: LinearOptions) {
    super(options);
    this.lookback = positiveInt(options.lookback ?? 96, 'lookback');
    this.horizon = positiveInt(options.horizon ?? 24, 'horizon');
    if (options.lambda !== undefined && options.lambda !== 'auto' && !(options.lambda >= 0)) {
      throw new ForecastInputError(`lambda must be a non-negative number or 'auto', got ${String(options.lambda)}`);
    }
    this.capabilities = { supportsMultivariate: true, probabilistic: true, minTrainLength: this.lookback + this.horizon, neural: false };
    const norm = this.requestedNormalization();
    this.normalization = norm === 'auto' ? 'last' : norm;
  }

  /** The normalisation asked for by the options (the subclass default when none is given). */
  private requestedNormalization(): LinearNormalization | 'auto' {
    const { normalization, subtractLast } = this.options;
    if (normalization !== undefined && subtractLast !== undefined) {
      throw new ForecastInputError(`${this.name}: give either normalization or subtractLast, not both`);
    }
    if (normalization !== undefined) {
      if (normalization !== 'auto' && !NORMALIZATIONS.includes(normalization)) {
        throw new ForecastInputError(`${this.name}: normalization must be one of auto, ${NORMALIZATIONS.join(', ')}; got "${String(normalization)}"`);
      }
      return normalization;
    }
    if (subtractLast !== undefined) return subtractLast ? 'last' : 'none';
    return this.defaultNormalization();
  }

  /** Normalisation used when the options name none. */
  protected abstract defaultNormalization(): LinearNormalization | 'auto';

  /** Centre and scale of the window `v[end - L, end)` under the current normalisation. */
  private stats(v: Float64Array, end: number): [number, number] {
    if (this.normalization === 'none') return [0, 1];
    if (this.normalization === 'last') return [v[end - 1]!, 1];
    const L = this.lookback;
    let mean = 0;
    for (let i = end - L; i < end; i++) mean += v[i]!;
    mean /= L;
    let sq = 0;
    for (let i = end - L; i < end; i++) sq += (v[i]! - mean) ** 2;
    return [mean, Math.sqrt(sq / L + 1e-5)];
  }


  /**
   * Features as a fixed linear map `T` (row-major `f x L`) of the input window, or undefined for
   * the window itself. The fitted weights are folded back onto the raw lags, so prediction never
   * needs `T`.
   */
  protected abstract featureMap(): { T: Float64Array; f: number } | undefined;

  /** Normal equations in feature space. */
  private mapped(eq: NormalEquations): NormalEquations {
    const fm = this.featureMap();
    return fm ? eq.transformed(fm.T, fm.f) : eq;
  }

  /** Folds feature-space weights `[(f + 1) x H]` back onto the raw lags `[(L + 1) x H]`. */
  private fold(W: Float64Array): Float64Array {
    const fm = this.featureMap();
    if (!fm) return W;
    const L = this.lookback;
    const H = this.horizon;
    const out = new Float64Array((L + 1) * H);
    for (let k = 0; k < L; k++) {
      for (let i = 0; i < fm.f; i++) {
        const t = fm.T[i * L + k]!;
        if (t === 0) continue;
        for (let h = 0; h < H; h++) out[k * H + h]! += t * W[i * H + h]!;
      }
    }
    for (let h = 0; h < H; h++) out[L * H + h] = W[fm.f * H + h]!;
    return out;
  }

  private async addWindows(eq: NormalEquations, series: TimeSeries, filter?: (s: number) => boolean, checkpoint?: () => Promise<void>): Promise<void> {
    const L = this.lookback;
    const H = this.horizon;
    const p = L + 1;
    // Chunks are one float32 matrix product each; their size is part of the numerics (a
    // cancellable fit must give the same model), so cancellation is checked between them.
    const chunk = 4096;
    const X = new Float64Array(chunk * p);
    const Y = new Float64Array(chunk * H);
    let k = 0;
    for (const v of series.values) {
      for (const s of windowStarts(seriesLength(series), L, H)) {
        if (filter && !filter(s)) continue;
        const [centre, scale] = this.stats(v, s + L);
        const xo = k * p;
        for (let i = 0; i < L; i++) X[xo + i] = (v[s + i]! - centre) / scale;
        X[xo + L] = 1;
        const yo = k * H;
        for (let h = 0; h < H; h++) Y[yo + h] = (v[s + L + h]! - centre) / scale;
        if (++k === chunk) {
          eq.addBatch(X, Y, k);
          k = 0;
          if (checkpoint) await checkpoint();
        }
      }
    }
    eq.addBatch(X, Y, k);
  }

  protected async fitScaled(series: TimeSeries, validation: TimeSeries | undefined, options: FitOptions = {}): Promise<void> {
    const checkpoint = options.signal ? cancellationCheckpoint(options.signal, `${this.name} fit`) : undefined;
    const requested = this.requestedNormalization();
    this.normalizationErrors = undefined;
    if (requested !== 'auto') {
      this.normalization = requested;
      await this.fitOne(series, validation, checkpoint);
      return;
    }
    // Each candidate is scored by forecasting the windows its penalty was chosen on, with
    // weights fitted without them, in the same (scaled) units whatever the normalisation.
    const errors: Partial<Record<LinearNormalization, number>> = {};
    let best: { norm: LinearNormalization; err: number; weights: Float64Array; lambda: number } | undefined;
    for (const norm of NORMALIZATIONS) {
      this.normalization = norm;
      const held = await this.fitOne(series, validation, checkpoint);
      const err = held ? this.windowMse(held.weights, held.series, held.filter) : Number.NaN;
      errors[norm] = err;
      if (!best || err < best.err) best = { norm, err, weights: this.weights!, lambda: this.chosenLambda! };
    }
    this.normalization = best!.norm;
    this.weights = best!.weights;
    this.chosenLambda = best!.lambda;
    this.normalizationErrors = errors;
  }

  /** Mean squared error of direct forecasts with `weights` over the windows of `series` that pass `filter`. */
  private windowMse(weights: Float64Array, series: TimeSeries, filter?: (s: number) => boolean): number {
    const L = this.lookback;
    const H = this.horizon;
    let se = 0;
    let n = 0;
    for (const v of series.values) {
      for (const s of windowStarts(seriesLength(series), L, H)) {
        if (filter && !filter(s)) continue;
        const [centre, scale] = this.stats(v, s + L);
        for (let h = 0; h < H; h++) {
          let y = weights[L * H + h]!;
          for (let i = 0; i < L; i++) y += ((v[s + i]! - centre) / scale) * weights[i * H + h]!;
          const e = v[s + L + h]! - (y * scale + centre);
          se += e * e;
          n++;
        }
      }
    }
    return n > 0 ? se / n : Number.NaN;
  }

  /**
   * Fits weights with the current normalisation (penalty chosen on held-out windows unless
   * given). Returns the held-out windows and the weights fitted without them, for comparing
   * normalisations; undefined when there were none.
   */
  private async fitOne(
    series: TimeSeries,
    validation: TimeSeries | undefined,
    checkpoint: (() => Promise<void>) | undefined,
  ): Promise<{ weights: Float64Array; series: TimeSeries; filter?: (s: number) => boolean } | undefined> {
    const L = this.lookback;
    const H = this.horizon;
    const p = L + 1;
    const n = seriesLength(series);
    if (n < L + H) throw new ForecastInputError(`${this.name}: training series has ${n} rows; lookback ${L} + horizon ${H} are needed`);
    const lambdaOpt = this.options.lambda ?? 'auto';
    const eq = new NormalEquations(p, H);
    if (lambdaOpt !== 'auto') {
      await this.addWindows(eq, series, undefined, checkpoint);
      this.chosenLambda = lambdaOpt;
      this.weights = this.fold(this.mapped(eq).solve(lambdaOpt * eq.count, true));
      return validation && seriesLength(validation) >= L + H ? { weights: this.weights, series: validation } : undefined;
    }
    // Held-out windows enter only through their normal equations: the squared error of any W is
    // tr(Wᵀ A W) - 2 tr(Wᵀ B) + const, so each lambda on the grid costs p²H, not windows x pH.
    const held = new NormalEquations(p, H);
    let rest: NormalEquations | undefined;
    let heldWindows: { series: TimeSeries; filter?: (s: number) => boolean } | undefined;
    if (validation && seriesLength(validation) >= L + H) {
      await this.addWindows(eq, series, undefined, checkpoint);
      await this.addWindows(held, validation, undefined, checkpoint);
      heldWindows = { series: validation };
    } else {
      const cut = Math.floor((n - L - H) * 0.8);
      await this.addWindows(eq, series, (s) => s < cut, checkpoint);
      await this.addWindows(held, series, (s) => s >= cut, checkpoint);
      rest = held;
      heldWindows = { series, filter: (s) => s >= cut };
      if (eq.count === 0) {
        await this.addWindows(eq, series, undefined, checkpoint);
        rest = undefined;
        heldWindows = undefined;
      }
    }
    let best = GRID[GRID.length >> 1]!;
    if (held.count > 0 && eq.count > 0) {
      let bestErr = Infinity;
      const fitEq = this.mapped(eq);
      const heldEq = this.mapped(held);
      for (const lam of GRID) {
        await checkpoint?.();
        let err: number;
        try {
          err = heldEq.heldOutError(fitEq.solve(lam * eq.count, true));
        } catch (e) {
          // Collinear inputs (e.g. a noiseless periodic series) leave the smallest penalties
          // numerically singular; those candidates are skipped, not fatal.
          if (e instanceof ForecastInputError) continue;
          throw e;
        }
        if (err < bestErr) {
          bestErr = err;
          best = lam;
        }
      }
    }
    // Weights without the held-out windows, to score this normalisation on them.
    const heldOutWeights = heldWindows && held.count > 0 ? this.fold(this.mapped(eq).solve(best * eq.count, true)) : undefined;
    if (rest) {
      for (let i = 0; i < eq.xtx.length; i++) eq.xtx[i]! += rest.xtx[i]!;
      for (let i = 0; i < eq.xty.length; i++) eq.xty[i]! += rest.xty[i]!;
      eq.count += rest.count;
    }
    this.chosenLambda = best;
    this.weights = rest || !heldOutWeights ? this.fold(this.mapped(eq).solve(best * eq.count, true)) : heldOutWeights;
    return heldOutWeights && heldWindows ? { weights: heldOutWeights, ...heldWindows } : undefined;
  }

  /** Direct forecast of H steps from the last L values of `v` (ending at `end`). */
  private direct(v: Float64Array, end: number, x: Float64Array, out: Float64Array, offset: number, count: number): void {
    const L = this.lookback;
    const H = this.horizon;
    const p = L + 1;
    const W = this.weights!;
    const [centre, scale] = this.stats(v, end);
    for (let i = 0; i < L; i++) x[i] = (v[end - L + i]! - centre) / scale;
    x[p - 1] = 1;
    for (let h = 0; h < Math.min(H, count); h++) {
      let s = 0;
      for (let i = 0; i < p; i++) s += x[i]! * W[i * H + h]!;
      out[offset + h] = s * scale + centre;
    }
  }

  private forecastColumn(v: Float64Array, end: number, horizon: number): Float64Array {
    const L = this.lookback;
    if (end < L) throw new ForecastInputError(`${this.name} needs ${L} rows of history (lookback); got ${end}`);
    const x = new Float64Array(L + 1);
    if (horizon <= this.horizon) {
      const out = new Float64Array(horizon);
      this.direct(v, end, x, out, 0, horizon);
      return out;
    }
    // Longer than trained: feed forecasts back in, H steps at a time.
    const buf = new Float64Array(L + horizon);
    buf.set(v.subarray(end - L, end));
    for (let done = 0; done < horizon; done += this.horizon) {
      const tmp = new Float64Array(this.horizon);
      this.direct(buf, L + done, x, tmp, 0, this.horizon);
      buf.set(tmp.subarray(0, Math.min(this.horizon, horizon - done)), L + done);
    }
    return buf.slice(L);
  }

  protected async forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]> {
    return history.map((v) => this.forecastColumn(v, v.length, horizon));
  }

  protected override async forecastManyScaled(values: Float64Array[], origins: number[], horizon: number): Promise<Float64Array[][]> {
    if (horizon > this.horizon || origins.length * values.length < 64) {
      return origins.map((o) => values.map((v) => this.forecastColumn(v, o, horizon)));
    }
    // Many windows: one matrix product.
    const L = this.lookback;
    const H = this.horizon;
    const p = L + 1;
    const C = values.length;
    const n = origins.length * C;
    const X = new Float64Array(n * p);
    const centres = new Float64Array(n);
    const scales = new Float64Array(n);
    origins.forEach((o, k) => {
      if (o < L) throw new ForecastInputError(`${this.name} needs ${L} rows of history (lookback); got ${o}`);
      values.forEach((v, c) => {
        const r = k * C + c;
        const [centre, scale] = this.stats(v, o);
        centres[r] = centre;
        scales[r] = scale;
        for (let i = 0; i < L; i++) X[r * p + i] = (v[o - L + i]! - centre) / scale;
        X[r * p + L] = 1;
      });
    });
    const Y = matMulRows(X, this.weights!, n, p, H);
    return origins.map((_, k) =>
      values.map((_, c) => {
        const r = k * C + c;
        const out = new Float64Array(horizon);
        for (let h = 0; h < horizon; h++) out[h] = Y[r * H + h]! * scales[r]! + centres[r]!;
        return out;
      }),
    );
  }

  /** Fitted weights on the raw lags, `[(L + 1) x H]` row-major with the intercept last. */
  linearWeights(): number[] {
    if (!this.weights) throw new ForecastInputError(`${this.name}: not fitted`);
    return Array.from(this.weights);
  }

  protected getState(): Record<string, unknown> {
    return { weights: Array.from(this.weights ?? []), lambda: this.chosenLambda, normalization: this.normalization };
  }
  protected setState(state: Record<string, unknown>): void {
    const w = state.weights as number[];
    if (!Array.isArray(w) || w.length !== (this.lookback + 1) * this.horizon) throw new ForecastInputError(`${this.name}: saved weights have the wrong size`);
    this.weights = Float64Array.from(w);
    this.chosenLambda = state.lambda as number;
    // Models saved before normalisation was recorded used their options' subtractLast rule.
    const norm = state.normalization as LinearNormalization | undefined;
    if (norm !== undefined && !NORMALIZATIONS.includes(norm)) throw new ForecastInputError(`${this.name}: saved normalization "${String(norm)}" is not one of ${NORMALIZATIONS.join(', ')}`);
    const requested = this.requestedNormalization();
    this.normalization = norm ?? (requested === 'auto' ? 'none' : requested);
  }
}

/**
 * Ridge regression from the last `lookback` values to the next `horizon` values, one weight
 * matrix shared by all columns, the last input value subtracted (as NLinear, Zeng et al.
 * 2023), fitted in closed form.
 */
export class LinearForecaster extends WindowLinearForecaster {
  readonly name = 'linear';
  constructor(options: LinearOptions = {}) {
    super(options);
  }
  protected defaultNormalization(): LinearNormalization {
    return 'last';
  }
  protected featureMap(): undefined {
    return undefined;
  }
  clone(): LinearForecaster {
    return new LinearForecaster(this.options);
  }
}

/**
 * DLinear (Zeng et al. 2023): the input is split into a moving-average trend and the seasonal
 * remainder, each mapped by its own linear layer. Both layers are linear in the input, so the
 * least-squares fit is the ridge solution on the concatenated features, computed in closed form.
 */
export class DLinearForecaster extends WindowLinearForecaster {
  readonly name = 'dlinear';
  readonly kernel: number;
  constructor(options: LinearOptions = {}) {
    super(options);
    this.kernel = positiveInt(options.kernel ?? 25, 'dlinear: kernel');
    if (this.kernel % 2 === 0) throw new ForecastInputError(`dlinear: kernel must be odd, got ${this.kernel}`);
  }
  protected defaultNormalization(): 'auto' {
    return 'auto';
  }
  private map: { T: Float64Array; f: number } | undefined;
  protected featureMap(): { T: Float64Array; f: number } {
    if (this.map) return this.map;
    const L = this.lookback;
    const half = (this.kernel - 1) / 2;
    // Rows 0..L-1: moving-average trend (edge values repeated, as DLinear pads); rows L..2L-1: remainder.
    const T = new Float64Array(2 * L * L);
    for (let i = 0; i < L; i++) {
      for (let k = -half; k <= half; k++) T[i * L + Math.min(L - 1, Math.max(0, i + k))]! += 1 / this.kernel;
      for (let k = 0; k < L; k++) T[(L + i) * L + k] = (i === k ? 1 : 0) - T[i * L + k]!;
    }
    this.map = { T, f: 2 * L };
    return this.map;
  }
  clone(): DLinearForecaster {
    return new DLinearForecaster(this.options);
  }
}
