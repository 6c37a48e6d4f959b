import * as tf from '@tensorflow/tfjs-core';
import { cancellationCheckpoint } from '../cancellation.js';
import { BadInputError, InternalError } from '../errors.js';

/** What one training step reports to {@link fit}. */
export interface BatchResult {
  /** The batch's training loss (after the step's forward pass). */
  loss: number;
  /** Weight of this batch in the epoch's mean loss (e.g. its example count). Default 1. */
  weight?: number;
  /** Running metrics as sums and counts (e.g. `accuracy: { sum: correct, count: n }`). */
  metrics?: Record<string, { sum: number; count: number }>;
}

/** One epoch's logs: mean training loss, metrics, validation metrics, learning rate, time. */
export interface EpochLogs {
  /** 0-based epoch. */
  epoch: number;
  loss: number;
  learningRate: number;
  seconds: number;
  /** True when a time budget cut the epoch short. */
  partial?: boolean;
  [metric: string]: number | boolean | undefined;
}

/** Running logs after one batch. */
export interface BatchLogs {
  /** 0-based batch index within the epoch. */
  batch: number;
  /** Running mean training loss of the epoch so far. */
  loss: number;
  /** Running metrics of the epoch so far. */
  metrics: Record<string, number>;
}

/** How a model's weights are read and put back (for early stopping's best weights). */
export interface WeightAccess {
  /** Copies of the current weights (the caller disposes them). */
  get(): tf.Tensor[];
  /** Puts weights back (copied; the caller keeps ownership of `weights`). */
  set(weights: tf.Tensor[]): void;
}

/** What a training loop provides to {@link fit}: batches, one step, validation and weights. */
export interface TrainingLoop<B> {
  /** Batches of one epoch, in order (seeded by the loop). */
  batches(epoch: number): Iterable<B>;
  /** Batches per epoch, for progress and ETAs. */
  batchesPerEpoch: number;
  /** Runs one optimizer step on `batch`. The loop owns (and frees) the batch. */
  trainBatch(batch: B, epoch: number, index: number): BatchResult | Promise<BatchResult>;
  /** Metrics on held-out data at the end of an epoch, e.g. `{ val_loss }`. */
  validate?(epoch: number): Record<string, number> | Promise<Record<string, number>>;
  /** The model's weights. */
  weights: WeightAccess;
  /** The optimizer whose `learningRate` schedules and plateaus change (when there is one). */
  optimizer?: { learningRate: number };
}

/** Why {@link fit} stopped. */
export type StopReason = 'epochs' | 'early-stopping' | 'time-budget' | 'callback';

/** The state callbacks see and may change (Keras' `model.stop_training` is `stop()`). */
export interface FitContext {
  readonly epochs: number;
  /** The epoch running (0-based). */
  epoch: number;
  /** Optimizer steps since the run began (including steps before a resume). */
  step: number;
  /** Optimizer steps in this call of {@link fit}. */
  stepsThisCall: number;
  readonly batchesPerEpoch: number;
  /** Logs of every finished epoch (including those before a resume). */
  readonly history: EpochLogs[];
  /** The metric that decides "best", and whether lower or higher is better. */
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  /** Best monitored value so far and its epoch (-1: a baseline from before training). */
  best: { value: number; epoch: number };
  /** Whether the epoch that just ended improved on `best` (set before `onEpochEnd`). */
  improved: boolean;
  /** Set by a time budget: the current epoch ends after this batch and training stops. */
  partial: boolean;
  readonly weights: WeightAccess;
  /** Current learning rate (NaN without an optimizer); setting it changes the optimizer's. */
  learningRate: number;
  elapsedSeconds(): number;
  /** Stops training after the current epoch. */
  stop(reason?: StopReason): void;
  readonly stopReason: StopReason | undefined;
}

/** A Keras-style callback: every hook is optional and may be async. */
export interface Callback {
  onTrainBegin?(ctx: FitContext): void | Promise<void>;
  onEpochBegin?(epoch: number, ctx: FitContext): void | Promise<void>;
  onBatchEnd?(logs: BatchLogs, ctx: FitContext): void | Promise<void>;
  onEpochEnd?(logs: EpochLogs, ctx: FitContext): void | Promise<void>;
  onTrainEnd?(result: FitResult, ctx: FitContext): void | Promise<void>;
  /** Frees what the callback holds (called once, also when training fails). */
  dispose?(): void;
}

