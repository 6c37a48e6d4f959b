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

type CustomBody = (...inputs: tf.Tensor[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };
// tf.customGrad's typing hides the save function among the inputs; these ops close over what
// their gradients need instead.
function customOp(body: CustomBody): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
}

const biasAdd = customOp((y, b) => {
  const k = b!.shape[0]!;
  const rows = y!.size / k;
  return {
    value: tf.add(y!, b!),
    // On wasm a sum over the rows (axis 0) transposes the whole gradient first; a product
    // with a row of ones is the same sum at a small fraction of the time.
    gradFunc: (dy) => [tf.clone(dy), tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(dy, [rows, k])), [k])],
  };
});

/** `y + b` with `b` `[k]` added along the last axis of `y`: {@link tf.add} with a faster gradient. */
export function addBias<T extends tf.Tensor>(y: T, b: tf.Tensor): T {
  return biasAdd(y, b) as T;
}

// tanh(a) = 2 sigmoid(2a) - 1: the wasm backend's tanh is several times slower than these three ops.
function tanhViaSigmoid(a: tf.Tensor): tf.Tensor {
  return tf.sub(tf.mul(tf.sigmoid(tf.mul(a, 2)), 2), 1);
}

const sharedStateGru = customOp((xr, xz, xn, hr, hz, hn, h, save) => {
  // States [B, d] broadcast against the m inputs per row [B, m, d].
  const r = tf.sigmoid(tf.add(xr!, tf.expandDims(hr!, 1)));
  const z = tf.sigmoid(tf.add(xz!, tf.expandDims(hz!, 1)));
  const n = tanhViaSigmoid(tf.add(xn!, tf.mul(r, tf.expandDims(hn!, 1))));
  const value = tf.add(n, tf.mul(z, tf.sub(tf.expandDims(h!, 1), n)));
  // Only saved tensors outlive the forward pass (its intermediates, and the inputs made inside
  // it, are disposed before the gradient runs).
  (save as unknown as (t: tf.Tensor[]) => void)([r, z, n, hn!, h!]);
  return {
    value,
    gradFunc: (dy, saved) => {
      const [rs, zs, ns, hns, hs] = saved as tf.Tensor[];
      const dyz = tf.mul(dy, zs!);
      const dan = tf.mul(tf.sub(dy, dyz), tf.sub(1, tf.square(ns!)));
      const dar = tf.mul(tf.mul(dan, tf.expandDims(hns!, 1)), tf.mul(rs!, tf.sub(1, rs!)));
      const daz = tf.mul(tf.mul(dy, tf.sub(tf.expandDims(hs!, 1), ns!)), tf.mul(zs!, tf.sub(1, zs!)));
      return [dar, daz, dan, tf.sum(dar, 1), tf.sum(daz, 1), tf.sum(tf.mul(dan, rs!), 1), tf.sum(dyz, 1)];
    },
  };
});

/**
 * {@link gruCombine} for `m` inputs per row that all start from the row's one state, as in
 * SegRNN's parallel decoder: input projections per gate `xr`, `xz`, `xn` `[B, m, d]`, the
 * state's projections `hr`, `hz`, `hn` and the state `h` `[B, d]`. Returns the `m` new states
 * `[B, m, d]`. Same function as broadcasting `gruCombine`, with a hand-written gradient (the
 * taped one spends most of its time splitting, broadcasting back and in wasm's tanh).
 */
export function gruCombineShared(
  x: [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D],
  hProj: [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D],
  h: tf.Tensor2D,
): tf.Tensor3D {
  return sharedStateGru(...x, ...hProj, h) as tf.Tensor3D;
}
