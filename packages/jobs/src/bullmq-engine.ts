/**
 * The service side of the Redis engine: jobs go to a BullMQ queue that `seqlab worker`
 * processes take from (on any number of machines sharing the Redis and the model store);
 * progress and state changes come back through BullMQ's queue events.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { FlowProducer, Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TrainEvent } from '@seqlab/tasks';
import { jobEventStream } from './events.js';
import { addTrainingFlow, candidateJobId, flowIdOf, runsAsFlow } from './flow.js';
import { checkJobSpec, type CheckJobSpecOptions } from './run-job.js';
import {
  CANCEL_TTL_SECONDS,
  cancelKey,
  decodeJobError,
  redisClient,
  resolveLocation,
  type QueueLocation,
  type QueuedJobData,
  type QueuedJobResult,
  type ResolvedLocation,
} from './redis.js';
import type { JobEngine, JobError, JobEvent, JobSpec, JobState, JobStatus } from './types.js';

/** Options of {@link BullMqJobEngine}. */
export interface BullMqJobEngineOptions extends QueueLocation {
  /** Attempts per job before it fails (a worker that dies mid-job costs none). Default 3. */
  attempts?: number;
  /** Seconds finished jobs stay queryable. Default 7 days. */
  keepFinishedSeconds?: number;
  /** Folders job data must lie in (see {@link CheckJobSpecOptions}). Default: no restriction. */
  dataDirs?: readonly string[];
}

const QUEUED_STATES = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children', 'wait', 'paused']);

/** {@link JobEngine} over BullMQ: jobs are run by {@link runWorker} processes. */
export class BullMqJobEngine implements JobEngine {
  private readonly location: ResolvedLocation;
  private readonly queue: Queue<QueuedJobData, QueuedJobResult>;
  private flows: FlowProducer | undefined;
  private readonly redis: Redis;
  private readonly attempts: number;
  private readonly keepSeconds: number;
  private readonly specChecks: CheckJobSpecOptions;
  private readonly emitter = new EventEmitter();
  private queueEvents: QueueEvents | undefined;
  private subscriber: Redis | undefined;

  constructor(options: BullMqJobEngineOptions = {}) {
    this.location = resolveLocation(options);
    this.attempts = options.attempts ?? 3;
    this.keepSeconds = options.keepFinishedSeconds ?? CANCEL_TTL_SECONDS;
    this.specChecks = options.dataDirs === undefined ? {} : { dataDirs: options.dataDirs };
    this.queue = new Queue(this.location.queueName, { connection: this.location.connection, prefix: this.location.prefix });
    // Connection errors during a Redis restart are transient (the clients reconnect); an 'error'
    // event nobody listens to would crash the service instead.
    this.queue.on('error', () => undefined);
    this.redis = redisClient(this.location);
    this.emitter.setMaxListeners(0);
  }

