import type { ClassificationProblem } from '@seqlab/core';
import type { EpochLog, LengthStats, TextClassificationMetrics, WordVectorCoverage } from '@seqlab/rnn';
import type { CandidateReport, StageClock, TrainReport } from '../training/types.js';
import type { Candidate, FitContext, RnnOutcome } from './candidates.js';
import type { Choice, EnsembleTrial } from './choose.js';
import type { SplitRows } from './data.js';
import { AUTO_RNN_BUDGET_SECONDS, type ResolvedTextClassificationOptions } from './options.js';

/** The text-classification part of a training report (`report.details`). */
export interface TextClassificationDetails {
  problem: ClassificationProblem;
  classes: string[];
  /** The data file, or `rows`. */
  data: string;
  textColumn: string;
  labelColumn: string;
  trainRows: number;
  validationRows: number;
  lengthStats: LengthStats;
  /** Tokens the rnn reads at once. */
  maxLength: number;
  /** Multi-label: each label's decision threshold in the saved model; null otherwise. */
  thresholds: Record<string, number> | null;
  /** The saved model scored on the validation rows through `pipeline()` (before any refit). */
  validationMetrics: TextClassificationMetrics;
  /** Rows a chosen linear kind was refitted on (training + validation), or null. */
  refitRows: number | null;
  /** The ensemble tried under `auto` (kept or not), with its weights and cross-fitted accuracy. */
  ensemble: EnsembleTrial | null;
  /** The tried ensemble's weights and cross-fitted accuracy (null when none was tried). */
  ensembleWeights: Record<string, number> | null;
  ensembleCrossFittedAccuracy: number | null;
  /** Why the rnn's embedding starts where it does (word vectors or scratch); null without an rnn. */
  wordVectorChoice: string | null;
  /** How much of the rnn's vocabulary the word vectors covered, or null. */
  rnnWordVectors: WordVectorCoverage | null;
  /** The rnn's time budget, its epochs (each with its own seconds) and how training ended. */
  rnnTimeBudgetSeconds: number | null;
  history: EpochLog[];
  epochsCompleted: number | null;
  bestEpoch: number | null;
  restoredBest: boolean | null;
  stopReason: string | null;
  lastEpochPartial: boolean;
  /** The epoch a resumed run continued after, or null for a fresh run. */
  resumedFromEpoch: number | null;
  /** A short validation text (the first of at most 80 characters, else the shortest), for a try-it example. */
  sampleText: string;
  /**
   * When the saved model was refitted on the validation rows (`refitEncoderKinds`): its class
   * probabilities on those rows from the fit before, in `classes` order, so an ensemble can weigh
   * it on rows it had not seen (see `ensembleOf`). Returned only, not written to training.json.
   */
  validationScores?: number[][];
}

/** Everything {@link buildReport} reads. */
export interface ReportInput {
  o: ResolvedTextClassificationOptions;
  out: string;
  backend: string;
  split: SplitRows & { read: { source: string; textColumn: string; labelColumn: string } };
  ctx: FitContext;
  candidates: Candidate[];
  choice: Choice;
  rnn: RnnOutcome | undefined;
  validationMetrics: TextClassificationMetrics;
  refitRows: number | null;
  clock: StageClock;
}

/** The report `train('text-classification')` returns and writes as training.json. */
export function buildReport(r: ReportInput): TrainReport<TextClassificationDetails> {
  const { o, ctx, choice, rnn } = r;
  const rnnFitted = r.candidates.some((c) => c.kind === 'rnn');
  const longer = ctx.lengths.filter((n) => n > ctx.maxLength).length;
  const thresholds = (choice.chosen.model as { thresholds?: readonly number[] }).thresholds;
  const history = rnn ? rnn.loop.history.map((h) => ({ ...h })) : [];
  const details: TextClassificationDetails = {
    problem: ctx.problem,
    classes: ctx.classes,
    data: r.split.read.source,
    textColumn: r.split.read.textColumn,
    labelColumn: r.split.read.labelColumn,
    trainRows: ctx.train.texts.length,
    validationRows: ctx.validation.texts.length,
    lengthStats: ctx.lengthStats,
    maxLength: ctx.maxLength,
    thresholds: ctx.problem === 'multi-label' ? Object.fromEntries(ctx.classes.map((c, i) => [c, thresholds?.[i] ?? 0.5])) : null,
    validationMetrics: r.validationMetrics,
    refitRows: r.refitRows,
    ensemble: choice.ensemble,
    ensembleWeights: choice.ensemble?.weights ?? null,
    ensembleCrossFittedAccuracy: choice.ensemble?.crossFittedAccuracy ?? null,
    wordVectorChoice: (r.candidates.find((c) => c.kind === 'rnn')?.settings.wordVectors as string | undefined) ?? null,
    rnnWordVectors: (rnn?.wordVectors?.coverage as WordVectorCoverage | undefined) ?? null,
    rnnTimeBudgetSeconds: rnnFitted ? (o.timeBudgetSeconds ?? (o.model === 'auto' ? AUTO_RNN_BUDGET_SECONDS : null)) : null,
    history,
    epochsCompleted: rnn ? history.length : null,
    bestEpoch: rnn ? rnn.loop.bestEpoch + 1 : null,
    restoredBest: rnn ? rnn.loop.restoredBest : null,
    stopReason: rnn ? rnn.loop.stopReason : null,
    lastEpochPartial: history.at(-1)?.partial === true,
    resumedFromEpoch: o.resume && rnn ? rnn.resumedFromEpoch : null,
    sampleText: sampleText(ctx.validation.texts),
  };
  return {
    task: 'text-classification',
    dir: r.out,
    seed: o.seed,
    backend: r.backend,
    kind: choice.chosen.kind,
    reason: choice.reason,
    candidates: r.candidates.map(candidateReport),
    stages: { ...r.clock.stages },
    seconds: r.clock.elapsed(),
    truncated: rnnFitted ? { texts: longer, maxLength: ctx.maxLength, truncation: o.truncation, ...rnnSample(r.candidates) } : {},
    details,
  };
}

/** `rnnRows`: the training rows the rnn saw when its time budget ended the first epoch early (a larger corpus than the budget covers). */
function rnnSample(candidates: readonly Candidate[]): { rnnRows?: number } {
  const s = candidates.find((c) => c.kind === 'rnn')?.settings;
  return typeof s?.rowsSeen === 'number' && typeof s.trainRows === 'number' && s.rowsSeen < s.trainRows ? { rnnRows: s.rowsSeen } : {};
}

function sampleText(texts: readonly string[]): string {
  return texts.find((t) => t.length <= 80) ?? texts.reduce((a, b) => (b.length < a.length ? b : a));
}

function candidateReport(c: Candidate): CandidateReport {
  return {
    kind: c.kind,
    seconds: c.seconds,
    metrics: { accuracy: c.metrics.accuracy, macroF1: c.metrics.macro.f1, microF1: c.metrics.micro.f1 },
    settings: c.settings,
  };
}
