import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { cancellationCheckpoint, writeJsonAtomic, writeModelConfig } from '@seqlab/core';
import { ForecastInputError, positiveInt } from '../errors.js';
import type { PanelSeries } from '../data/panel.js';
import type { EpochLog, FitCheckpoint, Forecast, ForecastBounds } from '../forecaster.js';
import { coverage, mae, rmse, smape } from '../metrics.js';
import { summarizePanel, type PanelEvaluation, type PanelSeriesResult } from '../panel-eval.js';
import { readSavedJson, savedHeader } from '../saved-json.js';
import { PooledConformal, seriesScale } from './conformal.js';

/** What a global model needs to know about its panel, declared up front. */
export interface GlobalCapabilities {
  /** Fewest rows a series needs to be fitted (with its validation window held out). */
  minSeriesLength: number;
  /** Fewest rows of history `predict` forecasts a series from (no training windows needed: fewer than `minSeriesLength`). */
  minHistory: number;
  /** Longest horizon `predict` gives (the horizon the network was trained for). */
  maxHorizon: number;
  neural: boolean;
  /**
   * Whether it can forecast a series it was not fitted on from that series' history alone (the
   * shared part as fitted, the per-series part fitted on the given history).
   */
  newSeries: boolean;
}

/** Options of {@link GlobalForecaster.fit}. */
export interface GlobalFitOptions {
  /**
   * Hold out the last `horizon` rows of every series: the network early-stops on them and the
   * conformal residuals come from them (pooled across the panel). Default true. Without it the
   * model trains for its full epochs and predicts without intervals.
   */
  validation?: boolean;
  /** Called after every epoch of every ensemble member. */
  onEpoch?: (log: EpochLog & { member: number }) => void;
  /** Abandons fitting with a `CancelledError` once aborted (checked before every batch). */
  signal?: AbortSignal;
  /**
   * Checkpoint each ensemble member's training into `dir/member-<i>/` and, with `resume`,
   * restore the members an interrupted fit had trained and continue the one it was training
   * (see `FitOptions.checkpoint`). A backtest's fits are never checkpointed.
   */
  checkpoint?: FitCheckpoint;
}

/** Options of {@link GlobalForecaster.predict}. */
export interface GlobalPredictOptions {
  /** Interval level in (0, 1); `null` for none. Default 0.9 when the model is calibrated. */
  level?: number | null;
  /** Clip forecasts and intervals to values the series cannot leave. */
  bounds?: ForecastBounds;
  /**
   * Recent histories to forecast from, by id. Default: the end of each fitted series. A series
   * the model was not fitted on is forecast as `newSeries` says.
   */
  panel?: readonly PanelSeries[];
  /**
   * What to do with a series of `panel` the model was not fitted on: `'fit'` (default) forecasts
   * it when the model supports it (`capabilities.newSeries`: its per-series part fitted on the
   * given history, the shared part as fitted); `'error'` refuses it, naming it. Models without
   * the capability always refuse.
   */
  newSeries?: 'fit' | 'error';
}

/** One series' forecast from a global model. */
export interface PanelForecast {
  id: string;
  forecast: Forecast;
  /** Whether the model was fitted on this series (false: its per-series part was fitted on the given history at predict time). */
  seen: boolean;
}

/** Options of {@link GlobalForecaster.backtest}. */
export interface GlobalBacktestOptions {
  /** Steps of each forecast. Default: the model's horizon. */
  horizon?: number;
  /** Forecast origins per series, each with its own global fit. Default 1 (the last `horizon` rows, as M4 scores). */
  windows?: number;
  /** Rows between origins. Default: the horizon. */
  step?: number;
  /** Seasonal period of MASE. Default: the model's season. */
  season?: number;
  /** Interval level for coverage; `null` for none. Default 0.9. */
  level?: number | null;
  fit?: GlobalFitOptions;
}

/** Serialized form of a global model (`global-forecaster.json`). */
export interface SavedGlobalForecaster {
  format: 'seqlab-global-forecaster';
  version: 1;
  name: string;
  options: Record<string, unknown>;
  ids: string[];
  /** Pooled conformal residuals per step (scaled units), when calibrated. */
  calibration?: number[][];
  state: Record<string, unknown>;
}

