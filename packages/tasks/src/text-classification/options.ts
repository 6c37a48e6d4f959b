import { BadInputError } from '@seqlab/core';
import type { FitRecurrentClassifierOptions } from '@seqlab/rnn';
import { COMMON_TRAIN_KEYS, checkOptionKeys, type CommonTrainOptions } from '../training/types.js';

/** The model kinds `train('text-classification')` fits; `auto` fits several and keeps the best. */
export const TEXT_CLASSIFIER_KINDS = Object.freeze(['auto', 'rnn', 'fasttext', 'tfidf-lr', 'use', 'hybrid'] as const);
export type TextClassifierKindOption = (typeof TEXT_CLASSIFIER_KINDS)[number];

/** The kinds that read sentence-encoder vectors (`encoder: 'use'`). */
export const ENCODER_KINDS: readonly string[] = Object.freeze(['use', 'hybrid']);

/** The recurrent model's default time budget under `model: 'auto'` (seconds). */
export const AUTO_RNN_BUDGET_SECONDS = 1500;

/** One labelled text in memory: one label, or a list for multi-label data. */
export interface TextClassificationRow {
  text: string;
  label: string | string[];
  /**
   * A finer label of the same row, e.g. one of TREC's 50 fine classes under its 6 coarse ones
   * (`LOC:city` under `LOC`). Read by the use/hybrid kinds under `fineLabels`; every row must
   * have one for them to be used.
   */
  fineLabel?: string;
}

/** Settings of the fasttext kind (an embedding bag over hashed words, word n-grams and character n-grams). */
export interface FastTextSettings {
  dim?: number;
  epochs?: number;
  wordNgrams?: number;
  minn?: number;
  maxn?: number;
  learningRate?: number;
  buckets?: number;
  /** SGD threads, 1 or 2 (default: 2 on large corpora, where the result then depends on thread timing; 1 reproduces a seed exactly). */
  threads?: number;
}

const FASTTEXT_KEYS = ['dim', 'epochs', 'wordNgrams', 'minn', 'maxn', 'learningRate', 'buckets', 'threads'];

/** The rnn's learning-rate plateau schedule (see `reduceLrOnPlateau`). */
export interface LrPlateau {
  /** Multiplies the rate on a plateau, in (0, 1). Default 0.5. */
  factor?: number;
  /** Epochs without improvement before the rate drops. Default 1. */
  patience?: number;
  /** The rate never drops below this. Default 1e-4. */
  minLearningRate?: number;
}

const PLATEAU_KEYS = ['factor', 'patience', 'minLearningRate'];

/** A labelled file (CSV, TSV or JSONL; columns detected) or rows in memory. */
export type TextClassificationData = string | TextClassificationRow[];

/**
 * Options of `train('text-classification', data, options)`. Every field but `out` has a default;
 * the recurrent settings apply to the `rnn` kind (fitted by `auto` too), the head settings to
 * `use` and `hybrid`.
 */
