import * as tf from '@tensorflow/tfjs-core';
import { gruSequence, lstmSequence, recurrentKernelsAvailable } from '@seqlab/core';

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

/** How the forecasters' recurrent encoders run: whole-sequence kernels or one tf op chain per step. */
export type EncoderImplementation = 'fused' | 'stock';
let encoderImplementation: EncoderImplementation = 'fused';

/**
 * Chooses how SegRNN's and seq2seq's encoders run: `'fused'` (default; @seqlab/core's
 * whole-sequence WebAssembly kernels) or `'stock'` (the step-by-step tf ops of
 * {@link gruStep} / {@link lstmStep}). Both compute the same function. Returns the previous choice.
 */
export function setEncoderImplementation(implementation: EncoderImplementation): EncoderImplementation {
  const previous = encoderImplementation;
  encoderImplementation = implementation;
  return previous;
}

function fused(): boolean {
  return encoderImplementation === 'fused' && recurrentKernelsAvailable();
}

// gruStep's gates come in PyTorch's order (r, z, n); the kernels take Keras' (z, r, h).
function rzToZr<T extends tf.Tensor>(t: T, d: number): T {
  const axis = t.rank - 1;
  const [r, z, n] = tf.split(t, [d, d, d], axis);
  return tf.concat([z!, r!, n!], axis) as T;
}

/**
 * A GRU ({@link gruStep}'s convention) over a whole sequence from zero state: `xProj` `[B, T, 3d]`
 * holds every step's input projection. Returns the state after every step and the last one.
 */
export function gruEncode(xProj: tf.Tensor3D, whh: tf.Tensor2D, bhh: tf.Tensor1D): { sequence: tf.Tensor3D; h: tf.Tensor2D } {
  const [B, T] = xProj.shape;
  const d = whh.shape[0];
  if (fused()) {
    const r = gruSequence(rzToZr(xProj, d), rzToZr(whh, d), tf.zeros([B, d]), 'sigmoid', true, rzToZr(bhh, d));
    return { sequence: r.sequence, h: r.h };
  }
  let h = tf.zeros([B, d]) as tf.Tensor2D;
  const states: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    h = gruStep(tf.reshape(tf.slice(xProj, [0, t, 0], [B, 1, 3 * d]), [B, 3 * d]) as tf.Tensor2D, h, whh, bhh);
    states.push(h);
  }
  return { sequence: tf.stack(states, 1) as tf.Tensor3D, h };
}

/**
 * An LSTM ({@link lstmStep}'s convention: gates i, f, g, o, one bias added in the cell) over a
 * whole sequence from zero state. Returns every step's h, and the last h and c.
 */
export function lstmEncode(xProj: tf.Tensor3D, whh: tf.Tensor2D, b: tf.Tensor1D): { sequence: tf.Tensor3D; h: tf.Tensor2D; c: tf.Tensor2D } {
  const [B, T] = xProj.shape;
  const d = whh.shape[0];
  if (fused()) {
    const r = lstmSequence(tf.add(xProj, b) as tf.Tensor3D, whh, tf.zeros([B, d]), tf.zeros([B, d]), 'sigmoid');
    return { sequence: r.sequence, h: r.h, c: r.c! };
  }
  let h = tf.zeros([B, d]) as tf.Tensor2D;
  let c = tf.zeros([B, d]) as tf.Tensor2D;
  const states: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    [h, c] = lstmStep(tf.reshape(tf.slice(xProj, [0, t, 0], [B, 1, 4 * d]), [B, 4 * d]) as tf.Tensor2D, h, c, whh, b);
    states.push(h);
  }
  return { sequence: tf.stack(states, 1) as tf.Tensor3D, h, c };
}
