import { BadInputError, releaseMemoryEvery, sharedTokens, throwIfCancelled, type ClassificationProblem, type TextClassificationPipeline } from '@seqlab/core';
import { ClassificationCounts, fitLinearTextClassifier, stratifiedSample, stratifiedSplit, type LabelledRows, type TextClassificationMetrics } from '@seqlab/rnn';
import { describeModel, resolveModelDir } from '../models.js';
import { checkOptionKeys, type TrainEvent } from '../training/types.js';
import { readRows } from './data.js';
import type { TextClassificationData } from './options.js';
import { labelsForClasses, RELEASE_MEMORY_EVERY_MS } from './train.js';
import { itemsWithEta } from './progress.js';

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
  /**
   * Texts per prediction call. Default 256. A recurrent model batches texts of similar length
   * within one call, so larger calls pad less (on review-length texts 4% at 1,024 instead of
   * 14%), but they hold more at once: at 1,024 the peak heap of an ensemble's scoring grew by
   * about 100 MB for no measurable gain in speed.
   */
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

/** Rows scored in batches: from a file as they are read, or from rows in memory. */
interface ScoredSource {
  source: string;
  textColumn: string;
  labelColumn: string;
  /** Rows expected (for progress; a file's is estimated from its line count). */
  expected: number;
  batches: AsyncIterable<LabelledRows>;
  close(): Promise<void>;
}

/**
 * Scores a saved text classifier (a model name or a directory) on labelled rows (a file or rows
 * in memory) through `pipeline('text-classification')`. A file is read as a stream and scored
 * batch by batch, keeping only counts (confusion matrix, per-class sums, a fixed ROC-AUC
 * histogram): memory stays flat whatever the file's size. `limit` needs every label first (a
 * stratified sample), so with it the file is read whole.
 *
 * @throws BadInputError for unknown options, a bad row or file; NotFoundError for an unknown model.
 */
export async function evaluateTextClassification(model: string, data: TextClassificationData, options: TextClassificationEvaluateOptions = {}): Promise<TextClassificationEvaluation> {
  checkOptionKeys("evaluate('text-classification')", options, KEYS);
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new BadInputError(`batchSize: expected a positive integer, got ${JSON.stringify(options.batchSize)}`);
  const { pipeline } = await import('../pipeline.js');
  const clf = await pipeline('text-classification', model);
  let rows: ScoredSource | undefined;
  let baseline: FittedBaseline | undefined;
  // Scoring a file makes garbage batch after batch; collected on a clock, RSS stays flat.
  const stopReleasing = releaseMemoryEvery(RELEASE_MEMORY_EVERY_MS);
  try {
    rows = await openScoredRows(data, options, clf.problem === 'multi-label', batchSize);
    if (options.baseline) baseline = await fitBaseline(options.baseline === true ? await recordedTrainingData(model) : options.baseline, clf, rows, options);
    const scored = await scoreStream(clf, rows, baseline, options);
    const base = { model: clf.name, kind: clf.kind, problem: clf.problem, classes: [...clf.classes], data: rows.source, metrics: scored.metrics, thresholds: clf.thresholds ? [...clf.thresholds] : null, maxLength: clf.maxLength, seconds: scored.seconds };
    return { ...base, baseline: baseline && scored.baseline ? { ...baseline.report, ...scored.baseline, seconds: baseline.report.seconds + scored.baselineSeconds } : null };
  } finally {
    stopReleasing();
    clf.dispose();
    baseline?.model.dispose();
    await rows?.close();
  }
}

/** The rows to score: a file streamed (or read whole for `limit`), or rows in memory, in batches. */
async function openScoredRows(data: TextClassificationData, options: TextClassificationEvaluateOptions, multiLabel: boolean, batchSize: number): Promise<ScoredSource> {
  if (typeof data === 'string' && !options.limit) {
    const { openLabelledTexts } = await import('@seqlab/rnn');
    const stream = await openLabelledTexts(data, {
      ...(options.textColumn ? { textColumn: options.textColumn } : {}),
      ...(options.labelColumn ? { labelColumn: options.labelColumn } : {}),
      ...(options.header !== undefined ? { header: options.header } : {}),
      multiLabel,
    });
    const expected = Math.max(1, (await countLines(data)) - (stream.header && stream.format !== 'jsonl' ? 1 : 0));
    return { source: data, textColumn: stream.textColumn, labelColumn: stream.labelColumn, expected, batches: stream.batches(batchSize), close: () => stream.close() };
  }
  const read = await readRows(data, options, 'data');
  const rows: LabelledRows = options.limit ? pickRows(read, stratifiedSample(read.labels, options.limit, options.seed ?? 1)) : read;
  async function* slices(): AsyncGenerator<LabelledRows> {
    for (let s = 0; s < rows.texts.length; s += batchSize) yield { texts: rows.texts.slice(s, s + batchSize), labels: rows.labels.slice(s, s + batchSize) };
  }
  return { source: read.source, textColumn: read.textColumn, labelColumn: read.labelColumn, expected: rows.texts.length, batches: slices(), close: async () => {} };
}

function pickRows(rows: LabelledRows, idx: readonly number[]): LabelledRows {
  return { texts: idx.map((i) => rows.texts[i]!), labels: idx.map((i) => rows.labels[i]!) };
}

