import { check, gemmInto, withRuntime } from './sequence.js';

/** Arguments of {@link attentionPoolingForward}: the layer's inputs and weights. */
export interface AttentionPoolingArgs {
  /** Inputs `[B,T,F]` (a recurrent layer's outputs at every step). */
  x: ArrayLike<number>;
  batch: number;
  steps: number;
  features: number;
  /** Hidden units of the scoring layer (U). */
  units: number;
  /** `[F,U]`. */
  kernel: ArrayLike<number>;
  /** `[U]`. */
  bias: ArrayLike<number>;
  /** The context vector `[U]` (a `[U,1]` kernel). */
  context: ArrayLike<number>;
  /** `[B,T]`, 0 at padded steps; absent = none. */
  mask?: ArrayLike<number>;
}

/** Output of {@link attentionPoolingForward}. */
export interface AttentionPoolingResult {
  /** The attention-weighted mean of the steps `[B,F]`. */
  pooled: Float32Array;
  /** The weights `[B,T]`: a softmax over each row's unmasked steps (0 at padded steps; all 0 in a fully padded row). */
  weights: Float32Array;
}

/**
 * Additive attention pooling for inference, `w = softmax_t(tanh(x.W + b).u)` and
 * `pooled = sum_t w_t x_t`, in one kernel session: the inputs are copied in once, the hidden
 * units never leave the kernels' memory, and each row's weighted sum is a vector-matrix product
 * there instead of a JavaScript loop over every step and feature.
 */
export function attentionPoolingForward(a: AttentionPoolingArgs): AttentionPoolingResult {
  const { batch: B, steps: T, features: F, units: U } = a;
  check('x', a.x, B * T * F);
  check('kernel', a.kernel, F * U);
  check('bias', a.bias, U);
  check('context', a.context, U);
  check('mask', a.mask, B * T);
  return withRuntime((rt) => {
    const X = rt.put(a.x);
    const hidden = gemmInto(rt, X, rt.put(a.kernel), B * T, F, U, a.bias, 'tanh');
    const S = gemmInto(rt, hidden, rt.put(a.context), B * T, U, 1);
    const weights = new Float32Array(B * T);
    const scores = rt.view(S, B * T);
    for (let r = 0; r < B; r++) maskedSoftmaxRow(scores, weights, a.mask, r, T);
    const W = rt.put(weights);
    const P = rt.zeros(B * F);
    for (let r = 0; r < B; r++) rt.exports.gemm(1, F, T, W + r * T * 4, X + r * T * F * 4, P + r * F * 4);
    return { pooled: rt.take(P, B * F), weights };
  });
}

/**
 * Masked softmax of row `r`'s `T` scores into `weights`: padded steps get exactly zero and a
 * fully padded row gets all zeros.
 */
function maskedSoftmaxRow(scores: ArrayLike<number>, weights: Float32Array, mask: ArrayLike<number> | undefined, r: number, T: number): void {
  let max = -Infinity;
  for (let t = 0; t < T; t++) if (!mask || mask[r * T + t]) max = Math.max(max, scores[r * T + t]!);
  let sum = 0;
  for (let t = 0; t < T; t++) {
    const keep = !mask || mask[r * T + t] !== 0;
    const e = keep && max > -Infinity ? Math.exp(scores[r * T + t]! - max) : 0;
    weights[r * T + t] = e;
    sum += e;
  }
  for (let t = 0; t < T; t++) weights[r * T + t] = sum > 0 ? weights[r * T + t]! / sum : 0;
}
