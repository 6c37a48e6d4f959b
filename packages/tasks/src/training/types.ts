/**
 * The vocabulary every trainer shares: options common to all tasks, the progress events that
 * flow back through one `onProgress`, and the report `train()` returns. Task-specific options
 * and report details extend these in `training/<task>.ts`.
 */
import { BadInputError } from '@seqlab/core';

/** The tasks `train()` and `evaluate()` accept. */
export const TRAIN_TASKS = Object.freeze(['text-classification', 'text-generation', 'forecast'] as const);
export type TrainTaskName = (typeof TRAIN_TASKS)[number];

/** A stage announced by a trainer (reading data, fitting one candidate, choosing, saving ...). */
export interface StageEvent {
  type: 'stage';
  /** Short machine-readable stage name: `read`, `vectorize`, `fit`, `choose`, `refit`, `save`, `evaluate`. */
  stage: string;
  /** The candidate kind the stage concerns, when there is one. */
  candidate?: string;
  /** One human-readable line. */
  message: string;
}

/** The end of one training epoch of one candidate. */
export interface EpochEvent {
  type: 'epoch';
  stage: string;
  candidate?: string;
  /** 1-based epoch number. */
  epoch: number;
  epochs: number;
  /** Seconds this epoch took (not since the start of the run). */
  seconds: number;
  /** Estimated seconds left for this candidate, when known. */
  etaSeconds?: number;
  /** Training and validation metrics of the epoch (`loss`, `val_accuracy`, ...). */
  metrics: Record<string, number>;
  /** True when a time budget cut the epoch short. */
  partial?: boolean;
}

/** Running progress inside an epoch. */
export interface BatchEvent {
  type: 'batch';
  stage: string;
  candidate?: string;
  epoch: number;
  epochs: number;
  /** 1-based batch within the epoch. */
  batch: number;
  batches: number;
  etaSeconds?: number;
  metrics: Record<string, number>;
}

/** Progress over items (texts embedded, rows read, series fitted). */
export interface ItemsEvent {
  type: 'items';
  stage: string;
  candidate?: string;
  done: number;
  total: number;
  etaSeconds?: number;
}

/** Everything `onProgress` receives. */
export type TrainEvent = StageEvent | EpochEvent | BatchEvent | ItemsEvent;

/** Options every task's `train()` takes. */
export interface CommonTrainOptions {
  /** The model folder written at the end (atomically). Required. */
  out: string;
  /** Seed of every random choice (splits, initial weights, shuffles). Default 1. */
  seed?: number;
  /** Cancels the run; the abort reaches the batch loop and is thrown as a `cancelled` error. */
  signal?: AbortSignal;
  /** Typed progress events. */
  onProgress?: (event: TrainEvent) => void;
}

/** The keys of {@link CommonTrainOptions}, for option checks. */
export const COMMON_TRAIN_KEYS = Object.freeze(['out', 'seed', 'signal', 'onProgress'] as const);

/** One candidate a trainer fitted, with its validation figures. */
export interface CandidateReport {
  kind: string;
  /** Seconds spent fitting this candidate (an ensemble's own combination time only). */
  seconds: number;
  /** Validation metrics (accuracy, macroF1 ... for classifiers; rmse, smape ... for forecasters; loss, perplexity for LMs). */
  metrics: Record<string, number>;
  /** Settings that describe the candidate (season, L2, weights, epochs ...). */
  settings?: Record<string, unknown>;
}

/** What `train()` returns besides the model folder. */
export interface TrainReport<D = Record<string, unknown>> {
  task: TrainTaskName;
  /** The saved model's folder. */
  dir: string;
  seed: number;
  backend: string;
  /** The kind saved. */
  kind: string;
  /** Why that kind was chosen, in one sentence. */
  reason: string;
  /** Every candidate fitted, in the order fitted. */
  candidates: CandidateReport[];
  /** Wall-clock seconds per stage (each counted once). */
  stages: Record<string, number>;
  /** Wall-clock seconds of the whole call. */
  seconds: number;
  /** What was cut: texts longer than the model reads, rows over a limit, epochs over a budget. */
  truncated: Record<string, number | string>;
  /** Task-specific details. */
  details: D;
}

/**
 * Refuses keys an options object does not know, listing the valid ones, as pipeline options do.
 *
 * @throws BadInputError naming the unknown keys and the valid ones.
 */
export function checkOptionKeys(what: string, options: object, valid: readonly string[]): void {
  const unknown = Object.keys(options).filter((k) => !valid.includes(k));
  if (unknown.length > 0) {
    throw new BadInputError(`${what}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; valid options: ${[...valid].sort().join(', ')}`);
  }
}

/** Wall-clock seconds per stage, each stage counted once even when entered several times. */
export class StageClock {
  private readonly started = performance.now();
  readonly stages: Record<string, number> = {};

  /** Runs `fn` as `stage`, adding its wall-clock time to that stage. */
  async time<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.stages[stage] = (this.stages[stage] ?? 0) + (performance.now() - t0) / 1000;
    }
  }

  /** Seconds since the clock was made. */
  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }
}
