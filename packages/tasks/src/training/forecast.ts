/**
 * `train('forecast', data, options)`: one series or a panel in, a saved forecaster out. The
 * default model, `auto`, chooses its kind by a rolling-origin backtest on the training rows
 * (see @seqlab/forecast `AutoForecaster`); panels get the global kinds (see forecast-panel.ts).
 */
import path from 'node:path';
import { BadInputError } from '@seqlab/core';
import type { AutoForecaster, DateGapReport, DetectedSeason, EpochLog, FitCheckpoint, Forecaster, SeasonReport, TimeSeries } from '@seqlab/forecast';
import { COMMON_TRAIN_KEYS, checkOptionKeys, StageClock, type CandidateReport, type CommonTrainOptions, type TrainReport } from './types.js';
import { FORECAST_READ_KEYS, readForecastData, scoreRange, type ForecastData, type ForecastReadOptions, type RangeScore } from './forecast-data.js';

export type { ForecastData, ForecastReadOptions, PanelInput, RangeScore } from './forecast-data.js';
export { evaluateForecaster, type ForecastEvaluateOptions, type ForecastEvaluation } from './forecast-evaluate.js';

/** Options of `train('forecast', ...)`. */
export interface ForecastTrainOptions extends CommonTrainOptions, ForecastReadOptions {
  /** Steps ahead the model is trained and scored to forecast. Required. */
  horizon: number;
  /** A forecaster kind (`linear`, `holt-winters`, `segrnn`, `es-hybrid` for panels, ...) or `'auto'` (default). */
  model?: string;
  /** Season length: for `auto` one more candidate, for seasonal kinds the season (default: from the dates). */
  season?: number;
  /** `auto`: clip forecasts and intervals at 0 (default: when every training value is >= 0). */
  nonNegative?: boolean;
  /** Input window of window-based kinds. */
  lookback?: number;
  /** Global kinds: a second, longer season of the per-series smoothing. */
  secondSeason?: number;
  /** Maximum epochs of neural kinds (and of `auto`'s neural candidates). */
  epochs?: number;
  hidden?: number;
  segmentLength?: number;
  /** Neural kinds stop after this many seconds (best weights kept). */
  timeBudgetSeconds?: number;
  /** Fraction of rows, before the test range, held out for validation, early stopping and interval calibration. Default 0.2 (0 for `auto`: it backtests on the training rows itself). */
  valSplit?: number;
  /** Fraction of the last rows held out as a test range, never seen, scored after training. Default 0. */
  testSplit?: number;
  /** Explicit ranges instead of the fractions: `ett`, `0.7:0.1:0.2`, row counts or dates. */
  split?: string;
  /** Global kinds: one ensemble member per seed (and look-back). */
  seeds?: number[];
  lookbacks?: number[];
  /**
   * Neural kinds (segrnn, seq2seq; a panel's es-hybrid, one folder per ensemble member):
   * checkpoint the training here after every epoch (weights, optimizer state, seed stream), a
   * folder beside the model folder, removed once the model is saved. Other kinds fit in seconds
   * and `auto` on one series backtests its candidates: they train again from the start. Default:
   * no checkpoints.
   */
  checkpointDir?: string;
  /** Continue the training checkpointed in `checkpointDir` after its last written epoch (with none there, start afresh). */
  resume?: boolean;
  /**
   * Write a checkpoint at most once per this many seconds: a small model's epoch takes
   * milliseconds and a checkpoint several file syncs. Default 2 (0: after every epoch).
   */
  checkpointSeconds?: number;
}

const TRAIN_KEYS = [
  ...COMMON_TRAIN_KEYS, ...FORECAST_READ_KEYS, 'horizon', 'model', 'season', 'nonNegative', 'lookback', 'secondSeason', 'epochs', 'hidden', 'segmentLength',
  'timeBudgetSeconds', 'valSplit', 'testSplit', 'split', 'seeds', 'lookbacks', 'checkpointDir', 'resume', 'checkpointSeconds',
] as const;

/** A problem with the data worth knowing that did not stop training. */
export interface ForecastWarning {
  type: 'date-gaps' | 'calibration';
  message: string;
  gaps?: DateGapReport;
}

