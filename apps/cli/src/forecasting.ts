/*
 * The forecaster names the CLI offers and its flags as forecast-task settings. Which setting
 * applies to which model is decided by @seqlab/forecast's forecast task, not here.
 */

/** Forecaster names accepted by `--model`, as registered in @seqlab/forecast. */
export const FORECASTERS = [
  'segrnn',
  'seq2seq',
  'dlinear',
  'linear',
  'naive',
  'seasonal-naive',
  'drift',
  'moving-average',
  'holt-winters',
] as const;

/** Global (panel) forecaster names: one model fitted across every series of `--id-col` / `--wide` data. */
export const GLOBAL_FORECASTERS = ['es-hybrid'] as const;

/** Every name `train forecaster` / `evaluate forecaster` accept for `--model`. */
export const ALL_FORECASTERS = [...FORECASTERS, ...GLOBAL_FORECASTERS] as const;

/**
 * Options of a global forecaster for the CLI flags given. The look-back defaults to a week for
 * hourly data (the M4 Hourly configuration) and to two seasons, at least one horizon, otherwise.
 */
export function globalForecasterOptions(o: { horizon: number; season: number; secondSeason?: number; lookback?: number; epochs?: number; seed?: number; hidden?: number; timeBudget?: number }): Record<string, unknown> {
  return {
    horizon: o.horizon,
    season: o.season,
    ...(o.secondSeason !== undefined ? { secondSeason: o.secondSeason } : {}),
    lookback: o.lookback ?? (o.season === 24 ? 168 : Math.max(2 * o.season, o.horizon)),
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.seed !== undefined ? { seeds: [o.seed] } : {}),
    ...(o.hidden !== undefined ? { hidden: o.hidden } : {}),
    ...(o.timeBudget !== undefined ? { timeBudgetSeconds: o.timeBudget } : {}),
  };
}

/**
 * The season line of a global model's summary: the season used and why, the second season when
 * one was given, else the longer cycles the sampling frequency offers and the flag that adds one.
 */
export function seasonLine(report: import('@seqlab/forecast').SeasonReport, secondSeason: number | undefined): string {
  const longer = report.candidates.filter((c) => report.period !== undefined && c.period > report.period && c.period % report.period === 0);
  const second = secondSeason !== undefined
    ? `; second season ${secondSeason}`
    : longer.length
      ? `; --second-season ${longer.map((c) => c.period).join('|')} adds the ${longer.map((c) => c.cycle).join(' or ')} cycle`
      : '';
  return `season: ${report.period} (${report.reason})${second}`;
}

/** A forecaster name. */
export type ForecasterName = (typeof FORECASTERS)[number];

/**
 * Options passed to `createForecaster(name, options)` for the CLI flags given: the forecast
 * task's own rule (@seqlab/forecast `forecasterOptionsFor`), so the CLI and the API agree.
 */
export function forecasterOptions(
  forecast: typeof import('@seqlab/forecast'),
  name: string,
  o: {
    horizon: number;
    lookback?: number;
    season?: number;
    epochs?: number;
    seed?: number;
    hidden?: number;
    segmentLength?: number;
    timeBudget?: number;
    series: import('@seqlab/forecast').TimeSeries;
  },
): Record<string, unknown> {
  const hints = {
    lookback: o.lookback,
    season: o.season,
    epochs: o.epochs,
    seed: o.seed,
    hidden: o.hidden,
    segmentLength: o.segmentLength,
    timeBudgetSeconds: o.timeBudget,
  };
  return forecast.forecasterOptionsFor(name, { horizon: o.horizon, hints }, o.series);
}

/** Levels given as percentages or fractions, as percentages, deduplicated, widest first. */
export function percentLevels(levels: number[]): number[] {
  return [...new Set(levels.map((l) => (l < 1 ? Math.round(l * 1000) / 10 : l)))].sort((a, b) => b - a);
}
