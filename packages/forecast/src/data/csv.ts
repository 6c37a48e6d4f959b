import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { ForecastInputError } from '../errors.js';
import { chooseDateParser, looksLikeDate, parseIsoDate, type DateFormat } from './dates.js';
import { resolveDuplicateDates, type DuplicatePolicy } from './duplicates.js';
import { isIrregular, type TimeSeries } from './series.js';
import { decodeCsvBytes, detectDelimiter, parseCsvNumber, type CsvEncoding, type CsvReadReport } from './sniff.js';

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
  /** Field delimiter, or `'auto'` (default): comma, semicolon, tab or pipe, whichever the first lines agree on. */
  delimiter?: string;
  /**
   * Date format of the date column (`'DD/MM/YYYY'`, `'MM/DD/YYYY HH:mm'`, `'iso'`, ...; see
   * `DateFormat`). Default: ISO dates, and `03/04/2020`-like dates in the one day/month order
   * their values allow; a column that fits both orders is refused, naming its rows.
   */
  dateFormat?: DateFormat;
  /** Rows repeating the previous row's timestamp: `'error'` (default, names them), `'first'`, `'last'`, `'mean'`. */
  duplicates?: DuplicatePolicy;
  /** Text encoding of the file: `'auto'` (default: byte-order mark, else UTF-8 when valid, else Latin-1). */
  encoding?: CsvEncoding;
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
  const { text, source, encoding } = readCsvSource(pathOrText, options.encoding);
  const missing = options.missing ?? 'error';
  if (!['error', 'ffill', 'linear'].includes(missing)) {
    throw new ForecastInputError(`missing must be 'error', 'ffill' or 'linear', got "${String(missing)}"`);
  }
  const delimiterDetected = options.delimiter === undefined || options.delimiter === 'auto';
  const delimiter = delimiterDetected ? detectDelimiter(text) : options.delimiter!;
  let rows: string[][];
  try {
    rows = parse(text, { delimiter, skip_empty_lines: true, trim: true, relax_column_count: false, bom: true });
  } catch (err) {
    throw new ForecastInputError(`${source}: malformed CSV (${(err as Error).message})`);
  }
  if (rows.length < 2) throw new ForecastInputError(`${source}: needs a header row and at least one data row`);
  const header = rows[0]!;
  checkHeader(header, source);
  const data = rows.slice(1);
  return seriesFromTable(header, data, options, { source, encoding, delimiter, delimiterDetected, line: (r) => r + 2 });
}

/** Where the rows of a table came from, for errors and the read report. */
export interface TableSource {
  /** File name or `CSV text`. */
  source: string;
  encoding: string;
  delimiter: string;
  delimiterDetected: boolean;
  /** File line of data row `r` (0-based). */
  line(r: number): number;
  /** Prefix of row labels (`series "A" `) when the rows are one series of a panel. */
  label?: string;
}

/**
 * A {@link TimeSeries} from a parsed table (header and data rows), as {@link readCsvSeries}
 * reads it; shared with the panel readers.
 * @internal
 */
export function seriesFromTable(header: string[], data: string[][], options: ReadCsvOptions, from: TableSource): TimeSeries {
  const { source, delimiter } = from;
  const missing = options.missing ?? 'error';
  const rowLabel = (r: number) => `row ${r + 1} (line ${from.line(r)})`;

  let dateIdx = -1;
  if (typeof options.dateColumn === 'string') {
    dateIdx = header.indexOf(options.dateColumn);
    if (dateIdx < 0) throw new ForecastInputError(`${source}: date column "${options.dateColumn}" not found; columns are ${header.join(', ')}`);
  } else if (options.dateColumn !== false) {
    const first = data[0]![0]!;
    if (looksLikeDate(first)) dateIdx = 0;
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
  let values: Float64Array[] = targetIdx.map(() => new Float64Array(n));
  let dates: Date[] | undefined = dateIdx >= 0 ? new Array<Date>(n) : undefined;
  const dateWhere = `${source}: ${from.label ?? ''}column "${header[dateIdx]}"`;
  const dateParser = dates ? chooseDateParser(data.map((row) => row[dateIdx]!), options.dateFormat, dateWhere, rowLabel) : undefined;
  for (let r = 0; r < n; r++) {
    const row = data[r]!;
    if (dates) {
      const d = dateParser!.parse(row[dateIdx]!);
      if (d === undefined) {
        throw new ForecastInputError(`${dateWhere} ${rowLabel(r)}: "${row[dateIdx]}" is not a date${dateParser!.source === 'default' ? '' : ` in the format ${dateParser!.format}`}`);
      }
      dates[r] = d;
    }
    for (let c = 0; c < targetIdx.length; c++) {
      const cell = row[targetIdx[c]!]!;
      if (MISSING.has(cell.toLowerCase())) {
        if (missing === 'error') {
          throw new ForecastInputError(`${source}: ${from.label ?? ''}column "${targetNames[c]}" ${rowLabel(r)} is missing; pass missing: 'ffill' or 'linear' to fill it`);
        }
        values[c]![r] = Number.NaN;
        continue;
      }
      const v = parseCsvNumber(cell, delimiter);
      if (!Number.isFinite(v)) {
        throw new ForecastInputError(`${source}: ${from.label ?? ''}column "${targetNames[c]}" ${rowLabel(r)}: "${cell}" is not a number`);
      }
      values[c]![r] = v;
    }
  }
  let duplicateRows: number | undefined;
  if (dates) {
    const resolved = resolveDuplicateDates(dates, values, options.duplicates ?? 'error', dateWhere, rowLabel);
    ({ dates, values } = resolved);
    duplicateRows = resolved.merged;
  }
  values.forEach((v, c) => fillMissing(v, missing, `${source}: ${from.label ?? ''}column "${targetNames[c]}"`));
  const read: CsvReadReport = {
    encoding: from.encoding,
    delimiter,
    delimiterDetected: from.delimiterDetected,
    ...(dateParser ? { dateFormat: dateParser.format } : {}),
    ...(duplicateRows ? { duplicateRows } : {}),
  };
  return { columns: targetNames, values, dates, irregular: dates ? isIrregular(dates) : false, read };
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

/**
 * Parses a timestamp. `YYYY-MM[-DD[ HH:MM[:SS]]]` is read as UTC so results do not depend on
 * the machine's time zone; other unambiguous forms go through `Date.parse`; `03/04/2020`-like
 * dates give undefined (their day/month order needs the whole column, see `readCsvSeries`).
 */
export function parseDate(text: string): Date | undefined {
  return parseIsoDate(text);
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

/** The text of a CSV file (decoded by `encoding`), or the argument itself when it already is CSV text (has a newline). */
export function readCsvSource(pathOrText: string, encoding: CsvEncoding = 'auto'): { text: string; source: string; encoding: string } {
  if (pathOrText.includes('\n')) return { text: pathOrText, source: 'CSV text', encoding: 'text' };
  let bytes: Buffer;
  try {
    bytes = readFileSync(pathOrText);
  } catch (err) {
    throw new ForecastInputError(`cannot read CSV file ${pathOrText}: ${(err as Error).message}`);
  }
  const decoded = decodeCsvBytes(bytes, encoding);
  // CSV text has no NUL bytes (UTF-16 text decoded as such has none either); binary files almost always do.
  if (decoded.text.includes('\u0000')) throw new ForecastInputError(`${pathOrText}: looks like a binary file (it contains NUL bytes); give a CSV text file with a header row`);
  return { ...decoded, source: pathOrText };
}
