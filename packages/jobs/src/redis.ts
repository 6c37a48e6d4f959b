/** What the BullMQ engine and its workers share: names of queues and keys, and error encoding. */
import { Redis, type RedisOptions } from 'ioredis';
import type { JobError, JobOutcome, JobSpec } from './types.js';

/** The environment variable that switches the service to the Redis engine (and names the server for `seqlab worker`). */
export const REDIS_URL_ENV = 'SEQLAB_REDIS_URL';
/** The queue every job goes to. */
export const DEFAULT_QUEUE = 'seqlab-jobs';
/** The BullMQ key prefix. */
export const DEFAULT_PREFIX = 'seqlab';

/** Where a queue lives: shared by the service's engine and every worker. */
export interface QueueLocation {
  /** `redis://[user:password@]host:port[/db]`. Default `$SEQLAB_REDIS_URL`. */
  redisUrl?: string;
  /** Default {@link DEFAULT_QUEUE}. */
  queueName?: string;
  /** Default {@link DEFAULT_PREFIX} (tests use one prefix each). */
  prefix?: string;
}

/** The data a BullMQ job carries. */
export interface QueuedJobData {
  spec: JobSpec;
  /** A flow's parent (`combine`): the candidate kinds its children fit. */
  candidates?: string[];
  /** A flow's child (`fit-candidate`): the flow's id and the kind it fits. */
  flow?: { id: string; kind: string };
}

/** What a BullMQ job returns (a flow's candidate job also names the worker that ran it). */
export type QueuedJobResult = JobOutcome & { worker?: string };

/** Resolved {@link QueueLocation}. */
export interface ResolvedLocation {
  redisUrl: string;
  queueName: string;
  prefix: string;
  /** BullMQ connection options (blocking commands need `maxRetriesPerRequest: null`). */
  connection: RedisOptions & { url: string };
  /** The pub/sub channel cancellations go through. */
  cancelChannel: string;
}

/** Fills in defaults and names the channel and keys of a queue. */
export function resolveLocation(location: QueueLocation): ResolvedLocation {
  const redisUrl = location.redisUrl ?? process.env[REDIS_URL_ENV];
  if (!redisUrl) throw new Error(`no Redis URL: pass redisUrl or set ${REDIS_URL_ENV}`);
  const queueName = location.queueName ?? DEFAULT_QUEUE;
  const prefix = location.prefix ?? DEFAULT_PREFIX;
  return { redisUrl, queueName, prefix, connection: { url: redisUrl, maxRetriesPerRequest: null }, cancelChannel: `${prefix}:${queueName}:cancel` };
}

/** The key marking a job as cancelled (read by a worker that picks the job up later). */
export function cancelKey(location: ResolvedLocation, id: string): string {
  return `${location.prefix}:${location.queueName}:cancelled:${id}`;
}

/** A plain Redis connection (for pub/sub and flags, which BullMQ's client does not expose). */
export function redisClient(location: ResolvedLocation): Redis {
  const client = new Redis(location.redisUrl, { maxRetriesPerRequest: null });
  // ioredis reconnects by itself (a Redis restart); unheard, each failed attempt is printed as unhandled.
  client.on('error', () => undefined);
  return client;
}

/** How long cancellation flags and snapshots of removed jobs are kept. */
export const CANCEL_TTL_SECONDS = 7 * 24 * 3600;

/** Error codes a retry cannot fix: the job fails at once instead of being retried. */
export const FINAL_ERROR_CODES: ReadonlySet<string> = new Set(['bad_input', 'not_found', 'unsupported', 'limit_exceeded', 'cancelled', 'model_file_corrupt']);

/** A job error as BullMQ stores it (in `failedReason`). */
export function encodeJobError(error: JobError): string {
  return JSON.stringify(error);
}

/** The job error back from `failedReason` (BullMQ's own reasons, like a stalled job, become `internal`). */
export function decodeJobError(failedReason: string | undefined): JobError | undefined {
  if (!failedReason) return undefined;
  try {
    const parsed = JSON.parse(failedReason) as Partial<JobError>;
    if (typeof parsed.code === 'string' && typeof parsed.message === 'string') return { code: parsed.code, message: parsed.message };
  } catch {
    /* not ours */
  }
  return { code: 'internal', message: failedReason };
}
