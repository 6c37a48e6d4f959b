import * as tf from '@tensorflow/tfjs-core';

/**
 * One GRU step with precomputed input projection `xProj = x W_ih + b_ih` (`[B, 3d]`, gate order
 * r, z, n) and recurrent weights `whh` (`[d, 3d]`), `bhh` (`[3d]`). The reset gate multiplies
 * the recurrent projection (the cuDNN / PyTorch form), so the recurrent matmul is one call.
 */
export function gruStep(xProj: tf.Tensor2D, h: tf.Tensor2D, whh: tf.Tensor2D, bhh: tf.Tensor1D): tf.Tensor2D {
  const d = h.shape[1];
  const hProj = tf.add(tf.matMul(h, whh), bhh) as tf.Tensor2D;
  return gruCombine(xProj, hProj, h, d);
}

/** The gate arithmetic of {@link gruStep} given both projections; broadcasting allowed. */
export function gruCombine<T extends tf.Tensor>(xProj: T, hProj: tf.Tensor, h: tf.Tensor, d: number): T {
  const rank = xProj.rank;
  const split = (t: tf.Tensor) => tf.split(t, [d, d, d], t.rank - 1);
  const [xr, xz, xn] = split(xProj);
  const [hr, hz, hn] = split(hProj);
  const r = tf.sigmoid(tf.add(xr!, hr!));
  const z = tf.sigmoid(tf.add(xz!, hz!));
  const n = tf.tanh(tf.add(xn!, tf.mul(r, hn!)));
  void rank;
  // h' = n + z * (h - n)
  return tf.add(n, tf.mul(z, tf.sub(h, n))) as T;
}

/**
 * One LSTM step with precomputed input projection `xProj` (`[B, 4d]`, gate order i, f, g, o).
 * Returns the new `[h, c]`.
 */
export function lstmStep(xProj: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D, whh: tf.Tensor2D, b: tf.Tensor1D): [tf.Tensor2D, tf.Tensor2D] {
  const d = h.shape[1];
  const z = tf.add(tf.add(xProj, tf.matMul(h, whh)), b);
  const [i, f, g, o] = tf.split(z, [d, d, d, d], 1) as tf.Tensor2D[];
  const c2 = tf.add(tf.mul(tf.sigmoid(f!), c), tf.mul(tf.sigmoid(i!), tf.tanh(g!))) as tf.Tensor2D;
  const h2 = tf.mul(tf.sigmoid(o!), tf.tanh(c2)) as tf.Tensor2D;
  return [h2, c2];
}
