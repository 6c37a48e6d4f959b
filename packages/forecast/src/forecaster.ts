import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { cancellationCheckpoint, writeJsonAtomic, writeModelConfig } from '@seqlab/core';
import { ForecastInputError, positiveInt } from './errors.js';
import { Scaler, type ScalerKind, type ScalerState } from './data/scalers.js';
import { seriesLength, sliceSeries, validateSeries, type TimeSeries } from './data/series.js';
import { coverage, mae, mse, rmse, smape } from './metrics.js';
import { readSavedJson, savedHeader } from './saved-json.js';

/** What a forecaster can do, declared up front (Darts-style). */
export interface ForecasterCapabilities {
  /** Whether it models several columns (channel-independent models count: they forecast each). */
  supportsMultivariate: boolean;
  /** Whether `predict` can return prediction intervals. */
  probabilistic: boolean;
  /** Fewest training rows `fit` accepts. */
  minTrainLength: number;
  /** Whether it trains a TensorFlow.js network (needs `initBackend()` first). */
  neural: boolean;
}

/** A forecast: `mean[c][h]` is column `c`, step `h + 1` ahead. */
export interface Forecast {
  columns: string[];
  mean: number[][];
  /** Lower interval bound at `level`, same shape as `mean`. */
  lower?: number[][];
  upper?: number[][];
  /** Nominal coverage of `[lower, upper]`, e.g. 0.9. */
  level?: number;
  /** ISO timestamps of the forecast steps, when the history had regular dates. */
  dates?: string[];
}

/** Progress of one training epoch of a neural model. */
export interface EpochLog {
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  seconds: number;
  /** Learning rate of the epoch (gradient-trained models). */
  learningRate?: number;
}

/** Options of {@link Forecaster.fit}. */
export interface FitOptions {
  /**
   * Held-out continuation of the training series (with at least `lookback` rows of context in
   * front). Neural models early-stop on it; conformal intervals are calibrated on it.
   */
  validation?: TimeSeries;
  /**
   * Conformal calibration: number of forecast origins to collect residuals from (default 40),
   * `false` to skip. Without `validation`, a copy of the model is fitted on the rows before the
   * last quarter of the training series and residuals come from forecasts of that held-out
   * tail; a series too short for that is cross-validated (three folds, each fitted on the rows
   * before it; one fold for neural models), and only one too short for any fold is calibrated
   * in-sample (see `calibrationSource`).
   */
  calibration?: { windows?: number; horizon?: number } | false;
  /** Called after each epoch of neural models. */
  onEpoch?: (log: EpochLog) => void;
  /**
   * Abandons fitting with a `CancelledError` (from @seqlab/core) once aborted: neural models
   * check it before every batch, backtests before every window.
   */
  signal?: AbortSignal;
  /**
   * Neural models: checkpoint the training into `dir` after every epoch (weights, optimizer
   * state, the seed stream, early stopping) and, with `resume`, continue from the checkpoint
   * there, drawing what the uninterrupted run would have drawn. Other models fit in one pass
   * and ignore it; the copies fitted for calibration are never checkpointed.
   */
  checkpoint?: FitCheckpoint;
}

/** Where and how a neural model's training is checkpointed (see {@link FitOptions.checkpoint}). */
export interface FitCheckpoint {
  dir: string;
  /** Continue from the checkpoint in `dir` when there is one (else start afresh). */
  resume?: boolean;
  /** Write at most once per this many seconds (epochs of small models take milliseconds). Default 0: every epoch. */
  everySeconds?: number;
}

/** Options of {@link Forecaster.predict}. */
export interface PredictOptions {
  /** Recent rows to forecast from (same columns as at fit). Default: the end of the training series. */
  history?: TimeSeries;
  /** Interval level in (0, 1). Default 0.9 when the model is calibrated; `null` for no intervals. */
  level?: number | null;
  /**
   * Values the series cannot leave (`{ lower: 0 }` for counts, prices, loads): forecasts and
   * interval bounds are clipped to them. Clipping keeps the coverage of intervals for data that
   * respect the bounds, since no actual value lies outside them.
   */
  bounds?: ForecastBounds;
}

