import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  EarlyStopping,
  fileSystem,
  fit,
  LazyAdam,
  LearningRateScheduler,
  ModelCheckpoint,
  ReduceLROnPlateau,
  saveModel,
  setGlobalSeed,
  TimeBudget,
  writeJsonAtomic,
  type BatchLogs,
  type Callback,
  type EpochLogs,
  type FitContext,
  type FitResult,
  type TrainingLoop,
} from '@seqlab/core';
import { RnnArgumentError, positiveInt } from '../errors.js';
import { applySparseStep, lazyAdamFor, sparseEmbeddingOf, sparseGradients, touchedRows } from './sparse-embedding.js';
import type { Batch, BatchSource } from './data.js';
import { detectOutputKind, evaluate } from './evaluate.js';
import { correctCount, weightedLoss, type OutputKind } from './loss.js';

/** A metric name `train` can monitor. `val_*` needs `validationData`. */
export type MonitorName = 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy';

/** Progress event sent to {@link TrainOptions.onProgress}. */
export interface TrainProgress {
  type: 'batch' | 'epoch' | 'end';
  /** 0-based epoch. */
  epoch: number;
  epochs: number;
  /** 0-based batch within the epoch (`type: 'batch'`), or batches run (`'epoch'`). */
  batch: number;
  batchesPerEpoch: number;
  /** Optimizer steps since the run began (across resumes). */
  step: number;
  /** Running mean training loss of this epoch. */
  loss: number;
  /** `accuracy` (running, training) and, on epoch events, `val_loss` / `val_accuracy`. */
  metrics: Record<string, number>;
  learningRate: number;
  elapsedSeconds: number;
  /** Estimated seconds to finish all epochs (or the time budget, if sooner). */
  etaSeconds: number;
}

/** One epoch's record in {@link TrainResult.history}. */
export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  learningRate: number;
  seconds: number;
  /** True when the time budget cut the epoch short. */
  partial?: boolean;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Epochs to run (counting epochs completed before a resume). */
  epochs: number;
  /** Optimizer name or instance. Default `'adam'`. */
  optimizer?: 'adam' | 'sgd' | 'rmsprop' | tf.Optimizer;
  /** Initial learning rate for a named optimizer. Default 1e-3. */
  learningRate?: number;
  /** What the model outputs. Default: `'probabilities'` if its last layer is a softmax, else `'logits'`. */
  output?: OutputKind;
  /** Scored at every epoch end; enables `val_*` monitors. */
  validationData?: BatchSource;
  /** Metric that decides "best" (checkpoints, early stopping, plateaus). Default `val_loss` with validation data, else `loss`. */
  monitor?: MonitorName;
  /** Rescale gradients whose global L2 norm exceeds this. Default: no clipping. */
  clipNorm?: number;
  /**
   * With the named `'adam'` optimizer: update the embedding lazily, only the rows each batch
   * uses ({@link LazyAdam} from @seqlab/core; the moments of rows a batch does not use are not
   * decayed), with gradients and clipping over those rows instead of the whole matrix. Applies
   * to a model whose input ids go straight into one trainable embedding layer, on the wasm and
   * cpu backends; other models train densely. Default false.
   */
  sparseEmbeddings?: boolean;
  /**
   * Loss weight per class id (e.g. to counter imbalance). With `sigmoid` outputs (multi-label)
   * these are per-class weights of the positive labels (see `binaryCrossEntropy`).
   */
  classWeights?: number[];
  /** Stop after `patience` epochs without improvement; by default put back the best epoch's weights. */
  earlyStopping?: { patience?: number; minDelta?: number; restoreBestWeights?: boolean };
  /** Multiply the learning rate by `factor` after `patience` epochs without improvement. */
  reduceLrOnPlateau?: { factor?: number; patience?: number; minLearningRate?: number };
  /** Learning rate for each epoch (called before it starts) from the epoch and current rate. */
  learningRateSchedule?: (epoch: number, learningRate: number) => number;
  /**
   * Checkpoint directory: `last/` after every epoch, `best/` when the monitor improves (both
   * with optimizer state, written atomically), and `state.json` (epoch, step, best metric, seed).
   */
  checkpointDir?: string;
  /** Continue from `checkpointDir/last` (weights, optimizer state, epoch) if it exists. */
  resume?: boolean;
  /** Seeds dropout and batch order. Default 0. */
  seed?: number;
  /** Called with progress events; awaited. */
  onProgress?: (event: TrainProgress) => void | Promise<void>;
  /** Stop cleanly (validate, checkpoint) once this many seconds of this call have passed. */
  timeBudgetSeconds?: number;
  /**
   * Abandons training with a `CancelledError` (from @seqlab/core) before the next batch once
   * aborted. Unlike the time budget nothing more is validated or checkpointed; the last
   * completed epoch's checkpoint stays as it was.
   */
  signal?: AbortSignal;
  /**
   * Keep an exponential moving average of the weights and validate, checkpoint `best/` and
   * finish with it (Polyak averaging; Keras' `use_ema`). It usually lowers validation loss for
   * free late in training, when the raw weights jitter around a minimum. `decay` (default 0.999)
   * is the average's weight on its past; early on the effective decay is
   * `min(decay, (1 + step) / (10 + step))` so the average is not dominated by the random
   * initialisation. `last/` keeps the raw weights (so resume continues the same run) plus the
   * average in `last-ema/`.
   */
  ema?: boolean | { decay?: number };
}

