/**
 * Training on a panel (many series): one global model across every series. `auto` scores the
 * global kind with its defaults against a small ensemble (seeds x look-backs) on the last
 * window of the training rows, with per-series naive as the reference, and keeps the better.
 */
import path from 'node:path';
import { BadInputError } from '@seqlab/core';
import type { FitCheckpoint, GlobalForecaster, PanelEvaluation, PanelSeries } from '@seqlab/forecast';
import type { CandidateReport, StageClock, TrainReport } from './types.js';
import type { CurvePoint, ForecastDetails, ForecastTrainOptions } from './forecast.js';

/** Epochs of each ensemble member `auto` tries on a panel (the es-hybrid README settings). */
export const PANEL_AUTO_EPOCHS = 60;
/** Seeds of the ensemble `auto` tries on a panel. */
export const PANEL_AUTO_SEEDS = [1, 2, 3] as const;

/**
 * Options of a global forecaster for the training options given. The look-back defaults to a
 * week for hourly data (the M4 Hourly configuration) and to two seasons, at least one horizon,
 * otherwise.
 */
export function globalForecasterOptions(o: Pick<ForecastTrainOptions, 'horizon' | 'secondSeason' | 'lookback' | 'epochs' | 'seed' | 'hidden' | 'timeBudgetSeconds' | 'seeds' | 'lookbacks'>, season: number): Record<string, unknown> {
  return {
    horizon: o.horizon,
    season,
    ...(o.secondSeason !== undefined ? { secondSeason: o.secondSeason } : {}),
    lookback: o.lookback ?? (season === 24 ? 168 : Math.max(2 * season, o.horizon)),
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.seeds ? { seeds: o.seeds } : o.seed !== undefined ? { seeds: [o.seed] } : {}),
    ...(o.lookbacks ? { lookbacks: o.lookbacks } : {}),
    ...(o.hidden !== undefined ? { hidden: o.hidden } : {}),
    ...(o.timeBudgetSeconds !== undefined ? { timeBudgetSeconds: o.timeBudgetSeconds } : {}),
  };
}

interface PanelCandidate {
  label: string;
  options: Record<string, unknown>;
}

/** The one-member default and the seeds x look-backs ensemble (half a season and a season, at least a horizon). */
function panelCandidates(o: ForecastTrainOptions, season: number): PanelCandidate[] {
  const single = globalForecasterOptions({ ...o, seeds: undefined, lookbacks: undefined }, season);
  const lookbacks = o.lookbacks ?? [...new Set([Math.max(o.horizon, Math.round(season / 2)), Math.max(o.horizon, season)])];
  const seeds = o.seeds ?? [...PANEL_AUTO_SEEDS];
  const epochs = o.epochs ?? PANEL_AUTO_EPOCHS;
  const ensemble = { ...single, seeds, lookbacks, epochs };
  return [
    { label: 'es-hybrid(1 member)', options: single },
    { label: `es-hybrid(seeds ${seeds.join(',')} x look-backs ${lookbacks.join(',')}, ${epochs} epochs)`, options: ensemble },
  ];
}

type Scored = CandidateReport & { evaluation: PanelEvaluation };

/** Scores each candidate (and per-series naive) on the last `horizon` rows of every series, fitted on the rows before. */
async function scorePanelCandidates(panel: readonly PanelSeries[], o: ForecastTrainOptions, season: number, onEpoch: (log: { epoch: number; member: number; trainLoss: number; valLoss?: number; seconds: number }) => void): Promise<{ scored: Scored[]; naive: Scored }> {
  const fc = await import('@seqlab/forecast');
  const scored: Scored[] = [];
  for (const c of panelCandidates(o, season)) {
    o.onProgress?.({ type: 'stage', stage: 'fit', candidate: c.label, message: `backtesting ${c.label} on the last ${o.horizon} training rows of every series` });
    const t0 = performance.now();
    const model = fc.createGlobalForecaster('es-hybrid', c.options);
    try {
      const evaluation = await model.backtest(panel, { horizon: o.horizon, windows: 1, season, level: null, fit: { onEpoch, ...(o.signal ? { signal: o.signal } : {}) } });
      scored.push({ kind: c.label, seconds: (performance.now() - t0) / 1000, metrics: { smape: evaluation.aggregate.smape, mase: evaluation.aggregate.mase }, settings: c.options, evaluation });
    } finally {
      model.dispose();
    }
  }
  const t0 = performance.now();
  const evaluation = await fc.evaluatePanel(panel, () => fc.createForecaster('naive'), { horizon: o.horizon, windows: 1, season, level: null });
  const naive = { kind: 'naive (per series, reference)', seconds: (performance.now() - t0) / 1000, metrics: { smape: evaluation.aggregate.smape, mase: evaluation.aggregate.mase }, evaluation };
  return { scored, naive };
}

/**
 * Trains a global model on a panel: `es-hybrid` with the options given, or `auto` (see the
 * module comment), and saves it.
 */