/** Options of {@link fit}. */
export interface FitOptions {
  /** Total epochs (counting epochs finished before a resume). */
  epochs: number;
  /** Epoch to start at (epochs already done, when resuming). Default 0. */
  initialEpoch?: number;
  /** Steps already done (when resuming). Default 0. */
  initialStep?: number;
  /** Logs of epochs already done (when resuming). */
  history?: EpochLogs[];
  /** Metric that decides "best". Default `val_loss` when the loop validates, else `loss`. */
  monitor?: string;
  /** Whether lower or higher is better. Default: `max` for names with `acc`, else `min`. */
  mode?: 'min' | 'max';
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Best value and epoch so far (when resuming). */
  best?: { value: number; epoch: number };
  callbacks?: Callback[];
  /**
   * Abandons training with a `CancelledError` before the next batch (and before validation)
   * once aborted. Unlike a time budget nothing more is validated, checkpointed or restored:
   * the last finished epoch's checkpoint stays as it was.
   */
  signal?: AbortSignal;
  /** Names the work in a cancellation message. Default `'training'`. */
  what?: string;
}

/** What {@link fit} returns. */
export interface FitResult {
  history: EpochLogs[];
  monitor: string;
  bestEpoch: number;
  bestValue: number;
  stopReason: StopReason;
  steps: number;
  wallTimeSeconds: number;
}

function isBetter(mode: 'min' | 'max', value: number, best: number, minDelta: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (!Number.isFinite(best)) return true;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}

/** Where {@link fit} keeps why it stopped: callbacks ask through `ctx.stop`, a time budget overrides. */
interface StopState {
  reason: StopReason | undefined;
}

/** Builds the state callbacks see, so `fit` itself reads as the epoch loop. */
function createFitContext<B>(loop: TrainingLoop<B>, options: FitOptions, monitor: string, stop: StopState): FitContext {
  const started = performance.now();
  return {
    epochs: options.epochs,
    epoch: options.initialEpoch ?? 0,
    step: options.initialStep ?? 0,
    stepsThisCall: 0,
    batchesPerEpoch: loop.batchesPerEpoch,
    history: options.history ?? [],
    monitor,
    mode: options.mode ?? (/acc/.test(monitor) ? 'max' : 'min'),
    best: options.best ?? { value: NaN, epoch: -1 },
    improved: false,
    partial: false,
    weights: loop.weights,
    get learningRate() {
      return loop.optimizer ? loop.optimizer.learningRate : NaN;
    },
    set learningRate(lr: number) {
      if (loop.optimizer) loop.optimizer.learningRate = lr;
    },
    elapsedSeconds: () => (performance.now() - started) / 1000,
    stop(reason: StopReason = 'callback') {
      stop.reason ??= reason;
    },
    get stopReason() {
      return stop.reason;
    },
  };
}

/** Weighted loss and metric sums of the batches of one epoch so far. */
interface EpochSums {
  lossSum: number;
  weightSum: number;
  metrics: Record<string, { sum: number; count: number }>;
}

/** Folds one batch's result into the epoch's running sums. */
function addBatch(sums: EpochSums, r: BatchResult): void {
  const w = r.weight ?? 1;
  sums.lossSum += r.loss * w;
  sums.weightSum += w;
  for (const [k, m] of Object.entries(r.metrics ?? {})) {
    const acc = (sums.metrics[k] ??= { sum: 0, count: 0 });
    acc.sum += m.sum;
    acc.count += m.count;
  }
}

/** Trains on one epoch's batches (stopping early when a time budget marks the epoch partial). */
async function trainEpochBatches<B>(
  loop: TrainingLoop<B>,
  ctx: FitContext,
  callbacks: Callback[],
  checkpoint: () => Promise<void>,
  epoch: number,
): Promise<EpochSums> {
  const sums: EpochSums = { lossSum: 0, weightSum: 0, metrics: {} };
  let index = 0;
  // Cancellation is checked before a batch is drawn, not after: the loop owns its batches
  // and frees each one in trainBatch, so a drawn batch must be trained on.
  const batches = loop.batches(epoch)[Symbol.iterator]();
  try {
    for (;;) {
      await checkpoint();
      const next = batches.next();
      if (next.done) break;
      const r = await loop.trainBatch(next.value, epoch, index);
      if (!Number.isFinite(r.loss)) {
        throw new InternalError(`training loss became ${r.loss} at epoch ${epoch}, batch ${index}; lower the learning rate or clip gradients`);
      }
      addBatch(sums, r);
      ctx.step++;
      ctx.stepsThisCall++;
      const logs: BatchLogs = { batch: index, loss: sums.lossSum / sums.weightSum, metrics: running(sums.metrics) };
      index++;
      for (const cb of callbacks) await cb.onBatchEnd?.(logs, ctx);
      if (ctx.partial) break;
    }
  } finally {
    batches.return?.();
  }
  return sums;
}

