/**
 * Checkpoints of hand-written training loops over named variables (the neural forecasters),
 * the counterpart of what `@seqlab/rnn`'s `train` keeps for layers models: `last/` (weights and
 * optimizer state), `best/` (the weights early stopping would go back to) and `state.json`
 * (epoch, step, best, learning rate, early stopping's counter, the loop's own state), written
 * through {@link ModelCheckpoint} after an epoch, each file atomically.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BadInputError } from '../errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { fileSystem } from '../io/file-system.js';
import { ModelCheckpoint, type Callback, type EarlyStopping, type EpochLogs, type FitContext, type FitOptions, type StopReason } from './fit.js';

/** What `state.json` of a {@link LoopCheckpoint} holds. */
export interface LoopCheckpointState {
  version: 1;
  /** Epochs finished. */
  epoch: number;
  /** Optimizer steps finished. */
  step: number;
  /** Best monitored value and its 0-based epoch (-1: the starting weights). */
  best: { value: number; epoch: number };
  learningRate: number;
  /** Early stopping's epochs without improvement. */
  wait: number;
  history: EpochLogs[];
  /** Set when training had ended (early stopping, a time budget): a resume then trains no further. */
  stopReason?: StopReason;
  /** What the loop itself needs to continue (a seed stream's state, its own counters). */
  extra: Record<string, unknown>;
}

/** Options of {@link LoopCheckpoint}. */
export interface LoopCheckpointOptions {
  /** The checkpoint folder (created when first written). */
  dir: string;
  /** The variables training changes, by names stable across runs (weights, moving averages). */
  variables: () => Record<string, tf.Variable>;
  /** The optimizer whose state (Adam's moments, its step count) is kept too. */
  optimizer?: tf.Optimizer;
  /** The loop's own state, as JSON, written with each checkpoint. */
  extra?: () => Record<string, unknown>;
  /**
   * Skip writing after an epoch that ends within this many seconds of the last write (epochs of
   * small models take milliseconds, a write several file syncs). Default 0: every epoch.
   */
  everySeconds?: number;
}

/** What {@link LoopCheckpoint.restore} put back, and what `fit` needs to continue. */
export interface ResumedLoop {
  state: LoopCheckpointState;
  /**
   * Spread into `fit`'s options (after `epochs`): where to continue, and - when the run had
   * already stopped - `epochs` cut to the epochs done, so `fit` only runs its end callbacks
   * (early stopping's return to the best weights).
   */
  fit: Required<Pick<FitOptions, 'initialEpoch' | 'initialStep' | 'history' | 'best'>> & { epochs?: number };
}

const STATE_FILE = 'state.json';
const OPTIMIZER_PREFIX = 'optimizer/';

/**
 * Writes and reads the checkpoints of one training loop; also the {@link Callback} that writes
 * them (after the callbacks that schedule, stop early and report, so the state is the epoch's
 * final one). An epoch's weights are written before its `state.json`: a crash in between
 * resumes from the older state with newer weights, which costs at most that epoch.
 *
 * @example
 * ```ts
 * const checkpoint = new LoopCheckpoint({ dir, variables: () => params, optimizer, extra: () => ({ rng: rng.state() }) });
 * const resumed = resume ? await checkpoint.restore() : undefined;
 * const stopping = new EarlyStopping({ patience: 3, ...(resumed ? {} : { baseline }) });
 * await checkpoint.track(stopping, resumed);
 * await fit(loop, { epochs, callbacks: [stopping, checkpoint], ...resumed?.fit });
 * ```
 */
export class LoopCheckpoint implements Callback {
  private readonly writer: ModelCheckpoint;
  private stopping: EarlyStopping | undefined;
  /** The weights of the best epoch since the last write (a skipped write keeps them for the next). */
  private pendingBest: tf.Tensor[] | undefined;
  private lastWrite = -Infinity;

  constructor(private readonly options: LoopCheckpointOptions) {
    const every = options.everySeconds ?? 0;
    if (!(every >= 0)) throw new BadInputError(`LoopCheckpoint: everySeconds must be >= 0, got ${String(every)}`);
    this.writer = new ModelCheckpoint({
      save: async (which) => (which === 'best' ? this.writeBest() : this.writeLast()),
      saveState: (ctx) => this.writeState(ctx),
    });
  }

  /** The folder's `state.json`, or undefined when no epoch has been checkpointed there. */
  static async read(dir: string): Promise<LoopCheckpointState | undefined> {
    const file = path.join(dir, STATE_FILE);
    if (!existsSync(file) || !existsSync(path.join(dir, 'last', 'model.json'))) return undefined;
    const state = JSON.parse(await readFile(file, 'utf8')) as LoopCheckpointState;
    if (state.version !== 1) throw new BadInputError(`${file}: unsupported checkpoint version ${String(state.version)}`);
    // JSON has no NaN: a best not yet set was written as null.
    return { ...state, best: { value: state.best.value ?? NaN, epoch: state.best.epoch } };
  }

