import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { EarlyStopping, fileSystem, fit, LearningRateScheduler, LoopCheckpoint, SeededRandom, TimeBudget, type Callback, type SeededRandomState, type TrainingLoop } from '@seqlab/core';
import { ForecastInputError, positiveInt } from '../errors.js';
import type { PanelSeries } from '../data/panel.js';
import { gruEncode } from '../neural/cells.js';
import { GlobalForecaster, type GlobalCapabilities, type GlobalFitOptions } from './forecaster.js';
import { fitSmoothing, positiveShift, seasonalAt, seasonalFactor, smoothSeries, type SeriesSmoothing } from './smoothing.js';

/** Options of {@link EsHybridForecaster}. Defaults are the M4 Hourly configuration. */
export interface EsHybridOptions {
  /** Seasonal period of the per-series multiplicative smoothing. Default 24. */
  season?: number;
  /**
   * A second, longer seasonality of the smoothing (a multiple of `season`; 168, a week, for
   * hourly data as ES-RNN used on M4 Hourly): each series gets a level, a daily and a weekly
   * factor (Taylor's double seasonal Holt-Winters). Default none.
   */
  secondSeason?: number;
  /** Steps forecast in one pass (and the validation window held out per series). Default 48. */
  horizon?: number;
  /** Input rows of the shared core. Default 168. */
  lookback?: number;
  /** Ensemble: one member per look-back in this list and seed in `seeds`; forecasts are their median. Default `[lookback]`. */
  lookbacks?: number[];
  /** Seeds of the ensemble members' initial weights and batches. Default `[1]`. */
  seeds?: number[];
  /** Shared core on the deseasonalised, level-normalised windows: an MLP or a GRU over segments of one season. Default `'mlp'`. */
  core?: 'mlp' | 'gru';
  /** Width of the core's hidden layers (MLP) or GRU state. Default 256. */
  hidden?: number;
  /** Hidden layers of the MLP core. Default 2. */
  layers?: number;
  /** Maximum epochs per member. Default 40. */
  epochs?: number;
  /** Windows drawn (with their series) per epoch. Default 8192. */
  windowsPerEpoch?: number;
  /** Windows per Adam step. Default 256. */
  batchSize?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Learning-rate factor after every epoch. Default 0.95. */
  lrDecay?: number;
  /** Epochs without a better validation loss before stopping. Default 5. */
  patience?: number;
  /** Stop each member's training after this many seconds (best weights kept). */
  timeBudgetSeconds?: number;
  /** Print one line per epoch to stderr. */
  verbose?: boolean;
}

interface Prepared {
  y: Float64Array;
  sm: SeriesSmoothing;
}

type Params = Record<string, tf.Variable>;

interface Member {
  lookback: number;
  seed: number;
  params: Params;
  bestEpoch: number;
  bestValLoss?: number;
  epochs: number;
}

/** What each member's training did. */
export interface EsHybridReport {
  members: Array<{ lookback: number; seed: number; epochs: number; bestEpoch: number; bestValLoss?: number; seconds: number }>;
  /** Training windows available (series x origins). */
  windows: number;
}

/**
 * An ES-RNN-style hybrid (Smyl, M4 winner), global across a panel: every series gets its own
 * multiplicative Holt-Winters level and seasonality (weights chosen per series by one-step
 * error), and one shared core - an MLP, or a GRU over one-season segments on @seqlab/core's fused
 * kernels - learns from every series' deseasonalised windows divided by their last level, in log
 * space, to forecast all `horizon` steps at once. Forecasts are re-seasonalised and re-levelled
 * per series; an ensemble of look-backs and seeds is combined by the median. Intervals are split
 * conformal on the held-out last `horizon` rows of every series, scaled per series and pooled
 * across the panel (one window per series is too few alone).
 *
 * @example
 * ```ts
 * const panel = readWideCsv('data/m4/Hourly-train.csv');
 * const model = await new EsHybridForecaster({ seeds: [1, 2, 3] }).fit(panel);
 * const forecasts = await model.predict(48); // [{ id, forecast: { mean, lower, upper } }]
 * ```
 */
export class EsHybridForecaster extends GlobalForecaster<EsHybridOptions> {
  readonly name = 'es-hybrid';
  readonly capabilities: GlobalCapabilities;
  private readonly m: number;
  private readonly m2: number | undefined;
  /** Rows before the first training window: the longest season (its first cycle initialises the smoothing). */
  private readonly warmup: number;
  private readonly H: number;
  private readonly lookbacks: number[];
  private readonly seeds: number[];
  private members: Member[] = [];
  private prepared: Prepared[] = [];
  report: EsHybridReport | undefined;