export interface TextClassificationTrainOptions extends CommonTrainOptions {
  /** `auto` (default): tfidf-lr, fasttext and rnn (+ use and hybrid with `encoder: 'use'`), and for one-label data their ensemble when it earns its place. */
  model?: TextClassifierKindOption;
  /** `use`: the kinds that read Universal Sentence Encoder vectors join `auto`. Default `none`. */
  encoder?: 'none' | 'use';
  /** Validation rows (file or rows). Default: a stratified `valSplit` of the data. */
  validation?: TextClassificationData;
  /** Column names of a file (detected by default) and whether it has a header row (detected). */
  textColumn?: string;
  labelColumn?: string;
  header?: boolean;
  /** use/hybrid: head sizes tried on validation (0 = logistic regression). Default `[0, 256]`. */
  headHidden?: number[];
  /** use/hybrid: maximum epochs per head (early-stopped on validation). Default 60. */
  headEpochs?: number;
  /** use/hybrid: epochs without better validation accuracy before a head stops. Default 8. */
  headPatience?: number;
  /** use/hybrid: rows per head batch (larger suits tens of thousands of rows). Default 32. */
  headBatchSize?: number;
  /**
   * use/hybrid: texts per sentence-encoder batch. The encoder pads a batch to its longest text,
   * so the batch size moves the vectors in their last bits (about 3e-7), which can move a
   * validation row across a head's boundary: a figure made at another size repeats only at it.
   * Default 32.
   */
  encoderBatchSize?: number;
  /**
   * use/hybrid: a folder that keeps the training and validation texts' sentence vectors across
   * runs (one file per text set, checked against the texts and the model), so several settings
   * or a rerun on the same rows embed them once. Default: none (vectors live for one call).
   */
  embeddingCache?: string;
  /** `balanced` weighs classes by inverse frequency. Default `none`. */
  classWeights?: 'none' | 'balanced';
  /** rnn: maximum epochs (counting epochs done before a resume). Default 5. */
  epochs?: number;
  cell?: 'lstm' | 'gru' | 'simple';
  /** rnn: stacked bidirectional layers (1..4). Default 1. */
  layers?: number;
  /** rnn: units per direction. Default 64. */
  units?: number;
  /** rnn: word embedding size. Default 64, or the word vectors' size. */
  embeddingDim?: number;
  /** rnn: `auto` (GloVe when installed and it covers half the training tokens), `none`, `glove-6b-100d` or a vectors file. Default `auto`. */
  wordVectors?: string;
  /** rnn: keep the pre-trained vectors fixed. Default false. */
  freezeEmbeddings?: boolean;
  /** rnn with frozen vectors: carry this many more of their words (0 = off). Default 20,000. */
  openVocabulary?: number;
  attention?: 'pooling' | 'self';
  /** rnn: dropout in [0, 1). Default 0.3. */
  dropout?: number;
  /** rnn: largest word vocabulary. Default 20,000. */
  vocabSize?: number;
  /**
   * Text cleaning before the tfidf-lr, fasttext and rnn kinds (and the hybrid's n-grams) tokenize,
   * saved with each model so it reads new text alike: `{ markup, urls, numbers }` (markup
   * stripped, URL or number placeholders) or `false` for none. Default `{ markup: true, urls:
   * 'xxurl' }` (@seqlab/rnn's `DEFAULT_CLEAN`). The sentence encoder reads the raw text either way.
   */
  clean?: TextCleaning;
  /**
   * rnn: how texts become tokens: `word`, or a subword tokenizer learnt from the training texts
   * (`wordpiece`, `bpe`) that reads unseen words as known pieces. Pre-trained word vectors need
   * `word` (under `wordVectors: 'auto'` a subword tokenizer trains its embedding from scratch).
   * Default `word`.
   */
  tokenizer?: 'word' | 'wordpiece' | 'bpe';
  /**
   * rnn: a seed-averaged ensemble of this many networks (seeds `seed`, `seed + 1`, ...) on one
   * vocabulary, saved as one model that averages their probabilities. Default 1.
   */
  members?: number;
  /**
   * rnn: halve the learning rate (`factor`) after `patience` epochs without a better validation
   * figure, down to `minLearningRate`. `true` = factor 0.5, patience 1, minimum 1e-4. Default off.
   */
  reduceLrOnPlateau?: boolean | LrPlateau;
  /** rnn: weight precision of the saved model; `float16` halves its files. Default `float32`. */
  precision?: 'float32' | 'float16';
  /**
   * rnn: update a trained embedding lazily, only on the rows each batch uses (`@seqlab/rnn`'s
   * `sparseEmbeddings`); `false` keeps dense Adam, as the committed recipe figures were trained.
   * Default: the rnn package's.
   */
  sparseEmbeddings?: boolean;
  /** rnn: tokens read at once. Default: the 90th percentile of the training texts, 16..256. */
  maxLength?: number;
  truncation?: 'head+tail' | 'head' | 'tail';
  /** rnn: texts per batch. Default 32. */
  batchSize?: number;
  /** rnn: Adam learning rate. Default 0.002. */
  learningRate?: number;
  /** rnn: global gradient-norm clip. Default 5. */
  clipNorm?: number;
  /** Share of the data held out (stratified) when `validation` is not given. Default 0.1. */
  valSplit?: number;
  /** Train on this many rows: a stratified, seeded sample. */
  limit?: number;
  /** rnn: early-stopping patience in epochs (0 = off). Default 2. */
  patience?: number;
  /** rnn: what picks the best epoch. Default `accuracy`. */
  monitor?: 'accuracy' | 'loss';
  /** rnn: stop cleanly after this many seconds. Default 1500 under `auto`, none otherwise. */
  timeBudgetSeconds?: number;
  /** Refit a chosen fasttext/tfidf-lr on training + validation rows. Default true. */
  refit?: boolean;
  /**
   * fasttext: its settings (`dim` 16, `epochs` 20, `wordNgrams` 2, character n-grams `minn` 3
   * to `maxn` 5, `learningRate` 0.5, `buckets` 2^18 by default), for the fit and its refit.
   */
  fasttext?: FastTextSettings;
  /**
   * use/hybrid on rows that carry `fineLabel`: `on` learns the fine labels and scores a class as
   * the sum of its fine ones, `try` fits both ways and keeps the better on validation, `off`
   * ignores them. Default `off`.
   */
  fineLabels?: 'off' | 'try' | 'on';
  /**
   * use/hybrid: after the head, its epochs and the hybrid's weight are chosen on validation, fit
   * those settings again on training + validation rows (the sentence vectors are cached, so only
   * the head trains again). The candidate's validation figures stay those of the fit before.
   * Default false.
   */
  refitEncoderKinds?: boolean;
  /** Multi-label decision thresholds: `f1` (each label's best on validation) or one number. Default `f1`. */
  thresholds?: 'f1' | number;
  /** rnn: continue the interrupted run from the checkpoints in `checkpointDir`. Default false. */
  resume?: boolean;
  /** Start over when `checkpointDir` holds an unfinished run (its checkpoints are deleted). Default false: such a run is refused. */
  overwrite?: boolean;
  /** Keep the checkpoints after a successful run. Default false (they are removed). */
  keepCheckpoints?: boolean;
  /**
   * Where the rnn's checkpoints (`last/`, `best/`, `state.json`) live: a run folder beside the
   * model folder, never inside it. Default `${out}.run/checkpoints`.
   */
  checkpointDir?: string;
}