/** What {@link train} returns. */
export interface TrainResult {
  history: EpochLog[];
  monitor: MonitorName;
  bestEpoch: number;
  bestMetric: number;
  /** Why training ended. */
  stopReason: 'epochs' | 'early-stopping' | 'time-budget';
  /** Whether the model now holds the best epoch's weights (early stopping restored them). */
  restoredBest: boolean;
  /** Whether the model now holds moving-average weights (see {@link TrainOptions.ema}). */
  averaged: boolean;
  steps: number;
  wallTimeSeconds: number;
}

/** Contents of `state.json` in a checkpoint directory. */
export interface TrainingState {
  version: 1;
  /** Epochs completed. */
  epoch: number;
  step: number;
  monitor: MonitorName;
  bestMetric: number;
  bestEpoch: number;
  seed: number;
  learningRate: number;
  /** Epochs without improvement (early stopping / plateau counters). */
  wait: number;
  plateauWait: number;
  history: EpochLog[];
}

interface LrCarrier {
  learningRate: number;
}

function makeOptimizer(model: tfl.LayersModel, options: TrainOptions): tf.Optimizer {
  const opt = options.optimizer ?? 'adam';
  if (typeof opt !== 'string') return opt;
  const lr = options.learningRate ?? 1e-3;
  if (!(lr > 0)) throw new RnnArgumentError(`train: learningRate must be positive, got ${lr}`);
  if (opt === 'adam') return (options.sparseEmbeddings ? lazyAdamFor(model, lr) : undefined) ?? tf.train.adam(lr);
  if (opt === 'sgd') return tf.train.sgd(lr);
  if (opt === 'rmsprop') return tf.train.rmsprop(lr);
  throw new RnnArgumentError(`train: optimizer must be 'adam', 'sgd', 'rmsprop' or a tf.Optimizer, got ${JSON.stringify(opt)}`);
}

function getLr(opt: tf.Optimizer): number {
  return (opt as unknown as LrCarrier).learningRate;
}

function setLr(opt: tf.Optimizer, lr: number): void {
  (opt as unknown as LrCarrier).learningRate = lr;
}

function disposeBatch(b: Batch): void {
  tf.dispose([b.x, b.y, ...(b.weights ? [b.weights] : [])]);
}

/**
 * The moving average of a model's weights. The average lives in its own variables; `swapIn`
 * puts it into the model for validation or saving and `swapOut` puts the raw weights back.
 */
