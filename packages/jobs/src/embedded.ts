/**
 * The default engine: an in-process queue, so `npm start` alone runs jobs. Jobs run one at a
 * time by default (training takes the whole CPU anyway); cancellation aborts the job's
 * AbortController, which reaches the training loop through `train()`'s `signal`.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isSeqlabError, type SeqlabErrorCode } from '@seqlab/core';
import { modelsDir as defaultModelsDir, type TrainEvent } from '@seqlab/tasks';
import { jobEventStream } from './events.js';
import { checkJobSpec, runJob, type CheckJobSpecOptions } from './run-job.js';
import { isFinalStatus, type JobEngine, type JobError, type JobEvent, type JobSpec, type JobState } from './types.js';

/** Options of {@link EmbeddedJobEngine}. */
export interface EmbeddedJobEngineOptions {
  /** The model store's folder. Default: the task layer's models folder (`$SEQLAB_MODELS` or `<repo>/models`). */
  modelsDir?: string;
  /** Jobs run at once. Default 1. */
  concurrency?: number;
  /** Finished jobs remembered (oldest forgotten first). Default 1000. */
  keepFinished?: number;
  /** Folders job data must lie in (see {@link CheckJobSpecOptions}). Default: no restriction. */
  dataDirs?: readonly string[];
}

/** The error a job failed with, as callers see it. */
export function jobError(err: unknown): JobError {
  if (isSeqlabError(err)) return { code: err.code, message: err.message };
  return { code: 'internal' satisfies SeqlabErrorCode, message: err instanceof Error ? err.message : String(err) };
}

/** In-process {@link JobEngine}. */
export class EmbeddedJobEngine implements JobEngine {
  readonly modelsDir: string;
  private readonly concurrency: number;
  private readonly keepFinished: number;
  private readonly specChecks: CheckJobSpecOptions;
  private readonly jobs = new Map<string, JobState>();
  private readonly queue: string[] = [];
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly emitter = new EventEmitter();
  private closed = false;

  constructor(options: EmbeddedJobEngineOptions = {}) {
    this.modelsDir = options.modelsDir ?? defaultModelsDir();
    this.concurrency = options.concurrency ?? 1;
    this.keepFinished = options.keepFinished ?? 1000;
    this.specChecks = options.dataDirs === undefined ? {} : { dataDirs: options.dataDirs };
    // One listener per watcher (SSE connection): many at once is normal here.
    this.emitter.setMaxListeners(0);
  }

  async submit(spec: JobSpec): Promise<string> {
    if (this.closed) throw new Error('job engine is closed');
    const checked = checkJobSpec(spec, this.specChecks);
    const id = randomUUID();
    this.jobs.set(id, { id, spec: checked, status: 'queued', attempts: 0, createdAt: Date.now() });
    this.queue.push(id);
    this.forgetOldJobs();
    queueMicrotask(() => this.pump());
    return id;
  }

  async get(id: string): Promise<JobState | undefined> {
    const state = this.jobs.get(id);
    return state === undefined ? undefined : { ...state };
  }

  subscribe(id: string, listener: (event: JobEvent) => void): () => void {
    this.emitter.on(id, listener);
    return () => this.emitter.off(id, listener);
  }

  events(id: string): AsyncIterable<JobEvent> {
    return jobEventStream(this, id);
  }

  async cancel(id: string): Promise<boolean> {
    const state = this.jobs.get(id);
    if (state === undefined || isFinalStatus(state.status)) return false;
    const at = this.queue.indexOf(id);
    if (at >= 0) {
      this.queue.splice(at, 1);
      this.update(id, { status: 'cancelled', finishedAt: Date.now(), error: { code: 'cancelled', message: 'cancelled before it started' } });
      return true;
    }
    this.running.get(id)?.controller.abort();
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.queue]) await this.cancel(id);
    for (const { controller } of this.running.values()) controller.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const controller = new AbortController();
      const done = this.run(id, controller.signal).finally(() => {
        this.running.delete(id);
        this.pump();
      });
      this.running.set(id, { controller, done });
    }
  }

  private async run(id: string, signal: AbortSignal): Promise<void> {
    const state = this.jobs.get(id)!;
    this.update(id, { status: 'active', attempts: state.attempts + 1, startedAt: Date.now() });
    const onProgress = (event: TrainEvent): void => {
      this.jobs.get(id)!.progress = event;
      this.emitter.emit(id, { type: 'progress', id, event } satisfies JobEvent);
    };
    try {
      const outcome = await runJob(state.spec, { id, modelsDir: this.modelsDir, signal, onProgress });
      this.update(id, { status: 'completed', finishedAt: Date.now(), ...outcome });
    } catch (err) {
      const error = jobError(err);
      const cancelled = signal.aborted || error.code === 'cancelled';
      this.update(id, { status: cancelled ? 'cancelled' : 'failed', finishedAt: Date.now(), error });
    }
  }

  private update(id: string, change: Partial<JobState>): void {
    const state = { ...this.jobs.get(id)!, ...change };
    this.jobs.set(id, state);
    this.emitter.emit(id, { type: 'state', id, state: { ...state } } satisfies JobEvent);
  }

  private forgetOldJobs(): void {
    const finished = [...this.jobs.values()].filter((j) => isFinalStatus(j.status));
    for (const job of finished.slice(0, Math.max(0, finished.length - this.keepFinished))) this.jobs.delete(job.id);
  }
}
