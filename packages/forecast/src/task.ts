import path from 'node:path';
import { nameModelInError, readModelConfig } from '@seqlab/core';
import { z } from 'zod';
import { ForecastInputError } from './errors.js';
import { assertFiniteForecast } from './finite.js';
import type { BaseOptions, EpochLog, Forecast, ForecastBounds, Forecaster } from './forecaster.js';
import { seriesLength, sliceSeries, type TimeSeries } from './data/series.js';
import { createForecaster, FORECASTER_NAMES, loadForecaster } from './registry.js';
import { inferSeasonality, type SeasonReport } from './season.js';
import type { PanelSeries } from './data/panel.js';
import type { GlobalForecaster } from './global/forecaster.js';
import { loadGlobalForecaster } from './global/registry.js';
import { forecastPanelWith, type PanelForecastRequest, type PanelForecastResult } from './panel-task.js';

/** Forecasters that read a fixed window of `lookback` rows and forecast `horizon` steps per pass. */
const WINDOWED = new Set(['segrnn', 'seq2seq', 'dlinear', 'linear']);
/** Forecasters with a season length. */
const SEASONAL = new Set(['seasonal-naive', 'holt-winters']);
/** Forecasters that train a network. */
const NEURAL = new Set(['segrnn', 'seq2seq']);

/**
 * Season length inferred from the sampling frequency (see {@link inferSeasonality}, which also
 * says why): 96 for 15-minute data, 24 hourly, 7 daily (365 when it validates better), 12
 * monthly, 4 quarterly.
 */
export function inferSeason(series: Pick<TimeSeries, 'dates'> & Partial<Pick<TimeSeries, 'values'>>): number | undefined {
  return inferSeasonality({ dates: series.dates, values: series.values ?? [] }).period;
}

/**
 * The constructor options a forecast request gives a forecaster: the caller's own `options`,
 * completed from the request. Window models forecast `horizon` steps per pass from a look-back
 * of `max(2 * horizon, 2 * season or 24)` rows unless the caller sets `lookback`; seasonal models
 * get the season inferred from the dates unless the caller sets one. This is the one place the
 * horizon becomes window settings, so every app forecasts a request the same way.
 */
export function forecasterOptionsFor(model: string, request: Pick<ForecastRequest, 'horizon' | 'options' | 'hints'>, series: Pick<TimeSeries, 'dates'> & Partial<Pick<TimeSeries, 'values'>>): Record<string, unknown> {
  const given = request.options ?? {};
  const hints = request.hints ?? {};
  const out: Record<string, unknown> = {};
  const season = seasonFor(request, series).period;
  if (WINDOWED.has(model)) {
    out.horizon = request.horizon;
    out.lookback = hints.lookback ?? Math.max(2 * request.horizon, season ? 2 * season : 24);
  }
  if (SEASONAL.has(model) && season) out.season = season;
  if (model === 'auto') Object.assign(out, autoOptionsFor(request));
  if (NEURAL.has(model)) {
    if (hints.epochs !== undefined) out.epochs = hints.epochs;
    if (hints.seed !== undefined) out.seed = hints.seed;
    if (hints.hidden !== undefined) out.hidden = hints.hidden;
    if (hints.timeBudgetSeconds !== undefined) out.timeBudgetSeconds = hints.timeBudgetSeconds;
  }
  const merged: Record<string, unknown> = { ...out, ...given };
  if (model === 'segrnn') {
    const explicitLookback = typeof given.lookback === 'number' || hints.lookback !== undefined;
    const segment = typeof given.segmentLength === 'number' ? given.segmentLength : hints.segmentLength;
    Object.assign(merged, reconcileSegments(merged.lookback as number, segment, explicitLookback));
  }
  return merged;
}

/** `auto` scores its candidates at the request's horizon and tries a season the caller gives besides the ones the data suggest. */
function autoOptionsFor(request: Pick<ForecastRequest, 'horizon' | 'hints'>): Record<string, unknown> {
  const hints = request.hints ?? {};
  return {
    horizon: request.horizon,
    ...(hints.season !== undefined ? { season: hints.season } : {}),
    ...(hints.epochs !== undefined ? { epochs: hints.epochs } : {}),
    ...(hints.seed !== undefined ? { seed: hints.seed } : {}),
  };
}

