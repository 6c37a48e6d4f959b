import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BadInputError, CLASSIFICATION_PROBLEMS, setGlobalSeed, type ClassificationProblem, type WeightPrecision } from '@seqlab/core';
import { TextVectorizer, type CleanTextOptions, type TokenizerName } from '@seqlab/tokenize';
import { resolveTextClassifierOptions, textClassifier, type ClassifierAttention } from '../builders/text-classifier.js';
import type { CellType } from '../builders/cells.js';
import { bucketedData } from '../training/data.js';
import { train, type TrainOptions, type TrainProgress, type TrainResult } from '../training/train.js';
import { classWeights as balancedWeights } from './data.js';
import { oneOf } from '../errors.js';
import { checkClasses } from './labels.js';
import { chooseThresholds, DEFAULT_THRESHOLD, type LabelThreshold } from './thresholds.js';
import { defaultMaxLength, lengthStats, type LengthStats, type LongTextMode, type TruncationStrategy } from './long-texts.js';
import { RecurrentTextClassifier, type RecurrentClassifierDirConfig } from './recurrent.js';
import { cutRows, encodePacked, rowLengths, rowViews, vocabularyIds, type PackedIds } from './packed-ids.js';
import { packedTokenCounts, type PackedCorpus } from './sparse.js';
import { checkPackedCorpus } from './linear.js';
import { DEFAULT_CLEAN, type LabelledRows } from './inputs.js';

export { DEFAULT_CLEAN, type LabelledRows } from './inputs.js';
import { setEmbedding, vocabularyEmbedding, type WordVectorCoverage, type WordVectorLookup } from './word-vectors.js';
import { extendWithWordVectors, type OpenVocabulary } from './open-vocabulary.js';

