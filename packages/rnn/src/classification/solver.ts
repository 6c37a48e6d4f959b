/**
 * Full-batch L-BFGS for L2-regularised logistic regression over a CSR matrix: the softmax loss
 * for binary and multi-class problems, independent sigmoids for multi-label ones. The objective
 * is the (class-weighted) mean loss per row plus `l2 / 2 * ||W||^2` (the bias is not penalised),
 * so `l2` keeps the meaning of the per-step decay of the SGD fit it replaces (scikit-learn's
 * `1 / (C * rows)`). Margins `X W + b` are kept and moved along each search direction, so a
 * line-search trial costs O(rows x classes) instead of a pass over the features, and each
 * iteration reads the matrix twice (`X d` and `X^T r`). Everything accumulates in Float64.
 */
import { throwIfCancelled } from '@seqlab/core/base';
import { PARALLEL_MIN_NNZ, SolverThreads, solverThreads } from './solver-threads.js';
import type { CsrMatrix } from './sparse.js';

/** A labelled matrix for {@link fitLogisticRegression}. */
export interface LogisticData {
  x: CsrMatrix;
  classes: number;
  /** Independent sigmoids (multi-label) instead of one softmax. */
  multiLabel: boolean;
  /** Class ids of each row (several for multi-label; several for softmax means a uniform soft target). */
  labels: ArrayLike<readonly number[]>;
  /**
   * Loss weight per class: softmax rows are weighted by their (first) class, multi-label
   * targets by their class when positive. Default all 1.
   */
  classWeight?: readonly number[];
}

/** Parameters: `weights[feature * classes + class]` (feature-major) and `bias[class]`. */
export interface LogisticParams {
  weights: Float64Array;
  bias: Float64Array;
}

/** Options of {@link fitLogisticRegression}. */
export interface LogisticSolveOptions {
  l2: number;
  /** Start from these parameters (a warm start from a neighbouring penalty). Default zeros. */
  init?: LogisticParams;
  /** Stop once the gradient norm is this fraction of its norm at zero. Default 1e-4. */
  tolerance?: number;
  /** Default 500. */
  maxIterations?: number;
  /** Correction pairs kept. Default 10 (fewer when the parameters are many). */
  memory?: number;
  /**
   * Threads for the passes over the matrix: 2 splits its rows with a helper thread. Default 1,
   * or `SEQLAB_THREADS=2` (on a main thread with two cores), and then only from a million stored
   * features (below, the hand-offs cost more than they save).
   */
  threads?: number;
  /** Checked between iterations (the solver yields to the event loop after each one). */
  signal?: AbortSignal;
  /** Called after every iteration. */
  onIteration?: (e: { iteration: number; objective: number; gradientNorm: number; targetNorm: number }) => void;
}

/** The fitted parameters with how the solve ended. */
export interface LogisticSolution extends LogisticParams {
  objective: number;
  gradientNorm: number;
  iterations: number;
  converged: boolean;
  /** Threads the passes over the matrix ran on (2: split by rows with a helper thread). */
  threads: number;
}

/** Dense targets and loss weights (rows x classes), computed once per problem. */
interface Prepared {
  x: CsrMatrix;
  C: number;
  N: number;
  multiLabel: boolean;
  target: Float64Array;
  weight: Float64Array;
  /** The helper thread and shared vectors of a solve (absent: one thread). */
  threads?: SolverThreads;
}

function prepare(d: LogisticData): Prepared {
  const { x, classes: C } = d;
  const N = x.rows;
  const target = new Float64Array(N * C);
  const weight = new Float64Array(N * C).fill(1);
  for (let r = 0; r < N; r++) {
    const ls = d.labels[r]!;
    for (const c of ls) target[r * C + c] = d.multiLabel ? 1 : 1 / ls.length;
    if (!d.classWeight) continue;
    if (d.multiLabel) for (const c of ls) weight[r * C + c] = d.classWeight[c]!;
    else if (ls.length > 0) weight.fill(d.classWeight[ls[0]!]!, r * C, r * C + C);
  }
  return { x, C, N, multiLabel: d.multiLabel, target, weight };
}