/**
 * SegRNN cuts the look-back into segments, so the look-back must be a multiple of the segment
 * length. Reconciled here rather than refused: without a segment length, the largest divisor of
 * the look-back from 24 down to 4 is used (24 for the usual 96 / 192 / 336 / 720); a look-back
 * nothing fits, or one that was not set explicitly, is rounded up to a multiple of the segment
 * length (24 by default). Only a look-back and a segment length that were both given and do not
 * fit are left for the model to refuse.
 */
export function reconcileSegments(lookback: number, segmentLength: number | undefined, explicitLookback: boolean): { lookback: number; segmentLength: number } {
  if (segmentLength !== undefined) {
    if (lookback % segmentLength === 0 || explicitLookback) return { lookback, segmentLength };
    return { lookback: Math.ceil(lookback / segmentLength) * segmentLength, segmentLength };
  }
  if (explicitLookback) {
    for (let d = Math.min(24, lookback); d >= 4; d--) if (lookback % d === 0) return { lookback, segmentLength: d };
    if (lookback < 4) return { lookback, segmentLength: lookback };
  }
  return { lookback: Math.ceil(lookback / 24) * 24, segmentLength: 24 };
}

/**
 * A warning when held-out rows starting at `heldOutStart` begin on or before the last row a
 * saved or fitted forecaster was fitted or calibrated on: its errors and interval coverage there
 * would be optimistic. Undefined when they do not overlap, or when the dates to tell are missing.
 */
export function holdoutOverlap(model: Pick<Forecaster, 'seenUntil' | 'name'>, heldOutStart: Date | undefined): string | undefined {
  const seen = model.seenUntil;
  if (!seen || !heldOutStart || heldOutStart.getTime() > seen.getTime()) return undefined;
  return `the held-out rows from ${heldOutStart.toISOString()} overlap the data ${model.name} was fitted or calibrated on (up to ${seen.toISOString()}); their errors and coverage are optimistic - train with a test range (--split or --test-split) that ends before the holdout`;
}

/**
 * The season a forecast request uses on `series` and why: the caller's `options.season` or
 * `hints.season`, else the one inferred from the dates (see {@link inferSeasonality}).
 */
export function seasonFor(request: Pick<ForecastRequest, 'options' | 'hints'>, series: Pick<TimeSeries, 'dates'> & Partial<Pick<TimeSeries, 'values'>>): SeasonReport {
  const given = typeof request.options?.season === 'number' ? request.options.season : request.hints?.season;
  return inferSeasonality({ dates: series.dates, values: series.values ?? [] }, given);
}

/** Whether forecaster `model` uses a season length (seasonal models, and window models' default look-back). */
export function usesSeason(model: string): boolean {
  return SEASONAL.has(model) || WINDOWED.has(model);
}

const level = z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)');

/** Options of one forecast request (validated; unknown keys are refused). */
export const forecastRequestSchema = z.strictObject({
  /** Steps to forecast. */
  horizon: z.number().int().min(1).max(100_000),
  /** Interval levels in (0, 1), widest first; `[]` for point forecasts only. Default `[0.9]`. */
  levels: z.array(level).max(8).optional(),
  /** Forecaster options (see `FORECASTER_OPTION_SCHEMAS`); ignored for a saved model. */
  options: z.record(z.string(), z.unknown()).optional(),
  /** Settings applied only to the forecasters that take them (how CLI flags arrive). */
  hints: z
    .strictObject({
      season: z.number().int().min(1).optional(),
      lookback: z.number().int().min(1).optional(),
      epochs: z.number().int().min(1).optional(),
      seed: z.number().int().min(0).optional(),
      hidden: z.number().int().min(1).optional(),
      segmentLength: z.number().int().min(1).optional(),
      timeBudgetSeconds: z.number().positive().optional(),
    })
    .optional(),
  /** Limits the series cannot leave; forecasts and intervals are clipped to them. */
  bounds: z.strictObject({ lower: z.number().finite().optional(), upper: z.number().finite().optional() }).optional(),
  /** Called after each training epoch of neural models. */
  onEpoch: z.function().optional(),
  /** Abandons fitting (before the next batch, linear chunk or window) once aborted. */
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'must be an AbortSignal').optional(),
});