/** Limits of a series' values: either side may be left open. */
export interface ForecastBounds {
  lower?: number;
  upper?: number;
}

/** Clips every value of `rows` into `bounds` in place. */
function clip(rows: number[][], bounds: ForecastBounds): void {
  const lo = bounds.lower ?? -Infinity;
  const hi = bounds.upper ?? Infinity;
  for (const r of rows) for (let i = 0; i < r.length; i++) r[i] = Math.min(hi, Math.max(lo, r[i]!));
}

/** Options of {@link Forecaster.backtest}. */
export interface BacktestOptions {
  /** Steps ahead of each forecast. */
  horizon: number;
  /** Number of forecast origins. Default 5. */
  windows?: number;
  /** Rows between origins. Default `horizon`. */
  step?: number;
  /** Refit a fresh copy at every origin on the rows before it (default false: fit once before the first origin). */
  refit?: boolean;
  /** Interval level for coverage. Default 0.9 when available. */
  level?: number | null;
  /** Options passed to every `fit` inside the backtest. */
  fit?: FitOptions;
  /** Stops the backtest before the next window once aborted (also passed to every `fit`). */
  signal?: AbortSignal;
}

/** Result of {@link Forecaster.backtest}: forecasts at each origin and pooled errors. */
export interface BacktestResult {
  horizon: number;
  /** Row index of the first forecast step of each window. */
  origins: number[];
  forecasts: Forecast[];
  /** `actual[w][c][h]`. */
  actual: number[][][];
  metrics: { mae: number; mse: number; rmse: number; smape: number; coverage?: number };
  perWindow: Array<{ origin: number; mae: number; mse: number }>;
}

/** Serialized form written by {@link Forecaster.save}. */
export interface SavedForecaster {
  format: 'seqlab-forecaster';
  version: 1;
  name: string;
  options: Record<string, unknown>;
  columns: string[];
  scaler: ScalerState;
  history: { values: number[][]; dates?: string[]; stepMs?: number; monthly?: boolean };
  calibration?: CalibrationState;
  /** ISO timestamp of the last row fitting or calibration read (training or validation data), when the data had dates. */
  seenUntil?: string;
  state: Record<string, unknown>;
}

/**
 * Where conformal residuals came from: forecasts of the validation series, of held-out tail
 * windows of the training series by a copy fitted on the rows before them, of several such
 * folds (short series), or - only when the series is too short for any of that - in-sample.
 */
export type CalibrationSource = 'validation' | 'held-out' | 'cross-validated' | 'in-sample';

interface CalibrationState {
  horizon: number;
  /** Absent in models saved before sources were recorded. */
  source?: CalibrationSource;
  /** `absResiduals[c][h]`: sorted absolute residuals in scaled units. */
  absResiduals: number[][][];
}

/** Options every forecaster accepts. */
export interface BaseOptions {
  /** Column scaler fitted at `fit` on training rows. */
  scaler?: ScalerKind;
}

const FILE = 'forecaster.json';

/**
 * Base class of every forecaster: validates input, scales, keeps the recent history, computes
 * conformal intervals, and implements backtesting and save/load once. Subclasses implement
 * fitting and forecasting on scaled data.
 */
export abstract class Forecaster<O extends BaseOptions = BaseOptions> {
  /** Registry name (what `createForecaster` takes). */
  abstract readonly name: string;
  abstract readonly capabilities: ForecasterCapabilities;
  /** Constructor options as given (recorded so backtests can train fresh copies). */
  readonly options: O;
  protected columns: string[] | undefined;
  protected scaler: Scaler | undefined;
  /** Recent history in original units. */
  protected history: TimeSeries | undefined;
  private calibration: CalibrationState | undefined;
  private seenUntilTime: number | undefined;
  private fitNotes: string[] = [];

  protected constructor(options: O) {
    this.options = Object.freeze({ ...options });
  }

  /** Whether `fit` (or `load`) has run. */
  get fitted(): boolean {
    return this.columns !== undefined;
  }

