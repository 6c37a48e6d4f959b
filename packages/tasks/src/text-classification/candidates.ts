import { throwIfCancelled, type ClassificationProblem, type TextClassificationPipeline, type TextClassificationResult } from '@seqlab/core';
import { chooseThresholds, classificationMetrics, fitLinearTextClassifier, fitRecurrentTextClassifier, readTrainingState, type LabelledRows, type LengthStats, type PackedCorpus, type TextClassificationMetrics, type TrainProgress, type TrainResult as LoopResult } from '@seqlab/rnn';
import { chooseWordVectors, type SentenceEncoder } from '@seqlab/embeddings';
import type { TrainEvent } from '../training/types.js';
import { AUTO_RNN_BUDGET_SECONDS, type ResolvedTextClassificationOptions } from './options.js';
import { fitEncoderKind } from './encoder-kinds.js';
import { itemsWithEta, type StageProgress } from './progress.js';

/** One fitted kind with its validation results (an ensemble combines those instead of predicting again). */
export interface Candidate {
  kind: string;
  /** Seconds this candidate's own fit took. */
  seconds: number;
  model: TextClassificationPipeline;
  metrics: TextClassificationMetrics;
  results: TextClassificationResult[];
  /** Settings that describe it (L2, heads, epochs ...), for the report. */
  settings: Record<string, unknown>;
}

/** What every candidate's fit reads. */
export interface FitContext {
  o: ResolvedTextClassificationOptions;
  train: LabelledRows;
  validation: LabelledRows;
  classes: string[];
  problem: ClassificationProblem;
  maxLength: number;
  /** How often each training token occurs, for the word vectors' coverage. */
  wordCounts: ReadonlyMap<string, number>;
  /** The training texts tokenized once, as the linear kinds tokenize them. */
  packedTrain: PackedCorpus;
  /** Tokens per training text, and their statistics. */
  lengths: readonly number[];
  lengthStats: LengthStats;
  /** Stored in each model's config.json (`training`). */
  training: Record<string, unknown>;
  checkpointDir: string;
  encoder?: SentenceEncoder;
  /** The rows' fine labels (training, validation), when every row carries one. */
  fineLabels?: { train: string[]; validation: string[] };
  emit: (event: TrainEvent) => void;
}

/** The rnn's own record beyond its candidate: the loop's result and the word-vector choice. */
export interface RnnOutcome {
  /** The loop's result (of the first member). */
  loop: LoopResult;
  /** Every member's loop result (one entry without `members`). */
  memberLoops: LoopResult[];
  wordVectors: { reason: string; coverage: unknown } | null;
  resumedFromEpoch: number;
}

/** Fits one kind and scores it on the validation rows. */
export async function fitCandidate(kind: string, ctx: FitContext, rnnOut: { value?: RnnOutcome }): Promise<Candidate> {
  throwIfCancelled(ctx.o.signal, 'training');
  const t0 = performance.now();
  let fitted: { model: TextClassificationPipeline; settings: Record<string, unknown>; validationResults?: TextClassificationResult[] };
  if (kind === 'rnn') fitted = await fitRnn(ctx, rnnOut);
  else if (kind === 'use' || kind === 'hybrid') fitted = await fitEncoderKind(kind, ctx);
  else fitted = await fitLinear(kind as 'fasttext' | 'tfidf-lr', ctx);
  const seconds = (performance.now() - t0) / 1000;
  try {
    throwIfCancelled(ctx.o.signal, 'training');
    // A refitted kind has seen the validation rows: it brings the results of its fit before.
    const results = fitted.validationResults ?? (await predictWithProgress(fitted.model, ctx.validation.texts, itemsWithEta(ctx.emit, kind), ctx.o.signal));
    const metrics = classificationMetrics(ctx.classes, ctx.problem, ctx.validation.labels, results);
    return { kind, seconds, model: fitted.model, metrics, results, settings: fitted.settings };
  } catch (err) {
    fitted.model.dispose();
    throw err;
  }
}

/**
 * Predicts in slices of 256, reporting `validate` progress and checking for cancellation between
 * slices. Without explanations: only the scores choose among candidates, and an rnn's per-token
 * attention on 25,000 validation reviews is millions of objects (a third of a 250,000-review
 * run's peak memory).
 */
export async function predictWithProgress(model: TextClassificationPipeline, texts: string[], progress?: (p: StageProgress) => void, signal?: AbortSignal): Promise<TextClassificationResult[]> {
  const out: TextClassificationResult[] = [];
  for (let s = 0; s < texts.length; s += 256) {
    throwIfCancelled(signal, 'training');
    out.push(...(await model.predict(texts.slice(s, s + 256), { explain: false })));
    progress?.({ stage: 'validate', done: out.length, total: texts.length });
  }
  return out;
}

