/**
 * The part of `@seqlab/core` that does not load TensorFlow.js: errors, limits, task results,
 * model folders on disk (config.json, atomic writes, digests), cancellation and seeded random
 * streams. Import it as
 * `@seqlab/core/base` where start-up time matters (a CLI printing `--version`, a model listing):
 * loading TensorFlow.js and its wasm backend costs most of a second of CPU, and none of these
 * need it. `@seqlab/core` re-exports all of it.
 */
export {
  SeqlabError,
  BadInputError,
  NotFoundError,
  UnsupportedError,
  LimitExceededError,
  CancelledError,
  InternalError,
  isSeqlabError,
  SEQLAB_ERROR_CODES,
  type SeqlabErrorCode,
  type SeqlabErrorOptions,
} from './errors.js';
export { throwIfCancelled, cancellationCheckpoint } from './cancellation.js';
export { MAX_PROMPT_LENGTH } from './limits.js';
export { writeFileAtomic, writeJsonAtomic } from './io/atomic.js';
export { ModelFileError } from './io/errors.js';
export {
  readModelConfig,
  writeModelConfig,
  nameModelInError,
  MODEL_CONFIG,
  MODEL_CONFIG_VERSION,
  TASK_NAMES,
  type ModelConfig,
  type ModelConfigHeader,
  type TaskName,
} from './io/model-config.js';
export { modelDigest, findModelByDigest, DIGEST_PREFIX } from './io/digest.js';
export {
  SENTIMENT_LABELS,
  sentimentFromPositive,
  classificationResult,
  classScores,
  CLASSIFICATION_PROBLEMS,
  type ClassificationProblem,
  type ClassScore,
  type ClassifyOptions,
  type SharedTokens,
  sharedTokens,
  type TextClassificationResult,
  type TextClassificationPipeline,
  type Pipeline,
  type AttributedToken,
  type TokenContribution,
  type LabelTokens,
  type SentimentResult,
  type SentimentPipeline,
} from './tasks.js';
export { setGlobalSeed, SeededRandom, type SeededRandomState } from './random.js';
export { withSideWork, runSideWork, type SideWork } from './side-work.js';
export { releaseMemory, releaseMemoryEvery } from './memory.js';
