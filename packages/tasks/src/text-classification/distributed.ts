/**
 * `train('text-classification')` under `auto` as three steps a job queue can spread over
 * machines: plan (read and split once), fit one candidate (any worker, any order), combine
 * (the same choice, ensemble rule, refit, save and report as `train()`).
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError, initBackend, throwIfCancelled, writeJsonAtomic, type TextClassificationResult } from '@seqlab/core';
import type { TextClassificationMetrics } from '@seqlab/rnn';
import { StageClock, type TrainEvent, type TrainReport } from '../training/types.js';
import { fitCandidate, type Candidate, type RnnOutcome } from './candidates.js';
import { readRows, splitRows, type ReadRows, type SplitRows } from './data.js';
import { candidateKinds, resolveTrainOptions, type ResolvedTextClassificationOptions, type TextClassificationData, type TextClassificationTrainOptions } from './options.js';
import type { TextClassificationDetails } from './report.js';
import { chooseAndSave, encoderFor, prepare } from './train.js';

/** Options of {@link planTextClassification}: `train()`'s options without the model folder, plus the run folder. */
export type PlanTextClassificationOptions = Omit<TextClassificationTrainOptions, 'out' | 'signal' | 'onProgress' | 'checkpointDir' | 'resume' | 'overwrite'> & {
  /** The folder every step reads and writes (shared by the machines that run them). */
  runDir: string;
};

/** What a step besides the plan is given. */
export interface TextClassificationStepOptions {
  signal?: AbortSignal;
  onProgress?: (event: TrainEvent) => void;
}

/** What {@link planTextClassification} decided: the run folder and the kinds to fit there. */
export interface TextClassificationPlan {
  runDir: string;
  candidates: string[];
}

/** What {@link fitTextClassificationCandidate} saved. */
export interface FittedCandidate {
  kind: string;
  /** The candidate's folder: `model/` and `candidate.json` (validation results, metrics, settings). */
  dir: string;
  /** Seconds of this step's fit and validation scoring. */
  seconds: number;
  accuracy: number;
  /** The rnn's epochs an interrupted attempt at this step had checkpointed, when this one continued from them. */
  resumedFromEpoch?: number;
}

/** The plan file: the options as given (JSON), the rows read and split, and the kinds. */
interface PlanFile {
  options: Omit<PlanTextClassificationOptions, 'runDir'>;
  split: SplitRows & { read: ReadRows };
  candidates: string[];
  readSeconds: number;
}

/** The candidate file: everything `train()` keeps of a fit besides the model itself. */
interface CandidateFile {
  kind: string;
  seconds: number;
  stageSeconds: number;
  metrics: TextClassificationMetrics;
  results: TextClassificationResult[];
  settings: Record<string, unknown>;
  rnn: RnnOutcome | null;
}

const PLAN_FILE = 'plan.json';

/** The kinds `auto` (or the given model) fits for these options, checking them as `train()` does. @throws BadInputError for bad options. */
export function textClassificationCandidateKinds(options: Omit<TextClassificationTrainOptions, 'out'>): string[] {
  return candidateKinds(resolveTrainOptions({ ...options, out: '.' } as TextClassificationTrainOptions));
}

/**
 * Step 1: reads and splits the rows once (as `train()` does, same seed, same rows) and writes
 * them with the options to `runDir/plan.json`, so every candidate step fits on the same rows.
 * A plan already in `runDir` is kept (a retried or concurrent plan writes the same file).
 *
 * @throws BadInputError for bad options, rows or files (named).
 */
export async function planTextClassification(data: TextClassificationData, options: PlanTextClassificationOptions): Promise<TextClassificationPlan> {
  const { runDir: given, ...trainOptions } = options;
  if (typeof given !== 'string' || given === '') throw new BadInputError('planTextClassification: options.runDir (the run folder) is required');
  const runDir = path.resolve(given);
  const o = resolveTrainOptions({ ...trainOptions, out: path.join(runDir, 'model') } as TextClassificationTrainOptions);
  const file = path.join(runDir, PLAN_FILE);
  if (existsSync(file)) return { runDir, candidates: (await readPlan(runDir)).candidates };
  const t0 = performance.now();
  const read = await readRows(data, o, 'data');
  const split = { read, ...(await splitRows(read, o.validation, o)) };
  const candidates = candidateKinds(o);
  const plan: PlanFile = { options: trainOptions, split, candidates, readSeconds: (performance.now() - t0) / 1000 };
  await writeJsonAtomic(file, plan);
  return { runDir, candidates };
}

async function readPlan(runDir: string): Promise<PlanFile> {
  const file = path.join(runDir, PLAN_FILE);
  if (!existsSync(file)) throw new BadInputError(`runDir: ${runDir} holds no ${PLAN_FILE}; run planTextClassification first`);
  return JSON.parse(await readFile(file, 'utf8')) as PlanFile;
}

function candidateDir(runDir: string, kind: string): string {
  return path.join(runDir, 'candidates', kind);
}

/** The plan's options resolved again (with this step's model folder, signal, progress and whether the rnn resumes). */
function resolvePlanOptions(plan: PlanFile, out: string, step: TextClassificationStepOptions, resume = false): ResolvedTextClassificationOptions {
  return resolveTrainOptions({ ...plan.options, out, resume, ...(step.signal ? { signal: step.signal } : {}), ...(step.onProgress ? { onProgress: step.onProgress } : {}) } as TextClassificationTrainOptions);
}

