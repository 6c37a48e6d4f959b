import * as tf from '@tensorflow/tfjs-core';

/** What the model outputs along its last axis. */
export type OutputKind = 'logits' | 'probabilities';

/**
 * Per-position negative log-likelihood of integer labels, `outputs` `[..., classes]`,
 * `labels` `[...]`. Returns a tensor of the labels' shape.
 */
export function negativeLogLikelihood(outputs: tf.Tensor, labels: tf.Tensor, kind: OutputKind): tf.Tensor {
  return tf.tidy(() => {
    const classes = outputs.shape[outputs.shape.length - 1]!;
    const logp = kind === 'logits' ? tf.logSoftmax(outputs) : tf.log(tf.clipByValue(outputs, 1e-7, 1));
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), classes);
    return tf.neg(tf.sum(tf.mul(oneHot, logp), -1));
  });
}

/**
 * Weighted mean loss and correct-prediction count. `weights` (same shape as `labels`) scale each
 * position; positions with weight 0 neither count nor contribute.
 */
export function weightedLoss(
  outputs: tf.Tensor,
  labels: tf.Tensor,
  kind: OutputKind,
  weights?: tf.Tensor,
): { loss: tf.Scalar; weightSum: tf.Scalar } {
  return tf.tidy(() => {
    const nll = negativeLogLikelihood(outputs, labels, kind);
    if (!weights) return { loss: tf.mean(nll) as tf.Scalar, weightSum: tf.scalar(nll.size) };
    const wsum = tf.sum(weights);
    return { loss: tf.div(tf.sum(tf.mul(nll, weights)), tf.maximum(wsum, 1e-12)) as tf.Scalar, weightSum: wsum as tf.Scalar };
  });
}

/** Number of positions (with non-zero weight) where the arg-max output equals the label. */
export function correctCount(outputs: tf.Tensor, labels: tf.Tensor, weights?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const hit = tf.cast(tf.equal(tf.argMax(outputs, -1), tf.cast(labels, 'int32')), 'float32');
    return tf.sum(weights ? tf.mul(hit, tf.cast(tf.greater(weights, 0), 'float32')) : hit) as tf.Scalar;
  });
}
