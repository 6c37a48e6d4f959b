/**
 * Forecasting a CSV file in one call, as `seqlab forecast` does: one series fitted by a kind
 * (default `auto`) or forecast by a saved model, optionally scored on a held-out tail; or every
 * series of a panel forecast by a saved global model. Apps print what these return.
 */
import { BadInputError } from '@seqlab/core';
import type { CsvReadReport, EpochLog, Forecast, ForecastBounds, ForecastResult, PanelForecastResult, PanelForecastRow, PanelSeries, TimeSeries } from '@seqlab/forecast';
import { pipeline } from './pipeline.js';
import { readForecastData, type ForecastReadOptions } from './training/forecast-data.js';

/** Options of {@link forecastCsv}. */
export interface ForecastCsvOptions extends ForecastReadOptions {
  horizon: number;
  /** A forecaster kind. Default `'auto'`. Ignored with `load`. */
  model?: string;
  /** A saved forecaster's directory, used instead of fitting one. */
  load?: string;
  /** Interval levels as fractions, widest first. */
  levels: number[];
  /** Hold out the last `horizon` rows, forecast them and score the forecast. */
  holdout?: boolean;
  bounds?: ForecastBounds;
  season?: number;
  lookback?: number;
  epochs?: number;
  seed?: number;
  /** Save the fitted forecaster here. */
  save?: string;
  onEpoch?: (log: EpochLog) => void;
}

/** One forecast step of one column, with its intervals by level (percent). */
export interface ForecastRow {
  column: string;
  step: number;
  date?: string;
  mean: number;
  intervals: Record<string, [number, number]>;
  actual?: number;
}

/** What {@link forecastCsv} returns. */
export interface ForecastCsvResult {
  result: ForecastResult;
  /** The rows the model was fitted on (or forecasts from). */
  train: TimeSeries;
  read?: CsvReadReport;
  rows: ForecastRow[];
  /** Dates of the forecast steps, when known. */
  dates?: string[];
  /** Held-out values `[column][step]` and the forecast's errors on them (with `holdout`). */
  actual?: number[][];
  metrics?: { mae: number; rmse: number; smape: number };
  warnings: string[];
}

function rowsOf(forecasts: Forecast[], dates: string[] | undefined, actual: number[][] | undefined): ForecastRow[] {
  const main = forecasts[0]!;
  return main.columns.flatMap((column, c) =>
    main.mean[c]!.map((mean, h) => ({
      column,
      step: h + 1,
      ...(dates?.[h] !== undefined ? { date: dates[h] } : {}),
      mean,
      intervals: Object.fromEntries(forecasts.filter((f) => f.lower && f.upper && f.level).map((f) => [String(Math.round(f.level! * 100)), [f.lower![c]![h]!, f.upper![c]![h]!] as [number, number]])),
      ...(actual?.[c]?.[h] !== undefined ? { actual: actual[c]![h]! } : {}),
    })),
  );
}

/**
 * Forecasts `horizon` steps of a CSV series (see the module comment).
 *
 * @throws BadInputError for a file that is not a series, a holdout longer than the series, or a panel file.
 */
export async function forecastCsv(csv: string, o: ForecastCsvOptions): Promise<ForecastCsvResult> {
  const fc = await import('@seqlab/forecast');
  const read = await readForecastData('forecast', csv, o);
  if (!read.series) throw new BadInputError('forecast: a panel file is forecast with a saved global model (forecastPanelCsv)');
  const series = read.series;
  const n = fc.seriesLength(series);
  if (o.holdout && n <= o.horizon) throw new BadInputError(`holdout: the series has ${n} rows, not enough to hold out ${o.horizon}`);
  const train = o.holdout ? fc.sliceSeries(series, 0, n - o.horizon) : series;
  const request = {
    horizon: o.horizon,
    ...(o.bounds ? { bounds: o.bounds } : {}),
    levels: o.levels,
    hints: { season: o.season, lookback: o.lookback, epochs: o.epochs, seed: o.seed },
    ...(o.onEpoch ? { onEpoch: o.onEpoch } : {}),
  };
  const base = await pipeline('forecast', o.load ?? o.model ?? 'auto');
  // A saved model forecasts from the rows before the holdout (or the whole file); a kind is fitted on them.
  const model = o.load ? base : await base.fit(train, request);
  try {
    // A saved model scored on rows it was fitted or calibrated on looks better than it is.
    const overlap = o.load && o.holdout ? fc.holdoutOverlap(base.forecaster!, series.dates?.[n - o.horizon]) : undefined;
    const result = await model.run(o.load ? train : undefined, request);
    const actual = o.holdout ? series.values.map((v) => Array.from(v.subarray(n - o.horizon))) : undefined;
    const main = result.forecasts[0]!;
    const metrics = actual ? { mae: fc.mae(actual, main.mean), rmse: fc.rmse(actual, main.mean), smape: fc.smape(actual, main.mean) } : undefined;
    const dates = main.dates ?? (o.holdout && series.dates ? series.dates.slice(n - o.horizon).map((d) => d.toISOString()) : undefined);
    if (o.save) await model.save(o.save);
    const warnings = [...(result.warning ? [result.warning] : []), ...(overlap ? [overlap] : [])];
    return { result, train, ...(series.read ? { read: series.read } : {}), rows: rowsOf(result.forecasts, dates, actual), ...(dates ? { dates } : {}), ...(actual ? { actual, metrics } : {}), warnings };
  } finally {
    model.dispose();
  }
}

/** Options of {@link forecastPanelCsv}. */
export interface ForecastPanelCsvOptions extends ForecastReadOptions {
  horizon: number;
  /** The saved global model's directory. */
  load: string;
  levels: number[];
  /** Only these series (ids). */
  series?: string[];
  /** Series the model was not fitted on: fit their smoothing here, or refuse them. */
  newSeries?: 'fit' | 'error';
  bounds?: ForecastBounds;
}

/** What {@link forecastPanelCsv} returns: the panel read, the forecasts and their long-format rows and CSV. */
export interface ForecastPanelCsvResult {
  panel: PanelSeries[];
  result: PanelForecastResult;
  rows: PanelForecastRow[];
  csv: string;
}

/**
 * Forecasts every series of a panel file (`idColumn` or `layout: 'wide'`) with a saved global model.
 *
 * @throws BadInputError for a per-series model's directory, or series the model refuses.
 */
export async function forecastPanelCsv(csv: string, o: ForecastPanelCsvOptions): Promise<ForecastPanelCsvResult> {
  const fc = await import('@seqlab/forecast');
  const read = await readForecastData('forecast', csv, o);
  if (!read.panel) throw new BadInputError('forecast: give a panel (idColumn, or layout wide)');
  const model = await pipeline('forecast', o.load);
  try {
    if (!model.global) {
      throw new BadInputError(`${o.load} holds a per-series forecaster (${model.kind}); --id-col/--wide need a global model (train one with \`seqlab train forecaster --model es-hybrid --id-col/--wide\`)`);
    }
    const result = await model.runPanel(read.panel, {
      horizon: o.horizon,
      levels: o.levels,
      ...(o.series ? { series: o.series } : {}),
      newSeries: o.newSeries ?? 'fit',
      ...(o.bounds ? { bounds: o.bounds } : {}),
    });
    return { panel: read.panel, result, rows: fc.panelForecastRows(result), csv: fc.panelForecastCsv(result) };
  } finally {
    model.dispose();
  }
}