/** A forecast request: horizon, levels and the forecaster's options. */
export interface ForecastRequest {
  horizon: number;
  /** Interval levels in (0, 1). Default `[0.9]`; `[]` for point forecasts only. */
  levels?: number[];
  /** Forecaster options, completed by {@link forecasterOptionsFor}; unknown keys are refused. */
  options?: Record<string, unknown>;
  /**
   * Settings applied only where they mean something: `season` to seasonal models, `lookback` to
   * window models, `epochs`, `seed`, `hidden` and `timeBudgetSeconds` to neural ones,
   * `segmentLength` to SegRNN (a command line's flags, which do not know the model's options).
   */
  hints?: { season?: number; lookback?: number; epochs?: number; seed?: number; hidden?: number; segmentLength?: number; timeBudgetSeconds?: number };
  /** Limits the series cannot leave (`{ lower: 0 }`); forecasts and interval bounds are clipped to them. */
  bounds?: ForecastBounds;
  /** Progress of neural training, one call per epoch. */
  onEpoch?: (log: EpochLog) => void;
  /**
   * Abandons the work with a `CancelledError` (from @seqlab/core) once aborted: neural training
   * checks it before every batch, linear fits between chunks of windows.
   */
  signal?: AbortSignal;
}

/** The result of the forecast task. */
export interface ForecastResult {
  /** Forecaster registry name. */
  model: string;
  columns: string[];
  horizon: number;
  /** One forecast per requested level (widest first); one point forecast when no level applies. */
  forecasts: Forecast[];
  /** The forecast at the first level (or the point forecast). */
  main: Forecast;
  /** Rows the model was fitted on (0 for a saved model). */
  trainRows: number;
  /** Seconds spent fitting. */
  fitSeconds: number;
  /** Set when intervals were asked for but the model could not calibrate them. */
  warning?: string;
  /** Choices the model made while fitting (e.g. Holt-Winters falling back on a short series). */
  notes?: string[];
  /** The options the forecaster was built with. */
  options: Record<string, unknown>;
  /** The season used (seasonal models) or that set the default look-back (window models), and why; for fitted requests. */
  season?: SeasonReport;
}

function parseRequest(request: ForecastRequest): ForecastRequest {
  const result = forecastRequestSchema.safeParse(request);
  if (result.success) return request;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new ForecastInputError(`forecast: unknown option ${issue.keys.map((k) => `"${k}"`).join(', ')}; valid options: ${Object.keys(forecastRequestSchema.shape).join(', ')}`);
  }
  throw new ForecastInputError(`forecast: ${issue.path.map(String).join('.') || 'request'}: ${issue.message}`);
}

/**
 * The forecasting task: a forecaster by registry name (fitted on each request's series) or a
 * saved forecaster directory (forecasting from its stored history or a given one). A saved
 * global (panel) model's directory loads too: it forecasts many series at once with
 * {@link ForecastPipeline.runPanel} (`global` is true). Create with
 * {@link ForecastPipeline.create} / {@link ForecastPipeline.load}, or through `pipeline('forecast', ...)`.
 */
export class ForecastPipeline {
  readonly task = 'forecast' as const;

  private constructor(
    /** Forecaster registry name. */
    readonly kind: string,
    /** Model name shown to users (the registry name, or the saved directory's name). */
    readonly name: string,
    private readonly saved: Forecaster<BaseOptions> | undefined,
    private readonly panelModel?: GlobalForecaster<object>,
  ) {}