/** fasttext or tfidf-lr: seconds each; tfidf-lr chooses its L2 penalty on the validation rows. */
async function fitLinear(kind: 'fasttext' | 'tfidf-lr', ctx: FitContext): Promise<{ model: TextClassificationPipeline; settings: Record<string, unknown> }> {
  const { o, classes, problem, validation } = ctx;
  ctx.emit({ type: 'stage', stage: 'fit', candidate: kind, message: `fitting ${kind} ...` });
  const linear = await fitLinearTextClassifier(ctx.train, {
    kind,
    classes,
    problem,
    seed: o.seed,
    classWeights: o.classWeights,
    ...(o.clean !== undefined ? { clean: o.clean } : {}),
    ...(kind === 'tfidf-lr' ? { validation } : {}),
    ...(kind === 'fasttext' && o.fasttext ? { fasttext: o.fasttext } : {}),
    corpus: ctx.packedTrain,
    training: ctx.training,
    ...(o.signal ? { signal: o.signal } : {}),
    onProgress: itemsWithEta(ctx.emit, kind),
  });
  const l2 = linear.config.training?.l2;
  const settings: Record<string, unknown> = typeof l2 === 'number' ? { l2 } : {};
  if (problem === 'multi-label') {
    try {
      settings.thresholds = await setThresholds(linear, ctx);
    } catch (err) {
      linear.dispose();
      throw err;
    }
  }
  return { model: linear, settings };
}

/** Multi-label thresholds of a linear kind by the same rule as the rnn's, so the kinds compare on an equal footing. */
async function setThresholds(model: { predict: TextClassificationPipeline['predict']; setThresholds(t: readonly number[]): void }, ctx: FitContext): Promise<number[]> {
  const rule = ctx.o.thresholds;
  const chosen = rule === 'f1' ? chooseThresholds(ctx.classes, ctx.validation.labels, await model.predict(ctx.validation.texts, { explain: false })).map((t) => t.threshold) : ctx.classes.map(() => rule);
  model.setThresholds(chosen);
  return chosen;
}

