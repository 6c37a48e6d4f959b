import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';

/** Texts with 0/1 labels read from a TSV file. */
export interface LabelledTexts {
  texts: string[];
  labels: number[];
}

/** Sentiment labels in id order, as the sentiment model format stores them. */
export const LABELS = ['negative', 'positive'] as const;

function parseLabel(cell: string): number | undefined {
  const v = cell.trim().toLowerCase();
  if (v === '0' || v === 'negative' || v === 'neg') return 0;
  if (v === '1' || v === 'positive' || v === 'pos') return 1;
  return undefined;
}

/**
 * A TSV without a header has a text and a label in its first row; taking those as column names
 * would only fail later with a confusing "column not found". Duplicate names are ambiguous.
 */
function checkHeader(file: string, header: string[], textCol: string, labelCol: string): void {
  if (!header.includes(textCol) && !header.includes(labelCol) && header.some((h) => parseLabel(h) !== undefined)) {
    throw new InputError(`${file}: the first row looks like data (a text and the label "${header.find((h) => parseLabel(h) !== undefined)}"), not a header; add a header row such as "${textCol}<TAB>${labelCol}"`);
  }
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new InputError(`${file}: column name "${name}" appears twice in the header; column names must be unique`);
    seen.add(name);
  }
}

/**
 * Reads a header-ed TSV of texts and binary labels (GLUE SST-2 layout: `sentence<TAB>label`).
 * Labels may be 0/1 or negative/positive. Errors name the file, line and column.
 */
export function readLabelledTsv(file: string, textCol = 'sentence', labelCol = 'label'): LabelledTexts {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = lines[0]!.split('\t').map((h) => h.trim());
  checkHeader(file, header, textCol, labelCol);
  const ti = header.indexOf(textCol);
  const li = header.indexOf(labelCol);
  if (ti < 0) throw new InputError(`${file}: text column "${textCol}" not found; columns are ${header.join(', ')} (use --text-col)`);
  if (li < 0) throw new InputError(`${file}: label column "${labelCol}" not found; columns are ${header.join(', ')} (use --label-col)`);
  const texts: string[] = [];
  const labels: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cols = line.split('\t');
    if (cols.length !== header.length) throw new InputError(`${file}: line ${i + 1} has ${cols.length} columns, the header has ${header.length}`);
    const label = parseLabel(cols[li]!);
    if (label === undefined) {
      throw new InputError(`${file}: line ${i + 1}, column "${labelCol}": "${cols[li]}" is not a binary label (0/1 or negative/positive)`);
    }
    texts.push(cols[ti]!.trim());
    labels.push(label);
  }
  if (texts.length === 0) throw new InputError(`${file}: no data rows`);
  return { texts, labels };
}
