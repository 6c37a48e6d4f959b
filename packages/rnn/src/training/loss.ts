import * as tf from '@tensorflow/tfjs-core';

/**
 * What the model outputs along its last axis: `logits` or `probabilities` of one class out of
 * many (labels are class ids), or `sigmoid`, an independent probability per class (multi-label;
 * labels are multi-hot rows of 0 and 1 with the outputs' shape).
 */
export type OutputKind = 'logits' | 'probabilities' | 'sigmoid';

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
 * Binary cross-entropy of independent class probabilities `outputs` `[..., classes]` against
 * multi-hot `labels` of the same shape, averaged over the classes (as Keras'
 * `binary_crossentropy`). `positiveWeights` `[classes]` scales each class's loss on positive
 * labels only (PyTorch's `pos_weight`), so rare labels can count more without also punishing
 * their absence more. Returns a tensor of the outputs' shape without the last axis.
 */
export function binaryCrossEntropy(outputs: tf.Tensor, labels: tf.Tensor, positiveWeights?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const p = tf.clipByValue(outputs, 1e-7, 1 - 1e-7);
    const y = tf.cast(labels, 'float32');
    let positive = tf.mul(y, tf.log(p));
    if (positiveWeights) positive = tf.mul(positive, positiveWeights);
    const negative = tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)));
    return tf.neg(tf.mean(tf.add(positive, negative), -1));
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
  positiveWeights?: tf.Tensor,
): { loss: tf.Scalar; weightSum: tf.Scalar } {
  return tf.tidy(() => {
    const nll = kind === 'sigmoid' ? binaryCrossEntropy(outputs, labels, positiveWeights) : negativeLogLikelihood(outputs, labels, kind);
    if (!weights) return { loss: tf.mean(nll) as tf.Scalar, weightSum: tf.scalar(nll.size) };
    const wsum = tf.sum(weights);
    return { loss: tf.div(tf.sum(tf.mul(nll, weights)), tf.maximum(wsum, 1e-12)) as tf.Scalar, weightSum: wsum as tf.Scalar };
  });
}

/**
 * Number of positions (with non-zero weight) where the arg-max output equals the label; for
 * `sigmoid` outputs, rows whose every class is right at a 0.5 threshold (subset accuracy).
 */
export function correctCount(outputs: tf.Tensor, labels: tf.Tensor, weights?: tf.Tensor, kind?: OutputKind): tf.Scalar {
  return tf.tidy(() => {
    const hit =
      kind === 'sigmoid'
        ? tf.cast(tf.all(tf.equal(tf.greaterEqual(outputs, 0.5), tf.greater(labels, 0.5)), -1), 'float32')
        : tf.cast(tf.equal(tf.argMax(outputs, -1), tf.cast(labels, 'int32')), 'float32');
    return tf.sum(weights ? tf.mul(hit, tf.cast(tf.greater(weights, 0), 'float32')) : hit) as tf.Scalar;
  });
}