/** out = X W + b for parameters `theta` = [W (feature-major), b], on both threads when the problem has them. */
function margins(p: Prepared, theta: Float64Array, out: Float64Array): void {
  if (p.threads) p.threads.margins(theta, out, (from, to) => marginRows(p, theta, out, from, to));
  else marginRows(p, theta, out, 0, p.N);
}

/** Rows `from..to` of `X W + b`. */
function marginRows(p: Prepared, theta: Float64Array, out: Float64Array, from: number, to: number): void {
  const { x, C } = p;
  const { indptr, indices, values } = x;
  const F = x.cols;
  if (C === 1) {
    // One column (binary problems): no loop over classes in the innermost loop, which halves the time.
    const b = theta[F]!;
    for (let r = from, k = indptr[from]!; r < to; r++) {
      let s = b;
      for (const end = indptr[r + 1]!; k < end; k++) s += theta[indices[k]!]! * values[k]!;
      out[r] = s;
    }
    return;
  }
  for (let r = from; r < to; r++) {
    const o = r * C;
    for (let c = 0; c < C; c++) out[o + c] = theta[F * C + c]!;
    for (let k = indptr[r]!; k < indptr[r + 1]!; k++) {
      const w = indices[k]! * C;
      const v = values[k]!;
      for (let c = 0; c < C; c++) out[o + c]! += theta[w + c]! * v;
    }
  }
}

/**
 * The mean weighted loss at margins `z + alpha * dz`; with `residual`, also d(loss)/d(margin)
 * per row and class (already divided by the row count).
 */
function meanLoss(p: Prepared, z: Float64Array, dz: Float64Array | null, alpha: number, residual: Float64Array | null): number {
  const { C, N, target, weight } = p;
  let total = 0;
  for (let r = 0; r < N; r++) {
    const o = r * C;
    if (p.multiLabel) {
      for (let c = 0; c < C; c++) {
        const m = dz ? z[o + c]! + alpha * dz[o + c]! : z[o + c]!;
        const t = target[o + c]!;
        total += weight[o + c]! * ((m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m))) - t * m);
        if (residual) residual[o + c] = (weight[o + c]! * (1 / (1 + Math.exp(-m)) - t)) / N;
      }
      continue;
    }
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, dz ? z[o + c]! + alpha * dz[o + c]! : z[o + c]!);
    let sum = 0;
    let dot = 0;
    for (let c = 0; c < C; c++) {
      const m = dz ? z[o + c]! + alpha * dz[o + c]! : z[o + c]!;
      sum += Math.exp(m - max);
      dot += target[o + c]! * m;
    }
    const lse = max + Math.log(sum);
    const w = weight[o]!;
    total += w * (lse - dot);
    if (residual) {
      for (let c = 0; c < C; c++) {
        const m = dz ? z[o + c]! + alpha * dz[o + c]! : z[o + c]!;
        residual[o + c] = (w * (Math.exp(m - lse) - target[o + c]!)) / N;
      }
    }
  }
  return total / N;
}

/** grad = [X^T residual + l2 W, sum of residual rows], on both threads when the problem has them. */
function gradient(p: Prepared, residual: Float64Array, theta: Float64Array, l2: number, grad: Float64Array): void {
  const FC = p.x.cols * p.C;
  for (let i = 0; i < FC; i++) grad[i] = l2 * theta[i]!;
  grad.fill(0, FC);
  if (p.threads) p.threads.gradient(residual, grad, (from, to) => gradientRows(p, residual, grad, from, to));
  else gradientRows(p, residual, grad, 0, p.N);
}

