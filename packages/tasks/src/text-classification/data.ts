import { BadInputError, type ClassificationProblem } from '@seqlab/core';
import type { LabelledRows } from '@seqlab/rnn';
import type { TextClassificationData } from './options.js';

/** Labelled rows with where they came from (file columns, for messages and the report). */
export interface ReadRows extends LabelledRows {
  /** The file, or `rows` for data in memory. */
  source: string;
  textColumn: string;
  labelColumn: string;
  multiLabel: boolean;
  /** Whether a file's first row named the columns (always true for rows in memory). */
  header: boolean;
  columns: string[];
  /** Each row's `fineLabel`, when every row in memory has one. */
  fineLabels?: string[];
}

/** How a file is read: its columns (detected by default) and header row. */
export interface ReadOptions {
  textColumn?: string;
  labelColumn?: string;
  header?: boolean;
}

/**
 * Reads labelled texts from a file (CSV, TSV or JSONL, columns detected as rnn's
 * `readLabelledTexts` does) or checks rows in memory, naming the first bad row by index.
 *
 * @param what Names the argument in messages (`data`, `validation`).
 * @throws BadInputError for a bad row, an empty list or an unreadable file.
 */
export async function readRows(data: TextClassificationData | undefined, options: ReadOptions, what: string): Promise<ReadRows> {
  if (typeof data === 'string') return readFileRows(data, options);
  if (!Array.isArray(data)) throw new BadInputError(`${what}: expected a file path or an array of { text, label } rows, got ${data === null ? 'null' : typeof data}`);
  if (data.length === 0) throw new BadInputError(`${what}: no rows`);
  const texts: string[] = [];
  const labels: string[][] = [];
  const fineLabels: string[] = [];
  data.forEach((row, i) => {
    const r = row as { text?: unknown; label?: unknown; fineLabel?: unknown } | null;
    if (r === null || typeof r !== 'object') throw new BadInputError(`${what}[${i}]: expected an object { text, label }, got ${r === null ? 'null' : typeof r}`);
    if (typeof r.text !== 'string' || r.text.trim() === '') throw new BadInputError(`${what}[${i}].text: expected a non-empty string, got ${JSON.stringify(r.text) ?? 'undefined'}`);
    const ls = Array.isArray(r.label) ? r.label : [r.label];
    if (ls.length === 0 || ls.some((l) => typeof l !== 'string' || l.trim() === '')) {
      throw new BadInputError(`${what}[${i}].label: expected a non-empty string or a non-empty list of them, got ${JSON.stringify(r.label) ?? 'undefined'}`);
    }
    if (r.fineLabel !== undefined && (typeof r.fineLabel !== 'string' || r.fineLabel.trim() === '')) {
      throw new BadInputError(`${what}[${i}].fineLabel: expected a non-empty string, got ${JSON.stringify(r.fineLabel)}`);
    }
    texts.push(r.text);
    labels.push([...new Set((ls as string[]).map((l) => l.trim()))]);
    if (typeof r.fineLabel === 'string') fineLabels.push(r.fineLabel.trim());
  });
  const multiLabel = data.some((r) => Array.isArray((r as { label: unknown }).label));
  const read: ReadRows = { source: 'rows', texts, labels, textColumn: 'text', labelColumn: 'label', multiLabel, header: true, columns: ['text', 'label'] };
  // Fine labels are all or nothing: a head cannot learn from some rows' fine labels only.
  return fineLabels.length === texts.length ? { ...read, fineLabels } : read;
}

/** The rows a run trains and validates on, and what they are. */
export interface SplitRows {
  /** All rows after `limit` (what a refit learns from). */
  all: ReadRows;
  train: LabelledRows;
  validation: LabelledRows;
  /** Whether the validation rows came from the caller (then a refit has no held-out rows to add). */
  validationGiven: boolean;
  /** Where each row of `all` went when the validation rows were split off: `[0, i]` is `train` row i, `[1, i]` `validation` row i. */
  allRows?: Array<[0 | 1, number]>;
  classes: string[];
  problem: ClassificationProblem;
  /** The rows' `fineLabel`s, when the training and validation rows all carry one. */
  fineLabels?: { train: string[]; validation: string[] };
}

/**
 * Applies `limit` (a stratified, seeded sample: a file sorted by label still gives every class)
 * and splits off the validation rows (given, or a stratified `valSplit`).
 *
 * @throws BadInputError for one class only, or a validation label training never saw.
 */