  /** A pipeline that fits a fresh `model` (registry name) on every request. */
  static create(model: string): ForecastPipeline {
    if (!(FORECASTER_NAMES as readonly string[]).includes(model)) {
      throw new ForecastInputError(`unknown forecaster "${model}"; valid names: ${FORECASTER_NAMES.join(', ')}`);
    }
    return new ForecastPipeline(model, model, undefined);
  }

  /** A pipeline over a forecaster saved in `dir`. Neural forecasters need `initBackend()` first. */
  static async load(dir: string, options: { name?: string } = {}): Promise<ForecastPipeline> {
    const name = options.name ?? path.basename(dir);
    try {
      const config = await readModelConfig(dir);
      if (config.task !== 'forecast') throw new ForecastInputError(`model "${name}" is a ${config.task} model, not a forecaster`);
      if (config.global === true) {
        const global = await loadGlobalForecaster(dir);
        return new ForecastPipeline(global.name, name, undefined, global);
      }
      const model = await loadForecaster(dir);
      return new ForecastPipeline(model.name, name, model);
    } catch (err) {
      throw nameModelInError(err, dir, name);
    }
  }

  /** Whether the pipeline's forecaster trains a network (needs a TensorFlow.js backend). */
  get neural(): boolean {
    if (this.panelModel) return this.panelModel.capabilities.neural;
    if (this.saved) return this.saved.capabilities.neural;
    const probe = createForecaster(this.kind, this.kind === 'mean-ensemble' ? { members: [{ name: 'naive' }] } : {});
    try {
      return probe.capabilities.neural;
    } finally {
      probe.dispose();
    }
  }

