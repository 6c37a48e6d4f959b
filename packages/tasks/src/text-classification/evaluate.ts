import { BadInputError, throwIfCancelled, type ClassificationProblem, type TextClassificationPipeline, type TextClassificationResult } from '@seqlab/core';
import { classificationMetrics, fitLinearTextClassifier, stratifiedSample, stratifiedSplit, type LabelledRows, type TextClassificationMetrics } from '@seqlab/rnn';
import { resolveModelDir } from '../models.js';
import { checkOptionKeys, type TrainEvent } from '../training/types.js';
import { readRows } from './data.js';
import type { TextClassificationData } from './options.js';
import { labelsForClasses } from './train.js';

/** Options of `evaluate('text-classification', model, data, options)`. */
export interface TextClassificationEvaluateOptions {
  /** Column names of a file (detected by default) and whether it has a header row (detected). */
  textColumn?: string;
  labelColumn?: string;
  header?: boolean;
  /** Score this many rows: a stratified, seeded sample. */
  limit?: number;
  /** Seed of `limit`. Default 1. */
  seed?: number;
  /** Texts per prediction call. Default 256. */
  batchSize?: number;
  /** Texts longer than the model reads: `truncate` or `chunks`. Default: the model's setting. */
  longTexts?: 'truncate' | 'chunks';
  /**
   * Also fit a TF-IDF logistic regression (its L2 penalty chosen on a stratified 10% of the
   * baseline's rows, then refitted on all of them) and score it on the same rows. `true` trains
   * it on the file the model records as its training data; or pass that data.
   */
  baseline?: boolean | TextClassificationData;
  /** `items` events while scoring. */
  onProgress?: (event: TrainEvent) => void;
  signal?: AbortSignal;
}

/** The TF-IDF baseline scored beside the model. */
export interface BaselineEvaluation {
  /** The file (or `rows`) it was trained on. */
  data: string;
  l2: number | null;
  accuracy: number;
  macroF1: number;
  microF1: number;
  seconds: number;
}

/** What `evaluate('text-classification')` returns. */
export interface TextClassificationEvaluation {
  model: string;
  kind: string;
  problem: ClassificationProblem;
  classes: string[];
  /** The data file, or `rows`. */
  data: string;
  /** Accuracy, per-class P/R/F1, macro/micro, confusion matrix (single-label), ROC-AUC (binary), Jaccard (multi-label), truncated count. */
  metrics: TextClassificationMetrics;
  /** Multi-label decision thresholds of the model, or null. */
  thresholds: number[] | null;
  /** Tokens the model reads at once. */
  maxLength: number;
  seconds: number;
  baseline: BaselineEvaluation | null;
}

const KEYS = ['textColumn', 'labelColumn', 'header', 'limit', 'seed', 'batchSize', 'longTexts', 'baseline', 'onProgress', 'signal'] as const;

/**
 * Scores a saved text classifier (a model name or a directory) on labelled rows (a file or rows
 * in memory) through `pipeline('text-classification')`.
 *
 * @throws BadInputError for unknown options, a bad row or file; NotFoundError for an unknown model.
 */
