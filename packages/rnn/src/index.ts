/**
 * @packageDocumentation
 * Recurrent and attention models for text on TensorFlow.js: layers, one-line builders, a training
 * loop that can be trusted (checkpoints, resume, early stopping that restores the best weights),
 * and text generation with streaming.
 */
import './setup.js';

export { RnnArgumentError } from './errors.js';
export { type CellType, defaultRecurrentImplementation } from './builders/cells.js';
export {
  FusedLSTM,
  FusedGRU,
  FusedSimpleRNN,
  fusedLstm,
  fusedGru,
  fusedSimpleRnn,
  setLoadedRecurrentImplementation,
  loadedRecurrentImplementation,
  type RecurrentImplementation,
  type FusedRecurrentArgs,
  type FusedLSTMArgs,
  type FusedGRUArgs,
  type FusedSimpleRNNArgs,
} from './layers/fused-recurrent.js';
export {
  languageModel,
  resolveLanguageModelOptions,
  type LanguageModelOptions,
  type LanguageModelConfig,
} from './builders/language-model.js';
export { arrayData, languageModelData, type Batch, type BatchSource, type ArrayDataOptions, type LanguageModelDataOptions } from './training/data.js';
export { negativeLogLikelihood, binaryCrossEntropy, type OutputKind } from './training/loss.js';
export { evaluate, detectOutputKind, type EvaluationResult } from './training/evaluate.js';
export {
  train,
  readTrainingState,
  type TrainOptions,
  type TrainResult,
  type TrainProgress,
  type EpochLog,
  type TrainingState,
  type MonitorName,
} from './training/train.js';
export { CharVocabulary, type CharVocabularyJSON } from './text/char-vocabulary.js';
export {
  samplingDistribution,
  applyRepetitionPenalty,
  drawIndex,
  type SamplingOptions,
} from './generation/sampling.js';
export { RecurrentStepper, type Stepper } from './generation/stepper.js';
export { CompiledModel, MAX_PROJECTION_TABLE_BYTES, type CompiledModelStats } from './inference/compiled-model.js';
export { CompiledStepper } from './inference/compiled-stepper.js';
export { TextGenerator, type GenerateOptions, type GenerateResult, type TokenCodec } from './generation/generator.js';
export { loadTextGenerator, saveTextGenerator, type LanguageModelDirConfig, type SaveTextGeneratorOptions } from './generation/load.js';
export { TextGenerationPipeline, loadTextGenerationPipeline, generateOptionsSchema, parseGenerateOptions } from './generation/task.js';
export { trainLanguageModel, scoreLanguageModel, type TrainLanguageModelOptions, type TrainLanguageModelResult, type LanguageModelScore, type LanguageModelProgress, type LanguageModelStageEvent } from './generation/train.js';
export type { AttributedToken, SentimentResult } from '@seqlab/core';

export { bucketedData, type BucketedDataOptions } from './training/data.js';
export { lazyAdamFor, sparseEmbeddingOf, touchedRows, sparseGradients, applySparseStep, withEmbeddingTable, type TouchedRows, type SparseGradients } from './training/sparse-embedding.js';
export {
  textClassifier,
  withAttentionWeights,
  resolveTextClassifierOptions,
  POOLING_LAYER,
  type TextClassifierOptions,
  type TextClassifierConfig,
  type ClassifierAttention,
  type ClassifierOutput,
} from './builders/text-classifier.js';
export { AttentionPooling, attentionPooling, type AttentionPoolingArgs } from './layers/attention-pooling.js';
export { AdditiveAttention, additiveAttention, type AdditiveAttentionArgs } from './layers/additive-attention.js';
export { DotProductAttention, dotProductAttention, type DotProductAttentionArgs } from './layers/dot-product-attention.js';
export { QueryValueAttention, type QueryValueAttentionArgs } from './layers/query-value-attention.js';
export { MultiHeadSelfAttention, multiHeadSelfAttention, type MultiHeadSelfAttentionArgs } from './layers/multi-head-self-attention.js';
export { MaskedConv1D, maskedConv1d, type MaskedConv1DArgs } from './layers/masked-conv1d.js';
export { maskedSoftmax } from './layers/masking.js';
// The older sentiment format: read (as binary text classifiers) by loadRecurrentTextClassifier, never written.
export { sentimentMemberDirs, type SentimentModelDirConfig } from './sentiment.js';
export {
  accuracy,
  confusionMatrix,
  classificationReport,
  rocAuc,
  perplexity,
  bitsPerCharacter,
  type ClassificationReport,
} from './metrics.js';
export { checkPromptLength, generationSteps, type GenerationCostInput } from './generation/cost.js';
export {
  RecurrentTextClassifier,
  loadRecurrentTextClassifier,
  saveRecurrentTextClassifier,
  type RecurrentClassifierDirConfig,
  type SaveRecurrentClassifierOptions,
} from './classification/recurrent.js';
export {
  lengthStats,
  defaultMaxLength,
  keptPositions,
  chunkStarts,
  TRUNCATION_STRATEGIES,
  LONG_TEXT_MODES,
  type LengthStats,
  type LongTextMode,
  type TruncationStrategy,
} from './classification/long-texts.js';
export { checkClasses } from './classification/labels.js';
export { chooseThresholds, DEFAULT_THRESHOLD, type LabelThreshold } from './classification/thresholds.js';
export type { ClassificationProblem, ClassScore, ClassifyOptions, TextClassificationPipeline, TextClassificationResult } from '@seqlab/core';
export {
  readLabelledTexts,
  parseLabelledTexts,
  decodeText,
  stratifiedSplit,
  stratifiedSample,
  classWeights,
  selectRows,
  TEXT_COLUMN_NAMES,
  LABEL_COLUMN_NAMES,
  type LabelledTexts,
  type LabelledFormat,
  type ReadLabelledOptions,
} from './classification/data.js';
export { openLabelledTexts, type LabelledTextStream, type LabelledTextBatch, type StreamLabelledOptions } from './classification/stream.js';
export { ClassificationCounts } from './classification/metric-counts.js';
export {
  fitRecurrentTextClassifier,
  DEFAULT_CLEAN,
  DEFAULT_OPEN_VOCABULARY,
  type FitRecurrentClassifierOptions,
  type FitRecurrentClassifierResult,
  type LabelledRows,
} from './classification/fit-recurrent.js';
export { embeddingMatrix, vocabularyEmbedding, setEmbedding, type WordVectorLookup, type WordVectorCoverage } from './classification/word-vectors.js';
export { extendWithWordVectors, extendModelsWithWordVectors, type OpenVocabulary } from './classification/open-vocabulary.js';
// The linear kinds, also importable alone (without TensorFlow.js) as @seqlab/rnn/linear.
export * from './linear.js';
export { fitLogisticRegression, logisticObjective, type LogisticData, type LogisticParams, type LogisticSolveOptions, type LogisticSolution } from './classification/solver.js';
export { classificationMetrics, type ClassMetrics, type TextClassificationMetrics } from './classification/metrics.js';
