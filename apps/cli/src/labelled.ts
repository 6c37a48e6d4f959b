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
 * Reads a header-ed TSV of texts and binary labels (GLUE SST-2 layout: `sentence<TAB>label`).
 * Labels may be 0/1 or negative/positive. Errors name the file, line and column.
 */
export function readLabelledTsv(file: string, textCol = 'sentence', labelCol = 'label'): LabelledTexts {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = lines[0]!.split('\t').map((h) => h.trim());
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
