import * as tf from '@tensorflow/tfjs-core';
import { ForecastInputError, positiveInt } from '../errors.js';
import type { TimeSeries } from '../data/series.js';
import { LinearForecaster } from '../models/linear.js';
import { addBias, gruCombineShared, gruEncode } from './cells.js';
import { NeuralForecaster, type NeuralOptions } from './base.js';

/** Options of {@link SegRnnForecaster}. */
export interface SegRnnOptions extends NeuralOptions {
  /** Segment length w; the look-back is cut into L / w segments. Default 24. */
  segmentLength?: number;
  /** GRU width d (even). Default 128. */
  hidden?: number;
  /** Dropout on the decoder states during training. Default 0.1. */
  dropout?: number;
  /**
   * Add a linear map from the look-back straight to the forecast, initialised with the
   * closed-form ridge solution (the `linear` model) and kept fixed, so the GRU learns what the
   * linear model misses (a highway like LSTNet's autoregressive component). Default false.
   */
  linearSkip?: boolean;
  /**
   * Initial weights. `'glorot'` (default): Glorot-uniform value embedding and output layer with
   * zero biases, position and column embeddings U(-1, 1). `'torch'`: PyTorch's defaults as in the
   * SegRNN repository: both linear layers' weights and biases U(+-1/sqrt(fan_in)), embeddings
   * N(0, 1). The GRU is U(+-1/sqrt(d)) in both.
   */
  init?: 'glorot' | 'torch';
}

/**
 * SegRNN (Lin et al. 2023): the look-back is cut into segments of `w` steps, each embedded by a
 * linear layer and fed to one GRU, so the encoder runs L / w steps instead of L. The decoder
 * runs the same GRU cell once per output segment, all segments in parallel: its input is a
 * learned position embedding concatenated with a column embedding, its state the encoder's
 * final state, and a linear layer maps each resulting state to `w` values. Channel-independent.
 */
export class SegRnnForecaster extends NeuralForecaster<SegRnnOptions> {
  readonly name = 'segrnn';
  readonly segmentLength: number;
  readonly hidden: number;

  constructor(options: SegRnnOptions = {}) {
    super(options);
    this.segmentLength = positiveInt(options.segmentLength ?? 24, 'segmentLength');
    this.hidden = positiveInt(options.hidden ?? 128, 'hidden');
    if (this.lookback % this.segmentLength !== 0) {
      throw new ForecastInputError(`segrnn: lookback ${this.lookback} must be a multiple of segmentLength ${this.segmentLength}`);
    }
    if (this.hidden % 2 !== 0) throw new ForecastInputError(`segrnn: hidden must be even, got ${this.hidden}`);
    if (options.dropout !== undefined && !(options.dropout >= 0 && options.dropout < 1)) throw new ForecastInputError(`segrnn: dropout must be in [0, 1), got ${options.dropout}`);
    if (options.init !== undefined && options.init !== 'glorot' && options.init !== 'torch') throw new ForecastInputError(`segrnn: init must be 'glorot' or 'torch', got "${String(options.init)}"`);
    if (options.linearSkip && (options.normalization ?? 'last') !== 'last') throw new ForecastInputError("segrnn: linearSkip needs normalization 'last'");
  }

  private get outSegments(): number {
    return Math.ceil(this.horizon / this.segmentLength);
  }

  protected buildParams(channels: number): Record<string, tf.Variable> {
    const w = this.segmentLength;
    const d = this.hidden;
    const m = this.outSegments;
    const lim = 1 / Math.sqrt(d);
    const torch = this.options.init === 'torch';
    // Variables are drawn in this order (the seeded generator's sequence) whatever the init.
    const p: Record<string, tf.Variable> = {
      embW: torch ? this.uniform([w, d], 1 / Math.sqrt(w)) : this.glorot([w, d]),
      embB: torch ? this.uniform([d], 1 / Math.sqrt(w)) : this.zeros([d]),
      wih: this.uniform([d, 3 * d], lim),
      bih: this.uniform([3 * d], lim),
      whh: this.uniform([d, 3 * d], lim),
      bhh: this.uniform([3 * d], lim),
      pos: torch ? this.normal([m, d / 2]) : this.uniform([m, d / 2], 1),
      chan: torch ? this.normal([channels, d / 2]) : this.uniform([channels, d / 2], 1),
      outW: this.options.linearSkip ? this.zeros([d, w]) : torch ? this.uniform([d, w], lim) : this.glorot([d, w]),
      outB: torch && !this.options.linearSkip ? this.uniform([w], lim) : this.zeros([w]),
    };
    if (this.options.linearSkip) {
      // Frozen: the GRU learns the ridge model's residual. (Training these too crashed the wasm
      // backend with "memory access out of bounds" in tfjs 4.22; frozen they cost no gradient.)
      p.skipW = this.zeros([this.lookback, this.horizon], false);
      p.skipB = this.zeros([this.horizon], false);
    }
    return p;
  }

