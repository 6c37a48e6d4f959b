import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { positiveInt } from '../errors.js';
import type { Shape } from './masking.js';
import { QueryValueAttention, type QueryValueAttentionArgs } from './query-value-attention.js';

/** Arguments of {@link AdditiveAttention}. */
export interface AdditiveAttentionArgs extends QueryValueAttentionArgs {
  /** Size of the scoring MLP. Default 64. */
  units?: number;
}

/**
 * Additive (Bahdanau et al. 2015) attention. Inputs `[query, value]` or `[query, value, key]`
 * (`[batch, Tq, dq]`, `[batch, Tv, dv]`, key defaults to value); score
 * `v . tanh(Wq q_i + Wk k_j + b)`; output `[batch, Tq, dv]`. The value mask zeroes the weight
 * of padded value positions; the query mask is passed through to the output.
 */
export class AdditiveAttention extends QueryValueAttention {
  static className = 'SeqlabAdditiveAttention';
  readonly units: number;
  private wq!: tfl.LayerVariable;
  private wk!: tfl.LayerVariable;
  private bias!: tfl.LayerVariable;
  private v!: tfl.LayerVariable;

  constructor(args: AdditiveAttentionArgs = {}) {
    super(args, 'AdditiveAttention');
    this.units = positiveInt('AdditiveAttention: units', args.units ?? 64);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shapes = inputShape as Shape[];
    if (!Array.isArray(shapes[0]) || shapes.length < 2) throw new Error('AdditiveAttention: expects inputs [query, value] or [query, value, key]');
    const dq = shapes[0][shapes[0].length - 1] as number;
    const key = shapes[2] ?? shapes[1]!;
    const dk = key[key.length - 1] as number;
    this.wq = this.addWeight('query_kernel', [dq, this.units], 'float32', tfl.initializers.glorotUniform({}));
    this.wk = this.addWeight('key_kernel', [dk, this.units], 'float32', tfl.initializers.glorotUniform({}));
    this.bias = this.addWeight('bias', [this.units], 'float32', tfl.initializers.zeros());
    this.v = this.addWeight('score_vector', [this.units], 'float32', tfl.initializers.glorotUniform({}));
    this.built = true;
  }

  protected override scores(q: tf.Tensor, k: tf.Tensor): tf.Tensor {
    const [b, tq, dq] = q.shape as [number, number, number];
    const [, tv, dk] = k.shape as [number, number, number];
    const qp = tf.reshape(tf.matMul(tf.reshape(q, [b * tq, dq]), this.wq.read()), [b, tq, 1, this.units]);
    const kp = tf.reshape(tf.matMul(tf.reshape(k, [b * tv, dk]), this.wk.read()), [b, 1, tv, this.units]);
    const hidden = tf.tanh(tf.add(tf.add(qp, kp), this.bias.read()));
    return tf.sum(tf.mul(hidden, this.v.read()), -1);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, returnAttentionWeights: this.returnAttentionWeights };
  }
}
tf.serialization.registerClass(AdditiveAttention);

/** Creates an {@link AdditiveAttention} layer. */
export function additiveAttention(args: AdditiveAttentionArgs = {}): AdditiveAttention {
  return new AdditiveAttention(args);
}