/** The recurrent classifier: word vectors chosen by coverage, checkpoints in the run folder, events per batch and epoch. */
async function fitRnn(ctx: FitContext, out: { value?: RnnOutcome }): Promise<{ model: TextClassificationPipeline; settings: Record<string, unknown> }> {
  const { o } = ctx;
  const resumedFromEpoch = o.resume ? ((await readTrainingState(ctx.checkpointDir))?.epoch ?? 0) : 0;
  ctx.emit({ type: 'stage', stage: 'fit', candidate: 'rnn', message: `fitting rnn${resumedFromEpoch > 0 ? ` (resuming after epoch ${resumedFromEpoch} of ${o.epochs})` : ''} ...` });
  // Chosen again on a resume (the same rule and data give the same choice), so the network has
  // the embedding size of its checkpoint, which then replaces the starting values.
  // Subword pieces have no word vectors: auto then trains the embedding from scratch.
  const choice = await chooseWordVectors(o.tokenizer === 'word' ? o.wordVectors : 'none', ctx.wordCounts, { ...(o.embeddingDim !== undefined ? { embeddingDim: o.embeddingDim } : {}), openVocabulary: o.freezeEmbeddings ? o.openVocabulary : 0 });
  ctx.emit({ type: 'stage', stage: 'fit', candidate: 'rnn', message: `rnn: ${choice.reason}` });
  const budget = o.timeBudgetSeconds ?? (o.model === 'auto' ? AUTO_RNN_BUDGET_SECONDS : undefined);
  const events = rnnEvents(ctx.emit, budget);
  const fitted = await fitRecurrentTextClassifier(ctx.train, {
    classes: ctx.classes,
    problem: ctx.problem,
    thresholds: o.thresholds,
    validation: ctx.validation,
    maxLength: ctx.maxLength,
    truncation: o.truncation,
    vocabSize: o.vocabSize,
    ...(o.clean !== undefined ? { clean: o.clean } : {}),
    tokenizer: o.tokenizer,
    // The words the linear kinds tokenized already: the rnn's vocabulary and ids come from them.
    ...(o.tokenizer === 'word' ? { corpus: ctx.packedTrain } : {}),
    members: o.members,
    onMember: (member, seed) => {
      events.nextMember();
      ctx.emit({ type: 'stage', stage: 'fit', candidate: 'rnn', message: `rnn: member ${member} of ${o.members} (seed ${seed}) ...` });
    },
    ...(o.reduceLrOnPlateau !== false ? { reduceLrOnPlateau: o.reduceLrOnPlateau === true ? {} : o.reduceLrOnPlateau } : {}),
    precision: o.precision,
    ...(o.sparseEmbeddings !== undefined ? { sparseEmbeddings: o.sparseEmbeddings } : {}),
    ...(o.embeddingDim !== undefined ? { embeddingDim: o.embeddingDim } : {}),
    ...(choice.vectors ? { wordVectors: choice.vectors, fineTuneEmbeddings: !o.freezeEmbeddings, openVocabulary: o.openVocabulary } : {}),
    cell: o.cell,
    layers: o.layers,
    units: o.units,
    attention: o.attention,
    dropout: o.dropout,
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    clipNorm: o.clipNorm,
    patience: o.patience,
    monitor: o.monitor === 'loss' ? 'val_loss' : 'val_accuracy',
    classWeights: o.classWeights,
    seed: o.seed,
    checkpointDir: ctx.checkpointDir,
    resume: o.resume,
    ...(budget !== undefined ? { timeBudgetSeconds: budget } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    onProgress: events.onProgress,
    training: ctx.training,
  });
  out.value = { loop: fitted.result, memberLoops: fitted.memberResults, wordVectors: fitted.wordVectorCoverage ? { reason: choice.reason, coverage: fitted.wordVectorCoverage } : null, resumedFromEpoch };
  if (fitted.openVocabulary) {
    const n = fitted.openVocabulary.added;
    ctx.emit({ type: 'stage', stage: 'fit', candidate: 'rnn', message: `rnn: ${n} more word${n === 1 ? '' : 's'} of ${fitted.openVocabulary.vectors} carried with their frozen vectors (openVocabulary ${o.openVocabulary})` });
  }
  if (fitted.thresholds) ctx.emit({ type: 'stage', stage: 'fit', candidate: 'rnn', message: `rnn: ${describeThresholds(fitted.thresholds, o.thresholds)}` });
  // A time budget that ends the first epoch early leaves the rnn a sample of the rows (the
  // batches' order is shuffled across length buckets, so the sample spans every length).
  const rowsSeen = Math.min(ctx.train.texts.length, fitted.result.steps * o.batchSize);
  const members = o.members > 1 ? fitted.memberResults.map((r, k) => ({ member: k + 1, seed: o.seed + k, epochs: r.history.length, bestEpoch: r.bestEpoch + 1, stopReason: r.stopReason, bestMetric: r.bestMetric })) : undefined;
  const settings = { ...(members ? { members } : {}), epochs: fitted.result.history.length, stopReason: fitted.result.stopReason, bestEpoch: fitted.result.bestEpoch + 1, restoredBest: fitted.result.restoredBest, timeBudgetSeconds: budget ?? null, wordVectors: choice.reason, rowsSeen, trainRows: ctx.train.texts.length };
  return { model: fitted.classifier, settings };
}

/**
 * The loop's events as TrainEvents: a batch event per batch, an epoch event with that epoch's own
 * seconds (the loop reports seconds since it started), the epoch a time budget cut short marked
 * partial. Each ensemble member runs its own loop (and budget): `nextMember` starts the count again.
 */
function rnnEvents(emit: (e: TrainEvent) => void, budget: number | undefined): { onProgress: (e: TrainProgress) => void; nextMember: () => void } {
  let lastEpochEnd = 0;
  let overBudget = false;
  const nextMember = () => {
    lastEpochEnd = 0;
    overBudget = false;
  };
  const onProgress = (e: TrainProgress) => {
    if (e.type === 'batch') {
      // The loop's time budget cuts the epoch after the first batch that ends past it.
      if (budget !== undefined && e.elapsedSeconds >= budget) overBudget = true;
      emit({ type: 'batch', stage: 'fit', candidate: 'rnn', epoch: e.epoch + 1, epochs: e.epochs, batch: e.batch + 1, batches: e.batchesPerEpoch, etaSeconds: e.etaSeconds, metrics: { loss: e.loss, ...e.metrics } });
    } else if (e.type === 'epoch') {
      const seconds = e.elapsedSeconds - lastEpochEnd;
      lastEpochEnd = e.elapsedSeconds;
      emit({ type: 'epoch', stage: 'fit', candidate: 'rnn', epoch: e.epoch + 1, epochs: e.epochs, seconds, etaSeconds: e.etaSeconds, metrics: { loss: e.loss, ...e.metrics }, ...(overBudget ? { partial: true } : {}) });
    }
  };
  return { onProgress, nextMember };
}

/** One line on how multi-label thresholds were set. */
export function describeThresholds(thresholds: readonly { threshold: number; support: number }[], rule: 'f1' | number): string {
  if (rule !== 'f1') return `threshold ${rule} for every label`;
  const tuned = thresholds.filter((t) => t.support > 0).map((t) => t.threshold);
  const kept = thresholds.length - tuned.length;
  const range = tuned.length > 0 ? ` (${Math.min(...tuned).toFixed(3)}..${Math.max(...tuned).toFixed(3)})` : '';
  return `per-label thresholds chosen on validation for ${tuned.length} of ${thresholds.length} labels${range}${kept > 0 ? `; ${kept} without validation examples keep 0.5` : ''}`;
}