  private highway: LinearForecaster | undefined;

  /**
   * Uses an already fitted ridge model (`linear`, same lookback and horizon, fitted on the same
   * scaled data) as the highway at the next `fit`, instead of fitting one again.
   */
  useLinear(model: LinearForecaster): this {
    if (model.lookback !== this.lookback || model.horizon !== this.horizon || !model.fitted) {
      throw new ForecastInputError(`segrnn.useLinear: needs a fitted linear model with lookback ${this.lookback} and horizon ${this.horizon}`);
    }
    this.highway = model;
    return this;
  }

  protected override async initialize(train: TimeSeries, validation: TimeSeries | undefined): Promise<void> {
    if (!this.options.linearSkip) return;
    // The ridge solution, fitted on the same (already scaled) windows, starts the highway.
    let ridge = this.highway;
    if (!ridge) {
      ridge = new LinearForecaster({ lookback: this.lookback, horizon: this.horizon, scaler: 'none' });
      await ridge.fit(train, { validation, calibration: false });
    }
    const weights = ridge.linearWeights();
    const L = this.lookback;
    const H = this.horizon;
    tf.tidy(() => {
      this.params.skipW!.assign(tf.tensor2d(weights.slice(0, L * H), [L, H]));
      this.params.skipB!.assign(tf.tensor1d(weights.slice(L * H)));
    });
  }

  protected forward(x: tf.Tensor2D, channel: tf.Tensor1D, training: boolean): tf.Tensor2D {
    const p = this.params as Record<string, tf.Tensor>;
    const B = x.shape[0];
    const w = this.segmentLength;
    const n = this.lookback / w;
    const d = this.hidden;
    const m = this.outSegments;
    const segs = tf.reshape(x, [B * n, w]);
    const emb = tf.relu(addBias(tf.matMul(segs, p.embW as tf.Tensor2D), p.embB!));
    const xProj = tf.reshape(addBias(tf.matMul(emb as tf.Tensor2D, p.wih as tf.Tensor2D), p.bih!), [B, n, 3 * d]);
    const { h } = gruEncode(xProj as tf.Tensor3D, p.whh as tf.Tensor2D, p.bhh as tf.Tensor1D);
    // Decoder inputs depend only on (column, segment): project the C x m table once, split it by
    // gate while it is small, and pick each row's column with a one-hot product (on wasm a
    // gather of the [B, m, 3d] result, and its scatter-add gradient, cost far more).
    const C = p.chan!.shape[0]!;
    const table = tf.concat([tf.tile(tf.expandDims(p.pos!, 0), [C, 1, 1]), tf.tile(tf.expandDims(p.chan!, 1), [1, m, 1])], 2);
    const tableProj = addBias(tf.matMul(tf.reshape(table, [C * m, d]), p.wih as tf.Tensor2D), p.bih!);
    // tf.oneHot needs a depth of 2 or more; a single column picks its only row.
    const pick = (C === 1 ? tf.ones([B, 1]) : tf.cast(tf.oneHot(channel, C), 'float32')) as tf.Tensor2D;
    const [xr, xz, xn] = tf.split(tf.reshape(tableProj, [C, m, 3 * d]), 3, 2).map((g) => tf.reshape(tf.matMul(pick, tf.reshape(g, [C, m * d])), [B, m, d]) as tf.Tensor3D);
    const [hr, hz, hn] = tf.split(addBias(tf.matMul(h, p.whh as tf.Tensor2D), p.bhh!), 3, 1) as tf.Tensor2D[];
    let dec = gruCombineShared([xr!, xz!, xn!], [hr!, hz!, hn!], h);
    const rate = this.options.dropout ?? 0.1;
    if (training && rate > 0) dec = tf.dropout(dec, rate, undefined, this.rng.int(2 ** 31)) as tf.Tensor3D;
    const out = addBias(tf.matMul(tf.reshape(dec, [B * m, d]), p.outW as tf.Tensor2D), p.outB!);
    let y = tf.reshape(out, [B, m * w]) as tf.Tensor2D;
    if (m * w !== this.horizon) y = tf.slice(y, [0, 0], [B, this.horizon]);
    if (p.skipW) y = tf.add(y, tf.add(tf.matMul(x, p.skipW as tf.Tensor2D), p.skipB!));
    return y;
  }

  clone(): SegRnnForecaster {
    return new SegRnnForecaster(this.options);
  }
}
