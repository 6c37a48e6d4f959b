/**
 * `evaluate('forecast', model, data, options)`: a forecaster kind (fitted on the data's rows
 * before each origin) or a saved forecaster, scored on one series by a rolling-origin backtest
 * or a train/validation/test split, or on every series of a panel.
 */
import { existsSync, statSync } from 'node:fs';
import { BadInputError } from '@seqlab/core';
import type { BacktestResult, Forecaster, PanelEvaluation, PanelSeries, SeasonReport, SplitEvaluation, TimeSeries } from '@seqlab/forecast';
import { checkOptionKeys } from './types.js';
import { FORECAST_READ_KEYS, readForecastData, type ForecastData, type ForecastReadOptions } from './forecast-data.js';
import { globalForecasterOptions } from './forecast-panel.js';
import { resolveModelDir } from '../models.js';

/** Options of `evaluate('forecast', ...)`. */
export interface ForecastEvaluateOptions extends ForecastReadOptions {
  /** Steps per forecast. Required. */
  horizon: number;
  /** Forecast origins of the rolling backtest. Default 5 (1 on a panel: the last `horizon` rows, as M4 scores). */
  windows?: number;
  /** Rows between origins. Default the horizon. */
  step?: number;
  /** Refit at every origin (default: fit once before the first). */
  refit?: boolean;
  /** A train:validation:test protocol instead of the backtest (`ett`, `0.7:0.1:0.2`, rows or dates). */
  split?: string;
  /** With `split`: rows between test origins. Default 1. */
  stride?: number;
  /** With `split`: scaler fitted on the training rows. Default `'standard'`. */
  scaler?: 'standard' | 'minmax' | 'none';
  /** Interval level for coverage, or null for none. Default 0.9. */
  level?: number | null;
  season?: number;
  lookback?: number;
  epochs?: number;
  seed?: number;
  secondSeason?: number;
  seeds?: number[];
  lookbacks?: number[];
  /** Progress lines (windows or series scored, epochs). */
  onNote?: (line: string) => void;
  signal?: AbortSignal;
}

const EVALUATE_KEYS = [...FORECAST_READ_KEYS, 'horizon', 'windows', 'step', 'refit', 'split', 'stride', 'scaler', 'level', 'season', 'lookback', 'epochs', 'seed', 'secondSeason', 'seeds', 'lookbacks', 'onNote', 'signal'] as const;

/** What `evaluate('forecast', ...)` returns: one model's scores, by the mode that applied. */
export interface ForecastEvaluation {
  /** `backtest` (one series), `split` (one series, a protocol), `panel` (every series backtested), `panel-future` (a saved global model scored on the rows after its training rows). */
  mode: 'backtest' | 'split' | 'panel' | 'panel-future';
  model: string;
  source: string;
  horizon: number;
  seconds: number;
  season: SeasonReport | null;
  columns?: string[];
  options?: unknown;
  backtest?: Pick<BacktestResult, 'origins' | 'metrics' | 'perWindow'> & { windows: number };
  split?: SplitEvaluation;
  panel?: PanelEvaluation & { windows: number };
  warnings: string[];
}

/** A kind name, or the directory of a saved model (a path or a name under the models folder). */
async function modelSource(model: string): Promise<{ kind: string; global: boolean } | { dir: string }> {
  const fc = await import('@seqlab/forecast');
  if ((fc.FORECASTER_NAMES as readonly string[]).includes(model)) return { kind: model, global: false };
  if (fc.isGlobalForecaster(model)) return { kind: model, global: true };
  if (existsSync(model) && statSync(model).isDirectory()) return { dir: model };
  return { dir: resolveModelDir(model).dir };
}

/**
 * Scores one forecaster (see the module comment).
 *
 * @throws BadInputError for unknown options, a global kind on one series, or data too short.
 */
