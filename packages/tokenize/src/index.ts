/**
 * @packageDocumentation
 * Text to ids and back: composable normalizers, word/char/whitespace tokenizers on top of
 * natural, trainable byte-level BPE and WordPiece, vocabularies with reserved specials, and the
 * {@link TextVectorizer} that pads batches into typed arrays and is saved beside a model.
 */
export type { Token, Tokenizer, TrainableTokenizer, SubwordTrainOptions, AlignedText, Normalizer } from './types.js';
export {
  TextNormalizer,
  SequenceNormalizer,
  composeNormalizers,
  nfkc,
  lowercase,
  stripAccents,
  foldWhitespace,
  stripControl,
  toWellFormed,
  isWellFormed,
  registerNormalizer,
  normalizerFromJSON,
  type NormalizeOptions,
  type UnicodeForm,
} from './normalize.js';
export { CleanTextNormalizer, cleanText, CLEAN_PLACEHOLDERS, type CleanTextOptions } from './clean.js';
export { TokenizeFormatError } from './errors.js';
export {
  Vocabulary,
  countTokens,
  DEFAULT_SPECIALS,
  VOCABULARY_FORMAT_VERSION,
  type SpecialTokens,
  type VocabularyBuildOptions,
  type VocabularyJSON,
  type TokenCounts,
} from './vocabulary.js';
export { CharTokenizer, WhitespaceTokenizer } from './tokenizers/simple.js';
export { WordTokenizer, ngrams, splitSentences, type WordTokenizerOptions, type WordMethod } from './tokenizers/word.js';
export { BpeTokenizer, type BpeOptions } from './tokenizers/bpe.js';
export { WordPieceTokenizer, type WordPieceOptions } from './tokenizers/wordpiece.js';
export { createTokenizer, registerTokenizer, tokenizerFromJSON, type TokenizerName } from './tokenizers/registry.js';
export {
  TextVectorizer,
  VECTORIZER_FORMAT_VERSION,
  type TextVectorizerOptions,
  type TextVectorizerJSON,
  type EncodeOptions,
  type EncodedBatch,
  type DecodeOptions,
  type Side,
} from './vectorizer.js';
