import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { ForecastInputError } from '../errors.js';
import { isIrregular, type TimeSeries } from './series.js';

/** What to do with empty / `NA` / `NaN` cells. */
export type MissingPolicy = 'error' | 'ffill' | 'linear';

/** Options of {@link readCsvSeries}. */
export interface ReadCsvOptions {
  /**
   * Name of the date column. Default: the first column if its first cell parses as a date,
   * otherwise no dates. Pass `false` to read every column as a value column.
   */
  dateColumn?: string | false;
  /** Value columns to keep, in this order. Default: every column except the date column. */
  targets?: string[];
  /**
   * Missing cells (empty, `NA`, `NaN`, `null`): `'error'` (default) names the first one;
   * `'ffill'` repeats the last seen value (leading gaps take the first value); `'linear'`
   * interpolates between neighbours (edges repeat the nearest value).
   */
  missing?: MissingPolicy;
  /** Field delimiter. Default `,`. */
  delimiter?: string;
}

const MISSING = new Set(['', 'na', 'nan', 'null', 'n/a', '?']);

/**
 * Reads a CSV file (or CSV text, when the argument contains a newline) into a
 * {@link TimeSeries}: an optional date column plus numeric columns.
 *
 * Errors name the file, column and row (1-based data row and file line) of the first bad cell.
 *
 * @example
 * ```ts
 * const s = readCsvSeries('data/ett/ETTh1.csv', { targets: ['OT'] });
 * ```
 */
export function readCsvSeries(pathOrText: string, options: ReadCsvOptions = {}): TimeSeries {
  const { text, source } = readCsvSource(pathOrText);
  const missing = options.missing ?? 'error';
  if (!['error', 'ffill', 'linear'].includes(missing)) {
    throw new ForecastInputError(`missing must be 'error', 'ffill' or 'linear', got "${String(missing)}"`);
  }
  let rows: string[][];
  try {
    rows = parse(text, { delimiter: options.delimiter ?? ',', skip_empty_lines: true, trim: true, relax_column_count: false, bom: true });
  } catch (err) {
    throw new ForecastInputError(`${source}: malformed CSV (${(err as Error).message})`);
  }
  if (rows.length < 2) throw new ForecastInputError(`${source}: needs a header row and at least one data row`);
  const header = rows[0]!;
  checkHeader(header, source);
  const data = rows.slice(1);

  let dateIdx = -1;
  if (typeof options.dateColumn === 'string') {
    dateIdx = header.indexOf(options.dateColumn);
    if (dateIdx < 0) throw new ForecastInputError(`${source}: date column "${options.dateColumn}" not found; columns are ${header.join(', ')}`);
  } else if (options.dateColumn !== false) {
    const first = data[0]![0]!;
    if (Number.isNaN(Number(first)) && parseDate(first) !== undefined) dateIdx = 0;
  }
  const targetNames = options.targets ?? header.filter((_, i) => i !== dateIdx);
  if (targetNames.length === 0) throw new ForecastInputError(`${source}: no value columns`);
  const targetIdx = targetNames.map((name) => {
    const i = header.indexOf(name);
    if (i < 0) throw new ForecastInputError(`${source}: column "${name}" not found; columns are ${header.join(', ')}`);
    if (i === dateIdx) throw new ForecastInputError(`${source}: column "${name}" is the date column`);
    return i;
  });

  const n = data.length;
  const values = targetIdx.map(() => new Float64Array(n));
  const dates: Date[] | undefined = dateIdx >= 0 ? new Array<Date>(n) : undefined;
  for (let r = 0; r < n; r++) {
    const row = data[r]!;
    if (dates) {
      const d = parseDate(row[dateIdx]!);
      if (d === undefined) throw new ForecastInputError(`${source}: column "${header[dateIdx]}" row ${r + 1} (line ${r + 2}): "${row[dateIdx]}" is not a date`);
      dates[r] = d;
    }
    for (let c = 0; c < targetIdx.length; c++) {
      const cell = row[targetIdx[c]!]!;
      if (MISSING.has(cell.toLowerCase())) {
        if (missing === 'error') {
          throw new ForecastInputError(`${source}: column "${targetNames[c]}" row ${r + 1} (line ${r + 2}) is missing; pass missing: 'ffill' or 'linear' to fill it`);
        }
        values[c]![r] = Number.NaN;
        continue;
      }
      const v = Number(cell);
      if (!Number.isFinite(v)) {
        throw new ForecastInputError(`${source}: column "${targetNames[c]}" row ${r + 1} (line ${r + 2}): "${cell}" is not a number`);
      }
      values[c]![r] = v;
    }
  }
  if (dates) {
    for (let r = 1; r < n; r++) {
      if (dates[r]!.getTime() <= dates[r - 1]!.getTime()) {
        throw new ForecastInputError(`${source}: dates must increase; row ${r + 1} (line ${r + 2}) is not after the row before it`);
      }
    }
  }
  values.forEach((v, c) => fillMissing(v, missing, `${source}: column "${targetNames[c]}"`));
  return { columns: targetNames, values, dates, irregular: dates ? isIrregular(dates) : false };
}

