/**
 * What a job does, shared by both engines: one function from a {@link JobSpec} to a
 * {@link JobOutcome} through the task layer (`train()`, `evaluate()`, `pipeline()`), with
 * training runs kept in a per-job run folder beside the model store so a retry on another
 * machine continues where the last attempt stopped.
 */
import { existsSync, promises as fs, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { BadInputError, NotFoundError, initBackend, throwIfCancelled, writeJsonAtomic } from '@seqlab/core';
import { ModelStore, TRAIN_TASKS, evaluate, isModelName, train, type TrainEvent, type TrainTaskName } from '@seqlab/tasks';
import { predictToFile } from './predict.js';
import { JOB_TYPES, type JobOutcome, type JobSpec } from './types.js';

/** The folder (inside the models folder, hidden from the store) holding each job's run folder. */
export const JOBS_FOLDER = '.jobs';

/**
 * Tasks whose trainer writes checkpoints to `checkpointDir` and continues with `resume: true`:
 * every task. What a retry continues is the epochs of the neural part - the language model,
 * the text classifier's rnn, a forecaster's segrnn or seq2seq network; what fits in seconds
 * (linear kinds, `auto` forecasting's backtest, panels' global models) is fitted again. A
 * retried job is published once however far it had got.
 */
export const CHECKPOINTING_TASKS: ReadonlySet<TrainTaskName> = new Set(['text-generation', 'text-classification', 'forecast']);

/** Options the engine sets itself; a spec that sets them is refused. */
const ENGINE_OPTIONS = ['out', 'signal', 'onProgress', 'checkpointDir', 'resume'];

/** What a run needs besides its spec. */
export interface RunJobContext {
  /** The job id: also the idempotency key of its publish. */
  id: string;
  /** The model store's folder (shared by every worker). */
  modelsDir: string;
  signal?: AbortSignal;
  onProgress?: (event: TrainEvent) => void;
}

/** A job's run folder: `<modelsDir>/.jobs/<id>/` (checkpoints, the unpublished model, outputs). */
export function jobRunDir(modelsDir: string, id: string): string {
  return path.join(modelsDir, JOBS_FOLDER, id);
}

/** Options of {@link checkJobSpec}. */
export interface CheckJobSpecOptions {
  /**
   * Folders job data must lie in (the data folder, the uploads folder). A service sets this so a
   * request cannot make a worker read any file it can reach. Default: no restriction.
   */
  dataDirs?: readonly string[];
}

/**
 * Checks a job spec before it is queued, so a bad request fails at submission rather than on a
 * worker.
 *
 * @throws BadInputError naming the field at fault, or data outside `options.dataDirs`.
 */
export function checkJobSpec(spec: unknown, options: CheckJobSpecOptions = {}): JobSpec {
  if (spec === null || typeof spec !== 'object') throw new BadInputError('job: expected an object { type, task, data, options?, model? }');
  const s = spec as Record<string, unknown>;
  const known = ['type', 'task', 'data', 'options', 'model'];
  const unknown = Object.keys(s).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new BadInputError(`job: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; valid fields: ${known.join(', ')}`);
  if (!(JOB_TYPES as readonly unknown[]).includes(s.type)) throw new BadInputError(`job: type must be one of ${JOB_TYPES.join(', ')}, got ${JSON.stringify(s.type)}`);
  if (!(TRAIN_TASKS as readonly unknown[]).includes(s.task)) throw new BadInputError(`job: task must be one of ${TRAIN_TASKS.join(', ')}, got ${JSON.stringify(s.task)}`);
  if (s.type === 'predict' && s.task === 'text-generation') throw new BadInputError('job: predict jobs take task text-classification or forecast');
  if (typeof s.data !== 'string' || s.data.length === 0) throw new BadInputError('job: data must be the path of a data file');
  if (s.options !== undefined && (s.options === null || typeof s.options !== 'object' || Array.isArray(s.options))) throw new BadInputError('job: options must be an object');
  const engineSet = Object.keys((s.options as object | undefined) ?? {}).filter((k) => ENGINE_OPTIONS.includes(k));
  if (engineSet.length > 0) throw new BadInputError(`job: options ${engineSet.join(', ')} are set by the job engine`);
  if (s.model !== undefined && (typeof s.model !== 'string' || s.model.length === 0)) throw new BadInputError('job: model must be a model name');
  if (s.type === 'train' && (typeof s.model !== 'string' || !isModelName(s.model))) {
    throw new BadInputError(`job: a train job needs model, the name to publish as (letters, digits, '.', '_', '-'), got ${JSON.stringify(s.model)}`);
  }
  if (s.type !== 'train' && s.model === undefined) {
    throw new BadInputError(`job: ${s.type === 'evaluate' ? 'an evaluate' : 'a predict'} job needs model, the model to use (for forecasts also a registry name such as "linear")`);
  }
  if (options.dataDirs !== undefined) checkDataFolder(s.data, options.dataDirs);
  return s as unknown as JobSpec;
}

/** Refuses data outside the allowed folders, following symbolic links so none leads out. */
function checkDataFolder(data: string, dataDirs: readonly string[]): void {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const file = real(data);
  const inside = dataDirs.some((dir) => {
    const relative = path.relative(real(dir), file);
    return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  });
  if (!inside) throw new BadInputError(`job: data ${data} is not in the data folder or the uploads folder`);
}

/**
 * Runs one attempt of a job. Training publishes through the {@link ModelStore} with the job id
 * as idempotency key, so however often a job is retried (a worker killed after publishing, a
 * lost acknowledgement) its model is published once.
 *
 * @throws the task layer's errors (BadInputError for bad data or options, `cancelled` on abort).
 */
export async function runJob(spec: JobSpec, context: RunJobContext): Promise<JobOutcome> {
  await initBackend();
  throwIfCancelled(context.signal, 'job');
  if (!existsSync(spec.data)) throw new NotFoundError(`job: data file ${spec.data} does not exist`);
  const store = new ModelStore(context.modelsDir);
  switch (spec.type) {
    case 'train':
      return runTraining(spec, context, store);
    case 'evaluate': {
      const model = await modelFolder(store, spec.model!);
      return { report: await evaluate(spec.task, model, spec.data, (spec.options ?? {}) as never) };
    }
    default: {
      const model = spec.model === undefined ? undefined : await modelFolder(store, spec.model);
      const output = path.join(jobRunDir(context.modelsDir, context.id), spec.task === 'forecast' ? 'forecast.csv' : 'predictions.jsonl');
      const report = await predictToFile(spec.task, model, spec.data, output, spec.options ?? {}, context.signal);
      return { report, output };
    }
  }
}

/** Trains a job's model into `out` and returns the report (default: `train()` on the spec). */
export type ModelTrainer = (out: string) => Promise<unknown>;

/**
 * A training attempt: publishes an earlier attempt's model if one is waiting, else trains with
 * `trainModel` (default `train()`), then publishes with the job id as idempotency key.
 */
export async function runTraining(spec: JobSpec, context: RunJobContext, store: ModelStore, trainModel?: ModelTrainer): Promise<JobOutcome> {
  const name = spec.model!;
  const runDir = jobRunDir(context.modelsDir, context.id);
  const trainedFile = path.join(runDir, 'trained.json');
  const already = await store.findByKey(name, context.id);
  if (already !== undefined) {
    return { report: await readJson(trainedFile), result: { name, version: already } };
  }
  const out = path.join(runDir, 'model');
  let report: unknown;
  let resumed = false;
  if (existsSync(trainedFile) && existsSync(out)) {
    // An earlier attempt trained but died before publishing: publish its model.
    report = await readJson(trainedFile);
  } else {
    const checkpointDir = path.join(runDir, 'checkpoints');
    const checkpoints = CHECKPOINTING_TASKS.has(spec.task) ? { checkpointDir, ...(hasFiles(checkpointDir) ? { resume: true } : {}) } : {};
    resumed = 'resume' in checkpoints;
    await fs.rm(out, { recursive: true, force: true });
    await fs.mkdir(runDir, { recursive: true });
    report = trainModel ? await trainModel(out) : (await train(spec.task, spec.data, { ...spec.options, ...checkpoints, out, signal: context.signal, onProgress: context.onProgress } as never)).report;
    await writeJsonAtomic(trainedFile, report);
  }
  const published = await store.publish(name, out, { idempotencyKey: context.id });
  const fromEpoch = resumedFromEpoch(report);
  return { report: { ...(report as object), dir: published.dir }, result: { name, version: published.version }, ...(resumed ? { resumed } : {}), ...(fromEpoch ? { resumedFromEpoch: fromEpoch } : {}) };
}

/** The epoch a training report says its run resumed after (every task reports it in its details). */
function resumedFromEpoch(report: unknown): number | undefined {
  const epoch = (report as { details?: { resumedFromEpoch?: unknown } } | undefined)?.details?.resumedFromEpoch;
  return typeof epoch === 'number' && epoch > 0 ? epoch : undefined;
}

/** A store name resolves to its served version; anything else goes to the task layer as given. */
async function modelFolder(store: ModelStore, model: string): Promise<string> {
  if (!isModelName(model)) return model;
  try {
    return (await store.resolve(model)).dir;
  } catch (err) {
    if (err instanceof NotFoundError) return model;
    throw err;
  }
}

function hasFiles(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}
