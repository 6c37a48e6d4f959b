/**
 * @packageDocumentation
 * The linear text classifiers (`tfidf-lr`, `fasttext`) alone: this entry's module graph never
 * imports TensorFlow.js, so a program that only scores or trains these kinds starts in a fraction
 * of the time the package root takes (which loads the runtime and the recurrent layers).
 *
 * @example
 * ```ts
 * import { loadLinearTextClassifier } from '@seqlab/rnn/linear';
 * const model = await loadLinearTextClassifier('runs/reviews-tfidf');
 * const [result] = await model.predict(['a gorgeous, witty film']);
 * ```
 */
export {
  LinearTextClassifier,
  fitLinearTextClassifier,
  loadLinearTextClassifier,
  packClassifierTexts,
  TFIDF_L2_CANDIDATES,
  TFIDF_L2_PATIENCE,
  FASTTEXT_TOKEN_EPOCHS,
  FASTTEXT_CHAR_NGRAM_MAX_TOKENS,
  fastTextDefaults,
  type LinearKind,
  type FastTextOptions,
  type TfidfLrOptions,
  type FitLinearClassifierOptions,
  type LinearClassifierDirConfig,
  type LinearFitProgress,
} from './classification/linear.js';
export { repackRows, packedTokenCounts, type PackedCorpus } from './classification/sparse.js';
export { DEFAULT_CLEAN, type LabelledRows } from './classification/inputs.js';
export { classificationMetrics, type ClassMetrics, type TextClassificationMetrics } from './classification/metrics.js';