export const GLOBAL_FILE = 'global-forecaster.json';

/** Checks a panel for a global model: ids unique, one finite column per series, long enough. */
export function validatePanel(panel: readonly PanelSeries[], what: string, minLength: number): void {
  if (!Array.isArray(panel) || panel.length === 0) throw new ForecastInputError(`${what}: the panel has no series`);
  const seen = new Set<string>();
  for (const [i, p] of panel.entries()) {
    const where = `${what}: series "${p?.id}" (#${i + 1})`;
    if (typeof p?.id !== 'string' || p.id === '') throw new ForecastInputError(`${what}: series #${i + 1} has no id`);
    if (seen.has(p.id)) throw new ForecastInputError(`${what}: id "${p.id}" appears twice`);
    seen.add(p.id);
    const cols = p.series?.values?.length ?? 0;
    if (cols !== 1) {
      throw new ForecastInputError(`${where} has ${cols} columns (${p.series?.columns?.join(', ')}); global models forecast one target per series: choose it (--target)`);
    }
    const v = p.series.values[0]!;
    if (v.length < minLength) throw new ForecastInputError(`${where} has ${v.length} rows; this model needs at least ${minLength}`);
    for (let t = 0; t < v.length; t++) {
      if (!Number.isFinite(v[t]!)) throw new ForecastInputError(`${where} row ${t + 1}: ${v[t]} is not a finite number`);
    }
  }
}

/**
 * Base of the global (cross-learning) forecasters: one model fitted on every series of a panel
 * at once, forecasting each, with intervals from held-out windows pooled across the panel.
 * Validation of panels, intervals, bounds, backtests and the file format live here; subclasses
 * fit and forecast point values.
 */
export abstract class GlobalForecaster<O extends object = Record<string, unknown>> {
  abstract readonly name: string;
  abstract readonly capabilities: GlobalCapabilities;
  /** Constructor options as given (a backtest fits fresh copies with them). */
  readonly options: O;
  protected ids: string[] | undefined;
  /** Scale of each series (for intervals), by position in `ids`. */
  protected scales: number[] = [];
  private conformal: PooledConformal | undefined;
  /**
   * Means over series of the errors on the held-out last rows of every series after the last
   * `fit` with validation (those rows chose the epochs and calibrated the intervals, so these
   * compare runs; they are not a test score).
   */
  validationScores: { rows: number; smape: number; mase: number } | undefined;
  private fitNotes: string[] = [];

  protected constructor(options: O) {
    this.options = Object.freeze({ ...options });
  }

  /** Seasonal period used for series scales and MASE. */
  abstract get season(): number;

  /** Fits on `panel`; `holdout` rows at the end of every series are validation (0: none). Returns held-out forecasts `[series][h]` when `holdout > 0`. */
  protected abstract fitPanel(panel: readonly PanelSeries[], holdout: number, options: GlobalFitOptions): Promise<Float64Array[] | undefined>;
  /** Point forecasts `[series][h]` from the end of each fitted series, or of `panel` (same order as `ids`). */
  protected abstract forecastPanel(horizon: number, panel?: readonly PanelSeries[]): Promise<Float64Array[]>;
  protected abstract getState(): Record<string, unknown>;
  protected abstract setState(state: Record<string, unknown>): void;
  protected async saveExtra(_dir: string): Promise<void> {}
  protected async loadExtra(_dir: string): Promise<void> {}
  /** An unfitted copy with the same options. */
  abstract clone(): GlobalForecaster<O>;
  /** Frees tensors. Safe to call twice. */
  dispose(): void {}

  get fitted(): boolean {
    return this.ids !== undefined;
  }

  /** Ids of the fitted series, in panel order. */
  get fittedIds(): string[] {
    return [...this.requireFitted()];
  }

  get calibrated(): boolean {
    return this.conformal !== undefined;
  }