/**
 * Step 2: fits one planned kind on the plan's rows and saves it with its validation results to
 * `runDir/candidates/<kind>/`. A candidate already saved there is not fitted again; an rnn
 * whose fit was interrupted (its worker killed) continues from the last epoch checkpointed in
 * `candidates/rnn/checkpoints/`. The linear kinds fit in seconds and start over.
 *
 * @throws BadInputError for a kind the plan does not list; CancelledError when `signal` aborts.
 */
export async function fitTextClassificationCandidate(runDir: string, kind: string, step: TextClassificationStepOptions = {}): Promise<FittedCandidate> {
  const plan = await readPlan(path.resolve(runDir));
  if (!plan.candidates.includes(kind)) throw new BadInputError(`kind: ${JSON.stringify(kind)} is not a candidate of this run (${plan.candidates.join(', ')})`);
  const dir = candidateDir(path.resolve(runDir), kind);
  const file = path.join(dir, 'candidate.json');
  if (existsSync(file)) {
    const done = JSON.parse(await readFile(file, 'utf8')) as CandidateFile;
    return { kind, dir, seconds: done.stageSeconds, accuracy: done.metrics.accuracy };
  }
  // The candidate's checkpoint folder holds nothing but earlier attempts at this same fit.
  const o = resolvePlanOptions(plan, path.join(runDir, 'model'), step, true);
  await initBackend();
  const ctx = await prepare(o, plan.split, path.join(dir, 'checkpoints'), (e) => o.onProgress?.(e));
  const encoder = await encoderFor(o, plan.split);
  if (encoder) ctx.encoder = encoder;
  const rnn: { value?: RnnOutcome } = {};
  const t0 = performance.now();
  try {
    const c = await fitCandidate(kind, ctx, rnn);
    try {
      await c.model.save(path.join(dir, 'model'));
      const stageSeconds = (performance.now() - t0) / 1000;
      const saved: CandidateFile = { kind, seconds: c.seconds, stageSeconds, metrics: c.metrics, results: c.results, settings: c.settings, rnn: rnn.value ?? null };
      await writeJsonAtomic(file, saved);
      if (!o.keepCheckpoints) await rm(ctx.checkpointDir, { recursive: true, force: true });
      const resumedFromEpoch = rnn.value?.resumedFromEpoch ?? 0;
      return { kind, dir, seconds: stageSeconds, accuracy: c.metrics.accuracy, ...(resumedFromEpoch > 0 ? { resumedFromEpoch } : {}) };
    } finally {
      c.model.dispose();
    }
  } finally {
    encoder?.dispose();
  }
}

/** The report's clock: the plan's and the candidates' stages ran elsewhere, so they are counted in. */
class CarriedClock extends StageClock {
  constructor(private readonly carried: Record<string, number>) {
    super();
    Object.assign(this.stages, carried);
  }

  override elapsed(): number {
    return super.elapsed() + Object.values(this.carried).reduce((a, b) => a + b, 0);
  }
}

/**
 * Step 3: loads every planned candidate from the run folder, then chooses, tries the ensemble
 * (cross-fitted rule), saves, refits and reports exactly as `train()` does. The report's stage
 * seconds carry the plan's and each fit's own time, and `seconds` is their sum plus this step's:
 * compute time, which exceeds the wall time when candidates ran at once on several machines.
 *
 * @throws BadInputError when a planned candidate has not been fitted; CancelledError on abort.
 */
export async function combineTextClassification(runDir: string, options: { out: string } & TextClassificationStepOptions): Promise<{ dir: string; report: TrainReport<TextClassificationDetails> }> {
  const root = path.resolve(runDir);
  const plan = await readPlan(root);
  const files = await Promise.all(plan.candidates.map((kind) => readCandidate(root, kind)));
  const carried: Record<string, number> = { read: plan.readSeconds, ...Object.fromEntries(files.map((f) => [`fit ${f.kind}`, f.stageSeconds])) };
  const clock = new CarriedClock(carried);
  // The report says where the rnn's fit resumed, as train()'s does.
  const o = resolvePlanOptions(plan, options.out, options, files.some((f) => (f.rnn?.resumedFromEpoch ?? 0) > 0));
  const out = path.resolve(o.out);
  const backend = await initBackend();
  const checkpointDir = path.join(root, 'checkpoints');
  const ctx = await clock.time('vectorize', () => prepare(o, plan.split, checkpointDir, (e) => o.onProgress?.(e)));
  const candidates: Candidate[] = [];
  const encoder = await encoderFor(o, plan.split);
  if (encoder) ctx.encoder = encoder;
  try {
    const { pipeline } = await import('../pipeline.js');
    for (const f of files) {
      throwIfCancelled(o.signal, 'training');
      const model = await pipeline('text-classification', path.join(candidateDir(root, f.kind), 'model'), encoder ? { encoder } : {});
      candidates.push({ kind: f.kind, seconds: f.seconds, model, metrics: f.metrics, results: f.results, settings: f.settings });
    }
    const rnn = files.find((f) => f.rnn !== null)?.rnn ?? undefined;
    return await chooseAndSave({ o, out, checkpointDir, backend: backend.name, split: plan.split, ctx, candidates, rnn, encoder, clock });
  } finally {
    for (const c of candidates) if (c.kind !== 'ensemble') c.model.dispose();
    encoder?.dispose();
  }
}

async function readCandidate(runDir: string, kind: string): Promise<CandidateFile> {
  const file = path.join(candidateDir(runDir, kind), 'candidate.json');
  if (!existsSync(file)) throw new BadInputError(`runDir: candidate ${kind} has not been fitted (no ${file}); run fitTextClassificationCandidate for it first`);
  return JSON.parse(await readFile(file, 'utf8')) as CandidateFile;
}