  constructor(options: EsHybridOptions = {}) {
    super(options);
    this.m = positiveInt(options.season ?? 24, 'season');
    if (options.secondSeason !== undefined) {
      const m2 = positiveInt(options.secondSeason, 'secondSeason');
      if (m2 <= this.m || m2 % this.m !== 0) throw new ForecastInputError(`secondSeason must be a multiple of season (${this.m}) and longer, e.g. ${7 * this.m}; got ${m2}`);
      this.m2 = m2;
    }
    this.warmup = this.m2 ?? this.m;
    this.H = positiveInt(options.horizon ?? 48, 'horizon');
    this.lookbacks = (options.lookbacks ?? [options.lookback ?? 168]).map((l) => positiveInt(l, 'lookback'));
    this.seeds = (options.seeds ?? [1]).map((s) => {
      if (!Number.isInteger(s) || s < 0) throw new ForecastInputError(`seeds must be non-negative integers, got ${s}`);
      return s;
    });
    if (this.lookbacks.length === 0 || this.seeds.length === 0) throw new ForecastInputError('lookbacks and seeds need at least one value each');
    const core = options.core ?? 'mlp';
    if (core !== 'mlp' && core !== 'gru') throw new ForecastInputError(`core must be 'mlp' or 'gru', got "${core}"`);
    if (core === 'gru') {
      for (const l of this.lookbacks) if (l % this.m !== 0) throw new ForecastInputError(`the gru core reads the look-back in segments of one season (${this.m}); lookback ${l} is not a multiple of it`);
    }
    for (const k of ['hidden', 'layers', 'epochs', 'windowsPerEpoch', 'batchSize', 'patience'] as const) if (options[k] !== undefined) positiveInt(options[k], k);
    // Smoothing needs two (long) seasons; training windows need the look-back and the horizon
    // after the first, a forecast only the look-back.
    const lookback = Math.max(...this.lookbacks);
    this.capabilities = {
      minSeriesLength: Math.max(2 * this.warmup, this.warmup + lookback + this.H),
      minHistory: Math.max(2 * this.warmup, lookback),
      maxHorizon: this.H,
      neural: true,
      newSeries: true,
    };
  }

  get season(): number {
    return this.m;
  }

  clone(): EsHybridForecaster {
    return new EsHybridForecaster(this.options);
  }

  override dispose(): void {
    for (const member of this.members) for (const v of Object.values(member.params)) v.dispose();
    this.members = [];
  }

  // ---- network ------------------------------------------------------------------------------

  private buildParams(lookback: number, rng: SeededRandom): Params {
    const d = this.options.hidden ?? 256;
    const H = this.H;
    const glorot = (shape: [number, number]) => {
      const lim = Math.sqrt(6 / (shape[0] + shape[1]));
      const seed = rng.int(2 ** 31);
      return tf.tidy(() => tf.variable(tf.randomUniform(shape, -lim, lim, 'float32', seed)));
    };
    const zeros = (shape: number[]) => tf.tidy(() => tf.variable(tf.zeros(shape)));
    const p: Params = {};
    if ((this.options.core ?? 'mlp') === 'mlp') {
      let width = lookback;
      for (let i = 0; i < (this.options.layers ?? 2); i++) {
        p[`w${i}`] = glorot([width, d]);
        p[`b${i}`] = zeros([d]);
        width = d;
      }
    } else {
      p.wih = glorot([this.m, 3 * d]);
      p.bih = zeros([3 * d]);
      p.whh = glorot([d, 3 * d]);
      p.bhh = zeros([3 * d]);
    }
    // The output starts at zero, so an untrained core forecasts the smoothing's own level x
    // seasonality, and training starts from Holt-Winters rather than from noise.
    p.wout = zeros([d, H]);
    p.bout = zeros([H]);
    p.wskip = zeros([lookback, H]);
    return p;
  }