/** One point of a training curve. */
export interface CurvePoint {
  epoch: number;
  split: 'train' | 'validation';
  loss: number;
  member?: number;
}

/** The forecasting part of a training report. */
export interface ForecastDetails {
  /** The saved model's kind (`auto` wraps the winner, named in the report's `kind`). */
  model: string;
  /** Whether a global (panel) model was saved. */
  global: boolean;
  source: string;
  columns: string[];
  horizon: number;
  /** Row ranges of one series (`[start, end)`, with dates when the data had them). */
  ranges?: Record<string, { rows: [number, number]; from?: string; to?: string }>;
  /** Series of a panel. */
  series?: number;
  /** Season used by seasonal kinds and why. */
  season: SeasonReport | null;
  /** Seasons `auto` tried, from the calendar and the data. */
  seasons?: DetectedSeason[];
  /** Per column: forecasts clipped at 0 (`auto`). */
  nonNegative?: boolean[];
  /** Scores of the validation range (used for early stopping and calibration) and of the test range (never seen). */
  validation: RangeScore | Record<string, number> | null;
  test: RangeScore | null;
  /** The constructor options of the saved model. */
  options: Record<string, unknown>;
  /** Last timestamp the model was fitted or calibrated on. */
  seenUntil: string | null;
  history: CurvePoint[];
  warnings: ForecastWarning[];
  /** Epochs an earlier, interrupted run had checkpointed when this one resumed from them (a panel's: summed over its members). */
  resumedFromEpoch?: number;
}

/** Row bounds of the training, validation and test ranges. */
async function splitRows(series: TimeSeries, o: ForecastTrainOptions, context: number, auto: boolean): Promise<{ trainEnd: number; valEnd: number; testEnd: number }> {
  const fc = await import('@seqlab/forecast');
  const n = fc.seriesLength(series);
  let b: { trainEnd: number; valEnd: number; testEnd: number };
  if (o.split !== undefined) {
    if (o.valSplit !== undefined || o.testSplit !== undefined) throw new BadInputError('train forecast: use either split or valSplit/testSplit, not both');
    b = fc.splitBySpec(series, o.split, Math.max(1, context)).bounds;
  } else {
    const testSplit = o.testSplit ?? 0;
    const valSplit = o.valSplit ?? (auto ? 0 : 0.2);
    for (const [k, v] of [['valSplit', valSplit], ['testSplit', testSplit]] as const) if (!(v >= 0 && v < 1)) throw new BadInputError(`train forecast: ${k} must be in [0, 1), got ${v}`);
    const testRows = Math.round(n * testSplit);
    const valRows = Math.round(n * valSplit);
    if (testRows > 0 && testRows < o.horizon) throw new BadInputError(`train forecast: testSplit ${testSplit} leaves ${testRows} test rows, fewer than horizon ${o.horizon}`);
    b = { trainEnd: n - testRows - valRows, valEnd: n - testRows, testEnd: n };
  }
  const valRows = b.valEnd - b.trainEnd;
  if (!auto && valRows < o.horizon) throw new BadInputError(`train forecast: the validation range has ${valRows} rows, fewer than horizon ${o.horizon}`);
  if (b.trainEnd <= context) throw new BadInputError(`train forecast: ${n} rows leave ${b.trainEnd} training rows, not more than the look-back ${context}`);
  return b;
}

/** Constructor options of `model` for these training options (the forecast task's own rule, as `seqlab forecast` uses). */
async function modelOptions(model: string, series: TimeSeries, o: ForecastTrainOptions): Promise<Record<string, unknown>> {
  const fc = await import('@seqlab/forecast');
  const hints = { lookback: o.lookback, season: o.season, epochs: o.epochs, seed: o.seed, hidden: o.hidden, segmentLength: o.segmentLength, timeBudgetSeconds: o.timeBudgetSeconds };
  const options = fc.forecasterOptionsFor(model, { horizon: o.horizon, hints }, series);
  if (o.nonNegative !== undefined) {
    if (model !== 'auto') throw new BadInputError(`train forecast: nonNegative applies to model 'auto'; for ${model}, clip when forecasting (bounds { lower: 0 })`);
    options.nonNegative = o.nonNegative;
  }
  return options;
}

