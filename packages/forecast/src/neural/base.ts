import * as tf from '@tensorflow/tfjs-core';
import { EarlyStopping, fileSystem, fit, LearningRateScheduler, LoopCheckpoint, SeededRandom, TimeBudget, type Callback, type ResumedLoop, type SeededRandomState, type TrainingLoop } from '@seqlab/core';
import { ForecastInputError, positiveInt } from '../errors.js';
import { seriesLength, type TimeSeries } from '../data/series.js';
import { windowStarts } from '../data/windows.js';
import { WindowForecaster } from '../window-forecaster.js';
import { type BaseOptions, type EpochLog, type FitCheckpoint, type FitOptions, type ForecasterCapabilities } from '../forecaster.js';

/** Options shared by the neural forecasters. */
export interface NeuralOptions extends BaseOptions {
  /** Input rows L. Default 96. */
  lookback?: number;
  /** Steps H forecast in one pass; longer forecasts are produced recursively. Default 24. */
  horizon?: number;
  /** Maximum passes over the training windows. Default 10. */
  epochs?: number;
  /** Windows per gradient step. Default 256. */
  batchSize?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Multiply the learning rate by this after every epoch once the warm epochs are over. Default 0.85. */
  lrDecay?: number;
  /**
   * Epochs trained at the initial learning rate before the per-epoch decay starts. Default 1
   * (decay from the second epoch); 4 is the SegRNN repository's 'type3' schedule.
   */
  lrWarmEpochs?: number;
  /** Stop after this many epochs without a better validation loss. Default 3. */
  patience?: number;
  /** Use at most this many (randomly drawn) training windows per epoch. Default: all. */
  maxWindowsPerEpoch?: number;
  /** Per-window normalisation: subtract the last value (`'last'`, default), RevIN mean/std (`'revin'`), or none. */
  normalization?: 'last' | 'revin' | 'none';
  /**
   * Keep an exponential moving average of the weights, updated after every optimizer step with
   * this decay (0.99 averages over roughly the last 100 steps); validation, early stopping and
   * the fitted model use the averaged weights. Early steps average over fewer steps (decay
   * min(emaDecay, (1 + t) / (10 + t)) at step t). Default 0: off.
   */
  emaDecay?: number;
  /** Training loss. Default `'mse'`. */
  loss?: 'mse' | 'mae';
  /**
   * What early stopping compares on the validation windows. Default: the training loss. (E.g.
   * train on MAE for robustness but keep the epoch with the lowest validation MSE.)
   */
  validationLoss?: 'mse' | 'mae';
  /** Seed of initial weights and shuffling. Default 42. */
  seed?: number;
  /** Print one line per epoch to stderr. */
  verbose?: boolean;
  /** Stop training after this many seconds (checked between batches). Default: no limit. */
  timeBudgetSeconds?: number;
  /** Score every `validationStride`-th validation window (per column) for early stopping. Default 1. */
  validationStride?: number;
}

/** How training went. */
export interface TrainingReport {
  epochs: EpochLog[];
  bestEpoch: number;
  bestValLoss?: number;
  seconds: number;
  windows: number;
  /** Epochs a checkpoint had finished when this fit resumed from it. */
  resumedFromEpoch?: number;
}

type Params = Record<string, tf.Variable>;

/** What one fit's loop, checkpoint and report share. */
interface TrainingRun {
  optimizer: tf.Optimizer;
  /** The trainable parameters, and their moving average when `emaDecay` is on. */
  vars: tf.Variable[];
  ema: tf.Variable[] | undefined;
  emaDecay: number;
  emaSteps: number;
  logs: EpochLog[];
  resumedFromEpoch?: number;
}

/**
 * Base of the TensorFlow.js forecasters: channel-independent windows (every column is a sample
 * source, with its column index available to the network), per-window normalisation, a
 * hand-written Adam training loop with early stopping on validation, batched inference, and
 * weights saved through `@seqlab/core`'s atomic model files.
 */