/** Options of {@link fitRecurrentTextClassifier}; every field has a default. */
export interface FitRecurrentClassifierOptions {
  /** Class names in output order. Default: the labels seen, sorted. */
  classes?: string[];
  /**
   * Default `multi-label` when any row has other than one label, else `binary` (two classes) or
   * `multi-class`. Multi-label trains one sigmoid per class with binary cross-entropy.
   */
  problem?: ClassificationProblem;
  /**
   * Held-out rows for early stopping and the best epoch and, for multi-label, for each class's
   * decision threshold.
   */
  validation?: LabelledRows;
  /**
   * Multi-label decision thresholds: `'f1'` (default) gives each class the threshold that
   * maximises its F1 on the validation rows (0.5 without them); a number is used for every class.
   */
  thresholds?: 'f1' | number;
  /** Tokens read at once. Default {@link defaultMaxLength} of the training texts' statistics. */
  maxLength?: number;
  truncation?: TruncationStrategy;
  longTexts?: LongTextMode;
  /** Text cleaning saved with the vectorizer, or `false`. Default {@link DEFAULT_CLEAN}. */
  clean?: CleanTextOptions | false;
  /**
   * How texts become tokens: `word` (default), or a subword tokenizer learnt from the training
   * texts (`wordpiece`, `bpe`) that reads an unseen word as known pieces instead of UNK.
   * Pre-trained `wordVectors` need `word`.
   */
  tokenizer?: Extract<TokenizerName, 'word' | 'wordpiece' | 'bpe'>;
  vocabSize?: number;
  /** Default 64, or the dimension of {@link FitRecurrentClassifierOptions.wordVectors}. */
  embeddingDim?: number;
  /**
   * Pre-trained word vectors (e.g. GloVe from `@seqlab/embeddings`' `loadWordVectors`) the
   * embedding starts from: transfer for small or hard datasets, where a from-scratch embedding
   * sees each word too rarely. Words without a vector start random at the vectors' scale; the
   * coverage is returned and stored in the training record. The saved model carries the (tuned)
   * matrix for its own vocabulary, so loading it needs no vectors.
   */
  wordVectors?: WordVectorLookup;
  /**
   * With `wordVectors`: keep training the embedding (`true`, default; Kim 2014's non-static
   * variant, the better one on his sentence tasks) or freeze it at the pre-trained values.
   */
  fineTuneEmbeddings?: boolean;
  /**
   * With frozen `wordVectors` (`fineTuneEmbeddings: false`) that list their words: after
   * training, also give the model the vectors' `openVocabulary` most frequent words that the
   * training texts lacked, each with its pre-trained vector ({@link extendWithWordVectors}), so
   * it reads them at inference instead of seeing UNK. Default 20,000 (about 8 MB of float32
   * embedding at 100 dimensions); 0 turns it off. Ignored when the embedding is fine-tuned.
   */
  openVocabulary?: number;
  cell?: CellType;
  layers?: number;
  units?: number;
  attention?: Exclude<ClassifierAttention, 'none'>;
  dropout?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  clipNorm?: number;
  /**
   * Update a trained embedding lazily: gradients, clipping and Adam over only the rows each batch
   * uses (`train`'s `sparseEmbeddings`, @seqlab/core's `LazyAdam`; a row's moments are not decayed
   * in the steps that do not use it, as in TensorFlow's LazyAdam and PyTorch's SparseAdam).
   * Default true: on the review-like corpus an epoch costs about a fifth less (Adam and clipping
   * over a 20,000 x 100 embedding every batch), and held-out accuracy did not drop
   * (`tools/bench/src/rnn-lazy-adam-accuracy.ts`: TREC-6 over fine-tuned GloVe 0.906 dense,
   * 0.916 lazy).
   */
  sparseEmbeddings?: boolean;
  /** Early-stopping patience in epochs (0 = off). Default 2. */
  patience?: number;
  /**
   * Lower the learning rate when the monitored validation metric stalls (`factor` 0.5,
   * `patience` 1 epoch, `minLearningRate` 1e-4 by default); needs `validation`. Default off.
   */
  reduceLrOnPlateau?: { factor?: number; patience?: number; minLearningRate?: number };
  /**
   * Seed-averaged ensemble: train this many networks with seeds `seed`, `seed + 1`, ... on the
   * same vocabulary (and pre-trained matrix); the classifier averages their probabilities and
   * attention weights. Each member early-stops on its own. Default 1.
   */
  members?: number;
  /** With `members` > 1: called as member `member` (1-based) starts, before its progress events. */
  onMember?: (member: number, seed: number) => void;
  /** Weight precision when the classifier is saved: `float16` halves the files. Default `float32`. */
  precision?: WeightPrecision;
  /**
   * What picks the best epoch on the validation rows (early stopping, the restored weights):
   * `val_accuracy` (default; for multi-label the subset accuracy at 0.5) or `val_loss`. For
   * multi-label data the validation loss bottoms out epochs before the label sets stop
   * improving (the sigmoids grow over-confident on the few mistakes): on the derived TREC set
   * (`npm run bench:multilabel`) it stopped at epoch 2 and lost 6-8 points of held-out subset
   * accuracy against `val_accuracy`, on two seeds.
   */
  monitor?: 'val_loss' | 'val_accuracy';
  /**
   * `'balanced'` weights classes by inverse frequency; for multi-label it weights each class's
   * positive labels by its negatives per positive. Default `'none'`.
   */
  classWeights?: 'balanced' | 'none';
  seed?: number;
  timeBudgetSeconds?: number;
  checkpointDir?: string;
  resume?: boolean;
  /** Abandons training with a `CancelledError` before the next batch once aborted (see `train`). */
  signal?: AbortSignal;
  onProgress?: (event: TrainProgress) => void | Promise<void>;
  /** Stored in config.json (`training`). */
  training?: Record<string, unknown>;
  /**
   * The training texts already tokenized as the linear kinds tokenize them
   * (`packClassifierTexts` with the same `clean`), for the `word` tokenizer: the vocabulary and
   * the ids come from it instead of tokenizing every text twice more.
   */
  corpus?: PackedCorpus;
}