class WeightAverage {
  readonly shadow: tf.Variable[];
  private raw: tf.Tensor[] | undefined;
  constructor(
    private readonly model: tfl.LayersModel,
    private readonly decay: number,
  ) {
    this.shadow = model.getWeights().map((w) => tf.variable(w, false));
  }
  update(step: number): void {
    const d = Math.min(this.decay, (1 + step) / (10 + step));
    const weights = this.model.getWeights();
    tf.tidy(() => {
      this.shadow.forEach((s, i) => s.assign(tf.add(tf.mul(s, d), tf.mul(weights[i]!, 1 - d))));
    });
  }
  /** Copies of the averaged weights (owned by the caller). */
  snapshot(): tf.Tensor[] {
    return this.shadow.map((s) => tf.clone(s));
  }
  load(weights: tf.Tensor[]): void {
    this.shadow.forEach((s, i) => s.assign(weights[i]!));
  }
  swapIn(): void {
    if (this.raw) return;
    this.raw = this.model.getWeights().map((w) => tf.clone(w));
    this.model.setWeights(this.shadow);
  }
  swapOut(): void {
    if (!this.raw) return;
    this.model.setWeights(this.raw);
    tf.dispose(this.raw);
    this.raw = undefined;
  }
  async with<T>(fn: () => T | Promise<T>): Promise<T> {
    this.swapIn();
    try {
      return await fn();
    } finally {
      this.swapOut();
    }
  }
  dispose(): void {
    this.swapOut();
    tf.dispose(this.shadow);
  }
}

/** Reads `state.json` from a checkpoint directory, or `undefined` if there is none. */
export async function readTrainingState(checkpointDir: string): Promise<TrainingState | undefined> {
  const file = path.join(checkpointDir, 'state.json');
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(await readFile(file, 'utf8')) as TrainingState;
  if (state.version !== 1) throw new RnnArgumentError(`${file}: unsupported training state version ${String(state.version)}`);
  return state;
}

/**
 * Loads weights and optimizer state saved by {@link train} into `model` and `optimizer`.
 * Weights are matched by order and checked by shape, so a freshly built model with other
 * auto-generated layer names still resumes.
 */
async function restoreCheckpoint(model: tfl.LayersModel, optimizer: tf.Optimizer | undefined, dir: string): Promise<void> {
  const artifacts = await fileSystem(dir).load!();
  if (!artifacts.weightSpecs || !artifacts.weightData) throw new RnnArgumentError(`${dir}: checkpoint has no weights`);
  const named = tf.io.decodeWeights(artifacts.weightData as ArrayBuffer, artifacts.weightSpecs);
  const modelSpecs = artifacts.weightSpecs.filter((s) => s.group !== 'optimizer');
  const optSpecs = artifacts.weightSpecs.filter((s) => s.group === 'optimizer');
  const weights = model.weights;
  try {
    if (modelSpecs.length !== weights.length) {
      throw new RnnArgumentError(`${dir}: checkpoint has ${modelSpecs.length} weights, the model has ${weights.length}; was it built with other options?`);
    }
    modelSpecs.forEach((s, i) => {
      const want = weights[i]!.shape.join('x');
      const got = s.shape.join('x');
      if (want !== got) throw new RnnArgumentError(`${dir}: weight ${i} (${s.name}) has shape ${got}, the model expects ${want}`);
    });
    model.setWeights(modelSpecs.map((s) => named[s.name]!));
    if (optimizer && optSpecs.length > 0) await optimizer.setWeights(optSpecs.map((s) => ({ name: s.name, tensor: named[s.name]! })));
  } finally {
    // setWeights copies; optimizer.setWeights keeps its own variables.
    tf.dispose(Object.values(named));
  }
}