/** What `clean` takes: the cleaning options of @seqlab/tokenize's `CleanTextOptions`, or `false`. */
export type TextCleaning = NonNullable<FitRecurrentClassifierOptions['clean']>;

const CLEAN_KEYS = ['markup', 'urls', 'numbers'];

/** The options with every default filled in. */
type WithoutDefault = 'sparseEmbeddings' | 'clean' | 'signal' | 'onProgress' | 'validation' | 'fasttext' | 'embeddingCache' | 'encoderBatchSize' | 'headEpochs' | 'headPatience' | 'headBatchSize' | 'textColumn' | 'labelColumn' | 'header' | 'embeddingDim' | 'maxLength' | 'limit' | 'timeBudgetSeconds' | 'checkpointDir';
export type ResolvedTextClassificationOptions = Required<Omit<TextClassificationTrainOptions, WithoutDefault>> & Pick<TextClassificationTrainOptions, WithoutDefault>;

const DEFAULTS = {
  seed: 1,
  model: 'auto',
  encoder: 'none',
  headHidden: [0, 256],
  classWeights: 'none',
  epochs: 5,
  cell: 'lstm',
  layers: 1,
  units: 64,
  wordVectors: 'auto',
  freezeEmbeddings: false,
  openVocabulary: 20_000,
  attention: 'pooling',
  dropout: 0.3,
  vocabSize: 20_000,
  tokenizer: 'word',
  members: 1,
  reduceLrOnPlateau: false,
  precision: 'float32',
  truncation: 'head+tail',
  batchSize: 32,
  learningRate: 0.002,
  clipNorm: 5,
  valSplit: 0.1,
  patience: 2,
  monitor: 'accuracy',
  refit: true,
  fineLabels: 'off',
  refitEncoderKinds: false,
  thresholds: 'f1',
  resume: false,
  overwrite: false,
  keepCheckpoints: false,
} as const;