export abstract class NeuralForecaster<O extends NeuralOptions = NeuralOptions> extends WindowForecaster<O> {
  readonly capabilities: ForecasterCapabilities;
  readonly lookback: number;
  readonly horizon: number;
  protected params: Params = {};
  /** Number of columns the network was built for (channel embeddings). */
  protected channels = 0;
  /** Set after `fit`. */
  report: TrainingReport | undefined;
  protected rng: SeededRandom;

  protected constructor(options: O) {
    super(options);
    this.lookback = positiveInt(options.lookback ?? 96, 'lookback');
    this.horizon = positiveInt(options.horizon ?? 24, 'horizon');
    for (const k of ['epochs', 'batchSize', 'patience', 'lrWarmEpochs'] as const) if (options[k] !== undefined) positiveInt(options[k], k);
    if (options.learningRate !== undefined && !(options.learningRate > 0)) throw new ForecastInputError(`learningRate must be > 0, got ${options.learningRate}`);
    for (const k of ['loss', 'validationLoss'] as const) {
      if (options[k] !== undefined && options[k] !== 'mse' && options[k] !== 'mae') throw new ForecastInputError(`${k} must be 'mse' or 'mae', got "${String(options[k])}"`);
    }
    if (options.emaDecay !== undefined && !(options.emaDecay >= 0 && options.emaDecay < 1)) throw new ForecastInputError(`emaDecay must be in [0, 1), got ${options.emaDecay}`);
    const norm = options.normalization ?? 'last';
    if (!['last', 'revin', 'none'].includes(norm)) throw new ForecastInputError(`normalization must be 'last', 'revin' or 'none', got "${norm}"`);
    this.capabilities = { supportsMultivariate: true, probabilistic: true, minTrainLength: this.lookback + this.horizon, neural: true };
    this.rng = new SeededRandom(options.seed ?? 42);
  }


  /** Creates the variables for `channels` columns. */
  protected abstract buildParams(channels: number): Params;
  /**
   * Maps normalised inputs `[B, L]` and column ids `[B]` to normalised forecasts `[B, H]`.
   * Runs inside a tidy.
   */
  protected abstract forward(x: tf.Tensor2D, channel: tf.Tensor1D, training: boolean): tf.Tensor2D;
  /** Hook run after the variables exist and before training (e.g. closed-form initialisation). */
  protected async initialize(_train: TimeSeries, _validation: TimeSeries | undefined): Promise<void> {}