/** Checks the options that need no model, and picks the metric that decides "best". */
function checkTrainOptions(options: TrainOptions): { epochs: number; seed: number; monitor: MonitorName } {
  const epochs = positiveInt('train: epochs', options.epochs);
  const seed = options.seed ?? 0;
  const monitor: MonitorName = options.monitor ?? (options.validationData ? 'val_loss' : 'loss');
  if (monitor.startsWith('val_') && !options.validationData) throw new RnnArgumentError(`train: monitor '${monitor}' needs validationData`);
  if (options.clipNorm !== undefined && !(options.clipNorm > 0)) throw new RnnArgumentError(`train: clipNorm must be positive, got ${options.clipNorm}`);
  if (options.resume && !options.checkpointDir) throw new RnnArgumentError('train: resume needs checkpointDir');
  return { epochs, seed, monitor };
}

/** Makes the optimizer and attaches it to the model, so checkpoints carry its state. */
function attachOptimizer(model: tfl.LayersModel, options: TrainOptions, kind: OutputKind): tf.Optimizer {
  const optimizer = makeOptimizer(model, options);
  // Compiling only attaches the optimizer so that saveModel({ includeOptimizer }) stores its state;
  // the loss named here is what a reloaded model would use with model.fit.
  model.compile({ optimizer, loss: kind === 'sigmoid' ? 'binaryCrossentropy' : 'sparseCategoricalCrossentropy' });
  // An optimizer train() made belongs to the model: model.dispose() frees its state too.
  // (typeof, not instanceof: tf.Optimizer's Symbol.hasInstance throws on undefined.)
  if (typeof options.optimizer !== 'object') (model as unknown as { isOptimizerOwned: boolean }).isOptimizerOwned = true;
  return optimizer;
}

/** The training state of a run that starts from scratch. */
function freshState(monitor: MonitorName, seed: number, learningRate: number): TrainingState {
  return { version: 1, epoch: 0, step: 0, monitor, bestMetric: NaN, bestEpoch: -1, seed, learningRate, wait: 0, plateauWait: 0, history: [] };
}

/**
 * Puts back `checkpointDir/last` (weights, optimizer state, counters) when resuming, and the
 * best weights when early stopping may have to return to an epoch from before the interruption.
 */
async function resumeFromCheckpoint(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  options: TrainOptions,
  fresh: TrainingState,
): Promise<{ state: TrainingState; resumedBest: tf.Tensor[] | undefined }> {
  if (!options.resume || !options.checkpointDir) return { state: fresh, resumedBest: undefined };
  const saved = await readTrainingState(options.checkpointDir);
  const lastDir = path.join(options.checkpointDir, 'last');
  if (!saved || !existsSync(path.join(lastDir, 'model.json'))) return { state: fresh, resumedBest: undefined };
  let resumedBest: tf.Tensor[] | undefined;
  const bestDir = path.join(options.checkpointDir, 'best');
  if (options.earlyStopping && (options.earlyStopping.restoreBestWeights ?? true) && existsSync(path.join(bestDir, 'model.json'))) {
    await restoreCheckpoint(model, undefined, bestDir);
    resumedBest = model.getWeights().map((w) => tf.clone(w));
  }
  await restoreCheckpoint(model, optimizer, lastDir);
  setLr(optimizer, saved.learningRate);
  return { state: { ...saved, monitor: fresh.monitor }, resumedBest };
}

/** The weight average `options.ema` asks for, carried on from `last-ema/` when resuming. */
async function createWeightAverage(model: tfl.LayersModel, options: TrainOptions, state: TrainingState): Promise<WeightAverage | undefined> {
  const emaDecay = options.ema ? (typeof options.ema === 'object' ? (options.ema.decay ?? 0.999) : 0.999) : undefined;
  if (emaDecay !== undefined && !(emaDecay > 0 && emaDecay < 1)) throw new RnnArgumentError(`train: ema.decay must be in (0, 1), got ${emaDecay}`);
  const average = emaDecay !== undefined ? new WeightAverage(model, emaDecay) : undefined;
  if (average && options.resume && options.checkpointDir && state.epoch > 0) {
    const emaDir = path.join(options.checkpointDir, 'last-ema');
    if (existsSync(path.join(emaDir, 'model.json'))) {
      const raw = model.getWeights().map((w) => tf.clone(w));
      await restoreCheckpoint(model, undefined, emaDir);
      average.load(model.getWeights());
      model.setWeights(raw);
      tf.dispose(raw);
    }
  }
  return average;
}

