import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { attentionOutputMask, attentionOutputShape, type Shape } from './masking.js';

/** Arguments every query/value attention layer takes. */
export interface QueryValueAttentionArgs {
  /** Also output the attention weights `[batch, Tq, Tv]`. Default false. */
  returnAttentionWeights?: boolean;
  name?: string;
  trainable?: boolean;
}

/**
 * The base of the attention layers with inputs `[query, value]` or `[query, value, key]`: their
 * output `[batch, Tq, dv]` (plus the weights when asked) and its mask, the query's, are the same
 * whatever the scoring.
 */
export abstract class QueryValueAttention extends tfl.layers.Layer {
  readonly returnAttentionWeights: boolean;

  constructor(args: QueryValueAttentionArgs) {
    super(args);
    this.returnAttentionWeights = args.returnAttentionWeights ?? false;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return attentionOutputShape(inputShape, this.returnAttentionWeights);
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return attentionOutputMask(mask, this.returnAttentionWeights);
  }
}