/**
 * Trains a forecaster on one series or a panel and saves it to `options.out`. One series: the
 * model (default `auto`) is fitted on the training rows (validation rows, when there are any,
 * calibrate its intervals and stop neural training early), scored on the validation and test
 * ranges, and saved; `auto`'s candidates and their backtest scores are the report's
 * candidates. A panel (`idColumn`, `layout: 'wide'` or `{ id, values }[]`) trains a global model.
 *
 * @throws BadInputError for unknown options, bad data or ranges too short for the horizon.
 */
export async function trainForecaster(data: ForecastData, options: ForecastTrainOptions): Promise<{ dir: string; report: TrainReport<ForecastDetails> }> {
  checkOptionKeys('train forecast', options, TRAIN_KEYS);
  if (typeof options.out !== 'string' || options.out === '') throw new BadInputError('train forecast: out (the model folder) is required');
  if (!(Number.isInteger(options.horizon) && options.horizon > 0)) throw new BadInputError(`train forecast: horizon must be a positive integer, got ${String(options.horizon)}`);
  const clock = new StageClock();
  const emit = options.onProgress ?? (() => {});
  emit({ type: 'stage', stage: 'read', message: `reading ${typeof data === 'string' ? data : 'the data'}` });
  const read = await clock.time('read', () => readForecastData('train forecast', data, options));
  const fc = await import('@seqlab/forecast');
  const model = options.model ?? 'auto';
  if (read.panel) {
    const checkpoint = await checkpointOf(options, path.resolve(options.out), true);
    const trained = await (await import('./forecast-panel.js')).trainPanel(read.panel, read.source, model, options, clock, checkpoint);
    if (checkpoint) await removeCheckpoint(checkpoint.dir);
    return trained;
  }
  if (fc.isGlobalForecaster(model)) throw new BadInputError(`train forecast: ${model} is a global model fitted across many series: give a panel (idColumn, layout 'wide' or { id, values }[])`);
  return trainSeries(read.series, read.source, model, options, clock);
}

async function trainSeries(series: TimeSeries, source: string, model: string, o: ForecastTrainOptions, clock: StageClock): Promise<{ dir: string; report: TrainReport<ForecastDetails> }> {
  const fc = await import('@seqlab/forecast');
  const { getBackendInfo, initBackend, setGlobalSeed, writeJsonAtomic } = await import('@seqlab/core');
  const auto = model === 'auto';
  const options = await modelOptions(model, series, o);
  const context = typeof options.lookback === 'number' ? options.lookback : 0;
  const b = await splitRows(series, o, context, auto);
  setGlobalSeed(o.seed ?? 1);
  const forecaster = fc.createForecaster(model, options);
  if (forecaster.capabilities.neural) await initBackend();
  const dir = path.resolve(o.out);
  const emit = o.onProgress ?? (() => {});
  const history: CurvePoint[] = [];
  const checkpoint = await checkpointOf(o, dir, forecaster.capabilities.neural);
  try {
    await clock.time('fit', () => fitOne(forecaster, series, b, context, o, history, checkpoint));
    emit({ type: 'stage', stage: 'evaluate', message: 'scoring the validation and test ranges' });
    const [validation, test] = await clock.time('evaluate', async () => [
      b.valEnd > b.trainEnd ? ((await scoreRange(forecaster, series, b.trainEnd, b.valEnd, o.horizon)) ?? null) : null,
      b.testEnd > b.valEnd ? ((await scoreRange(forecaster, series, b.valEnd, b.testEnd, o.horizon)) ?? null) : null,
    ]);
    emit({ type: 'stage', stage: 'save', message: `saving to ${dir}` });
    await clock.time('save', () => forecaster.save(dir));
    const details = seriesDetails(fc, forecaster, series, source, b, o, { validation, test, history, options, model });
    if (checkpoint?.resumedFromEpoch) details.resumedFromEpoch = checkpoint.resumedFromEpoch;
    const report = seriesReport(forecaster, details, dir, o.seed ?? 1, getBackendInfo()?.name ?? 'none', clock);
    await writeJsonAtomic(path.join(dir, 'training.json'), report);
    if (checkpoint) await removeCheckpoint(checkpoint.dir);
    return { dir, report };
  } finally {
    forecaster.dispose();
  }
}