/** Adds rows `from..to` of `X^T residual` (and their bias sums) to `grad`. */
function gradientRows(p: Prepared, residual: Float64Array, grad: Float64Array, from: number, to: number): void {
  const { x, C } = p;
  const { indptr, indices, values } = x;
  const FC = x.cols * C;
  if (C === 1) {
    let bias = 0;
    for (let r = from, k = indptr[from]!; r < to; r++) {
      const g = residual[r]!;
      bias += g;
      for (const end = indptr[r + 1]!; k < end; k++) grad[indices[k]!]! += g * values[k]!;
    }
    grad[FC]! += bias;
    return;
  }
  for (let r = from; r < to; r++) {
    const o = r * C;
    for (let c = 0; c < C; c++) grad[FC + c]! += residual[o + c]!;
    for (let k = indptr[r]!; k < indptr[r + 1]!; k++) {
      const w = indices[k]! * C;
      const v = values[k]!;
      for (let c = 0; c < C; c++) grad[w + c]! += residual[o + c]! * v;
    }
  }
}

/** a += k b */
function axpy(a: Float64Array, k: number, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i]! += k * b[i]!;
}

function dot(a: Float64Array, b: Float64Array, n = a.length): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * The objective at `params` (mean weighted loss + `l2 / 2 * ||W||^2`), and its gradient in
 * `grad` ([weights, bias] layout) when given.
 */
export function logisticObjective(data: LogisticData, params: LogisticParams, l2: number, grad?: Float64Array): number {
  const p = prepare(data);
  const theta = new Float64Array(params.weights.length + params.bias.length);
  theta.set(params.weights);
  theta.set(params.bias, params.weights.length);
  return evaluate(p, theta, l2, new Float64Array(p.N * p.C), new Float64Array(p.N * p.C), grad ?? null);
}

/** Objective at `theta`; fills margins `z`, `residual` and (when given) `grad`. */
function evaluate(p: Prepared, theta: Float64Array, l2: number, z: Float64Array, residual: Float64Array, grad: Float64Array | null): number {
  margins(p, theta, z);
  const FC = p.x.cols * p.C;
  const f = meanLoss(p, z, null, 0, residual) + 0.5 * l2 * dot(theta, theta, FC);
  if (grad) gradient(p, residual, theta, l2, grad);
  return f;
}

/** A correction pair of L-BFGS: step `s`, gradient change `y`, `rho = 1 / (s . y)`. */
interface Pair {
  s: Float64Array;
  y: Float64Array;
  rho: number;
}

/**
 * L-BFGS two-loop recursion: `d = -H grad` from the stored pairs, oldest first in `pairs`. Each
 * update pass also accumulates the dot product the next pair needs, so the P-long vectors are
 * read once per pair and loop instead of twice.
 */
function direction(grad: Float64Array, pairs: Pair[], d: Float64Array): void {
  const P = d.length;
  const k = pairs.length;
  for (let i = 0; i < P; i++) d[i] = -grad[i]!;
  let ahead = k > 0 ? dot(pairs[k - 1]!.s, d) : 0;
  const alphas = new Float64Array(k);
  for (let j = k - 1; j >= 0; j--) {
    const y = pairs[j]!.y;
    const a = pairs[j]!.rho * ahead;
    alphas[j] = a;
    if (j === 0) {
      for (let i = 0; i < P; i++) d[i]! -= a * y[i]!;
      break;
    }
    const next = pairs[j - 1]!.s;
    let acc = 0;
    for (let i = 0; i < P; i++) {
      const v = d[i]! - a * y[i]!;
      d[i] = v;
      acc += next[i]! * v;
    }
    ahead = acc;
  }
  const gamma = k > 0 ? dot(pairs[k - 1]!.s, pairs[k - 1]!.y) / dot(pairs[k - 1]!.y, pairs[k - 1]!.y) : 1 / Math.max(1, Math.sqrt(dot(d, d)));
  for (let i = 0; i < P; i++) d[i]! *= gamma;
  ahead = k > 0 ? dot(pairs[0]!.y, d) : 0;
  for (let j = 0; j < k; j++) {
    const s = pairs[j]!.s;
    const b = alphas[j]! - pairs[j]!.rho * ahead;
    if (j === k - 1) {
      for (let i = 0; i < P; i++) d[i]! += b * s[i]!;
      break;
    }
    const next = pairs[j + 1]!.y;
    let acc = 0;
    for (let i = 0; i < P; i++) {
      const v = d[i]! + b * s[i]!;
      d[i] = v;
      acc += next[i]! * v;
    }
    ahead = acc;
  }
}