  /** Held-out residuals per forecast step behind the intervals (one per fitted series), when calibrated. */
  get calibrationCount(): number | undefined {
    return this.conformal?.count;
  }

  /** Choices the last `fit` made that users should know of. */
  get notes(): readonly string[] {
    return this.fitNotes;
  }

  protected note(text: string): void {
    this.fitNotes.push(text);
  }

  private requireFitted(): string[] {
    if (!this.ids) throw new ForecastInputError(`${this.name}: call fit() (or load a saved model) before predicting`);
    return this.ids;
  }

  /**
   * Fits one model on every series of `panel`. With `validation` (default) the last `horizon`
   * rows of each series are held out for early stopping and interval calibration.
   *
   * @throws ForecastInputError for an empty panel, repeated ids, NaNs, several columns, or a
   *   series too short (named).
   */
  async fit(panel: readonly PanelSeries[], options: GlobalFitOptions = {}): Promise<this> {
    const holdout = options.validation === false ? 0 : this.capabilities.maxHorizon;
    validatePanel(panel, `${this.name}.fit`, this.capabilities.minSeriesLength + holdout);
    this.dispose();
    this.fitNotes = [];
    this.conformal = undefined;
    let held: Float64Array[] | undefined;
    try {
      held = await this.fitPanel(panel, holdout, options);
    } catch (err) {
      // Members trained before the failure (or a cancellation) hold tensors.
      this.dispose();
      throw err;
    }
    this.ids = panel.map((p) => p.id);
    this.scales = panel.map((p) => seriesScale(p.series.values[0]!, this.season));
    this.validationScores = undefined;
    if (held) {
      let smapeSum = 0;
      let maseSum = 0;
      const scaled = panel.map((p, i) => {
        const y = p.series.values[0]!;
        const n = y.length;
        const scale = seriesScale(y.subarray(0, n - holdout), this.season);
        const actual = y.subarray(n - holdout);
        smapeSum += smape(Array.from(actual), Array.from(held[i]!));
        maseSum += mae(Array.from(actual), Array.from(held[i]!)) / scale;
        return [Array.from({ length: holdout }, (_, h) => Math.abs(actual[h]! - held[i]![h]!) / scale)];
      });
      this.conformal = PooledConformal.fromResiduals(scaled);
      this.validationScores = { rows: holdout, smape: smapeSum / panel.length, mase: maseSum / panel.length };
    }
    return this;
  }

  /** Forecasts `horizon` steps of every fitted series (or of `options.panel`'s histories). */
  async predict(horizon: number, options: GlobalPredictOptions = {}): Promise<PanelForecast[]> {
    const ids = this.requireFitted();
    positiveInt(horizon, `${this.name}.predict: horizon`);
    if (horizon > this.capabilities.maxHorizon) throw new ForecastInputError(`${this.name} was trained for horizon ${this.capabilities.maxHorizon}; got ${horizon}`);
    let order = ids.map((_, i) => i);
    let panel: PanelSeries[] | undefined;
    if (options.panel) {
      validatePanel(options.panel, `${this.name}.predict: panel`, this.capabilities.minHistory);
      const index = new Map(ids.map((id, i) => [id, i]));
      const unseen = options.panel.filter((p) => !index.has(p.id)).map((p) => `"${p.id}"`);
      if (unseen.length > 0 && (!this.capabilities.newSeries || options.newSeries === 'error')) {
        const list = `${unseen.slice(0, 5).join(', ')}${unseen.length > 5 ? ` and ${unseen.length - 5} more` : ''}`;
        const why = this.capabilities.newSeries ? 'new series were refused (newSeries: error)' : `${this.name} forecasts only the series it was fitted on`;
        throw new ForecastInputError(`${this.name}.predict: series ${list} ${unseen.length === 1 ? 'was' : 'were'} not in the fitted panel; ${why}`);
      }
      // -1: a new series (no fitted scale; its given history gives one).
      order = options.panel.map((p) => index.get(p.id) ?? -1);
      panel = [...options.panel];
    }
    const preds = await this.forecastPanel(horizon, panel);
    const level = options.level === undefined ? (this.conformal ? 0.9 : null) : options.level;
    if (level !== null && !this.conformal) throw new ForecastInputError(`${this.name}: no calibration residuals; fit with validation to get intervals`);
    const half = level !== null ? this.conformal!.halfWidths(level, horizon) : undefined;
    if (options.bounds) {
      const { lower, upper } = options.bounds;
      if ((lower !== undefined && !Number.isFinite(lower)) || (upper !== undefined && !Number.isFinite(upper)) || (lower !== undefined && upper !== undefined && lower >= upper)) {
        throw new ForecastInputError(`bounds must be finite with lower < upper, got lower ${lower}, upper ${upper}`);
      }
    }
    const lo = options.bounds?.lower ?? -Infinity;
    const hi = options.bounds?.upper ?? Infinity;
    const clip = (v: number) => Math.min(hi, Math.max(lo, v));
    return order.map((i, k) => {
      const mean = Array.from(preds[k]!, clip);
      const forecast: Forecast = { columns: ['value'], mean: [mean] };
      if (half) {
        const scale = panel ? seriesScale(panel[k]!.series.values[0]!, this.season) : this.scales[i]!;
        forecast.level = level!;
        forecast.lower = [Array.from(preds[k]!, (v, h) => clip(v - half[h]! * scale))];
        forecast.upper = [Array.from(preds[k]!, (v, h) => clip(v + half[h]! * scale))];
      }
      const p = panel?.[k];
      if (p) forecast.columns = [...p.series.columns];
      return { id: p?.id ?? ids[i]!, forecast, seen: i >= 0 };
    });
  }

