/**
 * @packageDocumentation
 * Jobs over the task layer: training, evaluation and batch prediction run by an in-process
 * engine ({@link EmbeddedJobEngine}, the default) or by BullMQ workers on Redis
 * ({@link BullMqJobEngine} on the service side, {@link runWorker} on each worker machine).
 * Training jobs publish their model to the versioned model store once, however often a job is
 * retried.
 */
export {
  JOB_TYPES,
  JOB_STATUSES,
  isFinalStatus,
  type JobType,
  type JobStatus,
  type JobSpec,
  type PredictOptions,
  type PublishedModel,
  type JobOutcome,
  type JobError,
  type JobState,
  type JobEvent,
  type JobEngine,
} from './types.js';
export { jobEventStream } from './events.js';
export { checkJobSpec, runJob, jobRunDir, JOBS_FOLDER, CHECKPOINTING_TASKS, type RunJobContext, type CheckJobSpecOptions } from './run-job.js';
export { predictToFile, type PredictReport } from './predict.js';
export { EmbeddedJobEngine, jobError, type EmbeddedJobEngineOptions } from './embedded.js';
export { runsAsFlow, candidateJobId, FIT_CANDIDATE_JOB, COMBINE_JOB } from './flow.js';
export { BullMqJobEngine, type BullMqJobEngineOptions } from './bullmq-engine.js';
export { runWorker, type WorkerOptions, type RunningWorker } from './worker.js';
export { spawnWorker, type SpawnWorkerOptions } from './spawn-worker.js';
export { main as workerMain, parseWorkerArgs, WORKER_USAGE } from './worker-main.js';
export { REDIS_URL_ENV, DEFAULT_QUEUE, DEFAULT_PREFIX, type QueueLocation } from './redis.js';
export { createJobEngine, type CreateJobEngineOptions } from './factory.js';
export { saveUpload, type SaveUploadOptions, type SavedUpload } from './upload.js';
