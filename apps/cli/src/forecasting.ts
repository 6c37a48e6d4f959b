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