/** Every option `train('text-classification')` accepts. */
export const TEXT_CLASSIFICATION_TRAIN_KEYS: readonly string[] = Object.freeze([
  ...COMMON_TRAIN_KEYS,
  ...Object.keys(DEFAULTS).filter((k) => k !== 'seed'),
  'validation',
  'fasttext',
  'embeddingCache',
  'encoderBatchSize',
  'sparseEmbeddings',
  'headEpochs',
  'headPatience',
  'headBatchSize',
  'textColumn',
  'labelColumn',
  'header',
  'embeddingDim',
  'maxLength',
  'limit',
  'timeBudgetSeconds',
  'checkpointDir',
  'clean',
]);

type Check = (v: unknown) => boolean;
const isInt = (lo: number, hi = Number.MAX_SAFE_INTEGER): Check => (v) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const isNum = (ok: (n: number) => boolean): Check => (v) => typeof v === 'number' && Number.isFinite(v) && ok(v);
const isOneOf = (values: readonly unknown[]): Check => (v) => values.includes(v);
const isBool: Check = (v) => typeof v === 'boolean';
const isText: Check = (v) => typeof v === 'string' && v.length > 0;
const isFastTextSettings: Check = (v) =>
  v !== null &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  Object.entries(v).every(([k, x]) => FASTTEXT_KEYS.includes(k) && (x === undefined || (k === 'learningRate' ? isNum((n) => n > 0)(x) : k === 'threads' ? isOneOf([1, 2])(x) : isInt(k === 'dim' || k === 'epochs' || k === 'buckets' ? 1 : 0)(x))));

const isPlateau: Check = (v) =>
  typeof v === 'boolean' ||
  (v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.entries(v).every(([k, x]) => PLATEAU_KEYS.includes(k) && (x === undefined || (k === 'patience' ? isInt(0)(x) : k === 'factor' ? isNum((n) => n > 0 && n < 1)(x) : isNum((n) => n > 0)(x)))));

const isPlaceholder: Check = (v) => v === undefined || v === false || (typeof v === 'string' && v.length > 0);
const isCleaning: Check = (v) =>
  v === false ||
  (v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    Object.entries(v).every(([k, x]) => CLEAN_KEYS.includes(k) && (k === 'markup' ? x === undefined || isBool(x) : isPlaceholder(x))));

/** What each option must be, and how a message says so. */
const RULES: Record<string, [Check, string]> = {
  out: [isText, 'a folder path'],
  seed: [isNum(Number.isInteger), 'an integer'],
  model: [isOneOf(TEXT_CLASSIFIER_KINDS), `one of ${TEXT_CLASSIFIER_KINDS.join(', ')}`],
  encoder: [isOneOf(['none', 'use']), 'one of none, use'],
  headHidden: [(v) => Array.isArray(v) && v.length > 0 && v.every(isInt(0, 4096)), 'a non-empty list of layer sizes in 0..4096 (0 = logistic regression)'],
  headEpochs: [isInt(1), 'a positive integer'],
  headPatience: [isInt(1), 'a positive integer'],
  headBatchSize: [isInt(1), 'a positive integer'],
  embeddingCache: [isText, 'a folder path'],
  encoderBatchSize: [isInt(1, 4096), 'an integer in 1..4096'],
  sparseEmbeddings: [isBool, 'true or false'],
  classWeights: [isOneOf(['none', 'balanced']), 'one of none, balanced'],
  epochs: [isInt(1), 'a positive integer'],
  cell: [isOneOf(['lstm', 'gru', 'simple']), 'one of lstm, gru, simple'],
  layers: [isInt(1, 4), 'an integer in 1..4'],
  units: [isInt(1), 'a positive integer'],
  embeddingDim: [isInt(1), 'a positive integer'],
  wordVectors: [isText, "auto, none, glove-6b-100d or a vectors file"],
  freezeEmbeddings: [isBool, 'true or false'],
  openVocabulary: [isInt(0), 'a non-negative integer'],
  attention: [isOneOf(['pooling', 'self']), 'one of pooling, self'],
  dropout: [isNum((n) => n >= 0 && n < 1), 'a number in [0, 1)'],
  vocabSize: [isInt(16), 'an integer >= 16'],
  clean: [isCleaning, 'false or an object of markup (true or false), urls and numbers (a placeholder word or false)'],
  tokenizer: [isOneOf(['word', 'wordpiece', 'bpe']), 'one of word, wordpiece, bpe'],
  members: [isInt(1, 32), 'an integer in 1..32'],
  reduceLrOnPlateau: [isPlateau, `true, false or an object of ${PLATEAU_KEYS.join(', ')} (factor in (0, 1), patience a non-negative integer, minLearningRate > 0)`],
  precision: [isOneOf(['float32', 'float16']), 'one of float32, float16'],
  maxLength: [isInt(2, 10_000), 'an integer in 2..10000'],
  truncation: [isOneOf(['head+tail', 'head', 'tail']), 'one of head+tail, head, tail'],
  batchSize: [isInt(1), 'a positive integer'],
  learningRate: [isNum((n) => n > 0), 'a number > 0'],
  clipNorm: [isNum((n) => n > 0), 'a number > 0'],
  valSplit: [isNum((n) => n > 0 && n < 1), 'a number between 0 and 1 (exclusive)'],
  limit: [isInt(1), 'a positive integer'],
  patience: [isInt(0), 'a non-negative integer'],
  monitor: [isOneOf(['accuracy', 'loss']), 'one of accuracy, loss'],
  timeBudgetSeconds: [isNum((n) => n >= 0), 'a number >= 0'],
  refit: [isBool, 'true or false'],
  fasttext: [isFastTextSettings, `an object of ${FASTTEXT_KEYS.join(', ')} (non-negative integers; learningRate a number > 0; threads 1 or 2)`],
  fineLabels: [isOneOf(['off', 'try', 'on']), 'one of off, try, on'],
  refitEncoderKinds: [isBool, 'true or false'],
  thresholds: [(v) => v === 'f1' || isNum((n) => n > 0 && n < 1)(v), 'f1 or a number between 0 and 1 (exclusive)'],
  resume: [isBool, 'true or false'],
  overwrite: [isBool, 'true or false'],
  keepCheckpoints: [isBool, 'true or false'],
  checkpointDir: [isText, 'a folder path'],
  textColumn: [isText, 'a column name'],
  labelColumn: [isText, 'a column name'],
  header: [isBool, 'true or false'],
  signal: [(v) => v instanceof AbortSignal, 'an AbortSignal'],
  onProgress: [(v) => typeof v === 'function', 'a function'],
};

