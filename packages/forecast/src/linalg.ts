import * as tf from '@tensorflow/tfjs-core';
import { ForecastInputError } from './errors.js';

/**
 * Whether a TensorFlow.js backend is already active (someone called `initBackend()`): then the
 * big products of the linear models go through its matmul; otherwise plain loops, so the
 * linear models also work where TensorFlow.js is never initialised.
 */
export function tfReady(): boolean {
  try {
    const engine = tf.engine() as unknown as { backendName?: string | null };
    return typeof engine.backendName === 'string' && engine.backendName.length > 0;
  } catch {
    return false;
  }
}

/**
 * Solves `A X = B` for symmetric positive-definite `A` (`n x n`, row-major) and `B`
 * (`n x m`), by Cholesky factorisation. Used for closed-form ridge regression, so `A` already
 * carries its ridge term.
 */
/** `X W` for row-major `X` (`n x p`) and `W` (`p x m`), on TensorFlow.js when active (float32). */
export function matMulRows(X: Float64Array, W: Float64Array, n: number, p: number, m: number): Float64Array {
  if (tfReady()) {
    const out = tf.tidy(() => tf.matMul(tf.tensor2d(Float32Array.from(X.subarray(0, n * p)), [n, p]), tf.tensor2d(Float32Array.from(W), [p, m])));
    const data = Float64Array.from(out.dataSync());
    out.dispose();
    return data;
  }
  const out = new Float64Array(n * m);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < p; i++) {
      const x = X[r * p + i]!;
      if (x === 0) continue;
      const wo = i * m;
      const oo = r * m;
      for (let j = 0; j < m; j++) out[oo + j]! += x * W[wo + j]!;
    }
  }
  return out;
}

export function solveSpd(A: Float64Array, B: Float64Array, n: number, m: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      if (i === j) {
        if (s <= 0) throw new ForecastInputError('ridge system is not positive definite; increase lambda');
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j]!;
    }
  }
  const X = Float64Array.from(B);
  for (let col = 0; col < m; col++) {
    for (let i = 0; i < n; i++) {
      let s = X[i * m + col]!;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * X[k * m + col]!;
      X[i * m + col] = s / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = X[i * m + col]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * X[k * m + col]!;
      X[i * m + col] = s / L[i * n + i]!;
    }
  }
  return X;
}

/** Accumulates `XᵀX` (`p x p`) and `XᵀY` (`p x m`) from rows given one at a time. */
export class NormalEquations {
  readonly xtx: Float64Array;
  readonly xty: Float64Array;
  count = 0;
  constructor(readonly p: number, readonly m: number) {
    this.xtx = new Float64Array(p * p);
    this.xty = new Float64Array(p * m);
  }

  /**
   * Adds `n` rows at once (`X` is `n x p`, `Y` is `n x m`, row-major). Products run in float32
   * on the active TensorFlow.js backend when there is one, and are summed into float64 here.
   */
  addBatch(X: Float64Array, Y: Float64Array, n: number): void {
    const { p, m } = this;
    if (n === 0) return;
    if (!tfReady()) {
      for (let r = 0; r < n; r++) this.add(X.subarray(r * p, (r + 1) * p), Y.subarray(r * m, (r + 1) * m));
      return;
    }
    const [xtx, xty] = tf.tidy(() => {
      const x = tf.tensor2d(Float32Array.from(X.subarray(0, n * p)), [n, p]);
      const y = tf.tensor2d(Float32Array.from(Y.subarray(0, n * m)), [n, m]);
      return [tf.matMul(x, x, true, false), tf.matMul(x, y, true, false)];
    });
    const a = xtx.dataSync();
    const b = xty.dataSync();
    xtx.dispose();
    xty.dispose();
    for (let i = 0; i < p; i++) for (let j = i; j < p; j++) this.xtx[i * p + j]! += a[i * p + j]!;
    for (let i = 0; i < p * m; i++) this.xty[i]! += b[i]!;
    this.count += n;
  }

  add(x: Float64Array, y: Float64Array): void {
    const { p, m, xtx, xty } = this;
    for (let i = 0; i < p; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const ro = i * p;
      for (let j = i; j < p; j++) xtx[ro + j]! += xi * x[j]!;
      const yo = i * m;
      for (let j = 0; j < m; j++) xty[yo + j]! += xi * y[j]!;
    }
    this.count++;
  }

  /**
   * The normal equations of the features `T x` (plus the intercept, kept last) when these hold
   * those of `x`: `T A Tᵀ` and `T B`, with `T` row-major `f x (p - 1)`. Lets a model whose
   * features are a fixed linear map of the inputs (DLinear's trend / remainder split) reuse one
   * pass over the windows.
   */
  transformed(T: Float64Array, f: number): NormalEquations {
    const { p, m } = this;
    const q = p - 1;
    const full = new Float64Array(p * p);
    for (let i = 0; i < p; i++) for (let j = i; j < p; j++) full[i * p + j] = full[j * p + i] = this.xtx[i * p + j]!;
    const Tx = (row: number, col: (k: number) => number): number => {
      let s = 0;
      for (let k = 0; k < q; k++) s += T[row * q + k]! * col(k);
      return s;
    };
    const out = new NormalEquations(f + 1, m);
    // TA: f x p
    const TA = new Float64Array(f * p);
    for (let i = 0; i < f; i++) for (let j = 0; j < p; j++) TA[i * p + j] = Tx(i, (k) => full[k * p + j]!);
    const P = f + 1;
    for (let i = 0; i < P; i++) {
      for (let j = i; j < P; j++) {
        let v: number;
        if (i < f && j < f) v = Tx(j, (k) => TA[i * p + k]!);
        else if (i < f) v = TA[i * p + q]!;
        else v = full[q * p + q]!;
        out.xtx[i * P + j] = v;
      }
    }
    for (let i = 0; i < f; i++) for (let c = 0; c < m; c++) out.xty[i * m + c] = Tx(i, (k) => this.xty[k * m + c]!);
    for (let c = 0; c < m; c++) out.xty[f * m + c] = this.xty[q * m + c]!;
    out.count = this.count;
    return out;
  }

  /**
   * Squared error (up to a constant that does not depend on `W`) of weights `W` (`p x m`) on the
   * rows accumulated here: `tr(Wᵀ XᵀX W) - 2 tr(Wᵀ XᵀY)`.
   */
  heldOutError(W: Float64Array): number {
    const { p, m, xtx, xty } = this;
    let err = 0;
    const aw = new Float64Array(m);
    for (let i = 0; i < p; i++) {
      aw.fill(0);
      for (let k = 0; k < p; k++) {
        const a = k >= i ? xtx[i * p + k]! : xtx[k * p + i]!;
        if (a === 0) continue;
        const wo = k * m;
        for (let j = 0; j < m; j++) aw[j]! += a * W[wo + j]!;
      }
      const wo = i * m;
      for (let j = 0; j < m; j++) err += W[wo + j]! * (aw[j]! - 2 * xty[wo + j]!);
    }
    return err;
  }

  /** Ridge solution; the last feature is treated as an unpenalised intercept when `intercept`. */
  solve(lambda: number, intercept: boolean): Float64Array {
    const { p, m } = this;
    const A = new Float64Array(p * p);
    for (let i = 0; i < p; i++) {
      for (let j = i; j < p; j++) {
        A[i * p + j] = this.xtx[i * p + j]!;
        A[j * p + i] = this.xtx[i * p + j]!;
      }
      if (!(intercept && i === p - 1)) A[i * p + i]! += lambda;
      else A[i * p + i]! += 1e-9 * this.count;
    }
    return solveSpd(A, this.xty, p, m);
  }
}