  /**
   * Fits a fresh copy on every series' rows before its origin (aligned at each series' end:
   * the last `horizon` rows, as M4 scores) and scores its forecasts per series and on average.
   * With `windows > 1` every origin gets its own global fit.
   */
  async backtest(panel: readonly PanelSeries[], options: GlobalBacktestOptions = {}): Promise<PanelEvaluation> {
    const horizon = positiveInt(options.horizon ?? this.capabilities.maxHorizon, 'backtest: horizon');
    const windows = positiveInt(options.windows ?? 1, 'backtest: windows');
    const step = positiveInt(options.step ?? horizon, 'backtest: step');
    const m = positiveInt(options.season ?? this.season, 'backtest: season');
    const back = horizon + (windows - 1) * step;
    validatePanel(panel, `${this.name}.backtest`, back + 1);
    const checkpoint = cancellationCheckpoint(options.fit?.signal, 'backtest');
    const perSeries = panel.map(() => ({ actual: [] as number[], pred: [] as number[], lower: [] as number[], upper: [] as number[], origins: [] as number[] }));
    for (let w = 0; w < windows; w++) {
      await checkpoint();
      const cut = back - w * step;
      const train = panel.map((p) => ({ id: p.id, series: { ...p.series, values: [p.series.values[0]!.subarray(0, p.series.values[0]!.length - cut)], dates: p.series.dates?.slice(0, p.series.values[0]!.length - cut) } }));
      const model = this.clone();
      try {
        await model.fit(train, { ...options.fit, checkpoint: undefined });
        const level = options.level === undefined ? (model.calibrated ? 0.9 : null) : options.level;
        const forecasts = await model.predict(horizon, { level });
        forecasts.forEach(({ forecast }, i) => {
          const y = panel[i]!.series.values[0]!;
          const origin = y.length - cut;
          const r = perSeries[i]!;
          r.origins.push(origin);
          r.actual.push(...y.subarray(origin, origin + horizon));
          r.pred.push(...forecast.mean[0]!);
          if (forecast.lower && forecast.upper) {
            r.lower.push(...forecast.lower[0]!);
            r.upper.push(...forecast.upper[0]!);
          }
        });
      } finally {
        model.dispose();
      }
    }
    const results: PanelSeriesResult[] = panel.map((p, i) => {
      const r = perSeries[i]!;
      const y = p.series.values[0]!;
      const first = r.origins[0]!;
      if (first <= m) throw new ForecastInputError(`MASE season ${m} needs more than ${m} rows before the first origin of series "${p.id}"; there are ${first}`);
      const scale = seriesScale(y.subarray(0, first), m);
      return {
        id: p.id,
        rows: y.length,
        origins: r.origins,
        mae: mae(r.actual, r.pred),
        rmse: rmse(r.actual, r.pred),
        smape: smape(r.actual, r.pred),
        mase: mae(r.actual, r.pred) / scale,
        ...(r.lower.length ? { coverage: coverage(r.actual, r.lower, r.upper) } : {}),
      };
    });
    return summarizePanel(results, horizon, m);
  }