  async submit(spec: JobSpec): Promise<string> {
    const checked = checkJobSpec(spec, this.specChecks);
    const id = randomUUID();
    const opts = { attempts: this.attempts, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: this.keepSeconds }, removeOnFail: { age: this.keepSeconds } };
    if (runsAsFlow(checked)) {
      // Each candidate kind is its own job so that several workers fit them at once.
      this.flows ??= new FlowProducer({ connection: this.location.connection, prefix: this.location.prefix });
      await addTrainingFlow(this.flows, this.location, checked, id, opts);
      return id;
    }
    await this.queue.add('job', { spec: checked }, { ...opts, jobId: id });
    return id;
  }

  async get(id: string): Promise<JobState | undefined> {
    const job = await this.queue.getJob(id);
    if (job === undefined || job === null) {
      const removed = await this.redis.get(snapshotKey(this.location, id));
      return removed === null ? undefined : (JSON.parse(removed) as JobState);
    }
    const [state, cancelled] = await Promise.all([job.getState(), this.redis.exists(cancelKey(this.location, id))]);
    const jobState = stateOf(job, state, cancelled === 1);
    return jobState.status === 'failed' && job.data.candidates ? { ...jobState, error: (await this.candidateError(id, job.data.candidates)) ?? jobState.error! } : jobState;
  }

  /** A flow fails through a candidate: BullMQ's own reason only names the child, so its error is reported. */
  private async candidateError(id: string, kinds: readonly string[]): Promise<JobError | undefined> {
    for (const kind of kinds) {
      const child = await this.queue.getJob(candidateJobId(id, kind));
      if (child?.failedReason && (await child.getState()) === 'failed') return decodeJobError(child.failedReason);
    }
    return undefined;
  }

  subscribe(id: string, listener: (event: JobEvent) => void): () => void {
    this.startListening();
    this.emitter.on(id, listener);
    return () => this.emitter.off(id, listener);
  }

  events(id: string): AsyncIterable<JobEvent> {
    return jobEventStream(this, id);
  }

  async cancel(id: string): Promise<boolean> {
    const job = await this.queue.getJob(id);
    if (job === undefined || job === null) return false;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return false;
    // A flow's candidate jobs are marked too, so those queued never start and those running stop.
    const ids = [id, ...(job.data.candidates ?? []).map((kind) => candidateJobId(id, kind))];
    for (const each of ids) await this.redis.set(cancelKey(this.location, each), '1', 'EX', this.keepSeconds);
    if (QUEUED_STATES.has(state)) {
      // A queued job is removed, leaving a snapshot so `get` still answers; if a worker took it
      // meanwhile, the removal fails and the flag stops it instead.
      const snapshot: JobState = { ...stateOf(job, state, true), finishedAt: Date.now() };
      try {
        await job.remove();
        await this.redis.set(snapshotKey(this.location, id), JSON.stringify(snapshot), 'EX', this.keepSeconds);
      } catch {
        /* taken by a worker: the published cancel below reaches it */
      }
    }
    for (const each of ids) await this.redis.publish(this.location.cancelChannel, each);
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.queueEvents?.close(), this.flows?.close()]);
    this.subscriber?.disconnect();
    this.redis.disconnect();
  }

  private startListening(): void {
    if (this.queueEvents !== undefined) return;
    this.queueEvents = new QueueEvents(this.location.queueName, { connection: this.location.connection, prefix: this.location.prefix });
    this.queueEvents.on('error', () => undefined);
    this.queueEvents.on('progress', ({ jobId, data }) => {
      if (!isTrainEvent(data)) return;
      this.emitter.emit(jobId, { type: 'progress', id: jobId, event: data } satisfies JobEvent);
      // A candidate's progress is its training's progress.
      const flowId = flowIdOf(jobId);
      if (flowId !== undefined) this.emitter.emit(flowId, { type: 'progress', id: flowId, event: data } satisfies JobEvent);
    });
    for (const name of ['active', 'waiting', 'completed', 'failed', 'removed', 'stalled'] as const) {
      this.queueEvents.on(name, ({ jobId }: { jobId: string }) => {
        this.emitState(jobId);
        const flowId = flowIdOf(jobId);
        if (flowId !== undefined) this.emitState(flowId);
      });
    }
    // A cancelled queued job never reaches a worker, so its final state comes through here.
    this.subscriber = redisClient(this.location);
    void this.subscriber.subscribe(this.location.cancelChannel);
    this.subscriber.on('message', (_channel: string, id: string) => this.emitState(id));
  }

  private emitState(id: string): void {
    if (this.emitter.listenerCount(id) === 0) return;
    void this.get(id).then(
      (state) => state && this.emitter.emit(id, { type: 'state', id, state } satisfies JobEvent),
      () => undefined,
    );
  }
}

function snapshotKey(location: ResolvedLocation, id: string): string {
  return `${location.prefix}:${location.queueName}:removed:${id}`;
}

function isTrainEvent(data: unknown): data is TrainEvent {
  return typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string';
}

function statusOf(state: string, cancelled: boolean, job: Job): JobStatus {
  if (state === 'completed') return 'completed';
  if (state === 'failed') return cancelled || decodeJobError(job.failedReason)?.code === 'cancelled' ? 'cancelled' : 'failed';
  if (state === 'active') return 'active';
  return cancelled ? 'cancelled' : 'queued';
}

function stateOf(job: Job<QueuedJobData, QueuedJobResult>, state: string, cancelled: boolean): JobState {
  const status = statusOf(state, cancelled, job);
  const outcome = status === 'completed' ? (job.returnvalue ?? {}) : {};
  const error = state === 'failed' ? decodeJobError(job.failedReason) : status === 'cancelled' ? { code: 'cancelled', message: 'cancelled before it started' } : undefined;
  return {
    id: job.id!,
    spec: job.data.spec,
    status,
    ...outcome,
    ...(isTrainEvent(job.progress) ? { progress: job.progress } : {}),
    ...(error ? { error } : {}),
    attempts: job.attemptsStarted ?? job.attemptsMade,
    createdAt: job.timestamp,
    ...(job.processedOn ? { startedAt: job.processedOn } : {}),
    ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
  };
}
