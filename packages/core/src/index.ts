/**
 * @packageDocumentation
 * The TensorFlow.js runtime that the other seqlab packages build on: backend choice, kernels
 * that training needs, model files on disk, seeded randomness.
 */
export { initBackend, getBackendInfo, type BackendInfo, type BackendName, type InitBackendOptions } from './backend.js';
export {
  registerTrainingKernels,
  restoreStockKernels,
  unsortedSegmentSumValues,
  conv2dBackpropFilterValues,
  type KernelPatchReport,
} from './kernels/index.js';
export { installChainedOps } from './chained-ops.js';
export { writeFileAtomic, writeJsonAtomic } from './io/atomic.js';
export { ModelFileError } from './io/errors.js';
export { fileSystem, registerFileRouter, resolveModelPath, sharedWeightsInUse, MODEL_JSON, SHARED_WEIGHTS_FILE, type SharedWeightsOptions } from './io/file-system.js';
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
export { saveModel, loadLayersModel, loadGraphModel, type SaveModelOptions } from './io/models.js';
export { quantizeArtifacts, toFloat16Bits, type WeightPrecision } from './io/quantize.js';
export { modelDigest, findModelByDigest, DIGEST_PREFIX } from './io/digest.js';
export { setGlobalSeed, SeededRandom } from './random.js';
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
export * from './kernels/recurrent/index.js';
export {
  SENTIMENT_LABELS,
  sentimentFromPositive,
  classificationResult,
  classScores,
  CLASSIFICATION_PROBLEMS,
  type ClassificationProblem,
  type ClassScore,
  type ClassifyOptions,
  type TextClassificationResult,
  type TextClassificationPipeline,
  type Pipeline,
  type AttributedToken,
  type TokenContribution,
  type LabelTokens,
  type SentimentResult,
  type SentimentPipeline,
} from './tasks.js';
export {
  fit,
  EarlyStopping,
  ReduceLROnPlateau,
  LearningRateScheduler,
  TimeBudget,
  ModelCheckpoint,
  LambdaCallback,
  type ModelCheckpointOptions,
  type Callback,
  type FitContext,
  type FitOptions,
  type FitResult,
  type TrainingLoop,
  type BatchResult,
  type BatchLogs,
  type EpochLogs,
  type WeightAccess,
  type StopReason,
  type EarlyStoppingOptions,
} from './training/fit.js';