/** Validates, records the epoch's logs and whether it beat the best, and tells the callbacks. */
async function endEpoch<B>(loop: TrainingLoop<B>, ctx: FitContext, callbacks: Callback[], epoch: number, sums: EpochSums, epochStart: number, minDelta: number): Promise<void> {
  const logs: EpochLogs = { epoch, loss: sums.lossSum / Math.max(1, sums.weightSum), ...running(sums.metrics), learningRate: ctx.learningRate, seconds: 0 };
  if (loop.validate) Object.assign(logs, await loop.validate(epoch));
  logs.seconds = (performance.now() - epochStart) / 1000;
  if (ctx.partial) logs.partial = true;
  ctx.history.push(logs);
  const value = typeof logs[ctx.monitor] === 'number' ? (logs[ctx.monitor] as number) : NaN;
  ctx.improved = isBetter(ctx.mode, value, ctx.best.value, minDelta);
  if (ctx.improved) ctx.best = { value, epoch };
  for (const cb of callbacks) await cb.onEpochEnd?.(logs, ctx);
}

/**
 * The one training loop of seqlab, Keras `fit` style: runs `loop.trainBatch` over each epoch's
 * batches, validates, tracks the monitored metric, and lets callbacks schedule the learning
 * rate, stop early (restoring the best weights), checkpoint, report progress per batch and per
 * epoch, and enforce a time budget. Text models (`@seqlab/rnn` `train`), neural forecasters and
 * embedding heads all train through it.
 *
 * @example
 * ```ts
 * const result = await fit(loop, { epochs: 10, callbacks: [new EarlyStopping({ patience: 2 }), new TimeBudget(60)] });
 * ```
 */
export async function fit<B>(loop: TrainingLoop<B>, options: FitOptions): Promise<FitResult> {
  const epochs = options.epochs;
  if (!Number.isInteger(epochs) || epochs < 1) throw new BadInputError(`fit: epochs must be a positive integer, got ${String(epochs)}`);
  const monitor = options.monitor ?? (loop.validate ? 'val_loss' : 'loss');
  const minDelta = options.minDelta ?? 0;
  const callbacks = options.callbacks ?? [];
  const checkpoint = cancellationCheckpoint(options.signal, options.what ?? 'training');
  const stop: StopState = { reason: undefined };
  const ctx = createFitContext(loop, options, monitor, stop);
  try {
    for (const cb of callbacks) await cb.onTrainBegin?.(ctx);
    for (let epoch = ctx.epoch; epoch < epochs; epoch++) {
      ctx.epoch = epoch;
      ctx.partial = false;
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, ctx);
      const epochStart = performance.now();
      const sums = await trainEpochBatches(loop, ctx, callbacks, checkpoint, epoch);
      await checkpoint();
      await endEpoch(loop, ctx, callbacks, epoch, sums, epochStart, minDelta);
      if (ctx.partial) {
        stop.reason = 'time-budget';
        break;
      }
      if (stop.reason) break;
    }
    const result: FitResult = {
      history: ctx.history,
      monitor,
      bestEpoch: ctx.best.epoch,
      bestValue: ctx.best.value,
      stopReason: stop.reason ?? 'epochs',
      steps: ctx.step,
      wallTimeSeconds: ctx.elapsedSeconds(),
    };
    for (const cb of callbacks) await cb.onTrainEnd?.(result, ctx);
    result.wallTimeSeconds = ctx.elapsedSeconds();
    return result;
  } finally {
    for (const cb of callbacks) cb.dispose?.();
  }
}

function running(sums: Record<string, { sum: number; count: number }>): Record<string, number> {
  return Object.fromEntries(Object.entries(sums).map(([k, m]) => [k, m.count > 0 ? m.sum / m.count : NaN]));
}

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping. Default 0 (stop at the first epoch that does not improve). */
  patience?: number;
  /** Put back the best epoch's weights when training ends. Default true. */
  restoreBestWeights?: boolean;
  /**
   * A value the monitored metric must beat, measured before training (e.g. the untrained
   * model's validation loss); the weights at the start count as that baseline's, so training
   * that never beats it ends with the starting weights.
   */
  baseline?: number;
}

