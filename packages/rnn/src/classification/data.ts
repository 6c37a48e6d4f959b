import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { BadInputError, NotFoundError, SeededRandom } from '@seqlab/core';

/** File formats {@link readLabelledTexts} reads. */
export type LabelledFormat = 'csv' | 'tsv' | 'jsonl';

/** Column names tried, in order, when no text column is named. */
export const TEXT_COLUMN_NAMES: readonly string[] = Object.freeze(['text', 'sentence', 'review', 'question', 'content', 'document', 'message', 'body']);

/** Column names tried, in order, when no label column is named. */
export const LABEL_COLUMN_NAMES: readonly string[] = Object.freeze(['label', 'labels', 'class', 'category', 'target', 'sentiment', 'tags']);

/** Options of {@link readLabelledTexts} / {@link parseLabelledTexts}. */
export interface ReadLabelledOptions {
  /** Text column (case-insensitive). Default: the first of {@link TEXT_COLUMN_NAMES} present, else the column with the longest cells. */
  textColumn?: string;
  /** Label column (case-insensitive). Default: the first of {@link LABEL_COLUMN_NAMES} present, else the other column of a two-column file. */
  labelColumn?: string;
  /** Default: from the file extension (`.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`), else sniffed from the content. */
  format?: LabelledFormat;
  /** Field delimiter of csv/tsv. Default: `\t` for tsv; for csv the most frequent of `,` `;` `|` `\t` in the first lines. */
  delimiter?: string;
  /** Whether the first row names the columns. Default: detected (a row of known column names, or of short distinct cells unlike the data below). */
  header?: boolean;
  /**
   * Multi-label rows: a label cell holding a JSON list (`["a","b"]`, or an array in JSONL) or
   * `a|b`. Default `'auto'`: multi-label when any row has a list.
   */
  multiLabel?: boolean | 'auto';
}

/** Texts with string labels, as read from a file. */
export interface LabelledTexts {
  texts: string[];
  /** The labels of each row (one per row unless {@link multiLabel}). */
  labels: string[][];
  /** Every label seen, sorted. */
  classes: string[];
  multiLabel: boolean;
  textColumn: string;
  labelColumn: string;
  format: LabelledFormat;
  /** Every column of the file (generated `column1`, `column2`, ... when it has no header). */
  columns: string[];
  /** Whether the first row named the columns (given, detected, or JSONL's keys). */
  header: boolean;
  /** 1-based file line of each row (for messages). */
  lines: number[];
}

/** Decodes UTF-8, or Latin-1 when the bytes are not valid UTF-8 (older corpora such as TREC). */
export function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

/**
 * Reads a labelled-text file: CSV, TSV or JSONL, delimiter and header detected, text and label
 * columns named or detected, labels as any strings (multi-label as a JSON list or `a|b`).
 * Errors name the file, the line and the column.
 *
 * @example
 * ```ts
 * const data = readLabelledTexts('spam.csv');            // columns detected
 * console.log(data.classes, data.texts.length);
 * ```
 * @throws NotFoundError when the file or a named column does not exist (listing the columns).
 * @throws BadInputError for malformed rows, empty cells or undetectable columns.
 */