  /**
   * Scores the forecasts from the end of every fitted series against what came next: `actual`
   * holds, by id, the rows that followed each series' training rows (the M4 test file). MASE is
   * scaled by each series' in-sample seasonal error (the model's season), as M4 scores.
   *
   * @throws ForecastInputError for an id the model was not fitted on, or more rows than the
   *   model's horizon.
   */
  async scoreFuture(actual: readonly PanelSeries[], options: { level?: number | null } = {}): Promise<PanelEvaluation> {
    const ids = this.requireFitted();
    validatePanel(actual, `${this.name}.scoreFuture: actual`, 1);
    const horizon = Math.max(...actual.map((p) => p.series.values[0]!.length));
    const index = new Map(ids.map((id, i) => [id, i]));
    for (const p of actual) if (!index.has(p.id)) throw new ForecastInputError(`${this.name}.scoreFuture: series "${p.id}" was not in the fitted panel`);
    const level = options.level === undefined ? (this.conformal ? 0.9 : null) : options.level;
    const forecasts = new Map((await this.predict(horizon, { level })).map((f) => [f.id, f.forecast]));
    const results: PanelSeriesResult[] = actual.map((p) => {
      const y = Array.from(p.series.values[0]!);
      const f = forecasts.get(p.id)!;
      const pred = f.mean[0]!.slice(0, y.length);
      return {
        id: p.id,
        rows: y.length,
        origins: [0],
        mae: mae(y, pred),
        rmse: rmse(y, pred),
        smape: smape(y, pred),
        mase: mae(y, pred) / this.scales[index.get(p.id)!]!,
        ...(f.lower && f.upper ? { coverage: coverage(y, f.lower[0]!.slice(0, y.length), f.upper[0]!.slice(0, y.length)) } : {}),
      };
    });
    return summarizePanel(results, horizon, this.season);
  }

  /** Saves options, per-series state, calibration and weights into `dir` (atomic files, `config.json` last). */
  async save(dir: string): Promise<void> {
    const ids = this.requireFitted();
    await mkdir(dir, { recursive: true });
    await this.saveExtra(dir);
    const saved: SavedGlobalForecaster = {
      ...savedHeader('seqlab-global-forecaster', this.name, this.options),
      ids,
      ...(this.conformal ? { calibration: this.conformal.sorted } : {}),
      state: { ...this.getState(), scales: this.scales },
    };
    await writeJsonAtomic(path.join(dir, GLOBAL_FILE), saved);
    await writeModelConfig(dir, { task: 'forecast', kind: this.name }, { file: GLOBAL_FILE, global: true, series: ids.length });
  }

  /** @internal Used by `loadGlobalForecaster`. */
  async restore(saved: SavedGlobalForecaster, dir: string): Promise<void> {
    this.ids = [...saved.ids];
    this.conformal = saved.calibration ? new PooledConformal(saved.calibration) : undefined;
    this.scales = (saved.state.scales as number[] | undefined) ?? [];
    this.setState(saved.state);
    await this.loadExtra(dir);
  }
}


/** Reads `global-forecaster.json` from a saved model directory. */
export async function readSavedGlobal(dir: string): Promise<SavedGlobalForecaster> {
  const file = path.join(dir, GLOBAL_FILE);
  return (await readSavedJson(file, 'seqlab-global-forecaster', 'global forecaster')) as SavedGlobalForecaster;
}