  /** Normalised inputs `[B, L]` to normalised log forecasts `[B, H]` (inside a tidy). */
  private forward(p: Params, x: tf.Tensor2D): tf.Tensor2D {
    let h: tf.Tensor2D;
    if ((this.options.core ?? 'mlp') === 'mlp') {
      h = x;
      for (let i = 0; p[`w${i}`]; i++) h = tf.relu(tf.add(tf.matMul(h, p[`w${i}`] as tf.Tensor2D), p[`b${i}`]!)) as tf.Tensor2D;
    } else {
      const [B, L] = x.shape;
      const segments = tf.reshape(x, [B, L / this.m, this.m]) as tf.Tensor3D;
      const xProj = tf.add(tf.matMul(tf.reshape(segments, [-1, this.m]), p.wih as tf.Tensor2D), p.bih!);
      const d = p.whh!.shape[0]!;
      h = gruEncode(tf.reshape(xProj, [B, L / this.m, 3 * d]) as tf.Tensor3D, p.whh as tf.Tensor2D, p.bhh as tf.Tensor1D).h;
    }
    return tf.add(tf.add(tf.matMul(h, p.wout as tf.Tensor2D), p.bout!), tf.matMul(x, p.wskip as tf.Tensor2D)) as tf.Tensor2D;
  }

  // ---- windows ------------------------------------------------------------------------------

  /**
   * Writes the window of series `s` at `origin` (inputs rows `[origin - L, origin)`) into `x`
   * at `row`: log of value / (seasonal factor x level at origin - 1); targets likewise with the
   * seasonal factors known at the origin.
   */
  private fillWindow(s: Prepared, origin: number, L: number, x: Float32Array, row: number, y?: Float32Array): void {
    const { sm } = s;
    const level = sm.level[origin - 1]!;
    for (let j = 0; j < L; j++) {
      const t = origin - L + j;
      x[row * L + j] = Math.log((s.y[t]! + sm.shift) / (seasonalFactor(sm, t) * level));
    }
    if (y) {
      const H = this.H;
      for (let h = 0; h < H; h++) {
        const t = origin + h;
        y[row * H + h] = Math.log((s.y[t]! + sm.shift) / (seasonalAt(sm, origin, t) * level));
      }
    }
  }

  /** One member's normalised log forecasts of the windows at `origins[i]` of `series[i]`, flattened `[i * H + h]`. */
  private predictWindows(member: Member, series: Prepared[], origins: number[]): Float32Array {
    const L = member.lookback;
    const H = this.H;
    const out = new Float32Array(series.length * H);
    const batch = 1024;
    for (let off = 0; off < series.length; off += batch) {
      const count = Math.min(batch, series.length - off);
      const x = new Float32Array(count * L);
      for (let k = 0; k < count; k++) this.fillWindow(series[off + k]!, origins[off + k]!, L, x, k);
      const pred = tf.tidy(() => this.forward(member.params, tf.tensor2d(x, [count, L])));
      out.set(pred.dataSync() as Float32Array, off * H);
      pred.dispose();
    }
    return out;
  }

  /** Median over members of the normalised log forecasts, mapped back to each series' units. */
  private forecastAt(series: Prepared[], origins: number[], horizon: number): Float64Array[] {
    const H = this.H;
    const perMember = this.members.map((m) => this.predictWindows(m, series, origins));
    const k = perMember.length;
    const buf = new Float64Array(k);
    return series.map((s, i) => {
      const out = new Float64Array(horizon);
      const level = s.sm.level[origins[i]! - 1]!;
      for (let h = 0; h < horizon; h++) {
        for (let j = 0; j < k; j++) buf[j] = perMember[j]![i * H + h]!;
        buf.sort();
        const med = k % 2 ? buf[(k - 1) / 2]! : (buf[k / 2 - 1]! + buf[k / 2]!) / 2;
        // Clamped in log space: a window far outside anything seen in training must not overflow.
        out[h] = Math.exp(Math.max(-20, Math.min(20, med))) * seasonalAt(s.sm, origins[i]!, origins[i]! + h) * level - s.sm.shift;
      }
      return out;
    });
  }

  // ---- fitting ------------------------------------------------------------------------------

  /** Smoothing of `y`: with the weights of `previous` (a fitted series' new history), else chosen for `y`. */
  private prepare(y: Float64Array, previous?: SeriesSmoothing): Prepared {
    if (previous) {
      const shift = Math.max(previous.shift, positiveShift(y));
      const second = this.m2 !== undefined ? { season: this.m2, gamma: previous.gamma2! } : undefined;
      return { y, sm: smoothSeries(y, this.m, previous.alpha, previous.gamma, shift, second) };
    }
    return { y, sm: fitSmoothing(y, this.m, positiveShift(y), this.m2) };
  }