/** Early stopping and learning-rate plateau callbacks, with counters carried over from a resume. */
function createStopRules(
  options: TrainOptions,
  state: TrainingState,
  resumedBest: tf.Tensor[] | undefined,
): { earlyStopping: EarlyStopping | undefined; plateau: ReduceLROnPlateau | undefined } {
  const esOptions = options.earlyStopping;
  const earlyStopping = esOptions ? new EarlyStopping({ patience: esOptions.patience ?? 0, restoreBestWeights: esOptions.restoreBestWeights ?? true }) : undefined;
  if (earlyStopping) {
    earlyStopping.wait = state.wait;
    if (resumedBest) earlyStopping.setBestWeights(resumedBest);
  } else tf.dispose(resumedBest ?? []);
  const plateau = options.reduceLrOnPlateau ? new ReduceLROnPlateau(options.reduceLrOnPlateau) : undefined;
  if (plateau) plateau.wait = state.plateauWait;
  return { earlyStopping, plateau };
}

/** What one optimizer step measured on its batch. */
interface StepResult {
  loss: number;
  correct: number;
  count: number;
}

/** What the optimizer step needs besides the batch. */
interface StepSetup {
  model: tfl.LayersModel;
  kind: OutputKind;
  optimizer: tf.Optimizer;
  clipNorm: number | undefined;
  classWeights: tf.Tensor1D | undefined;
  average: WeightAverage | undefined;
}

/** Rescales gradients whose global L2 norm exceeds `clipNorm` (call inside a tidy). */
function clipByGlobalNorm(grads: tf.NamedTensorMap, clipNorm: number): tf.NamedTensorMap {
  const norm = tf.sqrt(tf.addN(Object.values(grads).map((t) => tf.sum(tf.square(t)))));
  const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
  return Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, tf.mul(t, scale)]));
}

/**
 * The gradient step of a batch: dense over every trainable weight, or, with a {@link LazyAdam},
 * over the dense weights and the embedding rows the batch uses. Call inside a tidy.
 */
function createGradientStep(setup: StepSetup): (batch: Batch, lossOf: (x: tf.Tensor) => tf.Scalar) => tf.Scalar {
  const { model, optimizer, clipNorm } = setup;
  const layer = optimizer instanceof LazyAdam ? sparseEmbeddingOf(model) : undefined;
  if (layer) {
    const slot = new Int32Array((layer.getConfig() as { inputDim: number }).inputDim).fill(-1);
    return (batch, lossOf) => {
      const rows = touchedRows(batch.x.dataSync(), slot);
      const grads = sparseGradients(model, layer, batch.x, rows, lossOf);
      applySparseStep(optimizer as LazyAdam, layer, rows, grads, clipNorm);
      return grads.value;
    };
  }
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return (batch, lossOf) => {
    const { value, grads } = tf.variableGrads(() => lossOf(batch.x), vars);
    optimizer.applyGradients(clipNorm !== undefined ? clipByGlobalNorm(grads, clipNorm) : grads);
    return value;
  };
}