/**
 * Stops when the monitored metric has not improved for `patience` epochs and (by default) puts
 * back the best epoch's weights — which tfjs-layers' own early stopping does not.
 */
export class EarlyStopping implements Callback {
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  /** Epochs since the last improvement. */
  wait = 0;
  private best: tf.Tensor[] | undefined;

  constructor(private readonly options: EarlyStoppingOptions = {}) {
    this.patience = options.patience ?? 0;
    this.restoreBestWeights = options.restoreBestWeights ?? true;
  }

  /** Sets the best weights so far (when resuming from a checkpoint); the callback takes ownership. */
  setBestWeights(weights: tf.Tensor[]): void {
    tf.dispose(this.best ?? []);
    this.best = weights;
  }

  onTrainBegin(ctx: FitContext): void {
    if (this.options.baseline !== undefined) {
      ctx.best = { value: this.options.baseline, epoch: -1 };
      if (this.restoreBestWeights) this.setBestWeights(ctx.weights.get());
    }
  }

  onEpochEnd(_logs: EpochLogs, ctx: FitContext): void {
    if (ctx.improved) {
      this.wait = 0;
      if (this.restoreBestWeights) this.setBestWeights(ctx.weights.get());
    } else {
      this.wait++;
      if (this.wait >= this.patience) ctx.stop('early-stopping');
    }
  }

  /** Whether {@link onTrainEnd} put the best weights back. */
  restored = false;

  onTrainEnd(_result: FitResult, ctx: FitContext): void {
    const last = ctx.history[ctx.history.length - 1]?.epoch;
    if (this.restoreBestWeights && this.best && ctx.best.epoch !== last) {
      ctx.weights.set(this.best);
      this.restored = true;
    }
  }

  dispose(): void {
    tf.dispose(this.best ?? []);
    this.best = undefined;
  }
}

/** Multiplies the learning rate by `factor` after `patience` epochs without improvement. */
export class ReduceLROnPlateau implements Callback {
  /** Epochs since the last improvement or reduction. */
  wait = 0;
  constructor(private readonly options: { factor?: number; patience?: number; minLearningRate?: number } = {}) {}

  onEpochEnd(_logs: EpochLogs, ctx: FitContext): void {
    if (ctx.improved) {
      this.wait = 0;
      return;
    }
    this.wait++;
    if (this.wait >= (this.options.patience ?? 1)) {
      ctx.learningRate = Math.max(this.options.minLearningRate ?? 0, ctx.learningRate * (this.options.factor ?? 0.5));
      this.wait = 0;
    }
  }
}

/** Sets the learning rate before each epoch from the epoch (0-based) and the current rate. */
export class LearningRateScheduler implements Callback {
  constructor(private readonly schedule: (epoch: number, learningRate: number) => number) {}
  onEpochBegin(epoch: number, ctx: FitContext): void {
    ctx.learningRate = this.schedule(epoch, ctx.learningRate);
  }
}

/** Ends the current epoch after the batch during which `seconds` have passed, and stops training. */
export class TimeBudget implements Callback {
  constructor(readonly seconds: number) {
    if (!(seconds > 0)) throw new BadInputError(`TimeBudget: seconds must be positive, got ${seconds}`);
  }
  onBatchEnd(_logs: BatchLogs, ctx: FitContext): void {
    if (ctx.elapsedSeconds() >= this.seconds) ctx.partial = true;
  }
}

/** Options of {@link ModelCheckpoint}. */
export interface ModelCheckpointOptions {
  /** Writes the model (weights and optimizer state) as checkpoint `which`. */
  save(which: 'best' | 'last', ctx: FitContext): Promise<void>;
  /** Writes what resuming needs besides the weights (epoch, step, best, counters); runs after the weights. */
  saveState?(ctx: FitContext): Promise<void>;
}

/**
 * After every epoch: saves `best` when the monitored metric improved, then `last`, then the
 * training state, so an interrupted run resumes from its last finished epoch and early
 * stopping can still go back to the best one.
 */
export class ModelCheckpoint implements Callback {
  constructor(private readonly options: ModelCheckpointOptions) {}
  async onEpochEnd(_logs: EpochLogs, ctx: FitContext): Promise<void> {
    if (ctx.improved) await this.options.save('best', ctx);
    await this.options.save('last', ctx);
    await this.options.saveState?.(ctx);
  }
}

/** Calls a function on every hook: the simplest way to log progress per batch and per epoch. */
export class LambdaCallback implements Callback {
  constructor(hooks: Callback) {
    Object.assign(this, hooks);
  }
}
