import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { attendToValues, attentionOutputMask, attentionOutputShape, type Kwargs, type Shape } from './masking.js';

/** Arguments of {@link DotProductAttention}. */
export interface DotProductAttentionArgs {
  /** Divide scores by sqrt(key size) (Vaswani et al. 2017). Default true; false is Luong's "dot". */
  scaled?: boolean;
  /** Also output the attention weights `[batch, Tq, Tv]`. Default false. */
  returnAttentionWeights?: boolean;
  name?: string;
  trainable?: boolean;
}

/**
 * Dot-product (Luong et al. 2015) attention, scaled by default. Inputs `[query, value]` or
 * `[query, value, key]` with equal query and key sizes; output `[batch, Tq, dv]`. Padded value
 * positions get weight 0; the query mask passes through. Has no weights of its own.
 */
export class DotProductAttention extends tfl.layers.Layer {
  static className = 'SeqlabDotProductAttention';
  readonly scaled: boolean;
  readonly returnAttentionWeights: boolean;

  constructor(args: DotProductAttentionArgs = {}) {
    super(args);
    this.scaled = args.scaled ?? true;
    this.returnAttentionWeights = args.returnAttentionWeights ?? false;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return attentionOutputShape(inputShape, this.returnAttentionWeights);
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return attentionOutputMask(mask, this.returnAttentionWeights);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length < 2) throw new Error('DotProductAttention: expects inputs [query, value] or [query, value, key]');
      const [q, v, k0] = inputs;
      const k = k0 ?? v!;
      let scores = tf.matMul(q!, k, false, true);
      if (this.scaled) scores = tf.div(scores, Math.sqrt(k.shape[k.shape.length - 1]!));
      return attendToValues(scores, v!, kwargs.mask, this.returnAttentionWeights);
    });
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