/** A neural kind's checkpoint folder (checked), and the epochs an interrupted run left there. */
async function checkpointOf(o: ForecastTrainOptions, out: string, neural: boolean): Promise<(FitCheckpoint & { resumedFromEpoch: number }) | undefined> {
  if (o.resume !== undefined && typeof o.resume !== 'boolean') throw new BadInputError(`train forecast: resume must be true or false, got ${JSON.stringify(o.resume)}`);
  if (o.checkpointDir === undefined) {
    if (o.resume) throw new BadInputError('train forecast: resume needs checkpointDir (the folder of the interrupted run)');
    return undefined;
  }
  if (typeof o.checkpointDir !== 'string' || o.checkpointDir === '') throw new BadInputError('train forecast: checkpointDir must be a folder path');
  const dir = path.resolve(o.checkpointDir);
  const inside = path.relative(out, dir);
  if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside))) throw new BadInputError(`train forecast: checkpointDir ${dir} is inside the model folder ${out}; put it beside it`);
  const everySeconds = o.checkpointSeconds ?? 2;
  if (!(typeof everySeconds === 'number' && everySeconds >= 0)) throw new BadInputError(`train forecast: checkpointSeconds must be a number >= 0, got ${JSON.stringify(o.checkpointSeconds)}`);
  if (!neural) return undefined;
  return { dir, resume: o.resume === true, everySeconds, resumedFromEpoch: o.resume ? await checkpointedEpochs(dir) : 0 };
}

/** Epochs checkpointed in `dir`: of the one network, or summed over a global model's members (`member-<i>/`). */
async function checkpointedEpochs(dir: string): Promise<number> {
  const { LoopCheckpoint } = await import('@seqlab/core');
  let epochs = (await LoopCheckpoint.read(dir))?.epoch ?? 0;
  for (const member of await memberFolders(dir)) epochs += (await LoopCheckpoint.read(path.join(dir, member)))?.epoch ?? 0;
  return epochs;
}

async function memberFolders(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(dir).catch(() => [] as string[])).filter((e) => /^member-\d+$/.test(e));
}

/** Removes a finished training's checkpoint entries, then the folder if nothing else is in it. */
async function removeCheckpoint(dir: string): Promise<void> {
  const { rm, rmdir } = await import('node:fs/promises');
  await Promise.all(['last', 'best', 'state.json', ...(await memberFolders(dir))].map((e) => rm(path.join(dir, e), { recursive: true, force: true })));
  await rmdir(dir).catch(() => undefined);
}