/** What {@link fitRecurrentTextClassifier} returns. */
export interface FitRecurrentClassifierResult {
  classifier: RecurrentTextClassifier;
  /** The training loop's result (of the first member). */
  result: TrainResult;
  /** Every member's loop result, in member order (one entry without `members`). */
  memberResults: TrainResult[];
  lengthStats: LengthStats;
  maxLength: number;
  /** Multi-label: how each class's threshold was chosen on the validation rows (0.5 each without them). */
  thresholds?: LabelThreshold[];
  /** With `wordVectors`: how much of the vocabulary and of the training tokens they covered. */
  wordVectorCoverage?: WordVectorCoverage;
  /** With frozen `wordVectors`: the words added beyond the training vocabulary. */
  openVocabulary?: OpenVocabulary;
}

/** Default of {@link FitRecurrentClassifierOptions.openVocabulary}. */
export const DEFAULT_OPEN_VOCABULARY = 20_000;

/**
 * Trains a recurrent classifier (BiLSTM + attention by default) on labelled texts end to end:
 * cleaning and vocabulary, length statistics and the default length, head+tail truncation of
 * training rows, class weights, early stopping on validation accuracy. The returned classifier
 * saves as a `text-classification` model of kind `rnn`.
 *
 * Multi-label rows (any row with other than one label, or `problem: 'multi-label'`) train the
 * same network with a sigmoid per class and binary cross-entropy, as Keras does, with the
 * output biases started at the label priors; early stopping watches the validation subset
 * accuracy (see {@link FitRecurrentClassifierOptions.monitor}), and each class gets the decision
 * threshold that maximises its F1 on the validation rows ({@link chooseThresholds}).
 */
export async function fitRecurrentTextClassifier(data: LabelledRows, options: FitRecurrentClassifierOptions = {}): Promise<FitRecurrentClassifierResult> {
  const { classes, problem, thresholdRule, openLimit, members } = checkFitOptions(data, options);
  const multiLabel = problem === 'multi-label';
  const targets = targetsOf(classes, problem);
  const seed = options.seed ?? 1;
  const clean = options.clean === undefined ? DEFAULT_CLEAN : options.clean;
  const vectorizer = new TextVectorizer({ tokenizer: options.tokenizer ?? 'word', maxTokens: options.vocabSize ?? 20_000, ...(clean ? { clean } : {}) });
  const { rows: trainIds, rename } = await vocabularyAndIds(vectorizer, data.texts, options.corpus, clean);
  const stats = lengthStats(rowLengths(trainIds.offsets));
  const maxLength = options.maxLength ?? defaultMaxLength(stats);
  const truncation = options.truncation ?? 'head+tail';
  const cut = (rows: PackedIds, ids?: Int32Array) => rowViews(cutRows(rows, maxLength, truncation, ids));
  const y = targets(data, 'training');
  const architecture = resolveTextClassifierOptions({
    vocabSize: vectorizer.vocabSize,
    embeddingDim: options.wordVectors ? options.wordVectors.dim : (options.embeddingDim ?? 64),
    cell: options.cell ?? 'lstm',
    layers: options.layers ?? 1,
    units: options.units ?? 64,
    attention: options.attention ?? 'pooling',
    dropout: options.dropout ?? 0.3,
    numClasses: classes.length,
    output: multiLabel ? 'sigmoid' : 'softmax',
  });
  // One matrix for every member: words without a vector start alike, so members differ only by their seeds.
  const pretrained = options.wordVectors ? vocabularyEmbedding(vectorizer.vocabulary, options.wordVectors, seed) : undefined;
  const wordVectorCoverage: WordVectorCoverage | undefined = pretrained?.coverage;
  const validation = options.validation;
  const validationData = validation ? bucketedData(cut(encodePacked(vectorizer, validation.texts)), targets(validation, 'validation'), { batchSize: 128, shuffle: false }) : undefined;
  // Cut once for every member (the whole rows are dropped here).
  const trainRows = cut(trainIds, rename);
  const { models, results } = await trainMembers(members, seed, options, (memberSeed, checkpointDir) => {
    setGlobalSeed(memberSeed);
    const model: tfl.LayersModel = textClassifier(architecture);
    try {
      if (pretrained) {
        setEmbedding(model, pretrained.matrix, vectorizer.vocabSize, options.wordVectors!.dim);
        if (options.fineTuneEmbeddings === false) model.getLayer('embedding').trainable = false;
      }
      if (multiLabel) startAtPriors(model, y as number[][]);
    } catch (err) {
      model.dispose();
      throw err;
    }
    const loop = loopOptions({ ...options, seed: memberSeed, ...(checkpointDir ? { checkpointDir } : {}) }, data.labels, classes, multiLabel, validationData);
    return { model, run: () => train(model, bucketedData(trainRows, y, { batchSize: options.batchSize ?? 32, seed: memberSeed }), loop) };
  });
  const config: RecurrentClassifierDirConfig = {
    task: 'text-classification',
    kind: 'rnn',
    format: 'seqlab-rnn/text-classifier@1',
    problem,
    classes,
    vectorizerFile: 'vectorizer.json',
    maxLength,
    truncation,
    longTexts: options.longTexts ?? 'truncate',
    architecture,
    lengthStats: stats,
    ...(options.precision && options.precision !== 'float32' ? { precision: options.precision } : {}),
    ...(options.training || wordVectorCoverage || members > 1
      ? {
          training: {
            ...options.training,
            ...(members > 1 ? { members: results.map((_, k) => ({ member: k + 1, seed: seed + k })) } : {}),
            ...(wordVectorCoverage ? { wordVectors: { ...wordVectorCoverage, fineTuned: options.fineTuneEmbeddings !== false } } : {}),
          },
        }
      : {}),
  };
  const finished = await finishClassifier(new RecurrentTextClassifier(models, vectorizer, config, 'classifier'), options, classes, multiLabel, thresholdRule, openLimit);
  return { ...finished, result: results[0]!, memberResults: results, lengthStats: stats, maxLength, ...(wordVectorCoverage ? { wordVectorCoverage } : {}) };
}