export async function trainPanel(panel: PanelSeries[], source: string, model: string, o: ForecastTrainOptions, clock: StageClock, checkpoint?: FitCheckpoint & { resumedFromEpoch?: number }): Promise<{ dir: string; report: TrainReport<ForecastDetails> }> {
  const fc = await import('@seqlab/forecast');
  const { getBackendInfo, initBackend, setGlobalSeed, writeJsonAtomic } = await import('@seqlab/core');
  if (model !== 'auto' && !fc.isGlobalForecaster(model)) throw new BadInputError(`train forecast: a panel trains one global model across the series: model ${fc.GLOBAL_FORECASTER_NAMES.join('|')} or auto, not ${model}`);
  const seasonReport = fc.seasonFor({ hints: { season: o.season } }, panel[0]!.series);
  const season = seasonReport.period;
  if (season === undefined) throw new BadInputError(`train forecast: ${model} needs --season: the series have no dates to infer it from (option season)`);
  await initBackend();
  setGlobalSeed(o.seed ?? 1);
  const history: CurvePoint[] = [];
  const onEpoch = (log: { epoch: number; member: number; trainLoss: number; valLoss?: number; seconds: number }): void => {
    if (log.member === 0) history.push({ epoch: log.epoch, split: 'train', loss: log.trainLoss, member: 0 });
    o.onProgress?.({ type: 'epoch', stage: 'fit', candidate: `member ${log.member + 1}`, epoch: log.epoch, epochs: o.epochs ?? log.epoch, seconds: log.seconds, metrics: { loss: log.trainLoss, ...(log.valLoss !== undefined ? { val_loss: log.valLoss } : {}) } });
  };
  let chosen: { options: Record<string, unknown>; reason: string; candidates: CandidateReport[] };
  if (model === 'auto') {
    const { scored, naive } = await clock.time('choose', () => scorePanelCandidates(panel, o, season, onEpoch));
    const best = [...scored].sort((a, b) => a.metrics.smape! - b.metrics.smape!)[0]!;
    const other = scored.find((c) => c !== best)!;
    const vsNaive = best.metrics.smape! < naive.metrics.smape! ? `below per-series naive's ${naive.metrics.smape!.toFixed(3)}` : `not below per-series naive's ${naive.metrics.smape!.toFixed(3)} (a global model is saved all the same)`;
    const reason = `${best.kind} had the lower sMAPE on the last ${o.horizon} training rows of every series, ${best.metrics.smape!.toFixed(3)} against ${other.kind}'s ${other.metrics.smape!.toFixed(3)}, ${vsNaive}`;
    chosen = { options: best.settings as Record<string, unknown>, reason, candidates: [...scored, naive].map(({ evaluation: _e, ...c }) => c) };
    history.length = 0;
  } else {
    const options = globalForecasterOptions(o, season);
    chosen = { options, reason: `${model} was asked for`, candidates: [] };
  }
  const dir = path.resolve(o.out);
  const kind = model === 'auto' ? 'es-hybrid' : model;
  const global = fc.createGlobalForecaster(kind, chosen.options);
  try {
    o.onProgress?.({ type: 'stage', stage: 'refit', candidate: kind, message: `fitting ${kind} on every series` });
    // Only this last fit is checkpointed: auto's backtests take a fraction of it and run again.
    await clock.time('fit', () => global.fit(panel, { onEpoch, ...(o.signal ? { signal: o.signal } : {}), ...(checkpoint ? { checkpoint: { dir: checkpoint.dir, resume: checkpoint.resume === true, everySeconds: checkpoint.everySeconds ?? 0 } } : {}) }));
    await clock.time('save', () => global.save(dir));
    const report = panelReport(global, kind, chosen, { panel, source, o, seasonReport, history, dir, backend: getBackendInfo()?.name ?? 'none', clock });
    if (checkpoint?.resumedFromEpoch) report.details.resumedFromEpoch = checkpoint.resumedFromEpoch;
    await writeJsonAtomic(path.join(dir, 'training.json'), report);
    return { dir, report };
  } finally {
    global.dispose();
  }
}

function panelReport(
  model: GlobalForecaster<object>,
  kind: string,
  chosen: { options: Record<string, unknown>; reason: string; candidates: CandidateReport[] },
  r: { panel: PanelSeries[]; source: string; o: ForecastTrainOptions; seasonReport: ForecastDetails['season']; history: CurvePoint[]; dir: string; backend: string; clock: StageClock },
): TrainReport<ForecastDetails> {
  const validation = model.validationScores ?? null;
  const candidates = chosen.candidates.length ? chosen.candidates : [{ kind, seconds: r.clock.stages.fit ?? 0, metrics: validation ? { smape: validation.smape, mase: validation.mase } : {}, settings: chosen.options }];
  return {
    task: 'forecast',
    dir: r.dir,
    seed: r.o.seed ?? 1,
    backend: r.backend,
    kind,
    reason: chosen.reason,
    candidates,
    stages: r.clock.stages,
    seconds: r.clock.elapsed(),
    truncated: {},
    details: {
      model: kind,
      global: true,
      source: r.source,
      columns: [],
      horizon: r.o.horizon,
      series: r.panel.length,
      season: r.seasonReport,
      validation,
      test: null,
      options: chosen.options,
      seenUntil: null,
      history: r.history,
      warnings: [],
    },
  };
}