/**
 * Refuses a header row that is really data (every cell a number or a date: the file has no
 * header, and its first row would silently become column names) and duplicate column names
 * (one of the two columns could never be selected).
 */
function checkHeader(header: string[], source: string): void {
  const looksLikeData = (cell: string) => cell !== '' && (Number.isFinite(Number(cell)) || parseDate(cell) !== undefined);
  if (header.every(looksLikeData)) {
    const shown = header.slice(0, 3).map((c) => `"${c}"`).join(', ');
    throw new ForecastInputError(`${source}: the first row looks like data (${shown}${header.length > 3 ? ', ...' : ''}), not a header; add a header row naming the columns (e.g. date,value)`);
  }
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined) {
      throw new ForecastInputError(`${source}: column name "${name}" appears twice in the header (columns ${first + 1} and ${i + 1}); column names must be unique`);
    }
    seen.set(name, i);
  });
}

/** Fills NaNs in place by the given policy. */
export function fillMissing(v: Float64Array, policy: MissingPolicy, what = 'series'): void {
  const n = v.length;
  let firstValid = -1;
  for (let i = 0; i < n; i++) if (!Number.isNaN(v[i]!)) { firstValid = i; break; }
  if (firstValid < 0) {
    if (n === 0) return;
    throw new ForecastInputError(`${what} has no values at all`);
  }
  if (policy === 'error') {
    for (let i = 0; i < n; i++) if (Number.isNaN(v[i]!)) throw new ForecastInputError(`${what} row ${i + 1} is missing`);
    return;
  }
  for (let i = 0; i < firstValid; i++) v[i] = v[firstValid]!;
  let last = firstValid;
  for (let i = firstValid + 1; i < n; i++) {
    if (Number.isNaN(v[i]!)) continue;
    if (i - last > 1) {
      for (let j = last + 1; j < i; j++) {
        v[j] = policy === 'ffill' ? v[last]! : v[last]! + ((v[i]! - v[last]!) * (j - last)) / (i - last);
      }
    }
    last = i;
  }
  for (let j = last + 1; j < n; j++) v[j] = v[last]!;
}

const ISO_LIKE = /^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$/;

/**
 * Parses a timestamp. `YYYY-MM[-DD[ HH:MM[:SS]]]` is read as UTC so results do not depend on
 * the machine's time zone; anything else goes through `Date.parse`.
 */
export function parseDate(text: string): Date | undefined {
  const m = ISO_LIKE.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, ms] = m;
    const t = Date.UTC(+y!, +mo! - 1, d ? +d : 1, h ? +h : 0, mi ? +mi : 0, s ? +s : 0, ms ? Number(`0.${ms}`) * 1000 : 0);
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  if (!/\d/.test(text)) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * Reads a "one series per row" CSV (the M4 competition layout: an id cell, then the values,
 * rows of different lengths padded with empty cells). Returns id -> values in file order.
 *
 * @example
 * ```ts
 * const train = readCsvRows('data/m4/Hourly-train.csv'); // Map { 'H1' => [605, 586, ...], ... }
 * ```
 */
export function readCsvRows(pathOrText: string, options: { header?: boolean } = {}): Map<string, number[]> {
  const { text, source } = readCsvSource(pathOrText);
  let rows: string[][];
  try {
    rows = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    throw new ForecastInputError(`${source}: malformed CSV (${(err as Error).message})`);
  }
  const out = new Map<string, number[]>();
  rows.slice(options.header === false ? 0 : 1).forEach((row, r) => {
    const id = row[0]!;
    const values: number[] = [];
    let ended = false;
    for (let c = 1; c < row.length; c++) {
      const cell = row[c]!;
      if (cell === '') {
        ended = true;
        continue;
      }
      const v = Number(cell);
      if (ended || !Number.isFinite(v)) {
        throw new ForecastInputError(`${source}: series "${id}" (row ${r + 1}) cell ${c + 1}: "${cell}" ${ended ? 'follows an empty cell' : 'is not a number'}`);
      }
      values.push(v);
    }
    if (out.has(id)) throw new ForecastInputError(`${source}: series id "${id}" appears twice`);
    out.set(id, values);
  });
  return out;
}

/** The text of a CSV file, or the argument itself when it already is CSV text (has a newline). */
function readCsvSource(pathOrText: string): { text: string; source: string } {
  if (pathOrText.includes('\n')) return { text: pathOrText, source: 'CSV text' };
  try {
    return { text: readFileSync(pathOrText, 'utf8'), source: pathOrText };
  } catch (err) {
    throw new ForecastInputError(`cannot read CSV file ${pathOrText}: ${(err as Error).message}`);
  }
}