  protected async fitPanel(panel: readonly PanelSeries[], holdout: number, options: GlobalFitOptions): Promise<Float64Array[] | undefined> {
    const full = panel.map((p) => p.series.values[0]!);
    const train = full.map((y) => this.prepare(Float64Array.from(y.subarray(0, y.length - holdout))));
    const H = this.H;
    const valOrigins = holdout ? train.map((s) => s.y.length) : [];
    // Validation windows: inputs from the training rows, targets from the held-out rows.
    const valSeries: Prepared[] = holdout ? train.map((s, i) => ({ y: Float64Array.from(full[i]!), sm: s.sm })) : [];
    const report: EsHybridReport = { members: [], windows: 0 };
    this.members = [];
    for (const lookback of this.lookbacks) {
      for (const seed of this.seeds) {
        const ts = performance.now();
        const member = await this.trainMember(train, lookback, seed, valSeries, valOrigins, options, report);
        this.members.push(member);
        report.members.push({ lookback, seed, epochs: member.epochs, bestEpoch: member.bestEpoch, ...(member.bestValLoss !== undefined ? { bestValLoss: member.bestValLoss } : {}), seconds: (performance.now() - ts) / 1000 });
      }
    }
    this.report = report;
    const held = holdout ? this.forecastAt(valSeries, valOrigins, H) : undefined;
    // Forecasting starts from the end of every series: smoothing state over all rows, same weights.
    this.prepared = full.map((y, i) => this.prepare(Float64Array.from(y), train[i]!.sm));
    return held;
  }

  private async trainMember(train: Prepared[], lookback: number, seed: number, valSeries: Prepared[], valOrigins: number[], options: GlobalFitOptions, report: EsHybridReport): Promise<Member> {
    let rng = new SeededRandom(seed);
    const params = this.buildParams(lookback, rng);
    const member: Member = { lookback, seed, params, bestEpoch: 0, epochs: 0 };
    const L = lookback;
    const H = this.H;
    // Every (series, origin) with a full look-back after the first season and a full horizon.
    const pairs: number[] = [];
    train.forEach((s, i) => {
      for (let o = this.warmup + L; o + H <= s.y.length; o++) pairs.push(i, o);
    });
    const nPairs = pairs.length / 2;
    if (nPairs === 0) throw new ForecastInputError(`${this.name}: no training windows (series need ${this.capabilities.minSeriesLength} rows before the held-out ${H})`);
    report.windows = nPairs;
    const perEpoch = Math.min(nPairs, this.options.windowsPerEpoch ?? 8192);
    const optimizer = tf.train.adam(this.options.learningRate ?? 1e-3);
    const vars = Object.values(params);
    const lossOf = (x: Float32Array, y: Float32Array, count: number) => tf.mean(tf.abs(tf.sub(this.forward(params, tf.tensor2d(x, [count, L])), tf.tensor2d(y, [count, H])))) as tf.Scalar;
    const validate = valSeries.length
      ? () => {
          const x = new Float32Array(valSeries.length * L);
          const y = new Float32Array(valSeries.length * H);
          valSeries.forEach((s, i) => this.fillWindow(s, valOrigins[i]!, L, x, i, y));
          const loss = tf.tidy(() => lossOf(x, y, valSeries.length));
          const v = loss.dataSync()[0]!;
          loss.dispose();
          return v;
        }
      : undefined;
    // The stream is read at every epoch: a resume replaces it before training starts.
    const loop = this.memberLoop(train, pairs, perEpoch, L, params, optimizer, lossOf, validate, () => rng);
    const index = this.members.length;
    // Each member its own folder: a retry restores the members already trained and continues the one cut short.
    const checkpoint = options.checkpoint
      ? new LoopCheckpoint({ dir: path.join(options.checkpoint.dir, `member-${index}`), everySeconds: options.checkpoint.everySeconds ?? 0, variables: () => params, optimizer, extra: () => ({ rng: rng.state() }) })
      : undefined;
    try {
      const resumed = options.checkpoint?.resume ? await checkpoint!.restore() : undefined;
      if (resumed) {
        rng = SeededRandom.fromState((resumed.state.extra as { rng: SeededRandomState }).rng);
        member.epochs = resumed.state.epoch;
      }
      // The untrained core's validation loss is the baseline to beat; a resumed member carries its best over.
      const baseline = resumed ? undefined : validate?.();
      const stopping = validate ? new EarlyStopping({ patience: this.options.patience ?? 5, ...(baseline !== undefined ? { baseline } : {}) }) : undefined;
      if (stopping) await checkpoint?.track(stopping, resumed);
      const callbacks: Callback[] = [
        new LearningRateScheduler((epoch, lr) => (epoch === 0 ? lr : lr * (this.options.lrDecay ?? 0.95))),
        { onEpochEnd: (l) => void (member.epochs = l.epoch + 1) },
        ...(stopping ? [stopping] : []),
        // Checkpointed before it is announced: an epoch a caller saw is one a resume continues after.
        ...(checkpoint ? [checkpoint] : []),
        this.memberAnnouncer(index, L, seed, options),
        ...(this.options.timeBudgetSeconds !== undefined ? [new TimeBudget(this.options.timeBudgetSeconds)] : []),
      ];
      const result = await fit(loop, { epochs: this.options.epochs ?? 40, monitor: validate ? 'val_loss' : 'loss', callbacks, signal: options.signal, what: `${this.name} training`, ...resumed?.fit });
      member.bestEpoch = validate ? result.bestEpoch + 1 : member.epochs;
      if (validate) member.bestValLoss = result.bestValue;
    } catch (err) {
      for (const v of vars) v.dispose();
      throw err;
    } finally {
      checkpoint?.dispose();
      optimizer.dispose();
    }
    return member;
  }

