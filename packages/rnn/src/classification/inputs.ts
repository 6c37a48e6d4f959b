/**
 * What every text classifier takes, kept apart from the recurrent classifier so that the linear
 * kinds (and `@seqlab/rnn/linear`) load without TensorFlow.js.
 */
import type { CleanTextOptions } from '@seqlab/tokenize';
import { RnnArgumentError } from '../errors.js';

/** Texts with their labels (one or more per text). */
export interface LabelledRows {
  texts: string[];
  labels: string[][];
}

/** The cleaning classifiers apply unless told otherwise: markup stripped, URLs replaced. */
export const DEFAULT_CLEAN: Readonly<CleanTextOptions> = Object.freeze({ markup: true, urls: 'xxurl' });

/** Checks the texts argument of a classifier's `predict`. */
export function checkTexts(texts: unknown): asserts texts is string[] {
  if (!Array.isArray(texts)) throw new RnnArgumentError(`predict: texts must be an array of strings, got ${typeof texts}`);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw new RnnArgumentError(`predict: texts[${i}] must be a string, got ${typeof t}`);
  });
}
