/**
 * What forecasting trainers and evaluators read: a CSV path (one series, or a panel by id
 * column or one series per row), a series in memory, or a panel in memory; and the shared
 * scoring of a fitted forecaster on a range of rows.
 */
import { BadInputError } from '@seqlab/core';
import type { CsvEncoding, DuplicatePolicy, Forecaster, MissingPolicy, PanelSeries, TimeSeries } from '@seqlab/forecast';

/** One series of a panel given in memory. */
export interface PanelInput {
  id: string;
  values: ArrayLike<number>;
  /** ISO dates (or Dates) of the values, when known. */
  dates?: ReadonlyArray<string | Date>;
}

/**
 * Forecasting data: a CSV file path, the values of one series, a `TimeSeries`
 * (`createSeries`), or a panel of many series (`{ id, values, dates? }[]` or `PanelSeries[]`).
 */
export type ForecastData = string | ArrayLike<number> | TimeSeries | ReadonlyArray<PanelInput | PanelSeries>;

/** How a CSV file is read (ignored for data in memory). */
export interface ForecastReadOptions {
  /** Date column (default: the first column when it holds dates). */
  dateColumn?: string;
  /** Value columns to forecast (default: every non-date column). */
  columns?: string[];
  /** Missing cells: refuse (default), carry forward, or interpolate. */
  missing?: MissingPolicy;
  /** Date format such as `DD/MM/YYYY` (default: ISO, day/month order detected). */
  dateFormat?: string;
  /** Rows repeating a timestamp. Default `'error'`. */
  duplicates?: DuplicatePolicy;
  /** Field delimiter, or `'auto'` (default). */
  delimiter?: string;
  encoding?: CsvEncoding;
  /** A panel in one long file: the column naming each row's series. */
  idColumn?: string;
  /** `'wide'`: a panel with one series per row (an id, then the values; the M4 layout). */
  layout?: 'long' | 'wide';
}

/** The keys of {@link ForecastReadOptions}, for option checks. */
export const FORECAST_READ_KEYS = ['dateColumn', 'columns', 'missing', 'dateFormat', 'duplicates', 'delimiter', 'encoding', 'idColumn', 'layout'] as const;

/** Data read: one series, or a panel. */
export type ReadForecastData = { series: TimeSeries; panel?: undefined; source: string } | { series?: undefined; panel: PanelSeries[]; source: string };

function isPanelArray(data: unknown): data is ReadonlyArray<PanelInput | PanelSeries> {
  return Array.isArray(data) && data.length > 0 && typeof data[0] === 'object' && data[0] !== null && 'id' in data[0];
}

/**
 * Reads forecasting data as {@link ForecastData} says.
 *
 * @throws BadInputError naming the option or the series at fault.
 */
export async function readForecastData(what: string, data: ForecastData, o: ForecastReadOptions): Promise<ReadForecastData> {
  const fc = await import('@seqlab/forecast');
  if (o.idColumn !== undefined && o.layout === 'wide') throw new BadInputError(`${what}: use either idColumn (a long file) or layout 'wide' (one series per row), not both`);
  if (typeof data === 'string') {
    const read = { dateColumn: o.dateColumn, targets: o.columns, missing: o.missing, dateFormat: o.dateFormat, duplicates: o.duplicates, delimiter: o.delimiter, encoding: o.encoding };
    if (o.layout === 'wide') return { panel: fc.readWideCsv(data, { delimiter: o.delimiter, encoding: o.encoding }), source: data };
    if (o.idColumn !== undefined) return { panel: fc.readCsvPanel(data, { ...read, idColumn: o.idColumn }), source: data };
    return { series: fc.readCsvSeries(data, read), source: data };
  }
  if (isPanelArray(data)) {
    const panel = data.map((p, i) => {
      if (typeof p.id !== 'string' || p.id === '') throw new BadInputError(`${what}: panel series ${i} needs a non-empty string id`);
      if ('series' in p) return p;
      if (!p.values || typeof p.values.length !== 'number') throw new BadInputError(`${what}: panel series "${p.id}" needs values (an array of numbers)`);
      return { id: p.id, series: fc.createSeries({ [p.id]: p.values }, p.dates) };
    });
    return { panel, source: `${panel.length} series in memory` };
  }
  if (Array.isArray(data) || ArrayBuffer.isView(data)) return { series: fc.createSeries({ value: data as ArrayLike<number> }), source: 'values in memory' };
  if (data !== null && typeof data === 'object' && 'values' in data && 'columns' in data) {
    fc.validateSeries(data, `${what}: series`);
    return { series: data, source: 'series in memory' };
  }
  throw new BadInputError(`${what}: data must be a CSV path, an array of numbers, a TimeSeries or a panel ({ id, values }[]); got ${data === null ? 'null' : typeof data}`);
}

/** Errors of forecasts over a range of rows. */
export interface RangeScore {
  rows: number;
  /** Forecast origins, `horizon` rows apart. */
  windows: number;
  mae: number;
  rmse: number;
  smape: number;
  /** Share of actual values inside the 90% intervals, when the model has intervals. */
  coverage90?: number;
}

/**
 * Errors of `model`'s forecasts from origins `from`, `from + horizon`, ... (each from the rows
 * before it) of rows `[from, to)`, in the data's units. Undefined when no window fits.
 */
export async function scoreRange(model: Forecaster, series: TimeSeries, from: number, to: number, horizon: number): Promise<RangeScore | undefined> {
  const fc = await import('@seqlab/forecast');
  const origins: number[] = [];
  for (let origin = from; origin + horizon <= to; origin += horizon) origins.push(origin);
  if (origins.length === 0) return undefined;
  const actual: number[][] = [];
  const predicted: number[][] = [];
  const lower: number[][] = [];
  const upper: number[][] = [];
  for (const origin of origins) {
    const f = await model.predict(horizon, { history: fc.sliceSeries(series, 0, origin), level: model.calibrated ? 0.9 : null });
    series.values.forEach((v, c) => {
      actual.push(Array.from(v.subarray(origin, origin + horizon)));
      predicted.push(f.mean[c]!);
      if (f.lower && f.upper) {
        lower.push(f.lower[c]!);
        upper.push(f.upper[c]!);
      }
    });
  }
  return {
    rows: to - from,
    windows: origins.length,
    mae: fc.mae(actual, predicted),
    rmse: fc.rmse(actual, predicted),
    smape: fc.smape(actual, predicted),
    ...(lower.length ? { coverage90: fc.coverage(actual, lower, upper) } : {}),
  };
}