/**
 * Adapts the vectorizer to the training texts and returns their ids. From a packed corpus of
 * the same tokenization, its counts make the vocabulary (the one `adapt` would make) and its
 * rows are renamed to vocabulary ids as they are cut: no text is tokenized again.
 */
async function vocabularyAndIds(vectorizer: TextVectorizer, texts: readonly string[], corpus: PackedCorpus | undefined, clean: CleanTextOptions | false): Promise<{ rows: PackedIds; rename?: Int32Array }> {
  if (!corpus) {
    await vectorizer.adapt(texts);
    return { rows: encodePacked(vectorizer, texts) };
  }
  if (vectorizer.tokenizer.kind !== 'word') throw new BadInputError(`corpus: packed word tokens; tokenizer ${vectorizer.tokenizer.kind} reads other tokens (leave corpus out)`);
  checkPackedCorpus(corpus, texts, clean);
  vectorizer.adaptCounts(packedTokenCounts(corpus).wordCounts);
  return { rows: { ids: corpus.tokens, offsets: corpus.offsets }, rename: vocabularyIds(corpus, vectorizer) };
}

/** Checks the options that do not need the data's vocabulary; returns the resolved classes, problem and rules. */
function checkFitOptions(data: LabelledRows, options: FitRecurrentClassifierOptions): { classes: string[]; problem: ClassificationProblem; thresholdRule: 'f1' | number; openLimit: number; members: number } {
  if (data.texts.length === 0) throw new BadInputError('no training texts');
  if (data.labels.length !== data.texts.length) throw new BadInputError(`${data.texts.length} training texts but ${data.labels.length} label sets`);
  const classes = checkClasses(options.classes ?? [...new Set(data.labels.flat())].sort(), 'classes');
  const problem = oneOf(
    'problem',
    options.problem ?? (data.labels.some((l) => l.length !== 1) ? 'multi-label' : classes.length === 2 ? 'binary' : 'multi-class'),
    CLASSIFICATION_PROBLEMS,
  );
  const thresholdRule = options.thresholds ?? 'f1';
  if (thresholdRule !== 'f1' && !(typeof thresholdRule === 'number' && thresholdRule > 0 && thresholdRule < 1)) {
    throw new BadInputError(`thresholds must be 'f1' or a number between 0 and 1, got ${JSON.stringify(thresholdRule)}`);
  }
  const openLimit = options.openVocabulary ?? DEFAULT_OPEN_VOCABULARY;
  if (!Number.isInteger(openLimit) || openLimit < 0) throw new BadInputError(`openVocabulary must be a non-negative integer, got ${String(options.openVocabulary)}`);
  if (options.wordVectors && options.embeddingDim !== undefined && options.embeddingDim !== options.wordVectors.dim) {
    throw new BadInputError(`embeddingDim ${options.embeddingDim} differs from the ${options.wordVectors.dim} dimensions of word vectors ${options.wordVectors.name}; leave embeddingDim unset`);
  }
  const members = options.members ?? 1;
  if (!Number.isInteger(members) || members < 1 || members > 32) throw new BadInputError(`members must be an integer in 1..32, got ${String(options.members)}`);
  const tokenizer = oneOf('tokenizer', options.tokenizer ?? 'word', ['word', 'wordpiece', 'bpe'] as const);
  if (options.wordVectors && tokenizer !== 'word') throw new BadInputError(`wordVectors ${options.wordVectors.name} list words; tokenizer ${tokenizer} makes subword pieces (use tokenizer word)`);
  if (options.reduceLrOnPlateau && !options.validation) throw new BadInputError('reduceLrOnPlateau watches the validation metric: give validation rows');
  return { classes, problem, thresholdRule, openLimit, members };
}

