import type * as tfl from '@tensorflow/tfjs-layers';
import { BadInputError, setGlobalSeed, UnsupportedError } from '@seqlab/core';
import { TextVectorizer, type CleanTextOptions } from '@seqlab/tokenize';
import { resolveTextClassifierOptions, textClassifier, type ClassifierAttention } from '../builders/text-classifier.js';
import type { CellType } from '../builders/cells.js';
import { bucketedData } from '../training/data.js';
import { train, type TrainProgress, type TrainResult } from '../training/train.js';
import { classWeights as balancedWeights } from './data.js';
import { checkClasses } from './labels.js';
import { defaultMaxLength, keptPositions, lengthStats, type LengthStats, type LongTextMode, type TruncationStrategy } from './long-texts.js';
import { RecurrentTextClassifier, type RecurrentClassifierDirConfig } from './recurrent.js';

/** Texts with their labels (one per text for the recurrent kind). */
export interface LabelledRows {
  texts: string[];
  labels: string[][];
}

/** The cleaning classifiers apply unless told otherwise: markup stripped, URLs replaced. */
export const DEFAULT_CLEAN: Readonly<CleanTextOptions> = Object.freeze({ markup: true, urls: 'xxurl' });

/** Options of {@link fitRecurrentTextClassifier}; every field has a default. */
export interface FitRecurrentClassifierOptions {
  /** Class names in output order. Default: the labels seen, sorted. */
  classes?: string[];
  /** Held-out rows for early stopping and the best epoch. */
  validation?: LabelledRows;
  /** Tokens read at once. Default {@link defaultMaxLength} of the training texts' statistics. */
  maxLength?: number;
  truncation?: TruncationStrategy;
  longTexts?: LongTextMode;
  /** Text cleaning saved with the vectorizer, or `false`. Default {@link DEFAULT_CLEAN}. */
  clean?: CleanTextOptions | false;
  vocabSize?: number;
  embeddingDim?: number;
  cell?: CellType;
  layers?: number;
  units?: number;
  attention?: Exclude<ClassifierAttention, 'none'>;
  dropout?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  clipNorm?: number;
  /** Early-stopping patience in epochs (0 = off). Default 2. */
  patience?: number;
  /** `'balanced'` weights classes by inverse frequency. Default `'none'`. */
  classWeights?: 'balanced' | 'none';
  seed?: number;
  timeBudgetSeconds?: number;
  checkpointDir?: string;
  resume?: boolean;
  onProgress?: (event: TrainProgress) => void | Promise<void>;
  /** Stored in config.json (`training`). */
  training?: Record<string, unknown>;
}

/** What {@link fitRecurrentTextClassifier} returns. */
export interface FitRecurrentClassifierResult {
  classifier: RecurrentTextClassifier;
  result: TrainResult;
  lengthStats: LengthStats;
  maxLength: number;
}

/**
 * Trains a recurrent classifier (BiLSTM + attention by default) on labelled texts end to end:
 * cleaning and vocabulary, length statistics and the default length, head+tail truncation of
 * training rows, class weights, early stopping on validation accuracy. The returned classifier
 * saves as a `text-classification` model of kind `rnn`.
 *
 * @throws UnsupportedError for multi-label rows.
 */
export async function fitRecurrentTextClassifier(data: LabelledRows, options: FitRecurrentClassifierOptions = {}): Promise<FitRecurrentClassifierResult> {
  if (data.labels.some((l) => l.length !== 1)) throw new UnsupportedError('recurrent classifiers take one label per text; for multi-label data use the fasttext or tfidf-lr kind');
  const classes = checkClasses(options.classes ?? [...new Set(data.labels.map((l) => l[0]!))].sort(), 'classes');
  const index = new Map(classes.map((c, i) => [c, i]));
  const ids = (rows: LabelledRows, what: string) =>
    rows.labels.map((l, r) => {
      const id = index.get(l[0]!);
      if (id === undefined) throw new BadInputError(`${what} row ${r + 1}: label ${JSON.stringify(l[0])} is not one of the classes (${classes.join(', ')})`);
      return id;
    });
  const seed = options.seed ?? 1;
  const clean = options.clean === undefined ? DEFAULT_CLEAN : options.clean;
  const vectorizer = await new TextVectorizer({ tokenizer: 'word', maxTokens: options.vocabSize ?? 20_000, ...(clean ? { clean } : {}) }).adapt(data.texts);
  const trainIds = data.texts.map((t) => vectorizer.encodeIds(t));
  const stats = lengthStats(trainIds.map((r) => r.length));
  const maxLength = options.maxLength ?? defaultMaxLength(stats);
  const truncation = options.truncation ?? 'head+tail';
  const cut = (rows: number[][]) => rows.map((r) => keptPositions(r.length, maxLength, truncation).map((p) => r[p]!));
  const y = ids(data, 'training');
  const architecture = resolveTextClassifierOptions({
    vocabSize: vectorizer.vocabSize,
    embeddingDim: options.embeddingDim ?? 64,
    cell: options.cell ?? 'lstm',
    layers: options.layers ?? 1,
    units: options.units ?? 64,
    attention: options.attention ?? 'pooling',
    dropout: options.dropout ?? 0.3,
    numClasses: classes.length,
  });
  setGlobalSeed(seed);
  const model: tfl.LayersModel = textClassifier(architecture);
  let result: TrainResult;
  try {
    const validation = options.validation;
    const patience = options.patience ?? 2;
    result = await train(model, bucketedData(cut(trainIds), y, { batchSize: options.batchSize ?? 32, seed }), {
      epochs: options.epochs ?? 5,
      learningRate: options.learningRate ?? 0.002,
      clipNorm: options.clipNorm ?? 5,
      ...(options.classWeights === 'balanced' ? { classWeights: balancedWeights(data.labels, classes) } : {}),
      ...(validation
        ? {
            validationData: bucketedData(cut(validation.texts.map((t) => vectorizer.encodeIds(t))), ids(validation, 'validation'), { batchSize: 128, shuffle: false }),
            monitor: 'val_accuracy' as const,
            ...(patience > 0 ? { earlyStopping: { patience, restoreBestWeights: true } } : {}),
          }
        : {}),
      seed,
      ...(options.checkpointDir ? { checkpointDir: options.checkpointDir, resume: options.resume ?? false } : {}),
      ...(options.timeBudgetSeconds !== undefined ? { timeBudgetSeconds: options.timeBudgetSeconds } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (err) {
    model.dispose();
    throw err;
  }
  const config: RecurrentClassifierDirConfig = {
    task: 'text-classification',
    kind: 'rnn',
    format: 'seqlab-rnn/text-classifier@1',
    problem: classes.length === 2 ? 'binary' : 'multi-class',
    classes,
    vectorizerFile: 'vectorizer.json',
    maxLength,
    truncation,
    longTexts: options.longTexts ?? 'truncate',
    architecture,
    lengthStats: stats,
    ...(options.training ? { training: options.training } : {}),
  };
  return { classifier: new RecurrentTextClassifier([model], vectorizer, config, 'classifier'), result, lengthStats: stats, maxLength };
}
