import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { BadInputError, NotFoundError } from '@seqlab/core';
import {
  delimitedParseOptions,
  LABEL_COLUMN_NAMES,
  longestColumn,
  looksLikeHeader,
  parseLabelCell,
  pickColumn,
  sniffDelimiter,
  TEXT_COLUMN_NAMES,
  type LabelledFormat,
  type ReadLabelledOptions,
} from './data.js';

/** Options of {@link openLabelledTexts}: those of `readLabelledTexts`, with `multiLabel` decided up front. */
export interface StreamLabelledOptions extends Omit<ReadLabelledOptions, 'multiLabel'> {
  /**
   * Whether a label cell may hold a list (`["a","b"]` or `a|b`). A stream cannot look ahead
   * for a list the way `readLabelledTexts`' `'auto'` does, so the caller decides (a model's
   * problem says it). Default false.
   */
  multiLabel?: boolean;
}

/** Rows of a labelled file, in file order. */
export interface LabelledTextBatch {
  texts: string[];
  labels: string[][];
  /** 1-based file line of each row. */
  lines: number[];
}

/** A labelled file opened for streaming: what was detected, and its rows in batches. */
export interface LabelledTextStream {
  file: string;
  format: LabelledFormat;
  textColumn: string;
  labelColumn: string;
  columns: string[];
  header: boolean;
  /**
   * The rows, `batchSize` at a time, read as they are consumed: memory holds one batch and the
   * reader's buffer, whatever the file's size. Call once.
   */
  batches(batchSize: number): AsyncGenerator<LabelledTextBatch>;
  /** Closes the file without reading on (after looking at the columns only); `batches` closes it itself. */
  close(): Promise<void>;
}

/** Rows buffered before the header and the columns are decided (the in-memory reader looks at as many). */
const LOOKAHEAD = 201;
/** Bytes sniffed for the encoding and the format. */
const SNIFF_BYTES = 1 << 20;

interface RawRecord {
  cells: string[] | Record<string, unknown>;
  line: number;
}

/**
 * Opens a labelled-text file (CSV, TSV or JSONL) for streaming: the format, delimiter, header
 * and columns are detected from its first rows as `readLabelledTexts` detects them, and the
 * rows then arrive in batches without the file ever being in memory (evaluation and batch
 * classification of files of any size). Errors name the file, the line and the column.
 *
 * @example
 * ```ts
 * const stream = await openLabelledTexts('test.csv');
 * for await (const batch of stream.batches(256)) score(batch.texts, batch.labels);
 * ```
 * @throws NotFoundError when the file or a named column does not exist.
 * @throws BadInputError for malformed rows, empty cells or undetectable columns.
 */
