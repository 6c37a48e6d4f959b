/**
 * The worker side of the Redis engine (`seqlab worker`): a BullMQ worker whose processor runs
 * {@link runJob}. A worker killed mid-job loses its lock; another worker's stalled-job check
 * puts the job back in the queue and it resumes from the run folder's checkpoints on the shared
 * model store. Publishing uses the job id as idempotency key, so a job is published once.
 */
import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { modelsDir as defaultModelsDir, type TrainEvent } from '@seqlab/tasks';
import { jobError } from './embedded.js';
import { FINAL_ERROR_CODES, cancelKey, encodeJobError, redisClient, resolveLocation, type QueueLocation, type QueuedJobData, type QueuedJobResult, type ResolvedLocation } from './redis.js';
import { COMBINE_JOB, FIT_CANDIDATE_JOB, runCandidateStep, runCombineStep } from './flow.js';
import { runJob, type RunJobContext } from './run-job.js';

/** Options of {@link runWorker}. */
export interface WorkerOptions extends QueueLocation {
  /** The model store's folder, shared by every worker and the service. Default: the task layer's models folder. */
  modelsDir?: string;
  /** Jobs this worker runs at once. Default 1 (training takes the whole CPU). */
  concurrency?: number;
  /** Milliseconds a job's lock lasts without renewal: how long a dead worker holds its job. Default 30 s. */
  lockDurationMs?: number;
  /** Milliseconds between checks for jobs whose worker died. Default 30 s. */
  stalledIntervalMs?: number;
  /** Times a job may lose its worker before it fails. Default 3. */
  maxStalledCount?: number;
  /** Milliseconds between progress updates inside an epoch (epoch and stage events always go at once). Default 500. */
  progressIntervalMs?: number;
  /** The worker's name in the jobs it runs (`processedBy`). Default `<host>:<pid>`. */
  name?: string;
}

/** A running worker. */
export interface RunningWorker {
  /** The BullMQ worker (for its events: `completed`, `failed`, `error`). */
  worker: Worker<QueuedJobData, QueuedJobResult>;
  /** Waits for running jobs to finish, then disconnects. */
  close(): Promise<void>;
}

/**
 * Starts a worker that takes jobs from the queue until closed.
 *
 * @example
 * ```ts
 * const { close } = await runWorker({ redisUrl: 'redis://127.0.0.1:6379', modelsDir: '/shared/models' });
 * process.on('SIGTERM', () => void close());
 * ```
 */
export async function runWorker(options: WorkerOptions = {}): Promise<RunningWorker> {
  const location = resolveLocation(options);
  const name = options.name ?? `${os.hostname()}:${process.pid}`;
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const controllers = new Map<string, AbortController>();
  const redis = redisClient(location);
  const subscriber = redisClient(location);
  await subscriber.subscribe(location.cancelChannel);
  subscriber.on('message', (_channel: string, id: string) => controllers.get(id)?.abort());

  const processor = async (job: Job<QueuedJobData, QueuedJobResult>): Promise<QueuedJobResult> => {
    const id = job.id!;
    const flowId = job.data.flow?.id;
    if ((await redis.exists(cancelKey(location, id), ...(flowId ? [cancelKey(location, flowId)] : []))) > 0) {
      throw new UnrecoverableError(encodeJobError({ code: 'cancelled', message: 'cancelled before it started' }));
    }
    const controller = new AbortController();
    controllers.set(id, controller);
    try {
      return await runStep(job, { id, modelsDir, signal: controller.signal, onProgress: progressSender(job, options.progressIntervalMs ?? 500) }, name);
    } catch (err) {
      throw failure(err, controller.signal.aborted);
    } finally {
      controllers.delete(id);
    }
  };
  const worker = new Worker<QueuedJobData, QueuedJobResult>(location.queueName, processor, workerSettings(location, options, name));
  // BullMQ reports connection trouble here; without a listener Node would treat it as fatal.
  worker.on('error', (err) => console.error(`seqlab worker: ${err.message}`));
  await worker.waitUntilReady();
  return {
    worker,
    close: async () => {
      await worker.close();
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}

/** A plain job, or a step of an auto text-classification flow (a candidate's fit, or the combine). */
function runStep(job: Job<QueuedJobData, QueuedJobResult>, context: RunJobContext, worker: string): Promise<QueuedJobResult> {
  if (job.name === FIT_CANDIDATE_JOB && job.data.flow) return runCandidateStep(job.data.spec, job.data.flow, { ...context, worker });
  if (job.name === COMBINE_JOB) return runCombineStep(job.data.spec, context);
  return runJob(job.data.spec, context);
}

function workerSettings(location: ResolvedLocation, options: WorkerOptions, name: string): ConstructorParameters<typeof Worker>[2] {
  return {
    name,
    connection: location.connection,
    prefix: location.prefix,
    concurrency: options.concurrency ?? 1,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 3,
  };
}

/** Errors a retry cannot fix fail the job at once; the rest are retried up to the job's attempts. */
function failure(err: unknown, aborted: boolean): Error {
  const error = aborted ? { code: 'cancelled', message: 'cancelled' } : jobError(err);
  const encoded = encodeJobError(error);
  return FINAL_ERROR_CODES.has(error.code) ? new UnrecoverableError(encoded) : new Error(encoded);
}

/** Sends progress to the queue's events, thinning batch events so Redis is not flooded. */
function progressSender(job: Job, intervalMs: number): (event: TrainEvent) => void {
  let last = 0;
  return (event) => {
    const now = Date.now();
    if ((event.type === 'batch' || event.type === 'items') && now - last < intervalMs) return;
    last = now;
    job.updateProgress(event).catch(() => undefined);
  };
}