/**
 * Checks the options (unknown keys refused with the valid list; each value named with what it
 * must be) and fills in the defaults.
 *
 * @throws BadInputError naming the option, what it must be and what it got.
 */
export function resolveTrainOptions(options: TextClassificationTrainOptions): ResolvedTextClassificationOptions {
  checkOptionKeys("train('text-classification')", options, TEXT_CLASSIFICATION_TRAIN_KEYS);
  if (options.out === undefined) throw new BadInputError("train('text-classification'): options.out (the model folder) is required");
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key === 'validation') continue;
    const [ok, what] = RULES[key]!;
    if (!ok(value)) throw new BadInputError(`${key}: expected ${what}, got ${describe(value)}`);
  }
  const resolved = { ...DEFAULTS, ...definedOnly(options) } as ResolvedTextClassificationOptions;
  if (resolved.encoder === 'use' && resolved.model !== 'auto' && !ENCODER_KINDS.includes(resolved.model)) {
    throw new BadInputError(`encoder use: model ${resolved.model} reads no sentence vectors; use model use, hybrid or auto (or drop encoder)`);
  }
  if (resolved.tokenizer !== 'word' && resolved.wordVectors !== 'auto' && resolved.wordVectors !== 'none') {
    throw new BadInputError(`tokenizer ${resolved.tokenizer}: wordVectors ${resolved.wordVectors} list whole words, the tokenizer makes subword pieces; use tokenizer word or wordVectors none`);
  }
  return resolved;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The kinds a run fits, in order (cheapest first, so a tie keeps the cheaper). */
export function candidateKinds(o: Pick<ResolvedTextClassificationOptions, 'model' | 'encoder'>): string[] {
  if (o.model !== 'auto') return [o.model];
  // With the encoder, auto adds its kinds to the others: on TREC-6 the best model was an
  // ensemble of a sentence-encoder kind and the rnn.
  return o.encoder === 'use' ? ['tfidf-lr', 'fasttext', 'rnn', 'use', 'hybrid'] : ['tfidf-lr', 'fasttext', 'rnn'];
}
