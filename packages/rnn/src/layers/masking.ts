import * as tf from '@tensorflow/tfjs-core';

/** Large negative score for masked positions: exp() of it underflows to exactly 0 in float32. */
export const MASK_PENALTY = -1e9;

/**
 * Softmax over the last axis where `mask` (broadcastable, 1 = keep, 0 = padding) gives padded
 * positions exactly zero weight. A row with nothing to attend to gets all-zero weights.
 */
export function maskedSoftmax(scores: tf.Tensor, mask?: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    if (!mask) return tf.softmax(scores);
    const m = tf.cast(mask, 'float32');
    const shifted = tf.add(scores, tf.mul(tf.sub(1, m), MASK_PENALTY));
    const w = tf.mul(tf.softmax(shifted), m);
    // Renormalise so a fully padded row yields zeros, not a uniform spread over padding.
    return tf.div(w, tf.maximum(tf.sum(w, -1, true), 1e-12));
  });
}

/** The one tensor of a layer input that may come wrapped in an array. */
export function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/** The mask of input `i` from a layer's `mask` kwarg (a tensor, an array, or nothing). */
export function maskAt(mask: unknown, i: number): tf.Tensor | null {
  if (mask == null) return null;
  if (Array.isArray(mask)) return (mask[i] as tf.Tensor | null | undefined) ?? null;
  return i === 0 ? (mask as tf.Tensor) : null;
}

/** A layer input or output shape (tfjs-layers' `Shape`: null for unknown sizes). */
export type Shape = (number | null)[];

/** The kwargs tfjs-layers passes to `call` (the `mask`, `training`). */
export type Kwargs = Record<string, unknown>;

/** The shape of a layer's one input, which tfjs may pass wrapped in a list. */
export function singleShape(inputShape: Shape | Shape[]): Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
}

/**
 * Output shape of a query/value attention layer: `[batch, Tq, dv]`, plus the weights
 * `[batch, Tq, Tv]` when it returns them.
 */
export function attentionOutputShape(inputShape: Shape | Shape[], returnAttentionWeights: boolean): Shape | Shape[] {
  const [q, v] = inputShape as Shape[];
  const out = [q![0]!, q![1]!, v![v!.length - 1]!];
  return returnAttentionWeights ? [out, [q![0]!, q![1]!, v![1]!]] : out;
}

/** Output mask of a query/value attention layer: the query's mask (none for the weights). */
export function attentionOutputMask(mask: unknown, returnAttentionWeights: boolean): tf.Tensor | tf.Tensor[] {
  const qMask = maskAt(mask, 0);
  return (returnAttentionWeights ? [qMask, null] : qMask) as unknown as tf.Tensor;
}

/**
 * The end of a query/value attention layer: softmax over `scores` `[batch, Tq, Tv]` with padded
 * value positions (the mask of input 1) at weight 0, and the weighted sum of `value`; the
 * weights too when the layer returns them. Call inside a tidy.
 */
export function attendToValues(scores: tf.Tensor, value: tf.Tensor, mask: unknown, returnAttentionWeights: boolean): tf.Tensor | tf.Tensor[] {
  const vMask = maskAt(mask, 1);
  const weights = maskedSoftmax(scores, vMask ? tf.expandDims(vMask, 1) : null);
  const out = tf.matMul(weights, value);
  return returnAttentionWeights ? [out, weights] : out;
}