/** Newlines in a file, counted in chunks (an estimate of its rows for progress; quoted line breaks count too). */
async function countLines(file: string): Promise<number> {
  const { createReadStream } = await import('node:fs');
  let n = 0;
  let last = 10;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
    if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  }
  return last === 10 ? n : n + 1;
}

/** Scores every batch with the model (and the baseline), keeping counts only; `items` events with an ETA. */
async function scoreStream(
  clf: TextClassificationPipeline,
  rows: ScoredSource,
  baseline: FittedBaseline | undefined,
  options: TextClassificationEvaluateOptions,
): Promise<{ metrics: TextClassificationMetrics; seconds: number; baseline?: Omit<BaselineEvaluation, 'data' | 'l2' | 'seconds'>; baselineSeconds: number }> {
  const counts = new ClassificationCounts(clf.classes, clf.problem);
  const baseCounts = baseline ? new ClassificationCounts(clf.classes, clf.problem) : undefined;
  const t0 = performance.now();
  let baselineMs = 0;
  // Scores only: per-token explanations would be built and thrown away.
  const predictOptions = { explain: false, ...(options.longTexts ? { longTexts: options.longTexts } : {}) };
  // One batch read ahead: the model may tokenize it while its kernels score this one.
  const reader = rows.batches[Symbol.asyncIterator]();
  let ahead = await reader.next();
  let aheadTokens = sharedTokens();
  while (!ahead.done) {
    const batch = ahead.value;
    const tokens = aheadTokens;
    ahead = await reader.next();
    aheadTokens = sharedTokens();
    throwIfCancelled(options.signal, 'evaluation');
    const truth = labelsForClasses(batch.labels, clf.classes);
    const lookahead = ahead.done ? {} : { lookahead: { texts: ahead.value.texts, sharedTokens: aheadTokens } };
    counts.add(truth, await clf.predict(batch.texts, { ...predictOptions, sharedTokens: tokens, ...lookahead }));
    if (baseline && baseCounts) {
      const tb = performance.now();
      baseCounts.add(truth, await baseline.model.predict(batch.texts));
      baselineMs += performance.now() - tb;
    }
    const elapsed = (performance.now() - t0) / 1000;
    const total = Math.max(rows.expected, counts.size);
    options.onProgress?.({ type: 'items', stage: 'score', done: counts.size, total, etaSeconds: (elapsed / counts.size) * (total - counts.size) });
  }
  if (counts.size === 0) throw new BadInputError(`${rows.source}: no data rows`);
  const m = baseCounts?.metrics();
  return {
    metrics: counts.metrics(),
    seconds: (performance.now() - t0 - baselineMs) / 1000,
    ...(m ? { baseline: { accuracy: m.accuracy, macroF1: m.macro.f1, microF1: m.micro.f1 } } : {}),
    baselineSeconds: baselineMs / 1000,
  };
}

/** The training file a saved model records in its config (`training.data`). */
async function recordedTrainingData(model: string): Promise<string> {
    const config = await describeModel(resolveModelDir(model).dir);
  const file = (config.training as { data?: unknown } | undefined)?.data;
  if (typeof file !== 'string' || file === 'rows') throw new BadInputError('baseline: the model does not record its training data file; pass the baseline data');
  return file;
}

/** A fitted TF-IDF baseline and what the report says of its fit. */
interface FittedBaseline {
  model: TextClassificationPipeline;
  report: { data: string; l2: number | null; seconds: number };
}

/**
 * The baseline a careful user would fit: its L2 penalty chosen on a stratified 10% of the
 * training rows (the right penalty moves by orders of magnitude between datasets), then
 * refitted on every row with it. It is scored on the same batches as the model.
 */
async function fitBaseline(
  data: TextClassificationData,
  clf: { classes: readonly string[]; problem: ClassificationProblem },
  read: { textColumn: string; labelColumn: string },
  options: TextClassificationEvaluateOptions,
): Promise<FittedBaseline> {
  const t0 = performance.now();
  options.onProgress?.({ type: 'stage', stage: 'baseline', message: 'fitting the tf-idf baseline ...' });
  const trainRead = await readRows(data, { textColumn: read.textColumn, labelColumn: read.labelColumn }, 'baseline');
  const labelled = { texts: trainRead.texts, labels: labelsForClasses(trainRead.labels, clf.classes) };
  const split = stratifiedSplit(labelled.labels, 0.1, 1);
  const progress = options.onProgress ? itemsWithEta(options.onProgress, 'baseline') : undefined;
  const common = { kind: 'tfidf-lr' as const, classes: [...clf.classes], problem: clf.problem, seed: 1, ...(progress ? { onProgress: progress } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  const tuned = await fitLinearTextClassifier(pickRows(labelled, split.train), { ...common, validation: pickRows(labelled, split.holdout) });
  const l2 = tuned.config.training?.l2 as number | undefined;
  tuned.dispose();
  throwIfCancelled(options.signal, 'evaluation');
  const model = await fitLinearTextClassifier(labelled, { ...common, ...(l2 !== undefined ? { tfidf: { l2 } } : {}) });
  return { model, report: { data: trainRead.source, l2: l2 ?? null, seconds: (performance.now() - t0) / 1000 } };
}
