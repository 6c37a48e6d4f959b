/**
 * The vocabulary both job engines share: what a job asks for, what state it is in, and the
 * events a caller (the service's SSE route, `seqlab jobs watch`) receives while it runs.
 */
import type { TrainEvent, TrainTaskName } from '@seqlab/tasks';

/** What a job does with the task layer. */
export const JOB_TYPES = Object.freeze(['train', 'evaluate', 'predict'] as const);
export type JobType = (typeof JOB_TYPES)[number];

/** The states a job moves through; the last three are final. */
export const JOB_STATUSES = Object.freeze(['queued', 'active', 'completed', 'failed', 'cancelled'] as const);
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job as submitted. */
export interface JobSpec {
  type: JobType;
  /** A task `train()` / `evaluate()` accept; for `predict`, `text-classification` or `forecast`. */
  task: TrainTaskName;
  /** The data: a file the engine's processes can read (an upload already on disk, or a file in the data folder). */
  data: string;
  /** Options of the task's `train()` / `evaluate()` (without `out`, `signal`, `onProgress`); for `predict`, see {@link PredictOptions}. */
  options?: Record<string, unknown>;
  /** `train`: the model name to publish as in the model store. `evaluate` / `predict`: the model to use (a store name or a model folder). */
  model?: string;
}

/** Options of a `predict` job. */
export interface PredictOptions {
  /** Forecast jobs: steps ahead. Required for forecasts. */
  horizon?: number;
  /** Forecast jobs: interval levels. Default `[0.9]`. */
  levels?: number[];
  /** Forecast jobs: the CSV column to forecast. Default: the last numeric column. */
  target?: string;
}

/** A model version a training job published. */
export interface PublishedModel {
  name: string;
  version: number;
}

/** What a finished job produced. */
export interface JobOutcome {
  /** The training report or the evaluation. */
  report?: unknown;
  /** The version a training job published (the same one on every retry). */
  result?: PublishedModel;
  /** The file a prediction job wrote (JSONL for text classification, CSV for forecasts). */
  output?: string;
  /** True when a retried training continued from the checkpoints of an earlier attempt. */
  resumed?: boolean;
  /** The epoch a retried training continued after (of the flow's rnn candidate, for an auto text classification). */
  resumedFromEpoch?: number;
}

/** A job's error, as callers see it: a stable code from @seqlab/core and one line. */
export interface JobError {
  code: string;
  message: string;
}

/** Everything known about a job. */
export interface JobState extends JobOutcome {
  id: string;
  spec: JobSpec;
  status: JobStatus;
  /** The last progress event of the running (or last) attempt. */
  progress?: TrainEvent;
  error?: JobError;
  /** Attempts started (more than one after a retry or a worker that died). */
  attempts: number;
  /** Epoch milliseconds. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

/** An event of one job: a progress event of its training, or a change of its state. */
export type JobEvent = { type: 'progress'; id: string; event: TrainEvent } | { type: 'state'; id: string; state: JobState };

/** Whether a status is final (the job will not run again). */
export function isFinalStatus(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/**
 * One interface over the in-process engine and the Redis (BullMQ) engine, so the service and the
 * CLI do not care which one runs.
 */
export interface JobEngine {
  /** Validates and queues a job; returns its id at once (the job runs later). @throws BadInputError for a bad spec. */
  submit(spec: JobSpec): Promise<string>;
  /** The job's state, or `undefined` for an unknown id. */
  get(id: string): Promise<JobState | undefined>;
  /** Calls `listener` with the job's events until the returned function is called. */
  subscribe(id: string, listener: (event: JobEvent) => void): () => void;
  /**
   * The job's events as an async iterator: its current state first, then progress and state
   * changes, ending after a final state.
   */
  events(id: string): AsyncIterable<JobEvent>;
  /** Cancels a queued or running job (the abort reaches the training loop); false when it already finished or is unknown. */
  cancel(id: string): Promise<boolean>;
  /** Stops taking work and releases connections; running in-process jobs are cancelled. */
  close(): Promise<void>;
}