/** Returns the function that runs one weighted, clipped optimizer step and updates the average. */
function createTrainStep(setup: StepSetup): (batch: Batch, stepNumber: number) => StepResult {
  const { model, kind, classWeights, average } = setup;
  const gradientStep = createGradientStep(setup);
  return (batch, stepNumber) => {
    const [lossT, correctT, countT] = tf.tidy(() => {
      let weights = batch.weights;
      if (classWeights && kind !== 'sigmoid') {
        const cw = tf.gather(classWeights, tf.cast(batch.y, 'int32'));
        weights = weights ? tf.mul(weights, cw) : cw;
      }
      let correct: tf.Scalar | undefined;
      const value = gradientStep(batch, (x) => {
        const outputs = model.apply(x, { training: true }) as tf.Tensor;
        // Intermediates of the gradient function are freed when it returns; keep the one count we need.
        correct = tf.keep(correctCount(outputs, batch.y, batch.weights, kind));
        return weightedLoss(outputs, batch.y, kind, weights, kind === 'sigmoid' ? classWeights : undefined).loss;
      });
      average?.update(stepNumber);
      // Multi-hot labels are one row per example, not one label per entry.
      const count = batch.weights ? tf.sum(tf.cast(tf.greater(batch.weights, 0), 'float32')) : tf.scalar(kind === 'sigmoid' ? batch.y.shape[0]! : batch.y.size);
      return [value, correct!, count];
    });
    const out = { loss: lossT.dataSync()[0]!, correct: correctT.dataSync()[0]!, count: countT.dataSync()[0]! };
    tf.dispose([lossT, correctT, countT]);
    return out;
  };
}

/** Adapts the model, its data and the step to the `TrainingLoop` that core's `fit` drives. */
function createTrainingLoop(setup: StepSetup, data: BatchSource, validationData: BatchSource | undefined, firstStep: number): TrainingLoop<Batch> {
  const { model, kind, optimizer, average } = setup;
  const trainStep = createTrainStep(setup);
  let stepNumber = firstStep;
  return {
    batches: (epoch) => data.batches(epoch),
    batchesPerEpoch: data.batchesPerEpoch,
    trainBatch: (batch) => {
      let r: StepResult;
      try {
        r = trainStep(batch, stepNumber);
        stepNumber++;
      } finally {
        disposeBatch(batch);
      }
      return { loss: r.loss, metrics: { accuracy: { sum: r.correct, count: r.count } } };
    },
    validate: validationData
      ? () => {
          average?.swapIn();
          try {
            const v = evaluate(model, validationData, { output: kind });
            return { val_loss: v.loss, val_accuracy: v.accuracy };
          } finally {
            average?.swapOut();
          }
        }
      : undefined,
    // With an average, "the best epoch's weights" are the average at that epoch.
    weights: { get: () => (average ? average.snapshot() : model.getWeights().map((w) => tf.clone(w))), set: (w) => model.setWeights(w) },
    optimizer: optimizer as unknown as LrCarrier,
  };
}

/** Writes `best/`, `last/` (and `last-ema/`) and `state.json` after each epoch. */
function createCheckpoint(
  model: tfl.LayersModel,
  checkpointDir: string,
  average: WeightAverage | undefined,
  state: TrainingState,
  stopRules: { earlyStopping: EarlyStopping | undefined; plateau: ReduceLROnPlateau | undefined },
): Callback {
  return new ModelCheckpoint({
    save: async (which) => {
      const dir = path.join(checkpointDir, which);
      if (!average) return saveModel(model, dir, { includeOptimizer: true });
      if (which === 'best') return average.with(() => saveModel(model, dir));
      await saveModel(model, dir, { includeOptimizer: true });
      await average.with(() => saveModel(model, path.join(checkpointDir, 'last-ema')));
    },
    // Written after the weights: a crash in between resumes from the older state with newer
    // weights, which costs at most this epoch.
    saveState: (ctx) =>
      writeJsonAtomic(path.join(checkpointDir, 'state.json'), {
        ...state,
        epoch: ctx.epoch + 1,
        step: ctx.step,
        bestMetric: ctx.best.value,
        bestEpoch: ctx.best.epoch,
        learningRate: ctx.learningRate,
        wait: stopRules.earlyStopping?.wait ?? 0,
        plateauWait: stopRules.plateau?.wait ?? 0,
        history: ctx.history as unknown as EpochLog[],
      } satisfies TrainingState),
  });
}

