import { BadInputError } from '@seqlab/core';
import { readRows } from './data.js';
import type { TextClassificationData, TextClassificationRow } from './options.js';

/** Rows split as `train('text-classification')` splits them when no `validation` is given. */
export interface HeldOutRows {
  train: TextClassificationRow[];
  validation: TextClassificationRow[];
}

/**
 * The stratified, seeded split `train('text-classification')` makes (`valSplit` of each class
 * held out) as rows, so a caller can hand the same validation rows to several `train()` calls
 * and to {@link ensembleOf}, and every model is chosen on one fixed held-out set.
 *
 * @throws BadInputError for bad rows or file, or a `valSplit` outside (0, 1).
 */
export async function holdOutRows(data: TextClassificationData, options: { valSplit?: number; seed?: number } = {}): Promise<HeldOutRows> {
  const valSplit = options.valSplit ?? 0.1;
  const seed = options.seed ?? 1;
  if (!(typeof valSplit === 'number' && valSplit > 0 && valSplit < 1)) throw new BadInputError(`valSplit: expected a number between 0 and 1 (exclusive), got ${JSON.stringify(options.valSplit)}`);
  if (!Number.isInteger(seed)) throw new BadInputError(`seed: expected an integer, got ${JSON.stringify(options.seed)}`);
  const read = await readRows(data, {}, 'data');
  const { stratifiedSplit } = await import('@seqlab/rnn');
  const split = stratifiedSplit(read.labels, valSplit, seed);
  const row = (i: number): TextClassificationRow => {
    const labels = read.labels[i]!;
    const r: TextClassificationRow = { text: read.texts[i]!, label: read.multiLabel ? [...labels] : labels[0]! };
    return read.fineLabels ? { ...r, fineLabel: read.fineLabels[i]! } : r;
  };
  return { train: split.train.map(row), validation: split.holdout.map(row) };
}
