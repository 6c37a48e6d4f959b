/**
 * An auto text-classification training on the Redis engine as a BullMQ flow: one child job per
 * candidate kind, which any worker takes, and a parent `combine` job that BullMQ starts once
 * every child has finished, so several workers fit the candidates at once.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FlowProducer, type FlowJob } from 'bullmq';
import { NotFoundError, initBackend, throwIfCancelled } from '@seqlab/core';
import { ModelStore, combineTextClassification, fitTextClassificationCandidate, planTextClassification, textClassificationCandidateKinds } from '@seqlab/tasks';
import type { QueuedJobData, ResolvedLocation } from './redis.js';
import { jobRunDir, runTraining, type RunJobContext } from './run-job.js';
import type { JobOutcome, JobSpec } from './types.js';

/** The name of a flow's child job that fits one candidate. */
export const FIT_CANDIDATE_JOB = 'fit-candidate';
/** The name of a flow's parent job that combines the candidates and publishes. */
export const COMBINE_JOB = 'combine';

/** Whether a job runs as a flow: a text-classification training under `auto` (the default model). */
export function runsAsFlow(spec: JobSpec): boolean {
  return spec.type === 'train' && spec.task === 'text-classification' && ((spec.options?.model as string | undefined) ?? 'auto') === 'auto';
}

/** A candidate job's id: the flow's id and the kind (BullMQ refuses ':' in ids). */
export function candidateJobId(flowId: string, kind: string): string {
  return `${flowId}.${kind}`;
}

/** The flow (parent) id of a candidate job's id, or undefined for another job. */
export function flowIdOf(jobId: string): string | undefined {
  const dot = jobId.indexOf('.');
  return dot > 0 ? jobId.slice(0, dot) : undefined;
}

/** Queues the flow of a training: the candidate kinds come from the options (checked as `train()` checks them). */
export async function addTrainingFlow(producer: FlowProducer, location: ResolvedLocation, spec: JobSpec, id: string, opts: FlowJob['opts']): Promise<void> {
  const kinds = textClassificationCandidateKinds((spec.options ?? {}) as never);
  await producer.add({
    name: COMBINE_JOB,
    queueName: location.queueName,
    data: { spec, candidates: kinds } satisfies QueuedJobData,
    opts: { ...opts, jobId: id },
    children: kinds.map((kind) => ({
      name: FIT_CANDIDATE_JOB,
      queueName: location.queueName,
      data: { spec, flow: { id, kind } } satisfies QueuedJobData,
      // A candidate that fails for good fails the training (its parent) rather than leaving it waiting.
      opts: { ...opts, jobId: candidateJobId(id, kind), failParentOnFailure: true },
    })),
  });
}

/** The flow's steps share one folder inside the training's run folder. */
function stepsDir(modelsDir: string, flowId: string): string {
  return path.join(jobRunDir(modelsDir, flowId), 'auto');
}

/**
 * Runs a candidate job: plans the run if no other worker has yet (the plan is deterministic, so
 * concurrent plans write the same file), then fits the one kind into the shared run folder.
 */
export async function runCandidateStep(spec: JobSpec, flow: { id: string; kind: string }, context: RunJobContext & { worker: string }): Promise<JobOutcome & { worker: string }> {
  await initBackend();
  throwIfCancelled(context.signal, 'job');
  if (!existsSync(spec.data)) throw new NotFoundError(`job: data file ${spec.data} does not exist`);
  const runDir = stepsDir(context.modelsDir, flow.id);
  await planTextClassification(spec.data, { ...(spec.options ?? {}), runDir } as never);
  const fitted = await fitTextClassificationCandidate(runDir, flow.kind, { ...(context.signal ? { signal: context.signal } : {}), ...(context.onProgress ? { onProgress: context.onProgress } : {}) });
  return { report: fitted, worker: context.worker };
}

/** Runs a flow's parent: combines the fitted candidates and publishes once (the flow id is the idempotency key). */
export async function runCombineStep(spec: JobSpec, context: RunJobContext): Promise<JobOutcome> {
  await initBackend();
  throwIfCancelled(context.signal, 'job');
  const runDir = stepsDir(context.modelsDir, context.id);
  return runTraining(spec, context, new ModelStore(context.modelsDir), async (out) => {
    const { report } = await combineTextClassification(runDir, { out, ...(context.signal ? { signal: context.signal } : {}), ...(context.onProgress ? { onProgress: context.onProgress } : {}) });
    return report;
  });
}