/** Fills `pair` with s = step d, y = next - grad; returns s . y when the pair is usable (else 0). */
function storePair(pair: Pair, step: number, d: Float64Array, grad: Float64Array, next: Float64Array): number {
  const { s, y } = pair;
  let sy = 0;
  let ss = 0;
  let yy = 0;
  for (let i = 0; i < s.length; i++) {
    const si = step * d[i]!;
    const yi = next[i]! - grad[i]!;
    s[i] = si;
    y[i] = yi;
    sy += si * yi;
    ss += si * si;
    yy += yi * yi;
  }
  if (!(sy > 1e-12 * Math.sqrt(ss * yy))) return 0;
  pair.rho = 1 / sy;
  return sy;
}

/** The norm of the gradient at zero parameters: the scale the tolerance is relative to. */
function gradientNormAtZero(p: Prepared, l2: number): number {
  const theta = new Float64Array(p.x.cols * p.C + p.C);
  const grad = new Float64Array(theta.length);
  evaluate(p, theta, l2, new Float64Array(p.N * p.C), new Float64Array(p.N * p.C), grad);
  return Math.sqrt(dot(grad, grad));
}

/**
 * A backtracking (Armijo) line search along `d` from `theta`, moving only the margins:
 * returns the accepted step and objective, or step 0 when no decrease was found.
 */
function lineSearch(p: Prepared, l2: number, theta: Float64Array, d: Float64Array, z: Float64Array, dz: Float64Array, f0: number, slope: number): { step: number; f: number } {
  const FC = p.x.cols * p.C;
  const ww = dot(theta, theta, FC);
  const wd = dot(theta, d, FC);
  const dd = dot(d, d, FC);
  let step = 1;
  for (let tries = 0; tries < 50; tries++) {
    const f = meanLoss(p, z, dz, step, null) + 0.5 * l2 * (ww + 2 * step * wd + step * step * dd);
    if (f <= f0 + 1e-4 * step * slope) return { step, f };
    // Minimiser of the quadratic through f0, slope and f(step), kept within [0.1, 0.5] of step.
    const q = (-slope * step * step) / (2 * (f - f0 - slope * step));
    step = Math.min(0.5 * step, Math.max(0.1 * step, Number.isFinite(q) ? q : 0.5 * step));
  }
  return { step: 0, f: f0 };
}

/**
 * Minimises the L2-regularised logistic loss of `data` with L-BFGS until the gradient norm falls
 * to `tolerance` times its norm at zero (or `maxIterations`, or no further decrease is possible).
 * Warm-starting from the solution of a larger `l2` is the cheap way through a penalty grid.
 */
export async function fitLogisticRegression(data: LogisticData, options: LogisticSolveOptions): Promise<LogisticSolution> {
  const full = prepare(data);
  if (full.multiLabel || full.C !== 2) return minimise(full, options.l2, initialTheta(full, options.init), options);
  // Two softmax classes are one sigmoid on w = W1 - W0 (the optimum has W0 = -W1, and
  // l2/2 (|W0|^2 + |W1|^2) = (l2/2)/2 |w|^2): half the parameters and half the work per pass.
  const { x, N } = full;
  const F = x.cols;
  const target = new Float64Array(N);
  const weight = new Float64Array(N);
  for (let r = 0; r < N; r++) [target[r], weight[r]] = [full.target[2 * r + 1]!, full.weight[2 * r]!];
  const init = new Float64Array(F + 1);
  if (options.init) {
    for (let f = 0; f < F; f++) init[f] = options.init.weights[2 * f + 1]! - options.init.weights[2 * f]!;
    init[F] = options.init.bias[1]! - options.init.bias[0]!;
  }
  const fit = await minimise({ x, C: 1, N, multiLabel: true, target, weight }, options.l2 / 2, init, options);
  const weights = new Float64Array(2 * F);
  for (let f = 0; f < F; f++) [weights[2 * f], weights[2 * f + 1]] = [-fit.weights[f]! / 2, fit.weights[f]! / 2];
  return { ...fit, weights, bias: Float64Array.of(-fit.bias[0]! / 2, fit.bias[0]! / 2) };
}

