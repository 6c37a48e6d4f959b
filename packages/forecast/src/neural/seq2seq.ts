import * as tf from '@tensorflow/tfjs-core';
import { ForecastInputError, positiveInt } from '../errors.js';
import { gruEncode, gruStep, lstmEncode, lstmStep } from './cells.js';
import { NeuralForecaster, type NeuralOptions } from './base.js';

/** Options of {@link Seq2SeqForecaster}. */
export interface Seq2SeqOptions extends NeuralOptions {
  /** Recurrent cell. Default `'gru'`. */
  cell?: 'gru' | 'lstm';
  /** Units per direction. Default 32. */
  hidden?: number;
  /** Read the look-back in both directions. Default false. */
  bidirectional?: boolean;
  /** Luong attention over the encoder states at every decoder step. Default true. */
  attention?: boolean;
}

interface State {
  h: tf.Tensor2D;
  c?: tf.Tensor2D;
}

/**
 * Recurrent encoder-decoder: an LSTM or GRU (optionally bidirectional) reads the look-back one
 * step at a time; a decoder cell of the same kind then emits the forecast one step at a time,
 * feeding back its own previous output (also while training, so training and inference see the
 * same inputs), attending to the encoder states with Luong's general score.
 */
export class Seq2SeqForecaster extends NeuralForecaster<Seq2SeqOptions> {
  readonly name = 'seq2seq';
  readonly hidden: number;
  readonly cell: 'gru' | 'lstm';

  constructor(options: Seq2SeqOptions = {}) {
    super({ lookback: 48, ...options });
    this.hidden = positiveInt(options.hidden ?? 32, 'hidden');
    this.cell = options.cell ?? 'gru';
    if (this.cell !== 'gru' && this.cell !== 'lstm') throw new ForecastInputError(`seq2seq: cell must be 'gru' or 'lstm', got "${String(options.cell)}"`);
  }

  private get gates(): number {
    return this.cell === 'gru' ? 3 : 4;
  }

  private cellParams(prefix: string, inputDim: number, d: number): Record<string, tf.Variable> {
    const g = this.gates;
    const lim = 1 / Math.sqrt(d);
    const p: Record<string, tf.Variable> = {
      [`${prefix}Wx`]: this.uniform([inputDim, g * d], lim),
      [`${prefix}Wh`]: this.uniform([d, g * d], lim),
      [`${prefix}B`]: this.uniform([g * d], lim),
    };
    if (this.cell === 'gru') p[`${prefix}Bh`] = this.uniform([g * d], lim);
    return p;
  }

  protected buildParams(): Record<string, tf.Variable> {
    const d = this.hidden;
    const enc = this.options.bidirectional ? 2 * d : d;
    return {
      ...this.cellParams('f', 1, d),
      ...(this.options.bidirectional ? this.cellParams('b', 1, d) : {}),
      ...this.cellParams('dec', 1, d),
      bridgeW: this.glorot([enc, d]),
      bridgeB: this.zeros([d]),
      attW: this.glorot([d, enc]),
      outW: this.glorot([this.options.attention === false ? d : d + enc, 1]),
      outB: this.zeros([1]),
    };
  }

  private step(prefix: string, xProj: tf.Tensor2D, s: State): State {
    const p = this.params as Record<string, tf.Tensor>;
    if (this.cell === 'gru') return { h: gruStep(xProj, s.h, p[`${prefix}Wh`] as tf.Tensor2D, p[`${prefix}Bh`] as tf.Tensor1D) };
    const [h, c] = lstmStep(xProj, s.h, s.c!, p[`${prefix}Wh`] as tf.Tensor2D, p[`${prefix}B`] as tf.Tensor1D);
    return { h, c };
  }

  private project(prefix: string, x: tf.Tensor2D): tf.Tensor2D {
    const p = this.params as Record<string, tf.Tensor>;
    const proj = tf.matMul(x, p[`${prefix}Wx`] as tf.Tensor2D);
    // The GRU keeps its input bias here and its recurrent bias inside the cell; the LSTM adds its one bias in the cell.
    return (this.cell === 'gru' ? tf.add(proj, p[`${prefix}B`]!) : proj) as tf.Tensor2D;
  }

  private encode(prefix: string, x: tf.Tensor2D, reverse: boolean): { states: tf.Tensor3D; last: State } {
    const [B, L] = x.shape;
    const d = this.hidden;
    // All input projections in one matmul: [B*L, 1] x [1, g*d].
    const proj = tf.reshape(this.project(prefix, tf.reshape(x, [B * L, 1])), [B, L, this.gates * d]);
    const p = this.params as Record<string, tf.Tensor>;
    // The whole sequence in one kernel call (or one op chain per step, see setEncoderImplementation).
    const input = (reverse ? tf.reverse(proj, 1) : proj) as tf.Tensor3D;
    const run =
      this.cell === 'gru'
        ? gruEncode(input, p[`${prefix}Wh`] as tf.Tensor2D, p[`${prefix}Bh`] as tf.Tensor1D)
        : lstmEncode(input, p[`${prefix}Wh`] as tf.Tensor2D, p[`${prefix}B`] as tf.Tensor1D);
    const sequence = reverse ? tf.reverse(run.sequence, 1) : run.sequence;
    const last: State = { h: run.h, c: 'c' in run ? (run.c as tf.Tensor2D) : undefined };
    return { states: sequence as tf.Tensor3D, last };
  }

  protected forward(x: tf.Tensor2D): tf.Tensor2D {
    const p = this.params as Record<string, tf.Tensor>;
    const [B, L] = x.shape;
    const fwd = this.encode('f', x, false);
    let encStates = fwd.states;
    let summary = fwd.last.h;
    let cell = fwd.last.c;
    if (this.options.bidirectional) {
      const bwd = this.encode('b', x, true);
      encStates = tf.concat([encStates, bwd.states], 2);
      summary = tf.concat([fwd.last.h, bwd.last.h], 1);
      if (cell) cell = tf.add(cell, bwd.last.c!) as tf.Tensor2D;
    }
    let s: State = { h: tf.tanh(tf.add(tf.matMul(summary, p.bridgeW as tf.Tensor2D), p.bridgeB!)) as tf.Tensor2D, c: cell };
    // Attention keys: encoder states are fixed during decoding.
    const useAttention = this.options.attention !== false;
    let prev = tf.slice(x, [0, L - 1], [B, 1]) as tf.Tensor2D;
    const outs: tf.Tensor2D[] = [];
    for (let h = 0; h < this.horizon; h++) {
      s = this.step('dec', this.project('dec', prev), s);
      let features: tf.Tensor2D = s.h;
      if (useAttention) {
        const query = tf.matMul(s.h, p.attW as tf.Tensor2D); // [B, enc]
        const scores = tf.squeeze(tf.matMul(encStates, tf.expandDims(query, 2)), [2]); // [B, L]
        const weights = tf.softmax(scores);
        const context = tf.squeeze(tf.matMul(tf.expandDims(weights, 1), encStates), [1]) as tf.Tensor2D;
        features = tf.concat([s.h, context], 1);
      }
      // Predict the change from the previous step, which keeps early training stable.
      const y = tf.add(prev, tf.add(tf.matMul(features, p.outW as tf.Tensor2D), p.outB!)) as tf.Tensor2D;
      outs.push(y);
      prev = y;
    }
    return tf.concat(outs, 1);
  }

  clone(): Seq2SeqForecaster {
    return new Seq2SeqForecaster(this.options);
  }
}