  /** The batches of (series, origin) windows, Adam steps, validation and weight access `fit` drives for one member. */
  private memberLoop(
    train: Prepared[],
    pairs: number[],
    perEpoch: number,
    L: number,
    params: Params,
    optimizer: tf.Optimizer,
    lossOf: (x: Float32Array, y: Float32Array, count: number) => tf.Scalar,
    validate: (() => number) | undefined,
    rng: () => SeededRandom,
  ): TrainingLoop<{ x: Float32Array; y: Float32Array; count: number }> {
    const H = this.H;
    const batchSize = this.options.batchSize ?? 256;
    const vars = Object.values(params);
    const fillWindow = this.fillWindow.bind(this);
    return {
      *batches() {
        const order = rng().permutation(pairs.length / 2);
        for (let off = 0; off < perEpoch; off += batchSize) {
          const count = Math.min(batchSize, perEpoch - off);
          const x = new Float32Array(count * L);
          const y = new Float32Array(count * H);
          for (let k = 0; k < count; k++) {
            const j = order[off + k]!;
            fillWindow(train[pairs[2 * j]!]!, pairs[2 * j + 1]!, L, x, k, y);
          }
          yield { x, y, count };
        }
      },
      batchesPerEpoch: Math.ceil(perEpoch / batchSize),
      trainBatch: ({ x, y, count }) => {
        const loss = optimizer.minimize(() => lossOf(x, y, count), true, vars)!;
        const value = loss.dataSync()[0]!;
        loss.dispose();
        return { loss: value, weight: count };
      },
      validate: validate ? () => ({ val_loss: validate() }) : undefined,
      weights: {
        get: () => vars.map((v) => v.clone()),
        set: (weights) => vars.forEach((v, i) => v.assign(weights[i]!)),
      },
      optimizer: optimizer as unknown as { learningRate: number },
    };
  }

  /** Tells `onEpoch` (and, when verbose, stderr) about a member's epoch. */
  private memberAnnouncer(index: number, lookback: number, seed: number, options: GlobalFitOptions): Callback {
    return {
      onEpochEnd: (l) => {
        const log = { epoch: l.epoch + 1, trainLoss: l.loss, seconds: l.seconds, member: index, ...(typeof l.val_loss === 'number' ? { valLoss: l.val_loss } : {}) };
        options.onEpoch?.(log);
        if (this.options.verbose) {
          process.stderr.write(`${this.name} member ${index} (L ${lookback}, seed ${seed}) epoch ${log.epoch}: train ${l.loss.toFixed(4)}${log.valLoss !== undefined ? ` val ${log.valLoss.toFixed(4)}` : ''} (${l.seconds.toFixed(1)} s)\n`);
        }
      },
    };
  }

  // ---- forecasting --------------------------------------------------------------------------

  protected async forecastPanel(horizon: number, panel?: readonly PanelSeries[]): Promise<Float64Array[]> {
    if (this.members.length === 0) throw new ForecastInputError(`${this.name}: the model has no weights (fit or load it first)`);
    let series = this.prepared;
    if (panel) {
      const index = new Map(this.fittedIds.map((id, i) => [id, i]));
      // A fitted series keeps its smoothing weights over its new history; a series the model
      // never saw gets weights chosen on its own history, and the shared core as it is.
      series = panel.map((p) => {
        const i = index.get(p.id);
        return this.prepare(Float64Array.from(p.series.values[0]!), i === undefined ? undefined : this.prepared[i]!.sm);
      });
    }
    return this.forecastAt(series, series.map((s) => s.y.length), horizon);
  }