/** Fits on the training rows, the validation rows (with look-back context) for early stopping and calibration. */
async function fitOne(model: Forecaster, series: TimeSeries, b: { trainEnd: number; valEnd: number }, context: number, o: ForecastTrainOptions, history: CurvePoint[], checkpoint?: FitCheckpoint & { resumedFromEpoch: number }): Promise<void> {
  const fc = await import('@seqlab/forecast');
  const emit = o.onProgress ?? (() => {});
  const epochs = o.epochs ?? (typeof model.options === 'object' && typeof (model.options as { epochs?: number }).epochs === 'number' ? (model.options as { epochs: number }).epochs : 0);
  const resuming = checkpoint?.resumedFromEpoch ?? 0;
  emit({ type: 'stage', stage: 'fit', candidate: model.name, message: model.name === 'auto' ? 'backtesting the candidates on the training rows' : `fitting ${model.name}${resuming ? ` (resuming after epoch ${resuming})` : ''}` });
  // auto calibrates on held-out copies of its winner: validation rows without the winner's look-back in front would leave it no origins.
  const validation = b.valEnd > b.trainEnd && model.name !== 'auto' ? fc.sliceSeries(series, Math.max(0, b.trainEnd - context), b.valEnd) : undefined;
  await model.fit(fc.sliceSeries(series, 0, b.trainEnd), {
    ...(validation ? { validation } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(checkpoint ? { checkpoint: { dir: checkpoint.dir, resume: checkpoint.resume === true, everySeconds: checkpoint.everySeconds ?? 0 } } : {}),
    onEpoch: (log) => {
      history.push({ epoch: log.epoch, split: 'train', loss: log.trainLoss });
      if (log.valLoss !== undefined) history.push({ epoch: log.epoch, split: 'validation', loss: log.valLoss });
      const metrics: Record<string, number> = { loss: log.trainLoss, ...(log.valLoss !== undefined ? { val_loss: log.valLoss } : {}) };
      emit({ type: 'epoch', stage: 'fit', candidate: model.name, epoch: log.epoch, epochs: Math.max(epochs, log.epoch), seconds: log.seconds, metrics });
    },
  });
  // The epochs of the interrupted run come back with the model's own report, not as events.
  const done = (model as { report?: { epochs?: EpochLog[] } }).report?.epochs?.filter((log) => log.epoch <= resuming) ?? [];
  history.unshift(...done.flatMap((log): CurvePoint[] => [{ epoch: log.epoch, split: 'train', loss: log.trainLoss }, ...(log.valLoss !== undefined ? [{ epoch: log.epoch, split: 'validation' as const, loss: log.valLoss }] : [])]));
}

function seriesDetails(
  fc: typeof import('@seqlab/forecast'),
  model: Forecaster,
  series: TimeSeries,
  source: string,
  b: { trainEnd: number; valEnd: number; testEnd: number },
  o: ForecastTrainOptions,
  r: { validation: RangeScore | null; test: RangeScore | null; history: CurvePoint[]; options: Record<string, unknown>; model: string },
): ForecastDetails {
  const date = (i: number) => series.dates?.[i]?.toISOString();
  const range = (from: number, to: number) => ({ rows: [from, to] as [number, number], from: date(from), to: date(to - 1) });
  const choice = model instanceof fc.AutoForecaster ? (model as AutoForecaster).choice : undefined;
  const gaps = choice?.gaps ?? fc.detectDateGaps(series.dates?.slice(0, b.trainEnd));
  const warnings: ForecastWarning[] = gaps ? [{ type: 'date-gaps', message: fc.describeDateGaps(gaps), gaps }] : [];
  if (!model.calibrated) warnings.push({ type: 'calibration', message: `${model.name} has no prediction intervals: too few rows to calibrate them` });
  return {
    model: r.model,
    global: false,
    source,
    columns: series.columns,
    horizon: o.horizon,
    ranges: { train: range(0, b.trainEnd), ...(b.valEnd > b.trainEnd ? { validation: range(b.trainEnd, b.valEnd) } : {}), ...(b.testEnd > b.valEnd ? { test: range(b.valEnd, b.testEnd) } : {}) },
    season: fc.usesSeason(r.model) ? fc.seasonFor({ hints: { season: o.season } }, series) : null,
    ...(choice ? { seasons: choice.seasons, nonNegative: choice.nonNegative } : {}),
    validation: r.validation,
    test: r.test,
    options: r.options,
    seenUntil: model.seenUntil?.toISOString() ?? null,
    history: r.history,
    warnings,
  };
}

function seriesReport(model: Forecaster, details: ForecastDetails, dir: string, seed: number, backend: string, clock: StageClock): TrainReport<ForecastDetails> {
  const choice = (model as unknown as Partial<AutoForecaster>).choice;
  const validationMetrics = (details.validation ?? {}) as Record<string, number>;
  const candidates: CandidateReport[] = choice
    ? choice.candidates.map((c) => ({
        kind: c.label,
        seconds: c.seconds,
        metrics: c.skipped ? ({} as Record<string, number>) : { rmse: c.rmse, mae: c.mae, smape: c.smape, score: c.score },
        settings: { kind: c.kind, ...c.options, ...(c.skipped ? { skipped: c.skipped } : {}) },
      }))
    : [{ kind: model.name, seconds: clock.stages.fit ?? 0, metrics: Object.fromEntries(Object.entries(validationMetrics).filter(([, v]) => typeof v === 'number')), settings: details.options }];
  return {
    task: 'forecast',
    dir,
    seed,
    backend,
    kind: choice ? choice.winner.kind : model.name,
    reason: choice ? choice.reason : `${model.name} was asked for`,
    candidates,
    stages: clock.stages,
    seconds: clock.elapsed(),
    truncated: {},
    details,
  };
}