export async function openLabelledTexts(file: string, options: StreamLabelledOptions = {}): Promise<LabelledTextStream> {
  const { encoding, head } = await sniff(file);
  const ext = path.extname(file).toLowerCase();
  const format: LabelledFormat =
    options.format ?? (ext === '.csv' ? 'csv' : ext === '.tsv' || ext === '.tab' ? 'tsv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : sniffFormat(head));
  if (!['csv', 'tsv', 'jsonl'].includes(format)) throw new BadInputError(`${file}: format must be csv, tsv or jsonl, got ${JSON.stringify(format)}`);
  const records = format === 'jsonl' ? jsonlRecords(file, encoding) : delimitedRecords(file, encoding, format, options.delimiter ?? (format === 'tsv' ? '\t' : sniffDelimiter(head)));
  const buffered: RawRecord[] = [];
  let layout: Layout;
  try {
    for (let next = await records.next(); !next.done; next = await records.next()) {
      buffered.push(next.value);
      if (buffered.length >= LOOKAHEAD) break;
    }
    layout = decideLayout(file, format, buffered, options);
  } catch (err) {
    await records.return(undefined);
    throw err;
  }
  return {
    file,
    format,
    ...layout.columnsInfo,
    batches: (batchSize) => rowBatches(file, layout, buffered, records, batchSize, options.multiLabel ?? false),
    close: async () => void (await records.return(undefined)),
  };
}

/** The file's encoding (UTF-8, else Latin-1, as `decodeText` decides) and its first bytes decoded. */
async function sniff(file: string): Promise<{ encoding: 'utf-8' | 'latin1'; head: string }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${file}: file not found`);
    throw new BadInputError(`${file}: cannot be read (${(err as Error).message})`);
  }
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
    const bytes = buf.subarray(0, bytesRead);
    try {
      // `stream: true`: a character cut at the end of the sample is not an error.
      return { encoding: 'utf-8', head: new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true }).replace(/^\uFEFF/, '') };
    } catch {
      return { encoding: 'latin1', head: new TextDecoder('latin1').decode(bytes) };
    }
  } finally {
    await handle.close();
  }
}

function sniffFormat(head: string): LabelledFormat {
  const first = head.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  if (first.trimStart().startsWith('{')) return 'jsonl';
  return first.includes('\t') ? 'tsv' : 'csv';
}

/** The file's text, decoded chunk by chunk (past the sniffed part a bad UTF-8 byte becomes U+FFFD). */
async function* decodedChunks(file: string, encoding: 'utf-8' | 'latin1'): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding);
  let first = true;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 })) {
    let text = decoder.decode(chunk as Buffer, { stream: true });
    if (first) text = text.replace(/^\uFEFF/, '');
    first = false;
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

async function* delimitedRecords(file: string, encoding: 'utf-8' | 'latin1', format: 'csv' | 'tsv', delimiter: string): AsyncGenerator<RawRecord> {
  const parser = Readable.from(decodedChunks(file, encoding)).pipe(
    parse(delimitedParseOptions(format, delimiter)),
  );
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) yield { cells: r.record, line: r.info.lines };
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new BadInputError(`${file}${line ? `: line ${line}` : ''}: malformed ${format.toUpperCase()} (${(err as Error).message.replace(/^Invalid Record Length: /, '')})`);
  } finally {
    parser.destroy();
  }
}

async function* jsonlRecords(file: string, encoding: 'utf-8' | 'latin1'): AsyncGenerator<RawRecord> {
  const lines = createInterface({ input: Readable.from(decodedChunks(file, encoding)), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (err) {
        throw new BadInputError(`${file}: line ${n}: not valid JSON (${(err as Error).message})`);
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadInputError(`${file}: line ${n}: expected a JSON object per line`);
      yield { cells: v as Record<string, unknown>, line: n };
    }
  } finally {
    lines.close();
  }
}

interface Layout {
  columnsInfo: { textColumn: string; labelColumn: string; columns: string[]; header: boolean };
  /** Whether the first buffered record is the header (then it is skipped). */
  skipFirst: boolean;
  /** A record as a row keyed by column. */
  toRow: (r: RawRecord) => Record<string, unknown>;
}

/** Header, columns and the text and label columns, from the first rows. */
function decideLayout(file: string, format: LabelledFormat, buffered: RawRecord[], options: StreamLabelledOptions): Layout {
  if (buffered.length === 0) throw new BadInputError(`${file}: empty file`);
  let columns: string[];
  let header: boolean;
  if (format === 'jsonl') {
    columns = [...new Set(buffered.flatMap((r) => Object.keys(r.cells)))];
    header = true;
  } else {
    const first = (buffered[0]!.cells as string[]).map((c) => c.trim());
    header = options.header ?? looksLikeHeader(first, buffered.slice(1, 101).map((r) => r.cells as string[]));
    columns = header ? first : first.map((_, i) => `column${i + 1}`);
    const seen = new Set<string>();
    for (const c of header ? columns : []) {
      if (seen.has(c.toLowerCase())) throw new BadInputError(`${file}: line ${buffered[0]!.line}: column "${c}" appears twice in the header`);
      seen.add(c.toLowerCase());
    }
  }
  const skipFirst = format !== 'jsonl' && header;
  const toRow = (r: RawRecord) => (Array.isArray(r.cells) ? Object.fromEntries(columns.map((c, i) => [c, (r.cells as string[])[i]])) : r.cells);
  const sample = buffered.slice(skipFirst ? 1 : 0).map(toRow);
  if (sample.length === 0) throw new BadInputError(`${file}: no data rows`);
  const textColumn = pickColumn(columns, options.textColumn, TEXT_COLUMN_NAMES, 'text', '--text-col', file, () => longestColumn(columns, sample, [options.labelColumn]));
  const labelColumn = pickColumn(columns, options.labelColumn, LABEL_COLUMN_NAMES, 'label', '--label-col', file, () =>
    columns.length === 2 ? columns.find((c) => c !== textColumn) : undefined,
  );
  if (textColumn === labelColumn) throw new BadInputError(`${file}: the text and label columns are both "${textColumn}"; columns are ${columns.join(', ')}`);
  return { columnsInfo: { textColumn, labelColumn, columns, header }, skipFirst, toRow };
}

async function* rowBatches(
  file: string,
  layout: Layout,
  buffered: RawRecord[],
  rest: AsyncGenerator<RawRecord>,
  batchSize: number,
  multiLabel: boolean,
): AsyncGenerator<LabelledTextBatch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new BadInputError(`batchSize: expected a positive integer, got ${JSON.stringify(batchSize)}`);
  const { textColumn, labelColumn } = layout.columnsInfo;
  let batch: LabelledTextBatch = { texts: [], labels: [], lines: [] };
  const add = (r: RawRecord): void => {
    const row = layout.toRow(r);
    const where = `${file}: line ${r.line}`;
    const text = row[textColumn];
    if (typeof text !== 'string') throw new BadInputError(`${where}, column "${textColumn}": expected text, got ${JSON.stringify(text)}`);
    if (text.trim() === '') throw new BadInputError(`${where}, column "${textColumn}": empty text`);
    batch.texts.push(text.trim());
    batch.labels.push(parseLabelCell(row[labelColumn], multiLabel, `${where}, column "${labelColumn}"`).labels);
    batch.lines.push(r.line);
  };
  try {
    for (const r of buffered.slice(layout.skipFirst ? 1 : 0)) add(r);
    // The look-ahead rows are not needed again.
    buffered.length = 0;
    for (;;) {
      while (batch.texts.length >= batchSize) {
        yield { texts: batch.texts.slice(0, batchSize), labels: batch.labels.slice(0, batchSize), lines: batch.lines.slice(0, batchSize) };
        batch = { texts: batch.texts.slice(batchSize), labels: batch.labels.slice(batchSize), lines: batch.lines.slice(batchSize) };
      }
      const next = await rest.next();
      if (next.done) break;
      add(next.value);
    }
    if (batch.texts.length > 0) yield batch;
  } finally {
    await rest.return(undefined);
  }
}
