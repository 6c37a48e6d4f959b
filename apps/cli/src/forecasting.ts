/*
 * Mapping from CLI options to forecaster constructor options. The forecasters themselves live
 * in @seqlab/forecast; this only decides which option applies to which model.
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

const WINDOWED = new Set<string>(['segrnn', 'seq2seq', 'dlinear', 'linear']);
const SEASONAL = new Set<string>(['seasonal-naive', 'holt-winters']);
const NEURAL = new Set<string>(['segrnn', 'seq2seq']);

interface SeriesDates {
  dates?: Date[];
  values: ArrayLike<number>[];
}

/** Season length guessed from the sampling interval: 12 monthly, 24 hourly, 7 daily, 4 quarterly. */
export function inferSeason(series: SeriesDates): number | undefined {
  const d = series.dates;
  if (!d || d.length < 3) return undefined;
  const gapDays = (d[1]!.getTime() - d[0]!.getTime()) / 86_400_000;
  if (gapDays >= 27 && gapDays <= 32) return 12;
  if (gapDays >= 89 && gapDays <= 93) return 4;
  if (Math.abs(gapDays - 1) < 1e-6) return 7;
  if (Math.abs(gapDays - 1 / 24) < 1e-6) return 24;
  return undefined;
}

/** Options passed to `createForecaster(name, options)` for the CLI flags given. */
export function forecasterOptions(
  name: string,
  o: { horizon: number; lookback?: number; season?: number; epochs?: number; seed?: number; series: SeriesDates },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const season = o.season ?? inferSeason(o.series);
  if (WINDOWED.has(name)) {
    out.horizon = o.horizon;
    out.lookback = o.lookback ?? Math.max(2 * o.horizon, season ? 2 * season : 24);
  }
  if (SEASONAL.has(name) && season) out.season = season;
  if (NEURAL.has(name)) {
    if (o.epochs !== undefined) out.epochs = o.epochs;
    if (o.seed !== undefined) out.seed = o.seed;
  }
  return out;
}

/** Levels given as percentages or fractions, as percentages, deduplicated, widest first. */
export function percentLevels(levels: number[]): number[] {
  return [...new Set(levels.map((l) => (l < 1 ? Math.round(l * 1000) / 10 : l)))].sort((a, b) => b - a);
}