export function readLabelledTexts(file: string, options: ReadLabelledOptions = {}): LabelledTexts {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${file}: file not found`);
    throw new BadInputError(`${file}: cannot be read (${(err as Error).message})`);
  }
  const ext = path.extname(file).toLowerCase();
  const format = options.format ?? (ext === '.csv' ? 'csv' : ext === '.tsv' || ext === '.tab' ? 'tsv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined);
  return parseLabelledTexts(decodeText(bytes), { ...options, ...(format ? { format } : {}) }, file);
}

/** {@link readLabelledTexts} on text in memory; `source` names it in messages. */
export function parseLabelledTexts(content: string, options: ReadLabelledOptions = {}, source = 'input'): LabelledTexts {
  const format = options.format ?? sniffFormat(content);
  if (!['csv', 'tsv', 'jsonl'].includes(format)) throw new BadInputError(`${source}: format must be csv, tsv or jsonl, got ${JSON.stringify(format)}`);
  const table = format === 'jsonl' ? readJsonl(content, source) : readDelimited(content, format, options, source);
  const { columns, rows, lines, header } = table;
  if (rows.length === 0) throw new BadInputError(`${source}: no data rows`);
  const textColumn = pickColumn(columns, options.textColumn, TEXT_COLUMN_NAMES, 'text', '--text-col', source, () => longestColumn(columns, rows, [options.labelColumn]));
  const labelColumn = pickColumn(columns, options.labelColumn, LABEL_COLUMN_NAMES, 'label', '--label-col', source, () =>
    columns.length === 2 ? columns.find((c) => c !== textColumn) : undefined,
  );
  if (textColumn === labelColumn) throw new BadInputError(`${source}: the text and label columns are both "${textColumn}"; columns are ${columns.join(', ')}`);
  const multiLabel = options.multiLabel ?? 'auto';
  const texts: string[] = [];
  const labels: string[][] = [];
  let anyList = false;
  rows.forEach((row, r) => {
    const where = `${source}: line ${lines[r]}`;
    const text = row[textColumn];
    if (typeof text !== 'string') throw new BadInputError(`${where}, column "${textColumn}": expected text, got ${JSON.stringify(text)}`);
    if (text.trim() === '') throw new BadInputError(`${where}, column "${textColumn}": empty text`);
    const parsed = parseLabelCell(row[labelColumn], multiLabel !== false, `${where}, column "${labelColumn}"`);
    if (parsed.list) anyList = true;
    texts.push(text.trim());
    labels.push(parsed.labels);
  });
  const isMulti = multiLabel === true || (multiLabel === 'auto' && anyList);
  if (!isMulti) {
    // Without multi-label, a cell that looked like a list is one label after all.
    rows.forEach((row, r) => {
      if (labels[r]!.length !== 1) labels[r] = [String(row[labelColumn]).trim()];
    });
  }
  const classes = [...new Set(labels.flat())].sort();
  return { texts, labels, classes, multiLabel: isMulti, textColumn, labelColumn, format, columns, header, lines };
}

function sniffFormat(content: string): LabelledFormat {
  const first = content.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  if (first.trimStart().startsWith('{')) return 'jsonl';
  return first.includes('\t') ? 'tsv' : 'csv';
}

/** The most frequent of `,` `;` `|` `\t` in the first lines (shared with the streaming reader). */
export function sniffDelimiter(content: string): string {
  const sample = content.split(/\r?\n/).slice(0, 20).join('\n');
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '|', '\t']) {
    const count = sample.split(d).length - 1;
    if (count > bestCount) [best, bestCount] = [d, count];
  }
  return best;
}

interface Table {
  columns: string[];
  rows: Record<string, unknown>[];
  lines: number[];
  header: boolean;
}

/**
 * csv-parse settings shared by the in-memory and the streaming readers, so both read a file the
 * same way: TSV corpora (GLUE, SMS spam) do not quote fields and use bare quotes inside texts.
 */
export function delimitedParseOptions(format: 'csv' | 'tsv', delimiter: string) {
  return { delimiter, quote: format === 'tsv' ? false : '"', relax_quotes: true, skip_empty_lines: true, relax_column_count: false, info: true } as const;
}

function readDelimited(content: string, format: 'csv' | 'tsv', options: ReadLabelledOptions, source: string): Table {
  const delimiter = options.delimiter ?? (format === 'tsv' ? '\t' : sniffDelimiter(content));
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(content, delimitedParseOptions(format, delimiter)) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new BadInputError(`${source}${line ? `: line ${line}` : ''}: malformed ${format.toUpperCase()} (${(err as Error).message.replace(/^Invalid Record Length: /, '')})`);
  }
  if (records.length === 0) throw new BadInputError(`${source}: empty file`);
  const first = records[0]!.record.map((c) => c.trim());
  const header = options.header ?? looksLikeHeader(first, records.slice(1, 101).map((r) => r.record));
  const columns = header ? first : first.map((_, i) => `column${i + 1}`);
  if (header) {
    const seen = new Set<string>();
    for (const c of columns) {
      if (seen.has(c.toLowerCase())) throw new BadInputError(`${source}: line ${records[0]!.info.lines}: column "${c}" appears twice in the header`);
      seen.add(c.toLowerCase());
    }
  }
  const body = header ? records.slice(1) : records;
  return {
    header,
    columns,
    rows: body.map((r) => Object.fromEntries(columns.map((c, i) => [c, r.record[i]]))),
    lines: body.map((r) => r.info.lines),
  };
}

/** A first row of known column names, or of short distinct cells none of which recur below. */
export function looksLikeHeader(first: string[], below: string[][]): boolean {
  const known = new Set([...TEXT_COLUMN_NAMES, ...LABEL_COLUMN_NAMES]);
  if (first.some((c) => known.has(c.toLowerCase()))) return true;
  if (below.length === 0) return true;
  if (new Set(first).size !== first.length || first.some((c) => c === '' || c.length > 40)) return false;
  // A header cell is not one of its column's values (a label "ham" recurs; a name "v1" does not),
  // and the text column's cells below are longer than its name.
  return first.every((c, i) => !below.some((r) => r[i] === c));
}

function readJsonl(content: string, source: string): Table {
  const rows: Record<string, unknown>[] = [];
  const lines: number[] = [];
  const columns: string[] = [];
  content.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new BadInputError(`${source}: line ${i + 1}: not valid JSON (${(err as Error).message})`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadInputError(`${source}: line ${i + 1}: expected a JSON object per line`);
    for (const k of Object.keys(v)) if (!columns.includes(k)) columns.push(k);
    rows.push(v as Record<string, unknown>);
    lines.push(i + 1);
  });
  return { columns, rows, lines, header: true };
}

/** The named column (case-insensitive), else the first preferred name present, else `fallback`'s guess; errors list the columns. */
export function pickColumn(
  columns: string[],
  named: string | undefined,
  preferred: readonly string[],
  what: string,
  flag: string,
  source: string,
  fallback: () => string | undefined,
): string {
  if (named !== undefined) {
    const hit = columns.find((c) => c === named) ?? columns.find((c) => c.toLowerCase() === named.toLowerCase());
    if (!hit) throw new NotFoundError(`${source}: ${what} column "${named}" not found; columns are ${columns.join(', ')} (use ${flag})`, { details: { columns } });
    return hit;
  }
  for (const p of preferred) {
    const hit = columns.find((c) => c.toLowerCase() === p);
    if (hit) return hit;
  }
  const guess = fallback();
  if (guess) return guess;
  throw new BadInputError(`${source}: cannot tell which column holds the ${what}; columns are ${columns.join(', ')} (use ${flag})`, { details: { columns } });
}

/** The column whose cells are longest on average (the text, in a file without known names). */
export function longestColumn(columns: string[], rows: Record<string, unknown>[], exclude: (string | undefined)[]): string | undefined {
  let best: string | undefined;
  let bestLength = -1;
  for (const c of columns) {
    if (exclude.some((e) => e !== undefined && e.toLowerCase() === c.toLowerCase())) continue;
    let total = 0;
    for (const r of rows.slice(0, 200)) total += typeof r[c] === 'string' ? (r[c] as string).length : 0;
    if (total > bestLength) [best, bestLength] = [c, total];
  }
  return best;
}

/** One label cell: a label, or with `allowList` a JSON list or `a|b`; `where` names it in errors. */
export function parseLabelCell(cell: unknown, allowList: boolean, where: string): { labels: string[]; list: boolean } {
  const fromArray = (a: unknown[]) => {
    const out = a.map((x) => (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? String(x).trim() : ''));
    if (out.some((x) => x === '')) throw new BadInputError(`${where}: every label of a list must be a non-empty string or number, got ${JSON.stringify(a)}`);
    return { labels: [...new Set(out)], list: true };
  };
  if (Array.isArray(cell)) return fromArray(cell);
  if (typeof cell === 'number' || typeof cell === 'boolean') return { labels: [String(cell)], list: false };
  if (typeof cell !== 'string') throw new BadInputError(`${where}: expected a label, got ${JSON.stringify(cell)}`);
  const v = cell.trim();
  if (v === '') throw new BadInputError(`${where}: empty label`);
  if (allowList && v.startsWith('[') && v.endsWith(']')) {
    try {
      const a = JSON.parse(v) as unknown;
      if (Array.isArray(a)) return fromArray(a);
    } catch {
      // Not JSON: an ordinary label that happens to be bracketed.
    }
  }
  if (allowList && v.includes('|')) return fromArray(v.split('|').map((x) => x.trim()).filter((x) => x !== ''));
  return { labels: [v], list: false };
}

/** The stratum of a row: its label, or its sorted label set (multi-label). */
function stratum(labels: readonly string[]): string {
  return labels.length === 1 ? labels[0]! : [...labels].sort().join('\u0000');
}

/** Splits `total` into quotas proportional to `sizes` (largest remainder), each within [lo_i, hi_i]. */
function quotas(sizes: number[], total: number, lo: (s: number) => number, hi: (s: number) => number): number[] {
  const sum = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / sum);
  const q = exact.map((e, i) => Math.min(hi(sizes[i]!), Math.max(lo(sizes[i]!), Math.floor(e))));
  let left = total - q.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => i).sort((a, b) => exact[b]! - Math.floor(exact[b]!) - (exact[a]! - Math.floor(exact[a]!)) || a - b);
  for (let pass = 0; left > 0 && pass < 2; pass++) {
    for (const i of order) {
      if (left === 0) break;
      if (q[i]! < hi(sizes[i]!)) {
        q[i]!++;
        left--;
      }
    }
  }
  return q;
}

function groupRows(labels: readonly (readonly string[])[], seed: number | string, salt: string): { keys: string[]; groups: number[][] } {
  const byKey = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const k = stratum(l);
    (byKey.get(k) ?? byKey.set(k, []).get(k)!).push(i);
  });
  const keys = [...byKey.keys()].sort();
  const groups = keys.map((k) => {
    const rows = byKey.get(k)!;
    const perm = new SeededRandom(`${salt}:${seed}:${k}`).permutation(rows.length);
    return Array.from(perm, (p) => rows[p]!);
  });
  return { keys, groups };
}

/**
 * A seeded split that keeps every class's share in both parts (stratified by label, or by label
 * set for multi-label rows): `fraction` of the rows are held out, a class with one row stays in
 * training, and the same seed gives the same split. Returns row indices, each part in file order.
 */
export function stratifiedSplit(labels: readonly (readonly string[])[], fraction: number, seed: number | string = 1): { train: number[]; holdout: number[] } {
  if (!(fraction > 0 && fraction < 1)) throw new BadInputError(`validation fraction must be in (0, 1), got ${fraction}`);
  const { groups } = groupRows(labels, seed, 'split');
  const total = Math.max(1, Math.round(labels.length * fraction));
  const q = quotas(
    groups.map((g) => g.length),
    total,
    () => 0,
    (s) => (s > 1 ? s - 1 : 0),
  );
  const holdout: number[] = [];
  const train: number[] = [];
  groups.forEach((g, i) => {
    holdout.push(...g.slice(0, q[i]));
    train.push(...g.slice(q[i]));
  });
  return { train: train.sort((a, b) => a - b), holdout: holdout.sort((a, b) => a - b) };
}

/**
 * A seeded, stratified sample of `n` rows (`--limit`): every class keeps its share and, when `n`
 * allows, at least one row, so a file sorted by label does not give one class. Indices in file order.
 */
export function stratifiedSample(labels: readonly (readonly string[])[], n: number, seed: number | string = 1): number[] {
  if (!Number.isInteger(n) || n < 1) throw new BadInputError(`limit must be a positive integer, got ${n}`);
  if (n >= labels.length) return labels.map((_, i) => i);
  const { groups } = groupRows(labels, seed, 'sample');
  const atLeastOne = n >= groups.length;
  const q = quotas(
    groups.map((g) => g.length),
    n,
    () => (atLeastOne ? 1 : 0),
    (s) => s,
  );
  return groups.flatMap((g, i) => g.slice(0, q[i])).sort((a, b) => a - b);
}

/**
 * Per-class loss weights that undo class imbalance (`n / (k * count)`, scikit-learn's
 * "balanced"): a class with half the average count weighs 2. For multi-label rows a class's
 * count is the rows that carry it.
 */
export function classWeights(labels: readonly (readonly string[])[], classes: readonly string[]): number[] {
  const counts = new Map(classes.map((c) => [c, 0]));
  for (const row of labels) for (const l of row) if (counts.has(l)) counts.set(l, counts.get(l)! + 1);
  return classes.map((c) => {
    const n = counts.get(c)!;
    return n === 0 ? 0 : labels.length / (classes.length * n);
  });
}

/** Picks rows by index from labelled texts. */
export function selectRows(data: LabelledTexts, rows: readonly number[]): LabelledTexts {
  return { ...data, texts: rows.map((i) => data.texts[i]!), labels: rows.map((i) => data.labels[i]!), lines: rows.map((i) => data.lines[i]!) };
}