export async function splitRows(
  read: ReadRows,
  validationData: TextClassificationData | undefined,
  o: { limit?: number; valSplit: number; seed: number; textColumn?: string; labelColumn?: string },
): Promise<SplitRows> {
  const rnn = await import('@seqlab/rnn');
  const pick = (rows: LabelledRows & { fineLabels?: string[] }, idx: readonly number[]): LabelledRows & { fineLabels?: string[] } => {
    const picked = { texts: idx.map((i) => rows.texts[i]!), labels: idx.map((i) => rows.labels[i]!) };
    return rows.fineLabels ? { ...picked, fineLabels: idx.map((i) => rows.fineLabels![i]!) } : picked;
  };
  const all: ReadRows = o.limit ? { ...read, ...pick(read, rnn.stratifiedSample(read.labels, o.limit, o.seed)) } : read;
  let train: LabelledRows & { fineLabels?: string[] };
  let validation: LabelledRows & { fineLabels?: string[] };
  let allRows: Array<[0 | 1, number]> | undefined;
  if (validationData !== undefined) {
    train = all;
    validation = await readRows(validationData, { textColumn: o.textColumn ?? read.textColumn, labelColumn: o.labelColumn ?? read.labelColumn }, 'validation');
  } else {
    const split = rnn.stratifiedSplit(all.labels, o.valSplit, o.seed);
    train = pick(all, split.train);
    validation = pick(all, split.holdout);
    allRows = new Array<[0 | 1, number]>(all.texts.length);
    split.train.forEach((a, i) => (allRows![a] = [0, i]));
    split.holdout.forEach((a, i) => (allRows![a] = [1, i]));
    // A row the split left out of both would leave a hole; the refit then tokenizes all rows itself.
    if (allRows.some((r) => r === undefined) || allRows.length !== all.texts.length) allRows = undefined;
  }
  const fineLabels = train.fineLabels && validation.fineLabels ? { train: train.fineLabels, validation: validation.fineLabels } : undefined;
  train = { texts: train.texts, labels: train.labels };
  validation = { texts: validation.texts, labels: validation.labels };
  const classes = [...new Set(train.labels.flat())].sort();
  if (classes.length < 2) throw new BadInputError(`data: the training rows have only one label (${classes[0]}); a classifier needs at least two`);
  const unknown = validation.labels.flat().find((l) => !classes.includes(l));
  if (unknown !== undefined) throw new BadInputError(`validation: label "${unknown}" does not occur in the training rows (classes: ${classes.join(', ')})`);
  const multiLabel = read.multiLabel || train.labels.some((l) => l.length !== 1);
  const problem: ClassificationProblem = multiLabel ? 'multi-label' : classes.length === 2 ? 'binary' : 'multi-class';
  return { all, train, validation, validationGiven: validationData !== undefined, ...(allRows ? { allRows } : {}), classes, problem, ...(fineLabels ? { fineLabels } : {}) };
}

/**
 * A labelled file read as a stream (columns and format detected as `readLabelledTexts` detects
 * them): memory holds the texts and labels, never the file's bytes, its decoded text and its
 * parsed table at once (three copies of a 350 MB corpus at the peak of reading it whole). A
 * label cell may hold a list; the data is multi-label when some row has other than one label.
 */
async function readFileRows(file: string, options: ReadOptions): Promise<ReadRows> {
  const { openLabelledTexts } = await import('@seqlab/rnn');
  const stream = await openLabelledTexts(file, {
    ...(options.textColumn ? { textColumn: options.textColumn } : {}),
    ...(options.labelColumn ? { labelColumn: options.labelColumn } : {}),
    ...(options.header !== undefined ? { header: options.header } : {}),
    multiLabel: true,
  });
  const texts: string[] = [];
  const labels: string[][] = [];
  for await (const batch of stream.batches(4096)) {
    for (const t of batch.texts) texts.push(t);
    for (const l of batch.labels) labels.push(l);
  }
  if (texts.length === 0) throw new BadInputError(`${file}: no data rows`);
  const multiLabel = labels.some((l) => l.length !== 1);
  return { source: file, texts, labels, textColumn: stream.textColumn, labelColumn: stream.labelColumn, multiLabel, header: stream.header, columns: stream.columns };
}