/**
 * Builds and trains each member in turn (seeds `seed`, `seed + 1`, ...); with more than one, each
 * keeps its checkpoints in `member-K/` of the checkpoint folder so a resume continues each where
 * it stopped. Disposes every network built when one fails.
 */
async function trainMembers(
  count: number,
  seed: number,
  options: FitRecurrentClassifierOptions,
  build: (seed: number, checkpointDir: string | undefined) => { model: tfl.LayersModel; run: () => Promise<TrainResult> },
): Promise<{ models: tfl.LayersModel[]; results: TrainResult[] }> {
  const models: tfl.LayersModel[] = [];
  const results: TrainResult[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const memberSeed = seed + k;
      if (count > 1) options.onMember?.(k + 1, memberSeed);
      const dir = options.checkpointDir && count > 1 ? path.join(options.checkpointDir, `member-${k + 1}`) : options.checkpointDir;
      const { model, run } = build(memberSeed, dir);
      models.push(model);
      results.push(await run());
    }
  } catch (err) {
    for (const m of models) m.dispose();
    throw err;
  }
  return { models, results };
}

/** The training targets of labelled rows: class ids, or one-hot rows for multi-label; a bad row is named. */
function targetsOf(classes: readonly string[], problem: ClassificationProblem): (rows: LabelledRows, what: string) => number[] | number[][] {
  const index = new Map(classes.map((c, i) => [c, i]));
  const classOf = (l: string, r: number, what: string) => {
    const id = index.get(l);
    if (id === undefined) throw new BadInputError(`${what} row ${r + 1}: label ${JSON.stringify(l)} is not one of the classes (${classes.join(', ')})`);
    return id;
  };
  return (rows, what) =>
    problem === 'multi-label'
      ? rows.labels.map((ls, r) => {
          const hot = new Array<number>(classes.length).fill(0);
          for (const l of ls) hot[classOf(l, r, what)] = 1;
          return hot;
        })
      : rows.labels.map((ls, r) => {
          if (ls.length !== 1) throw new BadInputError(`${what} row ${r + 1}: a ${problem} classifier takes one label per text, got ${ls.length} (${ls.join(', ') || 'none'})`);
          return classOf(ls[0]!, r, what);
        });
}

