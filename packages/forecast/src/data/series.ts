import { ForecastInputError } from '../errors.js';

/**
 * A regularly or irregularly sampled, possibly multivariate time series. Values are stored
 * per column (`values[c][t]`), which is the layout every model here reads.
 */
export interface TimeSeries {
  /** Timestamps, one per row, when the source had a date column. */
  dates?: Date[];
  /** Column names, one per entry of `values`. */
  columns: string[];
  /** One array per column, all of the same length. */
  values: Float64Array[];
  /** True when the gaps between consecutive dates are not all equal. */
  irregular: boolean;
  /** How the series was read from a CSV file (encoding, delimiter, date format, merged duplicates), when it was. */
  read?: import('./sniff.js').CsvReadReport;
}

/** Number of rows of a series. */
export function seriesLength(series: TimeSeries): number {
  return series.values[0]?.length ?? 0;
}

/**
 * Builds a {@link TimeSeries} from plain arrays.
 *
 * @example
 * ```ts
 * const s = createSeries({ sales: [1, 2, 3] });
 * ```
 */
export function createSeries(
  columns: Record<string, ArrayLike<number>> | ArrayLike<number>,
  dates?: ReadonlyArray<Date | string>,
): TimeSeries {
  const entries: Array<[string, ArrayLike<number>]> =
    isArrayLike(columns) ? [['value', columns]] : Object.entries(columns);
  if (entries.length === 0) throw new ForecastInputError('createSeries: at least one column is required');
  const n = entries[0]![1].length;
  const values = entries.map(([name, v]) => {
    if (v.length !== n) throw new ForecastInputError(`createSeries: column "${name}" has ${v.length} rows, expected ${n}`);
    return Float64Array.from(v);
  });
  let parsed: Date[] | undefined;
  if (dates) {
    if (dates.length !== n) throw new ForecastInputError(`createSeries: ${dates.length} dates for ${n} rows`);
    parsed = dates.map((d, i) => {
      const date = d instanceof Date ? d : new Date(d);
      if (Number.isNaN(date.getTime())) throw new ForecastInputError(`createSeries: date at row ${i} is invalid ("${String(d)}")`);
      return date;
    });
  }
  return { columns: entries.map(([k]) => k), values, dates: parsed, irregular: parsed ? isIrregular(parsed) : false };
}

function isArrayLike(x: unknown): x is ArrayLike<number> {
  return Array.isArray(x) || ArrayBuffer.isView(x);
}

/** Whether consecutive timestamps are unequally spaced (calendar months count as regular). */
export function isIrregular(dates: readonly Date[]): boolean {
  if (dates.length < 3) return false;
  const gap = dates[1]!.getTime() - dates[0]!.getTime();
  let equal = true;
  for (let i = 2; i < dates.length && equal; i++) equal = dates[i]!.getTime() - dates[i - 1]!.getTime() === gap;
  if (equal) return gap <= 0;
  // Monthly data has gaps of 28-31 days: regular in calendar terms.
  for (let i = 1; i < dates.length; i++) {
    const a = dates[i - 1]!;
    const b = dates[i]!;
    const months = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
    if (months !== 1 || b.getUTCDate() !== a.getUTCDate()) return true;
  }
  return false;
}

/** Rows `[start, end)` of a series (views, not copies). */
export function sliceSeries(series: TimeSeries, start: number, end: number = seriesLength(series)): TimeSeries {
  const n = seriesLength(series);
  const s = Math.max(0, start < 0 ? n + start : start);
  const e = Math.min(n, end < 0 ? n + end : end);
  return {
    columns: series.columns,
    values: series.values.map((v) => v.subarray(s, Math.max(s, e))),
    dates: series.dates?.slice(s, Math.max(s, e)),
    irregular: series.irregular,
  };
}

/** Keeps only the named columns, in the given order. */
export function selectColumns(series: TimeSeries, columns: readonly string[]): TimeSeries {
  const values = columns.map((c) => {
    const i = series.columns.indexOf(c);
    if (i < 0) throw new ForecastInputError(`column "${c}" not found; columns are ${series.columns.join(', ')}`);
    return series.values[i]!;
  });
  return { ...series, columns: [...columns], values };
}

/**
 * Checks a series before fitting: every value finite, at least `minLength` rows. Errors name
 * the column and row.
 */
export function validateSeries(series: TimeSeries, what: string, minLength = 1): void {
  if (!series || !Array.isArray(series.values) || !Array.isArray(series.columns)) {
    throw new ForecastInputError(`${what} must be a TimeSeries ({ columns, values })`);
  }
  if (series.values.length === 0) throw new ForecastInputError(`${what} has no columns`);
  if (series.values.length !== series.columns.length) {
    throw new ForecastInputError(`${what} has ${series.values.length} value arrays for ${series.columns.length} column names`);
  }
  const n = seriesLength(series);
  series.values.forEach((v, c) => {
    if (v.length !== n) throw new ForecastInputError(`${what}: column "${series.columns[c]}" has ${v.length} rows, expected ${n}`);
    for (let t = 0; t < n; t++) {
      if (!Number.isFinite(v[t]!)) {
        throw new ForecastInputError(`${what}: column "${series.columns[c]}" row ${t} is ${v[t]} (use the missing-value policy 'ffill' or 'linear')`);
      }
    }
  });
  if (n < minLength) throw new ForecastInputError(`${what} has ${n} rows; at least ${minLength} are needed`);
}