  // ---- saving -------------------------------------------------------------------------------

  /** Rows of each series kept with a saved model: the longest look-back (the smoothing state covers the rest). */
  private keptRows(): number {
    return Math.max(...this.lookbacks);
  }

  protected getState(): Record<string, unknown> {
    const keep = this.keptRows();
    return {
      report: this.report,
      members: this.members.map((m) => ({ lookback: m.lookback, seed: m.seed, bestEpoch: m.bestEpoch, epochs: m.epochs, bestValLoss: m.bestValLoss })),
      series: this.prepared.map((s) => {
        const n = s.y.length;
        return {
          rows: n,
          tail: Array.from(s.y.subarray(n - keep)),
          level: Array.from(s.sm.level.subarray(n - keep)),
          seasonal: Array.from(s.sm.seasonal.subarray(n - keep)),
          ...(s.sm.seasonal2 ? { seasonal2: Array.from(s.sm.seasonal2.subarray(n - keep)), gamma2: s.sm.gamma2 } : {}),
          alpha: s.sm.alpha,
          gamma: s.sm.gamma,
          shift: s.sm.shift,
        };
      }),
    };
  }

  protected setState(state: Record<string, unknown>): void {
    this.report = state.report as EsHybridReport | undefined;
    const keep = this.keptRows();
    // The kept tail is re-indexed from 0: windows and seasonal factors only look back `keep` rows.
    this.prepared = (state.series as Array<{ tail: number[]; level: number[]; seasonal: number[]; seasonal2?: number[]; gamma2?: number; alpha: number; gamma: number; shift: number }>).map((s) => {
      if (s.tail.length !== keep || s.seasonal.length !== keep + this.m) throw new ForecastInputError(`${this.name}: saved series state has ${s.tail.length} rows; expected ${keep}`);
      if (this.m2 !== undefined && (s.seasonal2?.length !== keep + this.m2 || typeof s.gamma2 !== 'number')) {
        throw new ForecastInputError(`${this.name}: saved series state lacks the second seasonality (${this.m2}) its options name`);
      }
      return {
        y: Float64Array.from(s.tail),
        sm: {
          alpha: s.alpha,
          gamma: s.gamma,
          season: this.m,
          ...(this.m2 !== undefined ? { season2: this.m2, gamma2: s.gamma2!, seasonal2: Float64Array.from(s.seasonal2!) } : {}),
          shift: s.shift,
          level: Float64Array.from(s.level),
          seasonal: Float64Array.from(s.seasonal),
          loss: Number.NaN,
        },
      };
    });
    this.members = (state.members as Array<Omit<Member, 'params'>>).map((m) => ({ ...m, params: {} }));
  }

  protected override async saveExtra(dir: string): Promise<void> {
    const named = this.members.flatMap((m, k) => Object.entries(m.params).map(([name, tensor]) => ({ name: `m${k}/${name}`, tensor })));
    const { data, specs } = await tf.io.encodeWeights(named);
    const handler = fileSystem(dir);
    if (!handler.save) throw new ForecastInputError(`cannot save weights to ${dir}`);
    await handler.save({ modelTopology: { seqlab: 'forecaster-weights', model: this.name }, format: 'seqlab-forecast', generatedBy: 'seqlab', weightSpecs: specs, weightData: data });
  }

  protected override async loadExtra(dir: string): Promise<void> {
    const handler = fileSystem(dir);
    if (!handler.load) throw new ForecastInputError(`cannot load weights from ${dir}`);
    const artifacts = await handler.load();
    const decoded = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
    try {
      this.members = this.members.map((m, k) => {
        const params = this.buildParams(m.lookback, new SeededRandom(m.seed));
        for (const [name, v] of Object.entries(params)) {
          const t = decoded[`m${k}/${name}`];
          if (!t || t.shape.join(',') !== v.shape.join(',')) {
            for (const p of Object.values(params)) p.dispose();
            throw new ForecastInputError(`${this.name}: saved weights in ${dir} lack "m${k}/${name}" of shape [${v.shape}]`);
          }
          v.assign(t as tf.Tensor);
        }
        return { ...m, params };
      });
    } finally {
      for (const t of Object.values(decoded)) t.dispose();
    }
  }
}