export async function evaluateForecaster(model: string, data: ForecastData, options: ForecastEvaluateOptions): Promise<ForecastEvaluation> {
  checkOptionKeys('evaluate forecast', options, EVALUATE_KEYS);
  const horizon = options.horizon;
  if (horizon === undefined || !(Number.isInteger(horizon) && horizon > 0)) throw new BadInputError(`evaluate forecast: horizon must be a positive integer, got ${String(horizon)}`);
  const o = { ...options, horizon };
  const read = await readForecastData('evaluate forecast', data, o);
  const src = await modelSource(model);
  const { setGlobalSeed } = await import('@seqlab/core');
  setGlobalSeed(o.seed ?? 42);
  const t0 = performance.now();
  let result: Omit<ForecastEvaluation, 'seconds' | 'source'>;
  if (read.panel) {
    if (o.split !== undefined) throw new BadInputError('evaluate forecast: a panel is backtested series by series; split is for one series');
    result = 'dir' in src ? await scoreSavedGlobal(src.dir, read.panel, o) : src.global ? await backtestGlobal(src.kind, read.panel, o) : await backtestPanel(src.kind, read.panel, o);
  } else {
    if ('global' in src && src.global) throw new BadInputError(`evaluate forecast: ${model} is a global model fitted across many series: give a panel (idColumn, layout 'wide' or { id, values }[])`);
    result = o.split !== undefined ? await evaluateSplit(src, read.series, o) : await backtestSeries(src, read.series, o);
  }
  return { ...result, source: read.source, seconds: (performance.now() - t0) / 1000 };
}

async function forecasterFor(src: { kind: string } | { dir: string }, series: TimeSeries, o: ForecastEvaluateOptions, extra: Record<string, unknown> = {}): Promise<Forecaster> {
  const fc = await import('@seqlab/forecast');
  const { initBackend } = await import('@seqlab/core');
  let model: Forecaster;
  if ('dir' in src) {
    const saved = await fc.loadForecaster(src.dir);
    model = fc.createForecaster(saved.name, { ...saved.options, ...extra });
    saved.dispose();
  } else {
    const hints = { lookback: o.lookback, season: o.season, epochs: o.epochs, seed: o.seed };
    model = fc.createForecaster(src.kind, { ...fc.forecasterOptionsFor(src.kind, { horizon: o.horizon, hints }, series), ...extra });
  }
  if (model.capabilities.neural) await initBackend();
  return model;
}

async function backtestSeries(src: { kind: string } | { dir: string }, series: TimeSeries, o: ForecastEvaluateOptions): Promise<Omit<ForecastEvaluation, 'seconds' | 'source'>> {
  const fc = await import('@seqlab/forecast');
  const model = await forecasterFor(src, series, o);
  try {
    const windows = o.windows ?? 5;
    const r = await model.backtest(series, { horizon: o.horizon, windows, ...(o.step !== undefined ? { step: o.step } : {}), refit: o.refit ?? false, ...(o.signal ? { signal: o.signal } : {}) });
    const season = fc.seasonFor({ hints: { season: o.season } }, series);
    return { mode: 'backtest', model: model.name, horizon: o.horizon, season, columns: series.columns, options: model.options, backtest: { windows, origins: r.origins, metrics: r.metrics, perWindow: r.perWindow }, warnings: [] };
  } finally {
    model.dispose();
  }
}

/** Fitted on the training part (data scaled by a scaler fitted there), validated on the next, scored on every `stride`-th test window. */
async function evaluateSplit(src: { kind: string } | { dir: string }, series: TimeSeries, o: ForecastEvaluateOptions): Promise<Omit<ForecastEvaluation, 'seconds' | 'source'>> {
  const fc = await import('@seqlab/forecast');
  // The data arrive scaled by a scaler fitted on the training rows; the model must not rescale.
  const model = await forecasterFor(src, series, o, { scaler: 'none' });
  try {
    const split = fc.splitBySpec(series, o.split!, model.requiredHistory);
    const b = split.bounds;
    o.onNote?.(`split ${o.split}: train rows [0, ${b.trainEnd}), validation [${b.trainEnd}, ${b.valEnd}), test [${b.valEnd}, ${b.testEnd}); ${b.lookback} rows of context`);
    let shown = 0;
    const r = await fc.evaluateOnSplit(model, series, split, {
      horizon: o.horizon,
      stride: o.stride ?? 1,
      scaler: o.scaler ?? 'standard',
      level: o.level === undefined ? 0.9 : o.level,
      ...(o.season !== undefined ? { season: o.season } : {}),
      onProgress: (done, total) => {
        // A line per quarter of the windows: enough to see it move, little enough for logs.
        if (done === total || done / total >= (shown + 1) / 4) {
          shown = Math.floor((4 * done) / total);
          o.onNote?.(`${model.name}: scored ${done}/${total} windows`);
        }
      },
    });
    const season = fc.seasonFor({ hints: { season: o.season } }, series);
    return { mode: 'split', model: model.name, horizon: o.horizon, season, columns: series.columns, options: model.options, split: r, warnings: r.warning ? [r.warning] : [] };
  } finally {
    model.dispose();
  }
}