  protected glorot(shape: [number, number], fanIn = shape[0], fanOut = shape[1]): tf.Variable {
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    const seed = this.rng.int(2 ** 31);
    return tf.tidy(() => tf.variable(tf.randomUniform(shape, -lim, lim, 'float32', seed)));
  }
  protected uniform(shape: number[], lim: number): tf.Variable {
    const seed = this.rng.int(2 ** 31);
    return tf.tidy(() => tf.variable(tf.randomUniform(shape, -lim, lim, 'float32', seed)));
  }
  protected normal(shape: number[], std = 1): tf.Variable {
    const seed = this.rng.int(2 ** 31);
    return tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed)));
  }
  protected zeros(shape: number[], trainable = true): tf.Variable {
    return tf.tidy(() => tf.variable(tf.zeros(shape), trainable));
  }

  override dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
    this.params = {};
  }

  /**
   * Fills batch buffers for windows given as triples `(source, end, channel)` in `items`:
   * inputs `values[source][end - L, end)` normalised, their statistics, and targets.
   */
  private fillBatch(
    values: Float64Array[],
    items: ArrayLike<number>,
    count: number,
    offset: number,
    withTargets: boolean,
  ): { x: Float32Array; ch: Int32Array; mean: Float32Array; std: Float32Array; y?: Float32Array } {
    const L = this.lookback;
    const H = this.horizon;
    const norm = this.options.normalization ?? 'last';
    const x = new Float32Array(count * L);
    const ch = new Int32Array(count);
    const mean = new Float32Array(count);
    const std = new Float32Array(count).fill(1);
    const y = withTargets ? new Float32Array(count * H) : undefined;
    for (let k = 0; k < count; k++) {
      const v = values[items[3 * (offset + k)]!]!;
      const end = items[3 * (offset + k) + 1]!;
      ch[k] = items[3 * (offset + k) + 2]!;
      let m = 0;
      let s = 1;
      if (norm === 'last') m = v[end - 1]!;
      else if (norm === 'revin') {
        for (let i = end - L; i < end; i++) m += v[i]!;
        m /= L;
        let ss = 0;
        for (let i = end - L; i < end; i++) ss += (v[i]! - m) ** 2;
        s = Math.sqrt(ss / L + 1e-5);
      }
      mean[k] = m;
      std[k] = s;
      for (let i = 0; i < L; i++) x[k * L + i] = (v[end - L + i]! - m) / s;
      if (y) for (let h = 0; h < H; h++) y[k * H + h] = (v[end + h]! - m) / s;
    }
    return { x, ch, mean, std, y };
  }

  /** Normalised-space loss of one batch (a scalar tensor). */
  private batchLoss(b: { x: Float32Array; ch: Int32Array; std: Float32Array; y?: Float32Array }, count: number, training: boolean, loss = this.options.loss ?? 'mse'): tf.Scalar {
    const x = tf.tensor2d(b.x, [count, this.lookback]);
    const ch = tf.tensor1d(b.ch, 'int32');
    const y = tf.tensor2d(b.y!, [count, this.horizon]);
    const pred = this.forward(x, ch, training);
    // Errors are compared in scaled units: for RevIN the normalised error is multiplied back by
    // each window's std so every window weighs by its real error.
    let diff = tf.sub(pred, y);
    if ((this.options.normalization ?? 'last') === 'revin') diff = tf.mul(diff, tf.tensor2d(b.std, [count, 1]));
    return loss === 'mae' ? tf.mean(tf.abs(diff)) : tf.mean(tf.square(diff));
  }

  /** Runs `f` with `vars` temporarily holding `weights`. */
  private withWeights<T>(vars: tf.Variable[], weights: tf.Variable[], f: () => T): T {
    const saved = vars.map((v) => v.clone());
    vars.forEach((v, i) => v.assign(weights[i]!));
    try {
      return f();
    } finally {
      vars.forEach((v, i) => v.assign(saved[i]!));
      tf.dispose(saved);
    }
  }

  /** Pairs (column, end row) of every window in a series. */
  private items(series: TimeSeries, stride = 1): Int32Array {
    const starts = windowStarts(seriesLength(series), this.lookback, this.horizon, stride);
    const C = series.values.length;
    const out = new Int32Array(3 * starts.length * C);
    let k = 0;
    for (let c = 0; c < C; c++) {
      for (const s of starts) {
        out[k++] = c;
        out[k++] = s + this.lookback;
        out[k++] = c;
      }
    }
    return out;
  }

  private evaluate(series: TimeSeries, items: Int32Array, batch = 1024): number {
    const n = items.length / 3;
    let total = 0;
    for (let off = 0; off < n; off += batch) {
      const count = Math.min(batch, n - off);
      const b = this.fillBatch(series.values, items, count, off, true);
      const loss = tf.tidy(() => this.batchLoss(b, count, false, this.options.validationLoss ?? this.options.loss ?? 'mse'));
      total += loss.dataSync()[0]! * count;
      loss.dispose();
    }
    return total / n;
  }

  protected async fitScaled(series: TimeSeries, validation: TimeSeries | undefined, options: FitOptions): Promise<void> {
    const n = seriesLength(series);
    const L = this.lookback;
    const H = this.horizon;
    if (n < L + H) throw new ForecastInputError(`${this.name}: training series has ${n} rows; lookback ${L} + horizon ${H} = ${L + H} are needed`);
    this.rng = new SeededRandom(this.options.seed ?? 42);
    this.channels = series.values.length;
    this.params = this.buildParams(this.channels);
    await this.initialize(series, validation);
    const trainItems = this.items(series);
    const valItems = validation && seriesLength(validation) >= L + H ? this.items(validation, this.options.validationStride ?? 1) : undefined;
    const optimizer = tf.train.adam(this.options.learningRate ?? 1e-3);
    const vars = Object.values(this.params).filter((v) => v.trainable);
    const emaDecay = this.options.emaDecay ?? 0;
    const ema = emaDecay > 0 ? vars.map((v) => tf.tidy(() => tf.variable(v.clone(), false))) : undefined;
    const run: TrainingRun = { optimizer, vars, ema, emaDecay, emaSteps: 0, logs: [] };
    const t0 = performance.now();
    const checkpoint = options.checkpoint ? this.loopCheckpoint(options.checkpoint, run) : undefined;
    let stopping: EarlyStopping | undefined;
    let result;
    try {
      const resumed = options.checkpoint?.resume ? await this.resume(checkpoint!, run) : undefined;
      // The untrained network's validation loss is the baseline to beat: training that never beats
      // it ends with the starting weights. A resumed run carries its best over instead.
      const baseline = valItems && !resumed ? this.evaluate(validation!, valItems) : undefined;
      if (this.options.verbose && baseline !== undefined) process.stderr.write(`${this.name} epoch 0: val ${baseline.toFixed(4)}\n`);
      stopping = valItems ? new EarlyStopping({ patience: this.options.patience ?? 3, ...(baseline !== undefined ? { baseline } : {}) }) : undefined;
      if (stopping) await checkpoint?.track(stopping, resumed);
      const loop = this.trainingLoop(series, trainItems, validation, valItems, run);
      const warm = this.options.lrWarmEpochs ?? 1;
      const decay = this.options.lrDecay ?? 0.85;
      const callbacks: Callback[] = [
        // The learning rate decays by `lrDecay` after every epoch past the warm ones.
        new LearningRateScheduler((epoch, lr) => (epoch < warm ? lr : lr * decay)),
        this.epochRecorder(run),
        ...(stopping ? [stopping] : []),
        // Checkpointed before it is announced: an epoch a caller saw is one a resume continues after.
        ...(checkpoint ? [checkpoint] : []),
        this.epochAnnouncer(run, options),
        ...(this.options.timeBudgetSeconds !== undefined ? [new TimeBudget(this.options.timeBudgetSeconds)] : []),
      ];
      result = await fit(loop, { epochs: this.options.epochs ?? 10, monitor: valItems ? 'val_loss' : 'loss', callbacks, signal: options.signal, what: `${this.name} training`, ...resumed?.fit });
      // Early stopping leaves the weights alone when the last epoch was the best (or when there
      // is no validation); with averaging, the model is then the current average.
      if (ema && !stopping?.restored) vars.forEach((v, i) => v.assign(ema[i]!));
      run.resumedFromEpoch = resumed?.state.epoch;
    } finally {
      checkpoint?.dispose();
      optimizer.dispose();
      if (ema) tf.dispose(ema);
    }
    this.report = {
      epochs: run.logs,
      bestEpoch: valItems ? result.bestEpoch + 1 : run.logs.length,
      bestValLoss: valItems ? result.bestValue : undefined,
      seconds: (performance.now() - t0) / 1000,
      windows: trainItems.length / 3,
      ...(run.resumedFromEpoch !== undefined ? { resumedFromEpoch: run.resumedFromEpoch } : {}),
    };
  }

  /** Checkpoints of the parameters, their moving average, Adam's state and the seed stream. */
  private loopCheckpoint(where: FitCheckpoint, run: TrainingRun): LoopCheckpoint {
    const names = Object.keys(this.params).filter((k) => this.params[k]!.trainable);
    return new LoopCheckpoint({
      dir: where.dir,
      ...(where.everySeconds !== undefined ? { everySeconds: where.everySeconds } : {}),
      variables: () => ({ ...this.params, ...Object.fromEntries((run.ema ?? []).map((a, i) => [`ema/${names[i]}`, a])) }),
      optimizer: run.optimizer,
      extra: () => ({ rng: this.rng.state(), emaSteps: run.emaSteps, logs: run.logs }),
    });
  }

  /** Puts a checkpoint back: weights, Adam's state, and the seed stream where the run left it. */
  private async resume(checkpoint: LoopCheckpoint, run: TrainingRun): Promise<ResumedLoop | undefined> {
    const resumed = await checkpoint.restore();
    if (!resumed) return undefined;
    const extra = resumed.state.extra as { rng: SeededRandomState; emaSteps: number; logs: EpochLog[] };
    this.rng = SeededRandom.fromState(extra.rng);
    run.emaSteps = extra.emaSteps;
    run.logs = extra.logs;
    return resumed;
  }

  /** Keeps each epoch's log for the report (and the checkpoint). */
  private epochRecorder(run: TrainingRun): Callback {
    return {
      onEpochEnd: (l) => {
        const log: EpochLog = { epoch: l.epoch + 1, trainLoss: l.loss, seconds: l.seconds, learningRate: l.learningRate };
        if (typeof l.val_loss === 'number') log.valLoss = l.val_loss;
        run.logs.push(log);
      },
    };
  }

  /** Tells `onEpoch` (and, when verbose, stderr) about the epoch just recorded. */
  private epochAnnouncer(run: TrainingRun, options: FitOptions): Callback {
    return {
      onEpochEnd: (l) => {
        const log = run.logs.at(-1)!;
        options.onEpoch?.(log);
        if (this.options.verbose) {
          process.stderr.write(`${this.name} epoch ${log.epoch}: train ${log.trainLoss.toFixed(4)}${log.valLoss !== undefined ? ` val ${log.valLoss.toFixed(4)}` : ''} lr ${l.learningRate.toExponential(2)} (${log.seconds.toFixed(1)} s)\n`);
        }
      },
    };
  }

  /** The batches, Adam steps (with the weight average), validation and weight access `fit` drives. */
  private trainingLoop(series: TimeSeries, trainItems: Int32Array, validation: TimeSeries | undefined, valItems: Int32Array | undefined, run: TrainingRun): TrainingLoop<{ b: ReturnType<NeuralForecaster['fillBatch']>; count: number }> {
    const nTrain = trainItems.length / 3;
    const batchSize = this.options.batchSize ?? 256;
    const perEpoch = Math.min(nTrain, this.options.maxWindowsPerEpoch ?? nTrain);
    const { optimizer, vars, ema, emaDecay } = run;
    const values = series.values;
    // Read at every epoch: a resume replaces the stream after the loop is made.
    const rng = () => this.rng;
    const fillBatch = this.fillBatch.bind(this);
    return {
      *batches() {
        const order = rng().permutation(nTrain).slice(0, perEpoch);
        const shuffled = new Int32Array(3 * perEpoch);
        order.forEach((j, k) => shuffled.set(trainItems.subarray(3 * j, 3 * j + 3), 3 * k));
        for (let off = 0; off < perEpoch; off += batchSize) {
          const count = Math.min(batchSize, perEpoch - off);
          yield { b: fillBatch(values, shuffled, count, off, true), count };
        }
      },
      batchesPerEpoch: Math.ceil(perEpoch / batchSize),
      trainBatch: ({ b, count }) => {
        const loss = optimizer.minimize(() => this.batchLoss(b, count, true), true, vars)!;
        const value = loss.dataSync()[0]!;
        loss.dispose();
        if (ema) {
          const beta = Math.min(emaDecay, (1 + run.emaSteps) / (10 + run.emaSteps));
          run.emaSteps++;
          tf.tidy(() => ema.forEach((a, i) => a.assign(tf.add(tf.mul(a, beta), tf.mul(vars[i]!, 1 - beta)))));
        }
        return { loss: value, weight: count };
      },
      // With averaging on, validation scores the averaged weights (swapped in, then back).
      validate: valItems ? () => ({ val_loss: ema ? this.withWeights(vars, ema, () => this.evaluate(validation!, valItems)) : this.evaluate(validation!, valItems) }) : undefined,
      weights: {
        // Early stopping keeps (and finally restores) the weights that were validated.
        get: () => Object.values(this.params).map((v) => (ema && vars.includes(v) ? ema[vars.indexOf(v)]! : v).clone()),
        set: (weights) => Object.values(this.params).forEach((v, i) => {
          v.assign(weights[i]!);
          if (ema && vars.includes(v)) ema[vars.indexOf(v)]!.assign(weights[i]!);
        }),
      },
      optimizer: optimizer as unknown as { learningRate: number },
    };
  }

  /** Forecasts H steps for the windows in `items` (see fillBatch), in scaled units. */
  private directMany(values: Float64Array[], items: Int32Array): Float32Array[] {
    const n = items.length / 3;
    const H = this.horizon;
    const out: Float32Array[] = [];
    const batch = 1024;
    for (let off = 0; off < n; off += batch) {
      const count = Math.min(batch, n - off);
      const b = this.fillBatch(values, items, count, off, false);
      const pred = tf.tidy(() => this.forward(tf.tensor2d(b.x, [count, this.lookback]), tf.tensor1d(b.ch, 'int32'), false));
      const data = pred.dataSync() as Float32Array;
      pred.dispose();
      for (let k = 0; k < count; k++) {
        const row = new Float32Array(H);
        for (let h = 0; h < H; h++) row[h] = data[k * H + h]! * b.std[k]! + b.mean[k]!;
        out.push(row);
      }
    }
    return out;
  }

  protected override async forecastManyScaled(values: Float64Array[], origins: number[], horizon: number): Promise<Float64Array[][]> {
    if (Object.keys(this.params).length === 0) throw new ForecastInputError(`${this.name}: the model has no weights (fit or load it first)`);
    if (values.length !== this.channels) throw new ForecastInputError(`${this.name} was built for ${this.channels} columns; got ${values.length}`);
    const L = this.lookback;
    const H = this.horizon;
    const C = values.length;
    // Buffers hold the history followed by forecasts, so horizons beyond H recurse.
    const bufs = origins.map((o) => values.map((v) => {
      if (o < L) throw new ForecastInputError(`${this.name} needs ${L} rows of history (lookback); got ${o}`);
      const b = new Float64Array(L + horizon);
      b.set(v.subarray(o - L, o));
      return b;
    }));
    for (let done = 0; done < horizon; done += H) {
      const flatValues: Float64Array[] = [];
      const items = new Int32Array(3 * origins.length * C);
      bufs.forEach((cols, k) => cols.forEach((b, c) => {
        flatValues.push(b);
        items.set([k * C + c, L + done, c], 3 * (k * C + c));
      }));
      const preds = this.directMany(flatValues, items);
      preds.forEach((p, j) => flatValues[j]!.set(p.subarray(0, Math.min(H, horizon - done)), L + done));
    }
    return bufs.map((cols) => cols.map((b) => b.slice(L)));
  }

  protected async forecastScaled(history: Float64Array[], horizon: number): Promise<Float64Array[]> {
    const n = history[0]!.length;
    return (await this.forecastManyScaled(history, [n], horizon))[0]!;
  }

  /** Network configuration saved beside the weights. */
  protected getState(): Record<string, unknown> {
    return { channels: this.channels, report: this.report };
  }
  protected setState(state: Record<string, unknown>): void {
    this.channels = state.channels as number;
    this.report = state.report as TrainingReport | undefined;
  }

  protected override async saveExtra(dir: string): Promise<void> {
    const named = Object.entries(this.params).map(([name, tensor]) => ({ name, tensor }));
    const { data, specs } = await tf.io.encodeWeights(named);
    const handler = fileSystem(dir);
    if (!handler.save) throw new ForecastInputError(`cannot save weights to ${dir}`);
    await handler.save({
      modelTopology: { seqlab: 'forecaster-weights', model: this.name },
      format: 'seqlab-forecast',
      generatedBy: 'seqlab',
      weightSpecs: specs,
      weightData: data,
    });
  }

  protected override async loadExtra(dir: string): Promise<void> {
    const handler = fileSystem(dir);
    if (!handler.load) throw new ForecastInputError(`cannot load weights from ${dir}`);
    const artifacts = await handler.load();
    this.dispose();
    this.params = this.buildParams(this.channels);
    const decoded = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
    for (const [name, v] of Object.entries(this.params)) {
      const t = decoded[name];
      if (!t) throw new ForecastInputError(`${this.name}: saved weights in ${dir} lack "${name}"`);
      if (t.shape.join(',') !== v.shape.join(',')) throw new ForecastInputError(`${this.name}: saved weight "${name}" has shape [${t.shape}], expected [${v.shape}]`);
      v.assign(t as tf.Tensor);
    }
    for (const t of Object.values(decoded)) t.dispose();
  }
}
