/**
 * @packageDocumentation
 * The TensorFlow.js runtime that the other seqlab packages build on: backend choice, kernels
 * that training needs, model files on disk, seeded randomness.
 */
export * from './base.js';
export { initBackend, getBackendInfo, type BackendInfo, type BackendName, type InitBackendOptions } from './backend.js';
export {
  registerTrainingKernels,
  restoreStockKernels,
  unsortedSegmentSumValues,
  conv2dBackpropFilterValues,
  type KernelPatchReport,
} from './kernels/index.js';
export { installChainedOps } from './chained-ops.js';
export { fileSystem, registerFileRouter, resolveModelPath, sharedWeightsInUse, MODEL_JSON, SHARED_WEIGHTS_FILE, type SharedWeightsOptions } from './io/file-system.js';
export { saveModel, loadLayersModel, loadGraphModel, type SaveModelOptions } from './io/models.js';
export { quantizeArtifacts, toFloat16Bits, type WeightPrecision } from './io/quantize.js';
export * from './kernels/recurrent/index.js';
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
export { LazyAdam, supportsInPlaceUpdates, type LazyAdamOptions, type SparseRowGradient } from './training/lazy-adam.js';
export { LoopCheckpoint, type LoopCheckpointOptions, type LoopCheckpointState, type ResumedLoop } from './training/checkpoint.js';