  /** Columns the model was fitted on. */
  get fittedColumns(): string[] {
    return [...this.requireFitted()];
  }

  /** Default scaler when the options name none. */
  protected defaultScaler(): ScalerKind {
    return 'none';
  }

  /** Rows of history kept for `predict` without `history` (and saved with the model). */
  protected historyRows(): number {
    return 4096;
  }

  /** Horizon used to calibrate intervals when `fit` is not told one. */
  protected calibrationHorizon(trainRows: number): number {
    return Math.max(1, Math.min(48, Math.floor(trainRows / 5)));
  }

  /** Fits on scaled data. */
  protected abstract fitScaled(series: TimeSeries, validation: TimeSeries | undefined, options: FitOptions): Promise<void>;

  /** Forecasts `horizon` steps of every column from scaled history `history[c]`. */
  protected abstract forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]>;

  /**
   * Forecasts from many origins of one scaled series: result `[k][c]` uses rows `< origins[k]`.
   * Models that can batch override this.
   */
  protected async forecastManyScaled(values: Float64Array[], origins: number[], horizon: number): Promise<Float64Array[][]> {
    const out: Float64Array[][] = [];
    for (const o of origins) out.push(await this.forecastScaled(values.map((v) => v.subarray(0, o)), horizon));
    return out;
  }

  /** Model-specific state for `save` (plain JSON). */
  protected abstract getState(): Record<string, unknown>;
  /** Restores {@link Forecaster.getState}. */
  protected abstract setState(state: Record<string, unknown>): void;
  /** Writes extra files (network weights) into `dir`. */
  protected async saveExtra(_dir: string): Promise<void> {}
  /** Reads what {@link Forecaster.saveExtra} wrote. */
  protected async loadExtra(_dir: string): Promise<void> {}

  /** Frees tensors held by the model (neural models). Safe to call twice. */
  dispose(): void {}

  private requireFitted(): string[] {
    if (!this.columns) throw new ForecastInputError(`${this.name}: call fit() (or load a saved model) before predicting`);
    return this.columns;
  }

  /**
   * Fits the model on a series (all its columns).
   *
   * @throws ForecastInputError for NaNs, too few rows, or a multivariate series given to a
   *   univariate model.
   */
  async fit(series: TimeSeries, options: FitOptions = {}): Promise<this> {
    validateSeries(series, `${this.name}.fit: series`, this.capabilities.minTrainLength);
    if (!this.capabilities.supportsMultivariate && series.values.length > 1) {
      throw new ForecastInputError(`${this.name} is univariate; got ${series.values.length} columns (${series.columns.join(', ')})`);
    }
    if (options.validation) {
      validateSeries(options.validation, `${this.name}.fit: validation`);
      this.checkColumns(options.validation, series.columns, 'validation');
    }
    const scaler = Scaler.fit(series, this.options.scaler ?? this.defaultScaler());
    const scaled = scaler.transform(series);
    const validation = options.validation ? scaler.transform(options.validation) : undefined;
    this.dispose();
    this.fitNotes = [];
    await this.fitScaled(scaled, validation, options);
    this.columns = [...series.columns];
    this.scaler = scaler;
    this.history = sliceSeries(series, -this.historyRows());
    this.history = { ...this.history, values: this.history.values.map((v) => Float64Array.from(v)) };
    this.calibration = undefined;
    if (options.calibration !== false) {
      if (validation) await this.calibrate(scaled, validation, options.calibration ?? {});
      else await this.calibrateHeldOut(series, scaler, options.calibration ?? {});
    }
    const lastDates = [series.dates?.at(-1), options.validation?.dates?.at(-1)].filter((d): d is Date => d !== undefined).map((d) => d.getTime());
    this.seenUntilTime = lastDates.length ? Math.max(...lastDates) : undefined;
    return this;
  }

  private async calibrate(train: TimeSeries, validation: TimeSeries | undefined, opts: { windows?: number; horizon?: number }): Promise<void> {
    const source = validation ?? train;
    const n = seriesLength(source);
    const horizon = opts.horizon ?? this.calibrationHorizon(seriesLength(train));
    const windows = opts.windows ?? 40;
    const minHistory = Math.max(this.minHistory(), validation ? 1 : Math.ceil(n / 2));
    const last = n - horizon;
    if (last < minHistory) return;
    const step = Math.max(1, Math.floor((last - minHistory) / Math.max(1, windows - 1)));
    const origins: number[] = [];
    for (let o = last; o >= minHistory && origins.length < windows; o -= step) origins.unshift(o);
    const preds = await this.forecastManyScaled(source.values, origins, horizon);
    const C = source.values.length;
    const abs: number[][][] = Array.from({ length: C }, () => Array.from({ length: horizon }, () => [] as number[]));
    origins.forEach((o, k) => {
      for (let c = 0; c < C; c++) {
        for (let h = 0; h < horizon; h++) abs[c]![h]!.push(Math.abs(source.values[c]![o + h]! - preds[k]![c]![h]!));
      }
    });
    for (const col of abs) for (const r of col) r.sort((a, b) => a - b);
    this.calibration = { horizon, source: validation ? 'validation' : 'in-sample', absResiduals: abs };
  }

  /**
   * Residuals from forecasts the model could not have fitted: copies fitted on the rows before
   * each fold forecast the fold's origins (see {@link FitOptions.calibration}). `series` is in
   * original units; residuals are stored in the units of this model's `scaler`.
   */
  private async calibrateHeldOut(series: TimeSeries, scaler: Scaler, opts: { windows?: number; horizon?: number }): Promise<void> {
    const n = seriesLength(series);
    const horizon = opts.horizon ?? this.calibrationHorizon(n);
    const windows = opts.windows ?? 40;
    const lo = Math.max(this.capabilities.minTrainLength, this.minHistory());
    const last = n - horizon;
    if (last < lo) {
      await this.calibrate(scaler.transform(series), undefined, opts);
      return;
    }
    const spread = (from: number, to: number, count: number): number[] => {
      const k = Math.min(count, to - from + 1);
      return Array.from({ length: k }, (_, i) => (k === 1 ? to : from + Math.round((i * (to - from)) / (k - 1))));
    };
    const tailStart = Math.max(lo, Math.floor(0.75 * n));
    const folds: Array<{ cut: number; origins: number[] }> = [];
    if (last - tailStart + 1 >= Math.min(windows, 10)) {
      folds.push({ cut: tailStart, origins: spread(tailStart, last, windows) });
    } else {
      const span = last - lo + 1;
      const k = Math.min(this.capabilities.neural ? 1 : 3, span);
      for (let i = 0; i < k; i++) {
        const from = lo + Math.floor((i * span) / k);
        const to = lo + Math.floor(((i + 1) * span) / k) - 1;
        folds.push({ cut: from, origins: spread(from, to, Math.ceil(windows / k)) });
      }
    }
    const C = series.values.length;
    const abs: number[][][] = Array.from({ length: C }, () => Array.from({ length: horizon }, () => [] as number[]));
    for (const fold of folds) {
      const copy = this.clone();
      try {
        await copy.fit(sliceSeries(series, 0, fold.cut), { calibration: false });
        const preds = await copy.predictAt(series, fold.origins, horizon);
        fold.origins.forEach((o, k) => {
          for (let c = 0; c < C; c++) {
            const unit = scaler.unitScale(c) || 1;
            for (let h = 0; h < horizon; h++) abs[c]![h]!.push(Math.abs(series.values[c]![o + h]! - preds[k]![c]![h]!) / unit);
          }
        });
      } finally {
        copy.dispose();
      }
    }
    for (const col of abs) for (const r of col) r.sort((a, b) => a - b);
    this.calibration = { horizon, source: folds.length > 1 ? 'cross-validated' : 'held-out', absResiduals: abs };
  }

  /** Where the conformal residuals came from (undefined when not calibrated, or saved before this was recorded). */
  get calibrationSource(): CalibrationSource | undefined {
    return this.calibration?.source;
  }

  /** Fewest history rows `forecastScaled` needs. */
  protected minHistory(): number {
    return 1;
  }

  /** Fewest rows of history `predict` and `predictAt` need (the look-back of window models). */
  get requiredHistory(): number {
    return this.minHistory();
  }

  /**
   * The timestamp of the last row `fit` read, training or validation (so also the last row
   * conformal calibration may have used); undefined when the data had no dates. Scoring a
   * holdout that starts on or before it scores rows the model has seen.
   */
  get seenUntil(): Date | undefined {
    return this.seenUntilTime === undefined ? undefined : new Date(this.seenUntilTime);
  }

  /** Choices the last `fit` made that users should know of (a fallback to a simpler model). */
  get notes(): readonly string[] {
    return this.fitNotes;
  }

  /** Records a note for {@link Forecaster.notes}. */
  protected note(text: string): void {
    this.fitNotes.push(text);
  }

  /** Whether `predict` can give prediction intervals (fitted with enough rows to calibrate them). */
  get calibrated(): boolean {
    return this.calibration !== undefined;
  }

  /** Rows of recent history the fitted model keeps for `predict` without `history`. */
  get keptHistory(): number {
    return this.historyRows();
  }

  private checkColumns(series: TimeSeries, expected: readonly string[], what: string): void {
    if (series.columns.length !== expected.length || series.columns.some((c, i) => c !== expected[i])) {
      throw new ForecastInputError(`${this.name}: ${what} columns (${series.columns.join(', ')}) differ from the fitted columns (${expected.join(', ')})`);
    }
  }

  /**
   * Forecasts `horizon` steps after the end of `options.history` (default: the training
   * series), in original units, with conformal intervals when calibrated.
   */
  async predict(horizon: number, options: PredictOptions = {}): Promise<Forecast> {
    const columns = this.requireFitted();
    positiveInt(horizon, `${this.name}.predict: horizon`);
    const history = options.history ?? this.history!;
    if (options.history) {
      validateSeries(options.history, `${this.name}.predict: history`, this.minHistory());
      this.checkColumns(options.history, columns, 'history');
    }
    const scaler = this.scaler!;
    const scaledHistory = history.values.map((v, c) => scaler.transformColumn(c, v));
    const pred = await this.forecastScaled(scaledHistory, horizon);
    const mean = pred.map((p, c) => Array.from(scaler.inverseColumn(c, p)));
    const forecast: Forecast = { columns: [...columns], mean };
    const level = options.level === undefined ? (this.calibration ? 0.9 : null) : options.level;
    if (level !== null) {
      if (!(level > 0 && level < 1)) throw new ForecastInputError(`level must be in (0, 1), got ${level}`);
      if (!this.calibration) throw new ForecastInputError(`${this.name}: no calibration residuals; fit with calibration enabled (and enough rows) to get intervals`);
      const half = this.halfWidths(level, horizon);
      forecast.level = level;
      forecast.lower = mean.map((m, c) => m.map((v, h) => v - half[c]![h]! * scaler.unitScale(c)));
      forecast.upper = mean.map((m, c) => m.map((v, h) => v + half[c]![h]! * scaler.unitScale(c)));
    }
    if (options.bounds) {
      const { lower, upper } = options.bounds;
      if ((lower !== undefined && !Number.isFinite(lower)) || (upper !== undefined && !Number.isFinite(upper)) || (lower !== undefined && upper !== undefined && lower >= upper)) {
        throw new ForecastInputError(`bounds must be finite with lower < upper, got lower ${lower}, upper ${upper}`);
      }
      for (const rows of [forecast.mean, forecast.lower, forecast.upper]) if (rows) clip(rows, options.bounds);
    }
    const dates = futureDates(history, horizon);
    if (dates) forecast.dates = dates;
    return forecast;
  }

  /**
   * Split-conformal interval half-widths `[c][h]` at `level` in the model's scaled units (the
   * units of the series it was fitted on when its scaler is `'none'`), for scoring many
   * forecasts from `predictAt` without building a `Forecast` per origin.
   *
   * @throws ForecastInputError when the model was fitted without calibration.
   */
  intervalHalfWidths(level: number, horizon: number): number[][] {
    this.requireFitted();
    if (!(level > 0 && level < 1)) throw new ForecastInputError(`level must be in (0, 1), got ${level}`);
    if (!this.calibration) throw new ForecastInputError(`${this.name}: no calibration residuals; fit with calibration enabled (and enough rows) to get intervals`);
    return this.halfWidths(level, positiveInt(horizon, 'horizon'));
  }

  /** Split-conformal half-widths `[c][h]` at `level`, in scaled units. */
  private halfWidths(level: number, horizon: number): number[][] {
    const cal = this.calibration!;
    return cal.absResiduals.map((col) => {
      const q = col.map((r) => {
        const n = r.length;
        const k = Math.min(n - 1, Math.ceil((n + 1) * level) - 1);
        return r[Math.max(0, k)]!;
      });
      // Beyond the calibrated horizon, widen like a random walk from the last calibrated step.
      return Array.from({ length: horizon }, (_, h) => (h < q.length ? q[h]! : q[q.length - 1]! * Math.sqrt((h + 1) / q.length)));
    });
  }

  /**
   * Forecasts from many origins of one series at once: result `[k][c][h]`, original units,
   * forecast `k` uses only rows before `origins[k]` (no look-ahead).
   */
  async predictAt(series: TimeSeries, origins: readonly number[], horizon: number): Promise<Float64Array[][]> {
    const columns = this.requireFitted();
    positiveInt(horizon, 'horizon');
    this.checkColumns(series, columns, 'series');
    const n = seriesLength(series);
    for (const o of origins) {
      if (!Number.isInteger(o) || o < this.minHistory() || o > n) {
        throw new ForecastInputError(`origin ${o} must be an integer in [${this.minHistory()}, ${n}]`);
      }
    }
    const scaler = this.scaler!;
    const scaled = series.values.map((v, c) => scaler.transformColumn(c, v));
    const preds = await this.forecastManyScaled(scaled, [...origins], horizon);
    return preds.map((cols) => cols.map((p, c) => scaler.inverseColumn(c, p)));
  }

  /** An unfitted copy with the same options. */
  abstract clone(): Forecaster<O>;

  /**
   * Rolling-origin evaluation: `windows` forecasts of `horizon` steps, `step` rows apart, the
   * last one ending at the end of the series. With `refit`, a fresh copy is fitted on the rows
   * before every origin; otherwise one copy is fitted on the rows before the first origin
   * (this model itself is left untouched).
   */
  async backtest(series: TimeSeries, options: BacktestOptions): Promise<BacktestResult> {
    const horizon = positiveInt(options.horizon, 'backtest: horizon');
    const windows = positiveInt(options.windows ?? 5, 'backtest: windows');
    const step = positiveInt(options.step ?? horizon, 'backtest: step');
    validateSeries(series, `${this.name}.backtest: series`);
    const n = seriesLength(series);
    const origins = Array.from({ length: windows }, (_, k) => n - horizon - (windows - 1 - k) * step);
    const needed = this.capabilities.minTrainLength;
    if (origins[0]! < needed) {
      throw new ForecastInputError(`backtest: ${windows} windows of horizon ${horizon}, step ${step} leave ${origins[0]} training rows before the first origin; ${this.name} needs ${needed}`);
    }
    const forecasts: Forecast[] = [];
    let fixed: Forecaster<O> | undefined;
    const checkpoint = cancellationCheckpoint(options.signal, 'backtest');
    const fitOptions: FitOptions = options.signal ? { ...options.fit, signal: options.fit?.signal ?? options.signal } : (options.fit ?? {});
    try {
      for (const o of origins) {
        await checkpoint();
        let model: Forecaster<O>;
        if (options.refit || !fixed) {
          fixed?.dispose();
          model = this.clone();
          await model.fit(sliceSeries(series, 0, o), fitOptions);
          fixed = model;
        } else model = fixed;
        forecasts.push(await model.predict(horizon, { history: sliceSeries(series, 0, o), level: options.level }));
      }
    } finally {
      fixed?.dispose();
    }
    const actual = origins.map((o) => series.values.map((v) => Array.from(v.subarray(o, o + horizon))));
    const perWindow = origins.map((o, k) => ({ origin: o, mae: mae(actual[k]!, forecasts[k]!.mean), mse: mse(actual[k]!, forecasts[k]!.mean) }));
    const allA = actual.flat();
    const allP = forecasts.flatMap((f) => f.mean);
    const metrics: BacktestResult['metrics'] = { mae: mae(allA, allP), mse: mse(allA, allP), rmse: rmse(allA, allP), smape: smape(allA, allP) };
    if (forecasts.every((f) => f.lower && f.upper)) {
      metrics.coverage = coverage(allA, forecasts.flatMap((f) => f.lower!), forecasts.flatMap((f) => f.upper!));
    }
    return { horizon, origins, forecasts, actual, metrics, perWindow };
  }

  /** Saves configuration, scaler, recent history, calibration and weights into `dir`. */
  async save(dir: string): Promise<void> {
    const columns = this.requireFitted();
    await mkdir(dir, { recursive: true });
    await this.saveExtra(dir);
    const h = this.history!;
    const saved: SavedForecaster = {
      ...savedHeader('seqlab-forecaster', this.name, this.options),
      columns,
      scaler: this.scaler!.state,
      history: { values: h.values.map((v) => Array.from(v)), dates: h.dates?.map((d) => d.toISOString()) },
      calibration: this.calibration,
      ...(this.seenUntilTime !== undefined ? { seenUntil: new Date(this.seenUntilTime).toISOString() } : {}),
      state: this.getState(),
    };
    await writeJsonAtomic(path.join(dir, FILE), saved);
    // Last: a directory with a config.json is a complete model (see @seqlab/core readModelConfig).
    await writeModelConfig(dir, { task: 'forecast', kind: this.name }, { file: FILE, columns });
  }

  /** @internal Used by `loadForecaster`. */
  async restore(saved: SavedForecaster, dir: string): Promise<void> {
    this.columns = [...saved.columns];
    this.scaler = Scaler.fromState(saved.scaler);
    const dates = saved.history.dates?.map((d) => new Date(d));
    this.history = {
      columns: [...saved.columns],
      values: saved.history.values.map((v) => Float64Array.from(v)),
      dates,
      irregular: false,
    };
    this.calibration = saved.calibration;
    this.seenUntilTime = saved.seenUntil !== undefined ? Date.parse(saved.seenUntil) : undefined;
    this.setState(saved.state);
    await this.loadExtra(dir);
  }
}

