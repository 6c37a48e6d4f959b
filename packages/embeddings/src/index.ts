/**
 * @packageDocumentation
 * Universal Sentence Encoder (lite) offline: sentence embeddings from installed, verified
 * files, cosine similarity, semantic search, and transfer-learned sentiment on top.
 */
export { loadEncoder, SentenceEncoder, type LoadEncoderOptions, type EmbedOptions, type EncoderSource, type CacheStats } from './encoder.js';
export { embedWithFileCache } from './embedding-cache.js';
export { SemanticIndex, type TextEmbedder } from './semantic-index.js';
export { cosine, normalizeInPlace, topK, EMBEDDING_DIM, type SearchHit } from './similarity.js';
export {
  USE_LITE_SHA256,
  DEFAULT_MODEL_PACKAGE,
  VOCAB_JSON,
  defaultModelDir,
  sha256Hex,
  verifyModelDir,
  type Vocabulary,
} from './model-files.js';
export {
  useSentimentHead,
  trainSentimentHead,
  headAccuracy,
  headProba,
  joinFeatures,
  SentimentClassifier,
  loadSentimentClassifier,
  fusionHead,
  type UseSentimentHeadOptions,
  type TrainHeadOptions,
  type TrainHeadResult,
  type HeadEpochLog,
  type EmbeddedExamples,
  type SentimentMetadata,
  type LoadSentimentOptions,
} from './sentiment.js';
export { RnnSentimentFeatures } from './rnn-features.js';
export { EmbeddingPipeline, loadEmbeddingPipeline, type SimilarityResult } from './task.js';
export {
  UseTextClassifier,
  fitUseTextClassifier,
  loadUseTextClassifier,
  encoderRecord,
  USE_CLASSIFIER_KINDS,
  type UseClassifierKind,
  type UseClassifierDirConfig,
  type EncoderRecord,
  type HeadSettings,
  type HeadCandidate,
  type FitUseClassifierOptions,
  type FitUseClassifierResult,
  type LoadUseClassifierOptions,
  type UseFitProgress,
  type UseFitStage,
} from './text-classifier.js';
export {
  loadWordVectors,
  WordVectors,
  gloveFile,
  GLOVE_100D,
  GLOVE_100D_DIM,
  GLOVE_PACKAGE,
  GLOVE_100D_SHA256,
  type LoadWordVectorsOptions,
} from './word-vectors.js';
export { chooseWordVectors, AUTO_WORD_VECTOR_COVERAGE, type ChooseWordVectorsOptions, type WordVectorChoice } from './word-vector-choice.js';