/** What the progress events say about the run as a whole. */
interface ProgressFrame {
  epochs: number;
  batchesPerEpoch: number;
  monitor: MonitorName;
  startEpoch: number;
  timeBudgetSeconds: number | undefined;
}

/** Seconds left at this call's pace, capped by what remains of the time budget. */
function etaSeconds(ctx: FitContext, remainingSteps: number, timeBudgetSeconds: number | undefined): number {
  let seconds = remainingSteps * (ctx.elapsedSeconds() / Math.max(1, ctx.stepsThisCall));
  if (timeBudgetSeconds !== undefined) seconds = Math.min(seconds, Math.max(0, timeBudgetSeconds - ctx.elapsedSeconds()));
  return seconds;
}

/** The `batch` progress event. */
function batchProgress(logs: BatchLogs, ctx: FitContext, frame: ProgressFrame): TrainProgress {
  return {
    type: 'batch',
    epoch: ctx.epoch,
    epochs: frame.epochs,
    batch: logs.batch,
    batchesPerEpoch: frame.batchesPerEpoch,
    step: ctx.step,
    loss: logs.loss,
    metrics: { accuracy: logs.metrics.accuracy ?? NaN },
    learningRate: ctx.learningRate,
    elapsedSeconds: ctx.elapsedSeconds(),
    etaSeconds: etaSeconds(ctx, (frame.epochs - ctx.epoch) * frame.batchesPerEpoch - (logs.batch + 1), frame.timeBudgetSeconds),
  };
}

/** The `epoch` progress event; `batchesRun` counts the batches of the epoch that just ended. */
function epochProgress(log: EpochLogs, ctx: FitContext, frame: ProgressFrame, batchesRun: number): TrainProgress {
  return {
    type: 'epoch',
    epoch: log.epoch,
    epochs: frame.epochs,
    batch: batchesRun,
    batchesPerEpoch: frame.batchesPerEpoch,
    step: ctx.step,
    loss: log.loss,
    metrics: Object.fromEntries(
      Object.entries(log).filter(([k, v]) => typeof v === 'number' && (k.includes('loss') || k.includes('accuracy')) && k !== 'loss'),
    ) as Record<string, number>,
    learningRate: log.learningRate,
    elapsedSeconds: ctx.elapsedSeconds(),
    etaSeconds: (frame.epochs - log.epoch - 1) * frame.batchesPerEpoch * (ctx.elapsedSeconds() / Math.max(1, ctx.stepsThisCall)),
  };
}

/** The `end` progress event. */
function endProgress(result: FitResult, ctx: FitContext, frame: ProgressFrame): TrainProgress {
  return {
    type: 'end',
    epoch: Math.max(frame.startEpoch, ctx.history.length > 0 ? ctx.history[ctx.history.length - 1]!.epoch : frame.startEpoch - 1),
    epochs: frame.epochs,
    batch: 0,
    batchesPerEpoch: frame.batchesPerEpoch,
    step: ctx.step,
    loss: ctx.history[ctx.history.length - 1]?.loss ?? NaN,
    metrics: { [frame.monitor]: result.bestValue },
    learningRate: ctx.learningRate,
    elapsedSeconds: ctx.elapsedSeconds(),
    etaSeconds: 0,
  };
}

/**
 * The callback that remembers the step each epoch began at (so epoch events can say how many
 * batches ran) and, with `onProgress`, the one that sends the progress events.
 */
function createProgressCallbacks(onProgress: TrainOptions['onProgress'], frame: ProgressFrame): { stepCounter: Callback; progress: Callback | undefined } {
  const epochStartStep = new Map<number, number>();
  const stepCounter: Callback = { onEpochBegin: (epoch, ctx) => void epochStartStep.set(epoch, ctx.step) };
  const progress: Callback | undefined = onProgress
    ? {
        onBatchEnd: (logs, ctx) => onProgress(batchProgress(logs, ctx, frame)),
        onEpochEnd: (log, ctx) => onProgress(epochProgress(log, ctx, frame, ctx.step - (epochStartStep.get(ctx.epoch) ?? ctx.step))),
        onTrainEnd: (result, ctx) => onProgress(endProgress(result, ctx, frame)),
      }
    : undefined;
  return { stepCounter, progress };
}

