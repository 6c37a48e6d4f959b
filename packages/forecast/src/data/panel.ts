import { parse } from 'csv-parse/sync';
import { ForecastInputError } from '../errors.js';
import { readCsvSource, seriesFromTable, type ReadCsvOptions } from './csv.js';
import type { TimeSeries } from './series.js';
import { looksLikeDate } from './dates.js';
import { detectDelimiter, parseCsvNumber, type CsvEncoding } from './sniff.js';

/** One series of a panel (many series of the same kind), by id. */
export interface PanelSeries {
  id: string;
  series: TimeSeries;
}

/** Options of {@link readCsvPanel}: those of `readCsvSeries` plus the id column. */
export interface ReadPanelOptions extends ReadCsvOptions {
  /** Column naming the series each row belongs to. */
  idColumn: string;
}

/**
 * Reads a long ("tidy") multi-series CSV file: one row per series and timestamp, with an id
 * column (`id,date,value`). Rows of a series need not be next to each other; series come back in
 * the order of their first row. Every series is read as `readCsvSeries` reads a file (date
 * format, duplicate policy, missing cells), and errors name the series, row and file line.
 *
 * @example
 * ```ts
 * const panel = readCsvPanel('sales.csv', { idColumn: 'store', targets: ['units'] });
 * ```
 */
export function readCsvPanel(pathOrText: string, options: ReadPanelOptions): PanelSeries[] {
  const { text, source, encoding } = readCsvSource(pathOrText, options.encoding);
  const delimiterDetected = options.delimiter === undefined || options.delimiter === 'auto';
  const delimiter = delimiterDetected ? detectDelimiter(text) : options.delimiter!;
  let rows: string[][];
  try {
    rows = parse(text, { delimiter, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    throw new ForecastInputError(`${source}: malformed CSV (${(err as Error).message})`);
  }
  if (rows.length < 2) throw new ForecastInputError(`${source}: needs a header row and at least one data row`);
  const header = rows[0]!;
  const idIdx = header.indexOf(options.idColumn);
  if (idIdx < 0) throw new ForecastInputError(`${source}: id column "${options.idColumn}" not found; columns are ${header.join(', ')}`);
  // Line numbers follow data rows as parsed (empty lines skipped), which is what users see in most files.
  const groups = new Map<string, { rows: string[][]; lines: number[] }>();
  rows.slice(1).forEach((row, r) => {
    const id = row[idIdx]!;
    if (id === '') throw new ForecastInputError(`${source}: id column "${options.idColumn}" is empty at row ${r + 1} (line ${r + 2})`);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { rows: [], lines: [] }));
    g.rows.push(row);
    g.lines.push(r + 2);
  });
  const dateColumn = options.dateColumn;
  const nonValue = new Set([idIdx, ...(typeof dateColumn === 'string' ? [header.indexOf(dateColumn)] : [])]);
  const out: PanelSeries[] = [];
  for (const [id, g] of groups) {
    // Without explicit targets every column but the id (and date) column is a value column.
    const dateIdx = typeof dateColumn === 'string' ? header.indexOf(dateColumn) : dateColumn === false ? -1 : firstDateColumn(header, g.rows[0]!, idIdx);
    const targets = options.targets ?? header.filter((_, i) => !nonValue.has(i) && i !== dateIdx);
    const series = seriesFromTable(
      header,
      g.rows,
      { ...options, dateColumn: dateIdx >= 0 ? header[dateIdx]! : false, targets },
      { source, encoding, delimiter, delimiterDetected, line: (r) => g.lines[r]!, label: `series "${id}" ` },
    );
    out.push({ id, series });
  }
  return out;
}

/** The date column of a tidy file when none is named: the first column, other than the id, whose cell is a date. */
function firstDateColumn(header: string[], row: string[], idIdx: number): number {
  for (let i = 0; i < header.length; i++) {
    if (i === idIdx) continue;
    if (looksLikeDate(row[i]!)) return i;
  }
  return -1;
}

/** Options of {@link readWideCsv}. */
export interface ReadWideOptions {
  /** Whether the first row is a header (default true). */
  header?: boolean;
  /** Field delimiter, or `'auto'` (default). */
  delimiter?: string;
  encoding?: CsvEncoding;
  /** Name given to each series' one column. Default `value`. */
  column?: string;
}

/**
 * Reads a wide file with one series per row (the M4 layout: an id, then the values, shorter
 * series padded with empty cells) as a panel. Series have no dates.
 *
 * @example
 * ```ts
 * const m4 = readWideCsv('data/m4/Hourly-train.csv'); // [{ id: 'H1', series }, ...]
 * ```
 */
export function readWideCsv(pathOrText: string, options: ReadWideOptions = {}): PanelSeries[] {
  const { text, source } = readCsvSource(pathOrText, options.encoding);
  const delimiter = options.delimiter === undefined || options.delimiter === 'auto' ? detectDelimiter(text) : options.delimiter;
  let rows: string[][];
  try {
    rows = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (err) {
    throw new ForecastInputError(`${source}: malformed CSV (${(err as Error).message})`);
  }
  const column = options.column ?? 'value';
  const skip = options.header === false ? 0 : 1;
  const seen = new Set<string>();
  return rows.slice(skip).map((row, r) => {
    const id = row[0]!;
    const where = `${source}: series "${id}" (row ${r + 1}, line ${r + 1 + skip})`;
    if (seen.has(id)) throw new ForecastInputError(`${where}: id appears twice`);
    seen.add(id);
    let end = row.length;
    while (end > 1 && row[end - 1] === '') end--;
    if (end <= 1) throw new ForecastInputError(`${where}: no values`);
    const values = new Float64Array(end - 1);
    for (let c = 1; c < end; c++) {
      const cell = row[c]!;
      const v = cell === '' ? Number.NaN : parseCsvNumber(cell, delimiter);
      if (!Number.isFinite(v)) throw new ForecastInputError(`${where} cell ${c + 1}: "${cell}" ${cell === '' ? 'is empty between values' : 'is not a number'}`);
      values[c - 1] = v;
    }
    return { id, series: { columns: [column], values: [values], irregular: false } };
  });
}