/** Reads `forecaster.json` from a saved model directory. */
export async function readSaved(dir: string): Promise<SavedForecaster> {
  const file = path.join(dir, FILE);
  const globalHint = () =>
    existsSync(path.join(dir, 'global-forecaster.json'))
      ? 'not found: the directory holds a global (panel) model; load it with loadGlobalForecaster (CLI: evaluate forecaster --load DIR with --id-col or --wide)'
      : undefined;
  return (await readSavedJson(file, 'seqlab-forecaster', 'forecaster', globalHint)) as SavedForecaster;
}

/** Dates of the `horizon` steps after the history, when its dates are regular. */
export function futureDates(history: TimeSeries, horizon: number): string[] | undefined {
  const d = history.dates;
  if (!d || d.length < 2 || history.irregular) return undefined;
  const last = d[d.length - 1]!;
  const prev = d[d.length - 2]!;
  const monthly = (last.getTime() - prev.getTime()) / 86_400_000 >= 28 && (last.getTime() - prev.getTime()) / 86_400_000 <= 31 && last.getUTCDate() === prev.getUTCDate();
  const out: string[] = [];
  for (let h = 1; h <= horizon; h++) {
    if (monthly) {
      const x = new Date(last.getTime());
      x.setUTCMonth(x.getUTCMonth() + h);
      out.push(x.toISOString());
    } else out.push(new Date(last.getTime() + h * (last.getTime() - prev.getTime())).toISOString());
  }
  return out;
}