/**
 * Trains a model with its own loop: seeded batches, gradient clipping, class weights,
 * learning-rate schedules, early stopping that restores the best weights, best/last
 * checkpoints and resume.
 *
 * @example
 * ```ts
 * const result = await train(model, trainData, {
 *   epochs: 10, validationData: devData, clipNorm: 5,
 *   earlyStopping: { patience: 2 }, checkpointDir: 'runs/sst2', resume: true,
 *   onProgress: (e) => e.type === 'epoch' && console.log(e.epoch, e.metrics),
 * });
 * ```
 */
export async function train(model: tfl.LayersModel, data: BatchSource, options: TrainOptions): Promise<TrainResult> {
  const { epochs, seed, monitor } = checkTrainOptions(options);
  const kind = options.output ?? detectOutputKind(model);
  const started = performance.now();
  const optimizer = attachOptimizer(model, options, kind);
  const { state, resumedBest } = await resumeFromCheckpoint(model, optimizer, options, freshState(monitor, seed, getLr(optimizer)));
  // Dropout masks follow the global stream; offset it by the epoch so a resumed run does not
  // replay the masks of epoch 0.
  setGlobalSeed(`${seed}:${state.epoch}`);
  const average = await createWeightAverage(model, options, state);
  const classWeights = options.classWeights ? tf.tensor1d(options.classWeights, 'float32') : undefined;
  const setup: StepSetup = { model, kind, optimizer, clipNorm: options.clipNorm, classWeights, average };
  const loop = createTrainingLoop(setup, data, options.validationData, state.step);
  const stopRules = createStopRules(options, state, resumedBest);
  const { earlyStopping, plateau } = stopRules;
  // Checkpoints after the schedule, early stopping and plateau have had their say about this epoch.
  const checkpoint = options.checkpointDir ? createCheckpoint(model, options.checkpointDir, average, state, stopRules) : undefined;
  const frame: ProgressFrame = { epochs, batchesPerEpoch: data.batchesPerEpoch, monitor, startEpoch: state.epoch, timeBudgetSeconds: options.timeBudgetSeconds };
  const { stepCounter, progress } = createProgressCallbacks(options.onProgress, frame);
  const callbacks = [
    stepCounter,
    ...(options.learningRateSchedule ? [new LearningRateScheduler(options.learningRateSchedule)] : []),
    ...(earlyStopping ? [earlyStopping] : []),
    ...(plateau ? [plateau] : []),
    ...(checkpoint ? [checkpoint] : []),
    ...(progress ? [progress] : []),
    ...(options.timeBudgetSeconds !== undefined ? [new TimeBudget(options.timeBudgetSeconds)] : []),
  ];
  try {
    const result = await fit(loop, {
      epochs,
      initialEpoch: state.epoch,
      initialStep: state.step,
      history: state.history as unknown as EpochLogs[],
      monitor,
      minDelta: options.earlyStopping?.minDelta ?? 0,
      best: { value: state.bestMetric, epoch: state.bestEpoch },
      callbacks,
      signal: options.signal,
    });
    const restoredBest = earlyStopping?.restored ?? false;
    // Like Keras' finalize step: the model ends with the average (the restored best already is one).
    if (average && !restoredBest) model.setWeights(average.shadow);
    return {
      history: result.history as unknown as EpochLog[],
      monitor,
      bestEpoch: result.bestEpoch,
      bestMetric: result.bestValue,
      stopReason: result.stopReason as TrainResult['stopReason'],
      restoredBest,
      averaged: average !== undefined,
      steps: result.steps,
      wallTimeSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    classWeights?.dispose();
    average?.dispose();
  }
}