  /**
   * Puts `last/` back into the variables and the optimizer (when the folder holds a checkpoint).
   *
   * @throws BadInputError when the checkpoint's variables do not match (another model's folder).
   */
  async restore(): Promise<ResumedLoop | undefined> {
    const state = await LoopCheckpoint.read(this.options.dir);
    if (state === undefined) return undefined;
    const lastDir = path.join(this.options.dir, 'last');
    const named = await loadNamed(lastDir);
    try {
      const variables = this.options.variables();
      for (const [name, variable] of Object.entries(variables)) variable.assign(checkedTensor(named, name, variable.shape, lastDir));
      const moments = Object.keys(named).filter((k) => k.startsWith(OPTIMIZER_PREFIX)).sort((a, b) => optimizerIndex(a) - optimizerIndex(b));
      // setWeights makes its own variables from these tensors.
      if (this.options.optimizer && moments.length > 0) await this.options.optimizer.setWeights(moments.map((k) => ({ name: k.slice(k.indexOf(':') + 1), tensor: named[k]! })));
      if (this.options.optimizer) (this.options.optimizer as unknown as { learningRate: number }).learningRate = state.learningRate;
    } finally {
      tf.dispose(Object.values(named));
    }
    return { state, fit: { initialEpoch: state.epoch, initialStep: state.step, history: state.history, best: state.best, ...(state.stopReason ? { epochs: state.epoch } : {}) } };
  }

  /**
   * Keeps early stopping's counter in the checkpoints and, on a resume, gives it back its
   * counter and the best weights saved in `best/`.
   */
  async track(stopping: EarlyStopping, resumed: ResumedLoop | undefined): Promise<void> {
    this.stopping = stopping;
    if (resumed === undefined) return;
    stopping.wait = resumed.state.wait;
    const bestDir = path.join(this.options.dir, 'best');
    if (!stopping.restoreBestWeights || !existsSync(path.join(bestDir, 'model.json'))) return;
    const named = await loadNamed(bestDir);
    const order = Object.keys(named).sort((a, b) => Number(a) - Number(b));
    stopping.setBestWeights(order.map((k) => named[k]!));
  }

  onTrainBegin(ctx: FitContext): Promise<void> | void {
    // A baseline set before training makes the starting weights the best so far: a resume
    // must be able to go back to them too.
    if (this.stopping && ctx.best.epoch === -1 && Number.isFinite(ctx.best.value) && ctx.history.length === 0) {
      this.keepBest(ctx);
      return this.writeBest();
    }
  }

  async onEpochEnd(logs: EpochLogs, ctx: FitContext): Promise<void> {
    if (ctx.improved && this.stopping) this.keepBest(ctx);
    const now = performance.now();
    if ((now - this.lastWrite) / 1000 < (this.options.everySeconds ?? 0)) return;
    this.lastWrite = now;
    // The writer saves best/ only when this epoch improved; a best kept from a skipped write goes first.
    if (!ctx.improved) await this.writeBest();
    await this.writer.onEpochEnd(logs, ctx);
  }

  dispose(): void {
    tf.dispose(this.pendingBest ?? []);
    this.pendingBest = undefined;
  }

  private keepBest(ctx: FitContext): void {
    tf.dispose(this.pendingBest ?? []);
    this.pendingBest = ctx.weights.get();
  }

  private async writeBest(): Promise<void> {
    if (!this.pendingBest) return;
    await saveNamed(path.join(this.options.dir, 'best'), this.pendingBest.map((tensor, i) => ({ name: String(i), tensor })));
    tf.dispose(this.pendingBest);
    this.pendingBest = undefined;
  }

  private async writeLast(): Promise<void> {
    const own = Object.entries(this.options.variables()).map(([name, tensor]) => ({ name, tensor: tensor as tf.Tensor }));
    const moments = this.options.optimizer ? await this.options.optimizer.getWeights() : [];
    try {
      await saveNamed(path.join(this.options.dir, 'last'), [...own, ...moments.map((m, i) => ({ name: `${OPTIMIZER_PREFIX}${i}:${m.name}`, tensor: m.tensor }))]);
    } finally {
      // getWeights makes a new tensor for the step count; the moments are the optimizer's own.
      const iterations = moments.find((m) => m.name === 'iter');
      iterations?.tensor.dispose();
    }
  }

  private writeState(ctx: FitContext): Promise<void> {
    const state: LoopCheckpointState = {
      version: 1,
      epoch: ctx.epoch + 1,
      step: ctx.step,
      best: ctx.best,
      learningRate: ctx.learningRate,
      wait: this.stopping?.wait ?? 0,
      history: ctx.history,
      // fit() names a time budget's stop only after the epoch's callbacks: the cut epoch says it.
      ...(ctx.stopReason || ctx.partial ? { stopReason: ctx.stopReason ?? 'time-budget' } : {}),
      extra: this.options.extra?.() ?? {},
    };
    return writeJsonAtomic(path.join(this.options.dir, STATE_FILE), state);
  }
}

function optimizerIndex(key: string): number {
  return Number(key.slice(OPTIMIZER_PREFIX.length, key.indexOf(':')));
}

async function saveNamed(dir: string, tensors: Array<{ name: string; tensor: tf.Tensor }>): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await fileSystem(dir).save!({ modelTopology: { seqlab: 'loop-checkpoint' }, format: 'seqlab-checkpoint', generatedBy: 'seqlab', weightSpecs: specs, weightData: data });
}

async function loadNamed(dir: string): Promise<tf.NamedTensorMap> {
  const artifacts = await fileSystem(dir).load!();
  if (!artifacts.weightSpecs || !artifacts.weightData) throw new BadInputError(`${dir}: checkpoint has no weights`);
  return tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
}

function checkedTensor(named: tf.NamedTensorMap, name: string, shape: readonly number[], dir: string): tf.Tensor {
  const t = named[name];
  if (!t) throw new BadInputError(`${dir}: checkpoint has no variable "${name}"; was it written by another model?`);
  if (t.shape.join('x') !== shape.join('x')) throw new BadInputError(`${dir}: checkpoint variable "${name}" has shape [${t.shape.join(', ')}], the model's is [${shape.join(', ')}]`);
  return t;
}
