import { BullMqJobEngine } from './bullmq-engine.js';
import { EmbeddedJobEngine } from './embedded.js';
import { REDIS_URL_ENV } from './redis.js';
import type { JobEngine } from './types.js';

/** Options of {@link createJobEngine}. */
export interface CreateJobEngineOptions {
  /** The model store's folder (the embedded engine runs jobs against it; workers get their own `--models`). */
  modelsDir?: string;
  /** Read for `SEQLAB_REDIS_URL`. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Folders job data must lie in (the data folder, the uploads folder). Default: no restriction. */
  dataDirs?: readonly string[];
}

/**
 * The engine the service runs: BullMQ on Redis when `SEQLAB_REDIS_URL` is set (jobs run on
 * `seqlab worker` processes), else the in-process engine, so `npm start` alone runs jobs.
 */
export function createJobEngine(options: CreateJobEngineOptions = {}): JobEngine {
  const redisUrl = (options.env ?? process.env)[REDIS_URL_ENV];
  const dataDirs = options.dataDirs === undefined ? {} : { dataDirs: options.dataDirs };
  if (redisUrl) return new BullMqJobEngine({ redisUrl, ...dataDirs });
  return new EmbeddedJobEngine({ ...(options.modelsDir === undefined ? {} : { modelsDir: options.modelsDir }), ...dataDirs });
}