function initialTheta(p: Prepared, init: LogisticParams | undefined): Float64Array {
  const FC = p.x.cols * p.C;
  const theta = new Float64Array(FC + p.C);
  if (init) {
    theta.set(init.weights);
    theta.set(init.bias, FC);
  }
  return theta;
}

/** L-BFGS from `theta` (changed in place) on a prepared problem. */
async function minimise(prepared: Prepared, l2: number, start: Float64Array, options: LogisticSolveOptions): Promise<LogisticSolution> {
  // The vectors the matrix passes read and write live on shared memory, for the helper thread.
  const auto = options.threads === undefined;
  const threads = new SolverThreads(prepared.x, prepared.C, options.threads ?? solverThreads(), auto ? PARALLEL_MIN_NNZ : 0);
  try {
    threads.theta.set(start);
    const solution = await lbfgs(threads.parallel ? { ...prepared, threads } : prepared, l2, threads, options);
    return { ...solution, threads: threads.parallel ? 2 : 1 };
  } finally {
    threads.close();
  }
}

/** The L-BFGS loop over the solve's vectors (`theta` holds the start and ends at the solution). */
async function lbfgs(p: Prepared, l2: number, vectors: Pick<SolverThreads, 'theta' | 'd' | 'z' | 'dz' | 'residual'>, options: LogisticSolveOptions): Promise<Omit<LogisticSolution, 'threads'>> {
  const { theta, d, z, dz, residual } = vectors;
  const FC = p.x.cols * p.C;
  const m = options.memory ?? Math.max(3, Math.min(10, Math.floor(2 ** 28 / (16 * theta.length))));
  const maxIterations = options.maxIterations ?? 500;
  let grad = new Float64Array(theta.length);
  let next = new Float64Array(theta.length);
  const pairs: Pair[] = [];
  let f = evaluate(p, theta, l2, z, residual, grad);
  const targetNorm = (options.tolerance ?? 1e-4) * gradientNormAtZero(p, l2);
  let gradientNorm = Math.sqrt(dot(grad, grad));
  let iteration = 0;
  let converged = gradientNorm <= targetNorm;
  while (!converged && iteration < maxIterations) {
    direction(grad, pairs, d);
    let slope = dot(grad, d);
    if (!(slope < 0)) {
      // Curvature pairs gone stale: restart from steepest descent.
      pairs.length = 0;
      direction(grad, pairs, d);
      slope = dot(grad, d);
    }
    margins(p, d, dz);
    const { step, f: fNext } = lineSearch(p, l2, theta, d, z, dz, f, slope);
    if (step === 0) break;
    axpy(theta, step, d);
    axpy(z, step, dz);
    meanLoss(p, z, null, 0, residual);
    gradient(p, residual, theta, l2, next);
    const pair: Pair = pairs.length === m ? pairs.shift()! : { s: new Float64Array(theta.length), y: new Float64Array(theta.length), rho: 0 };
    const sy = storePair(pair, step, d, grad, next);
    if (sy > 0) pairs.push(pair);
    [grad, next] = [next, grad];
    const decrease = f - fNext;
    f = fNext;
    gradientNorm = Math.sqrt(dot(grad, grad));
    iteration++;
    converged = gradientNorm <= targetNorm;
    options.onIteration?.({ iteration, objective: f, gradientNorm, targetNorm });
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfCancelled(options.signal, 'fitting the logistic regression');
    if (decrease <= 1e-16 * Math.max(1, Math.abs(f))) break;
  }
  return { weights: theta.slice(0, FC), bias: theta.slice(FC), objective: f, gradientNorm, iterations: iteration, converged };
}
