import * as tf from '@tensorflow/tfjs-core';
import { QueryValueAttention, type QueryValueAttentionArgs } from './query-value-attention.js';

/** Arguments of {@link DotProductAttention}. */
export interface DotProductAttentionArgs extends QueryValueAttentionArgs {
  /** Divide scores by sqrt(key size) (Vaswani et al. 2017). Default true; false is Luong's "dot". */
  scaled?: boolean;
}

/**
 * Dot-product (Luong et al. 2015) attention, scaled by default. Inputs `[query, value]` or
 * `[query, value, key]` with equal query and key sizes; output `[batch, Tq, dv]`. Padded value
 * positions get weight 0; the query mask passes through. Has no weights of its own.
 */
export class DotProductAttention extends QueryValueAttention {
  static className = 'SeqlabDotProductAttention';
  readonly scaled: boolean;

  constructor(args: DotProductAttentionArgs = {}) {
    super(args, 'DotProductAttention');
    this.scaled = args.scaled ?? true;
  }

  protected override scores(q: tf.Tensor, k: tf.Tensor): tf.Tensor {
    const scores = tf.matMul(q, k, false, true);
    return this.scaled ? tf.div(scores, Math.sqrt(k.shape[k.shape.length - 1]!)) : scores;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scaled: this.scaled, returnAttentionWeights: this.returnAttentionWeights };
  }
}
tf.serialization.registerClass(DotProductAttention);

/** Creates a {@link DotProductAttention} layer. */
export function dotProductAttention(args: DotProductAttentionArgs = {}): DotProductAttention {
  return new DotProductAttention(args);
}