/** The training loop's options from the classifier's. */
function loopOptions(
  options: FitRecurrentClassifierOptions,
  labels: readonly (readonly string[])[],
  classes: readonly string[],
  multiLabel: boolean,
  validationData: ReturnType<typeof bucketedData> | undefined,
): TrainOptions {
  const patience = options.patience ?? 2;
  return {
    epochs: options.epochs ?? 5,
    learningRate: options.learningRate ?? 0.002,
    clipNorm: options.clipNorm ?? 5,
    sparseEmbeddings: options.sparseEmbeddings ?? true,
    ...(options.classWeights === 'balanced' ? { classWeights: multiLabel ? positiveWeights(labels, classes) : balancedWeights(labels, classes) } : {}),
    ...(validationData
      ? {
          validationData,
          monitor: oneOf('monitor', options.monitor ?? 'val_accuracy', ['val_loss', 'val_accuracy'] as const),
          ...(patience > 0 ? { earlyStopping: { patience, restoreBestWeights: true } } : {}),
          ...(options.reduceLrOnPlateau ? { reduceLrOnPlateau: { factor: 0.5, patience: 1, minLearningRate: 1e-4, ...options.reduceLrOnPlateau } } : {}),
        }
      : {}),
    seed: options.seed ?? 1,
    ...(options.checkpointDir ? { checkpointDir: options.checkpointDir, resume: options.resume ?? false } : {}),
    ...(options.timeBudgetSeconds !== undefined ? { timeBudgetSeconds: options.timeBudgetSeconds } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
}

/** After training: the open vocabulary (frozen vectors) and the multi-label thresholds. Disposes `classifier` on failure. */
async function finishClassifier(
  trained: RecurrentTextClassifier,
  options: FitRecurrentClassifierOptions,
  classes: string[],
  multiLabel: boolean,
  thresholdRule: 'f1' | number,
  openLimit: number,
): Promise<{ classifier: RecurrentTextClassifier; thresholds?: LabelThreshold[]; openVocabulary?: OpenVocabulary }> {
  let classifier = trained;
  let openVocabulary: OpenVocabulary | undefined;
  let thresholds: LabelThreshold[] | undefined;
  try {
    // After training, not before: the added ids never occur in training and the embedding is
    // frozen, so the model is the same either way, and training keeps the smaller matrix.
    if (options.wordVectors?.words && options.fineTuneEmbeddings === false && openLimit > 0) {
      const open = extendWithWordVectors(classifier, options.wordVectors, { limit: openLimit });
      classifier.dispose();
      classifier = open.classifier;
      openVocabulary = open.openVocabulary;
    }
    if (multiLabel) {
      const validation = options.validation;
      const fixed = thresholdRule === 'f1' ? DEFAULT_THRESHOLD : thresholdRule;
      thresholds =
        validation && thresholdRule === 'f1'
          ? chooseThresholds(classes, validation.labels, await classifier.predict(validation.texts))
          : classes.map((label) => ({ label, threshold: fixed, f1: NaN, support: 0 }));
      classifier.setThresholds(thresholds.map((t) => t.threshold));
    }
  } catch (err) {
    classifier.dispose();
    throw err;
  }
  return { classifier, ...(thresholds ? { thresholds } : {}), ...(openVocabulary ? { openVocabulary } : {}) };
}

/**
 * Multi-label `'balanced'` weights: each class's positive labels weigh its negatives per
 * positive, so both sides of every sigmoid count alike (a class never seen gets 1).
 */
function positiveWeights(labels: readonly (readonly string[])[], classes: readonly string[]): number[] {
  return classes.map((c) => {
    const positives = labels.filter((ls) => ls.includes(c)).length;
    return positives === 0 ? 1 : (labels.length - positives) / positives;
  });
}

/**
 * Sets the output biases of a multi-label model to the log-odds of each class in the training
 * rows, so training starts from the label priors instead of 0.5 for every class. With zero
 * biases the first epochs go into learning that most labels are absent (the loss is dominated
 * by the negatives) before the text matters; starting at the priors skips that (Lin et al. 2017
 * initialise rare-class outputs the same way).
 */
function startAtPriors(model: tfl.LayersModel, targets: number[][]): void {
  const layer = model.getLayer('probabilities');
  const [kernel, bias] = layer.getWeights();
  const C = bias!.shape[0]!;
  const logOdds = Float32Array.from({ length: C }, (_, c) => {
    // Smoothed so a class present in every row, or none, gets a finite bias.
    const p = (targets.reduce((s, t) => s + t[c]!, 0) + 0.5) / (targets.length + 1);
    return Math.log(p / (1 - p));
  });
  const start = tf.tensor1d(logOdds);
  layer.setWeights([kernel!, start]);
  start.dispose();
}
