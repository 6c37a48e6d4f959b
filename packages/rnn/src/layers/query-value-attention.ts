import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { attendToValues, attentionOutputMask, attentionOutputShape, type Kwargs, type Shape } from './masking.js';

/** Arguments every query/value attention layer takes. */
export interface QueryValueAttentionArgs {
  /** Also output the attention weights `[batch, Tq, Tv]`. Default false. */
  returnAttentionWeights?: boolean;
  name?: string;
  trainable?: boolean;
}

/**
 * The base of the attention layers with inputs `[query, value]` or `[query, value, key]`: they
 * differ only in how a query scores a key, so the softmax over the unpadded values, the output
 * `[batch, Tq, dv]` (plus the weights when asked) and its mask, the query's, live here.
 */
export abstract class QueryValueAttention extends tfl.layers.Layer {
  readonly returnAttentionWeights: boolean;

  /** `layerName` names the layer in error messages. */
  constructor(
    args: QueryValueAttentionArgs,
    private readonly layerName: string,
  ) {
    super(args);
    this.returnAttentionWeights = args.returnAttentionWeights ?? false;
    this.supportsMasking = true;
  }

  /** Scores `[batch, Tq, Tv]` of every query against every key (call inside a tidy). */
  protected abstract scores(query: tf.Tensor, key: tf.Tensor): tf.Tensor;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length < 2) throw new Error(`${this.layerName}: expects inputs [query, value] or [query, value, key]`);
      const [q, v, k] = inputs;
      return attendToValues(this.scores(q!, k ?? v!), v!, kwargs.mask, this.returnAttentionWeights);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return attentionOutputShape(inputShape, this.returnAttentionWeights);
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return attentionOutputMask(mask, this.returnAttentionWeights);
  }
}