export async function evaluateTextClassification(model: string, data: TextClassificationData, options: TextClassificationEvaluateOptions = {}): Promise<TextClassificationEvaluation> {
  checkOptionKeys("evaluate('text-classification')", options, KEYS);
  const read = await readRows(data, options, 'data');
  const rows: LabelledRows = options.limit ? pickRows(read, stratifiedSample(read.labels, options.limit, options.seed ?? 1)) : read;
  const { pipeline } = await import('../pipeline.js');
  const clf = await pipeline('text-classification', model);
  const t0 = performance.now();
  let metrics: TextClassificationMetrics;
  let truth: string[][];
  try {
    truth = labelsForClasses(rows.labels, clf.classes);
    const results = await predictInSlices(clf, rows.texts, options);
    metrics = classificationMetrics(clf.classes, clf.problem, truth, results);
  } finally {
    clf.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const base = { model: clf.name, kind: clf.kind, problem: clf.problem, classes: [...clf.classes], data: read.source, metrics, thresholds: clf.thresholds ? [...clf.thresholds] : null, maxLength: clf.maxLength, seconds };
  if (!options.baseline) return { ...base, baseline: null };
  const baselineData = options.baseline === true ? await recordedTrainingData(model) : options.baseline;
  const baseline = await scoreBaseline(baselineData, { texts: rows.texts, labels: truth }, clf, read, options);
  return { ...base, baseline };
}

function pickRows(rows: LabelledRows, idx: readonly number[]): LabelledRows {
  return { texts: idx.map((i) => rows.texts[i]!), labels: idx.map((i) => rows.labels[i]!) };
}

/** Predicts in slices, so a long file reports progress and can be cancelled between slices. */
async function predictInSlices(clf: TextClassificationPipeline, texts: string[], options: TextClassificationEvaluateOptions): Promise<TextClassificationResult[]> {
  const slice = options.batchSize ?? 256;
  if (!Number.isInteger(slice) || slice < 1) throw new BadInputError(`batchSize: expected a positive integer, got ${JSON.stringify(options.batchSize)}`);
  const out: TextClassificationResult[] = [];
  for (let s = 0; s < texts.length; s += slice) {
    throwIfCancelled(options.signal, 'evaluation');
    out.push(...(await clf.predict(texts.slice(s, s + slice), options.longTexts ? { longTexts: options.longTexts } : {})));
    options.onProgress?.({ type: 'items', stage: 'score', done: out.length, total: texts.length });
  }
  return out;
}

/** The training file a saved model records in its config (`training.data`). */
async function recordedTrainingData(model: string): Promise<string> {
  const { describeModel } = await import('../pipeline.js');
  const config = await describeModel(resolveModelDir(model).dir);
  const file = (config.training as { data?: unknown } | undefined)?.data;
  if (typeof file !== 'string' || file === 'rows') throw new BadInputError('baseline: the model does not record its training data file; pass the baseline data');
  return file;
}

/**
 * The baseline a careful user would fit: its L2 penalty chosen on a stratified 10% of the
 * training rows (the right penalty moves by orders of magnitude between datasets), then
 * refitted on every row with it.
 */
async function scoreBaseline(
  data: TextClassificationData,
  scored: LabelledRows,
  clf: { classes: readonly string[]; problem: ClassificationProblem },
  read: { textColumn: string; labelColumn: string },
  options: TextClassificationEvaluateOptions,
): Promise<BaselineEvaluation> {
  const t0 = performance.now();
  const trainRead = await readRows(data, { textColumn: read.textColumn, labelColumn: read.labelColumn }, 'baseline');
  const labelled = { texts: trainRead.texts, labels: labelsForClasses(trainRead.labels, clf.classes) };
  const split = stratifiedSplit(labelled.labels, 0.1, 1);
  const common = { kind: 'tfidf-lr' as const, classes: [...clf.classes], problem: clf.problem, seed: 1 };
  const tuned = await fitLinearTextClassifier(pickRows(labelled, split.train), { ...common, validation: pickRows(labelled, split.holdout) });
  const l2 = tuned.config.training?.l2 as number | undefined;
  tuned.dispose();
  throwIfCancelled(options.signal, 'evaluation');
  const lr = await fitLinearTextClassifier(labelled, { ...common, ...(l2 !== undefined ? { tfidf: { l2 } } : {}) });
  try {
    const m = classificationMetrics(clf.classes, clf.problem, scored.labels, await predictInSlices(lr, scored.texts, { ...options, longTexts: undefined }));
    return { data: trainRead.source, l2: l2 ?? null, accuracy: m.accuracy, macroF1: m.macro.f1, microF1: m.micro.f1, seconds: (performance.now() - t0) / 1000 };
  } finally {
    lr.dispose();
  }
}
