import { ForecastInputError, positiveInt } from './errors.js';
import type { Forecaster } from './forecaster.js';
import type { PanelSeries } from './data/panel.js';
import { seriesLength, type TimeSeries } from './data/series.js';

/** Errors of one series of a panel, pooled over its columns, windows and steps. */
export interface PanelSeriesResult {
  id: string;
  rows: number;
  /** First forecast row of each backtest window. */
  origins: number[];
  mae: number;
  rmse: number;
  /** sMAPE in percent (M4 definition). */
  smape: number;
  /** MASE against the seasonal-naive error of the rows before the first origin. */
  mase: number;
  coverage?: number;
}

/** The result of {@link evaluatePanel}: every series, their means, and the series that could not be scored. */
export interface PanelEvaluation {
  horizon: number;
  maseSeason: number;
  series: PanelSeriesResult[];
  /** Means over the scored series (the M4 convention: each series weighs the same). */
  aggregate: { series: number; mae: number; rmse: number; smape: number; mase: number; coverage?: number };
  /** Series too short (or otherwise unfit) for the model, with the reason. */
  skipped: Array<{ id: string; reason: string }>;
}

/** Options of {@link evaluatePanel}. */
export interface PanelEvaluationOptions {
  horizon: number;
  /** Forecast origins per series (default 1: the last `horizon` rows, as M4 scores). */
  windows?: number;
  /** Rows between origins. Default `horizon`. */
  step?: number;
  /** Seasonal period of MASE. Default 1. */
  season?: number;
  /** Interval level for coverage; `null` for none. Default 0.9 when the model is calibrated. */
  level?: number | null;
  /** Called after each series. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Backtests a fresh model on every series of a panel in one call (`create` builds one per
 * series, so each is fitted on its own rows before its first origin) and reports each series
 * and the means over them. A series too short for the model is skipped with its reason rather
 * than failing the whole panel.
 */
export async function evaluatePanel(panel: readonly PanelSeries[], create: (series: TimeSeries) => Forecaster, options: PanelEvaluationOptions): Promise<PanelEvaluation> {
  const horizon = positiveInt(options.horizon, 'horizon');
  const windows = positiveInt(options.windows ?? 1, 'windows');
  const step = positiveInt(options.step ?? horizon, 'step');
  const m = positiveInt(options.season ?? 1, 'season');
  if (panel.length === 0) throw new ForecastInputError('evaluatePanel: the panel has no series');
  const results: PanelSeriesResult[] = [];
  const skipped: PanelEvaluation['skipped'] = [];
  for (const [i, { id, series }] of panel.entries()) {
    let model: Forecaster | undefined;
    try {
      model = create(series);
      const r = await model.backtest(series, { horizon, windows, step, ...(options.level !== undefined ? { level: options.level } : {}) });
      const first = r.origins[0]!;
      let scaled = 0;
      let count = 0;
      series.values.forEach((v, c) => {
        if (first <= m) throw new ForecastInputError(`MASE season ${m} needs more than ${m} rows before the first origin; there are ${first}`);
        let s = 0;
        for (let t = m; t < first; t++) s += Math.abs(v[t]! - v[t - m]!);
        const scale = s / (first - m) || Number.EPSILON;
        r.actual.forEach((a, w) => a[c]!.forEach((y, h) => {
          scaled += Math.abs(y - r.forecasts[w]!.mean[c]![h]!) / scale;
          count++;
        }));
      });
      results.push({
        id,
        rows: seriesLength(series),
        origins: r.origins,
        mae: r.metrics.mae,
        rmse: r.metrics.rmse,
        smape: r.metrics.smape,
        mase: scaled / count,
        ...(r.metrics.coverage !== undefined ? { coverage: r.metrics.coverage } : {}),
      });
    } catch (err) {
      if (!(err instanceof ForecastInputError)) throw err;
      skipped.push({ id, reason: err.message });
    } finally {
      model?.dispose();
    }
    options.onProgress?.(i + 1, panel.length);
  }
  if (results.length === 0) throw new ForecastInputError(`evaluatePanel: no series could be scored; first reason: ${skipped[0]!.reason}`);
  return summarizePanel(results, horizon, m, skipped);
}

/** Per-series results and their means (each series weighs the same, as M4 averages). */
export function summarizePanel(results: PanelSeriesResult[], horizon: number, maseSeason: number, skipped: PanelEvaluation['skipped'] = []): PanelEvaluation {
  const mean = (f: (r: PanelSeriesResult) => number) => results.reduce((a, r) => a + f(r), 0) / results.length;
  const covered = results.every((r) => r.coverage !== undefined);
  return {
    horizon,
    maseSeason,
    series: results,
    aggregate: {
      series: results.length,
      mae: mean((r) => r.mae),
      rmse: mean((r) => r.rmse),
      smape: mean((r) => r.smape),
      mase: mean((r) => r.mase),
      ...(covered ? { coverage: mean((r) => r.coverage!) } : {}),
    },
    skipped,
  };
}