async function panelSeason(panel: readonly PanelSeries[], o: ForecastEvaluateOptions): Promise<SeasonReport> {
  const fc = await import('@seqlab/forecast');
  return fc.seasonFor({ hints: { season: o.season } }, panel[0]!.series);
}

async function backtestPanel(kind: string, panel: PanelSeries[], o: ForecastEvaluateOptions): Promise<Omit<ForecastEvaluation, 'seconds' | 'source'>> {
  const fc = await import('@seqlab/forecast');
  const { initBackend, setGlobalSeed } = await import('@seqlab/core');
  if (fc.ForecastPipeline.create(kind).neural) await initBackend();
  const season = await panelSeason(panel, o);
  const windows = o.windows ?? 1;
  let shown = 0;
  const hints = { lookback: o.lookback, season: o.season, epochs: o.epochs, seed: o.seed };
  const r = await fc.evaluatePanel(
    panel,
    (s) => {
      setGlobalSeed(o.seed ?? 42);
      return fc.createForecaster(kind, fc.forecasterOptionsFor(kind, { horizon: o.horizon, hints }, s));
    },
    {
      horizon: o.horizon,
      windows,
      ...(o.step !== undefined ? { step: o.step } : {}),
      season: o.season ?? season.period ?? 1,
      onProgress: (done, total) => {
        if (done === total || done / total >= (shown + 1) / 4) {
          shown = Math.floor((4 * done) / total);
          o.onNote?.(`${kind}: ${done}/${total} series`);
        }
      },
    },
  );
  return { mode: 'panel', model: kind, horizon: o.horizon, season, panel: { ...r, windows }, warnings: [] };
}

/** A global kind backtested on a panel: one fit across every series' rows before its origin. */
async function backtestGlobal(kind: string, panel: PanelSeries[], o: ForecastEvaluateOptions): Promise<Omit<ForecastEvaluation, 'seconds' | 'source'>> {
  const fc = await import('@seqlab/forecast');
  const { initBackend } = await import('@seqlab/core');
  const season = await panelSeason(panel, o);
  if (season.period === undefined) throw new BadInputError(`evaluate forecast: ${kind} needs --season: the series have no dates to infer it from (option season)`);
  await initBackend();
  const options = globalForecasterOptions({ ...o, seed: o.seed ?? 42 }, season.period);
  const model = fc.createGlobalForecaster(kind, options);
  const windows = o.windows ?? 1;
  try {
    const r = await model.backtest(panel, {
      horizon: o.horizon,
      windows,
      ...(o.step !== undefined ? { step: o.step } : {}),
      season: season.period,
      level: o.level === undefined ? 0.9 : o.level,
      fit: { onEpoch: (log) => o.onNote?.(`${kind} member ${log.member + 1}: epoch ${log.epoch} loss ${log.trainLoss.toPrecision(4)}${log.valLoss !== undefined ? ` val ${log.valLoss.toPrecision(4)}` : ''}`) },
    });
    return { mode: 'panel', model: kind, horizon: o.horizon, season, options, panel: { ...r, windows }, warnings: [] };
  } finally {
    model.dispose();
  }
}

/** A saved global model's forecasts from the end of its training rows, scored on the first `horizon` rows of each series (the M4 train-file / test-file protocol). */
async function scoreSavedGlobal(dir: string, panel: PanelSeries[], o: ForecastEvaluateOptions): Promise<Omit<ForecastEvaluation, 'seconds' | 'source'>> {
  const fc = await import('@seqlab/forecast');
  const { initBackend } = await import('@seqlab/core');
  const actual = panel.map((p) => ({ id: p.id, series: { ...p.series, values: p.series.values.map((v) => v.subarray(0, o.horizon)) } }));
  await initBackend();
  const model = await fc.loadGlobalForecaster(dir);
  try {
    const r = await model.scoreFuture(actual, { level: o.level === undefined ? 0.9 : o.level });
    return { mode: 'panel-future', model: model.name, horizon: r.horizon, season: null, panel: { ...r, windows: 1 }, warnings: [] };
  } finally {
    model.dispose();
  }
}