  /**
   * Fits a fresh forecaster on `series` with the request's options (see
   * {@link forecasterOptionsFor}) and returns a pipeline over the fitted model, which can
   * forecast from its stored history and be saved. Only for a registry-name pipeline.
   */
  async fit(series: TimeSeries, request: ForecastRequest): Promise<ForecastPipeline> {
    parseRequest(request);
    this.refuseGlobal();
    if (this.saved) throw new ForecastInputError(`forecast: model "${this.name}" is already fitted (a saved forecaster)`);
    const options = forecasterOptionsFor(this.kind, request, series);
    const model = createForecaster(this.kind, options);
    try {
      const t0 = performance.now();
      await model.fit(series, { ...(request.onEpoch ? { onEpoch: request.onEpoch } : {}), ...(request.signal ? { signal: request.signal } : {}) });
      const fitted = new ForecastPipeline(this.kind, this.name, model);
      fitted.fitted = { seconds: (performance.now() - t0) / 1000, rows: seriesLength(series), ...(usesSeason(this.kind) ? { season: seasonFor(request, series) } : {}) };
      return fitted;
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  private fitted: { seconds: number; rows: number; season?: SeasonReport } | undefined;

  /**
   * Forecasts `request.horizon` steps. A registry-name pipeline fits a fresh forecaster on
   * `series` first (exactly {@link fit} then `run(undefined)`); a fitted or saved one forecasts
   * from `series` as recent history, or from its stored history when `series` is undefined.
   */
  async run(series: TimeSeries | undefined, request: ForecastRequest): Promise<ForecastResult> {
    parseRequest(request);
    this.refuseGlobal();
    if (!this.saved) {
      if (!series) throw new ForecastInputError(`forecast: model "${this.kind}" needs a series to fit`);
      const fitted = await this.fit(series, request);
      try {
        return await fitted.run(undefined, request);
      } finally {
        fitted.dispose();
      }
    }
    const model = this.saved;
    const levels = request.levels ?? [0.9];
    const history = { ...(series ? { history: series } : {}), ...(request.bounds ? { bounds: request.bounds } : {}) };
    const forecasts: Forecast[] = [];
    let warning: string | undefined;
    if (levels.length > 0 && !model.calibrated) {
      warning = `${model.name} has no prediction intervals here (too few rows to calibrate them); showing point forecasts`;
    } else if (levels.length > 0 && model.calibrationSource === 'in-sample') {
      warning = `${model.name}'s intervals were calibrated in-sample (too few rows to hold any out); they are likely too narrow`;
    }
    if (levels.length === 0 || !model.calibrated) forecasts.push(await model.predict(request.horizon, { ...history, level: null }));
    else for (const l of levels) forecasts.push(await model.predict(request.horizon, { ...history, level: l }));
    // Finite input can still overflow a model's arithmetic; a forecast that is not a number is an
    // error, never a result (JSON would show it as null).
    for (const f of forecasts) assertFiniteForecast(f, model.name);
    const main = forecasts[0]!;
    return {
      model: model.name,
      columns: main.columns,
      horizon: request.horizon,
      forecasts,
      main,
      trainRows: this.fitted?.rows ?? 0,
      fitSeconds: this.fitted?.seconds ?? 0,
      options: { ...model.options },
      ...(this.fitted?.season ? { season: this.fitted.season } : {}),
      ...(model.notes.length ? { notes: [...model.notes] } : {}),
      ...(warning ? { warning } : {}),
    };
  }

  /** Whether this is a global (panel) model: it forecasts with {@link runPanel}, not {@link run}. */
  get global(): boolean {
    return this.panelModel !== undefined;
  }

  /** The loaded global model, for a global model's directory. */
  get globalForecaster(): GlobalForecaster<object> | undefined {
    return this.panelModel;
  }

  private refuseGlobal(): void {
    if (this.panelModel) {
      throw new ForecastInputError(`forecast: model "${this.name}" is a global (panel) ${this.kind} model: it forecasts many series at once (runPanel; CLI --id-col or --wide; API "panel")`);
    }
  }

  /**
   * Forecasts many series with a saved global model: from the histories in `panel` (by id;
   * series the model was not fitted on are forecast as `request.newSeries` says), or from the
   * end of every series it was fitted on when `panel` is undefined. See {@link forecastPanelWith}.
   *
   * @throws ForecastInputError for a pipeline over a per-series forecaster (named), a bad
   *   request, unknown series ids, new series it cannot forecast.
   */
  async runPanel(panel: readonly PanelSeries[] | undefined, request: PanelForecastRequest): Promise<PanelForecastResult> {
    if (!this.panelModel) {
      throw new ForecastInputError(`forecast: model "${this.name}" is a per-series forecaster (${this.kind}), not a global (panel) model: forecast one series at a time, or train a global model (train forecaster --model es-hybrid --id-col/--wide)`);
    }
    return forecastPanelWith(this.panelModel, this.name, panel, request);
  }

  /** Saves the fitted or loaded forecaster to `dir` (see {@link saveForecaster} to fit and save in one call). */
  async save(dir: string): Promise<void> {
    if (this.panelModel) return this.panelModel.save(dir);
    if (!this.saved) throw new ForecastInputError(`forecast: "${this.kind}" is not fitted; call fit(series, request) first or use saveForecaster`);
    await this.saved.save(dir);
  }

  /** The fitted or loaded forecaster (undefined for a registry-name pipeline). */
  get forecaster(): Forecaster<BaseOptions> | undefined {
    return this.saved;
  }

  /** Frees a loaded forecaster's weights. */
  dispose(): void {
    this.saved?.dispose();
    this.panelModel?.dispose();
  }
}

/**
 * Fits forecaster `model` on `series` with the request's options (completed as a forecast
 * request would be) and saves it to `dir`: the one saver for forecaster directories.
 */
export async function saveForecaster(dir: string, model: string, series: TimeSeries, request: ForecastRequest): Promise<ForecastPipeline> {
  const fitted = await ForecastPipeline.create(model).fit(series, request);
  try {
    await fitted.save(dir);
  } catch (err) {
    fitted.dispose();
    throw err;
  }
  return fitted;
}

/** The last `rows` rows of a series (what a holdout leaves for training is `sliceSeries(s, 0, n - h)`). */
export function lastRows(series: TimeSeries, rows: number): TimeSeries {
  const n = seriesLength(series);
  return sliceSeries(series, Math.max(0, n - rows), n);
}
