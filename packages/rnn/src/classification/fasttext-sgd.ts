/**
 * The fastText SGD loop, on one thread or two. Per text, the hidden vector is the weighted mean
 * of its bucket rows, the softmax (or sigmoids) on top, and the error flows back to the output
 * layer and to every bucket row of the text; the learning rate decays linearly to zero over all
 * steps. With two threads the parameters live on shared memory and each thread takes half of
 * every epoch's shuffled rows without locks ("Hogwild", as fastText's own threads do): updates
 * touch few rows of a large table, so they rarely collide, and the result depends on timing,
 * which is why one thread (bit-for-bit reproducible) stays the default below
 * {@link FASTTEXT_PARALLEL_MIN_NNZ} stored features.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { throwIfCancelled, type SeededRandom } from '@seqlab/core/base';
import { sharedCopy } from './solver-threads.js';
import type { CsrMatrix } from './sparse.js';
import type { HashedFeaturizer } from './sparse-hashed.js';

/** Stored features from which a default fit uses a second thread (below, one thread is fast and reproducible). */
export const FASTTEXT_PARALLEL_MIN_NNZ = 2_000_000;

/** The model's parameters and what one SGD step reads; typed arrays only, so a helper thread can share them. */
export interface FastTextState {
  /** `[buckets, d]` embedding, `[C, d]` output weights, `[C]` bias (shared memory with two threads). */
  E: Float32Array;
  W: Float32Array;
  b: Float32Array;
  C: number;
  d: number;
  /** 1 for multi-label (sigmoids), else 0 (softmax). */
  multi: number;
  /** `[rows, C]` 1 where the class is one of the row's targets. */
  isTarget: Uint8Array;
  /** Class weights, or empty. Softmax rows weigh their error by their class's weight, sigmoid ones each target class's own. */
  classWeight: Float64Array;
  /** Each row's first target (the class whose weight a softmax row takes). */
  firstTarget: Int32Array;
  lr0: number;
  /** Steps over the whole fit (epochs x rows). */
  total: number;
}

/** A CSR matrix's arrays (the rows a step reads). */
type Rows = Pick<CsrMatrix, 'indptr' | 'indices' | 'values'>;

/**
 * SGD steps on the rows `visit[from..to)` of `x`, step `k` of them being step `stepBase +
 * (k - from) * stride` of the fit (its learning rate); `targetRow[k]` (or `visit[k]`) indexes the
 * targets. Self-contained on purpose: a helper thread runs it from its source text, so it uses
 * no import, closure or nested function.
 */
export function fastTextSteps(s: FastTextState, x: Rows, visit: Int32Array, targetRow: Int32Array | null, from: number, to: number, stepBase: number, stride: number): void {
  const { E, W, b, C, d, isTarget, classWeight, firstTarget } = s;
  const multi = s.multi === 1;
  const weighted = classWeight.length > 0;
  const h = new Float64Array(d);
  const dh = new Float64Array(d);
  const g = new Float64Array(C);
  const { indptr, indices, values } = x;
  for (let k = from; k < to; k++) {
    const row = visit[k]!;
    const r = targetRow === null ? row : targetRow[k]!;
    const lr = s.lr0 * Math.max(1e-4, 1 - (stepBase + (k - from) * stride) / s.total);
    const start = indptr[row]!;
    const end = indptr[row + 1]!;
    h.fill(0);
    for (let i = start; i < end; i++) {
      const e = indices[i]! * d;
      const v = values[i]!;
      for (let j = 0; j < d; j++) h[j]! += v * E[e + j]!;
    }
    // g = p - target for the output layer on h.
    let max = -Infinity;
    for (let c = 0; c < C; c++) {
      let z = b[c]!;
      for (let j = 0; j < d; j++) z += W[c * d + j]! * h[j]!;
      g[c] = z;
      if (z > max) max = z;
    }
    if (multi) {
      for (let c = 0; c < C; c++) g[c] = 1 / (1 + Math.exp(-g[c]!)) - isTarget[r * C + c]!;
      if (weighted) for (let c = 0; c < C; c++) if (isTarget[r * C + c] === 1) g[c]! *= classWeight[c]!;
    } else {
      let sum = 0;
      for (let c = 0; c < C; c++) sum += g[c] = Math.exp(g[c]! - max);
      for (let c = 0; c < C; c++) g[c] = g[c]! / sum - isTarget[r * C + c]!;
      if (weighted) for (let c = 0; c < C; c++) g[c]! *= classWeight[firstTarget[r]!]!;
    }
    dh.fill(0);
    for (let c = 0; c < C; c++) {
      const gc = g[c]!;
      if (gc === 0) continue;
      for (let j = 0; j < d; j++) {
        dh[j]! += W[c * d + j]! * gc;
        W[c * d + j]! -= lr * gc * h[j]!;
      }
      b[c]! -= lr * gc;
    }
    for (let i = start; i < end; i++) {
      const e = indices[i]! * d;
      const v = lr * values[i]!;
      for (let j = 0; j < d; j++) E[e + j]! -= v * dh[j]!;
    }
  }
}

const IDLE = 0;
const RUN = 1;
const EXIT = 2;

// The helper: the kernel above from its source text, told what to do through `ctrl` ([state])
// and `job` ([from, to, stepBase, stride]); it runs rows in slices so that an EXIT (a cancelled
// or failed fit) takes effect within one slice.
const helperSource = (kernel: string): string => `
const { workerData } = require('node:worker_threads');
const fastTextSteps = (${kernel});
const { state, x, order, ctrl, job } = workerData;
const c = new Int32Array(ctrl);
const p = new Float64Array(job);
for (;;) {
  Atomics.wait(c, 0, ${IDLE});
  const st = Atomics.load(c, 0);
  if (st === ${EXIT}) break;
  if (st !== ${RUN}) continue;
  const [from, to, stepBase, stride] = p;
  for (let k = from; k < to && Atomics.load(c, 0) === ${RUN}; k += 2048) {
    fastTextSteps(state, x, order, null, k, Math.min(to, k + 2048), stepBase + (k - from) * stride, stride);
  }
  Atomics.compareExchange(c, 0, ${RUN}, ${IDLE});
  Atomics.notify(c, 0);
}
`;

/** Options of {@link trainFastText}. */
export interface TrainFastTextOptions {
  epochs: number;
  rng: SeededRandom;
  /** Threads (1 or 2); default 2 on a machine with two or more cores when `stored` holds at least {@link FASTTEXT_PARALLEL_MIN_NNZ} features. */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: { stage: 'fit'; done: number; total: number }) => void;
}

/** The threads a fit over `nnz` stored features uses when not told. */
export function fastTextThreads(nnz: number): number {
  return nnz >= FASTTEXT_PARALLEL_MIN_NNZ ? Math.min(2, os.availableParallelism()) : 1;
}

/**
 * Trains `state` in place for `epochs` over the rows of `stored` (the first rows, hashed once)
 * and, past them, rows hashed again by `featurizer` each epoch; returns the threads used. The
 * parameters must already be on shared memory for two threads (see {@link shareFastTextState}).
 */
export async function trainFastText(state: FastTextState, stored: CsrMatrix, featurizer: HashedFeaturizer, rowCount: number, o: TrainFastTextOptions): Promise<number> {
  const N = rowCount;
  const threads = Math.max(1, Math.min(2, o.threads ?? fastTextThreads(stored.indptr[stored.rows]!)));
  const helper = threads > 1 && stored.rows > 1 ? new FastTextHelper(state, stored) : undefined;
  const report = Math.max(1, Math.floor(N / 10));
  const [zero, one] = [new Int32Array(1), new Int32Array(1)];
  const single = new Int32Array(2);
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = o.rng.permutation(N);
      const stepBase = epoch * N;
      // With a helper: the stored rows of this epoch's order go first, the helper taking the back
      // half of them while this thread runs the front half and then the rows hashed again.
      let mine = N;
      if (helper) {
        const storedOrder = helper.order;
        let s = 0;
        const rest: number[] = [];
        for (const r of order) {
          if (r < stored.rows) storedOrder[s++] = r;
          else rest.push(r);
        }
        const half = Math.floor(s / 2);
        // Each thread's steps spread over the whole epoch, so both follow the learning-rate schedule.
        if (s > half) helper.start(half, s, stepBase, N / (s - half));
        order.set(storedOrder.subarray(0, half));
        order.set(rest, half);
        mine = half + rest.length;
      }
      const stride = N / mine;
      for (let k = 0; k < mine; ) {
        const end = Math.min(mine, k + report);
        // Stored rows in one call; a row past them is hashed now and stepped alone.
        while (k < end) {
          let j = k;
          while (j < end && order[j]! < stored.rows) j++;
          if (j > k) fastTextSteps(state, stored, order, null, k, j, stepBase + k * stride, stride);
          if (j < end) {
            const r = order[j]!;
            const { idx, val, nnz } = featurizer.row(r);
            single[1] = nnz;
            one[0] = r;
            fastTextSteps(state, { indptr: single, indices: idx, values: val }, zero, one, 0, 1, stepBase + j * stride, stride);
            j++;
          }
          k = j;
        }
        o.onProgress?.({ stage: 'fit', done: stepBase + Math.min(N, k * stride), total: o.epochs * N });
        await new Promise<void>((resolve) => setImmediate(resolve));
        throwIfCancelled(o.signal, 'fitting fasttext');
      }
      if (helper) await helper.finish();
    }
  } finally {
    helper?.close();
  }
  o.onProgress?.({ stage: 'fit', done: o.epochs * N, total: o.epochs * N });
  return helper ? 2 : 1;
}

/** `state` with its parameters moved to shared memory (a helper thread updates them in place). */
export function shareFastTextState(state: FastTextState): FastTextState {
  return { ...state, E: sharedCopy(state.E, (b) => new Float32Array(b)), W: sharedCopy(state.W, (b) => new Float32Array(b)), b: sharedCopy(state.b, (b) => new Float32Array(b)) };
}

/** The second thread: the kernel over a share of the stored rows, on shared parameters. */
class FastTextHelper {
  /** This epoch's stored rows in visiting order (the helper reads its share from here). */
  readonly order: Int32Array;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(8));
  private readonly job = new Float64Array(new SharedArrayBuffer(32));
  private readonly worker: Worker;
  private failure: Error | undefined;
  private closed = false;

  constructor(state: FastTextState, stored: CsrMatrix) {
    this.order = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, stored.rows)));
    const x = { indptr: sharedCopy(stored.indptr, (b) => new Int32Array(b)), indices: sharedCopy(stored.indices, (b) => new Int32Array(b)), values: sharedCopy(stored.values, (b) => new Float32Array(b)) };
    const shared = { ...state, isTarget: sharedCopy(state.isTarget, (b) => new Uint8Array(b)), firstTarget: sharedCopy(state.firstTarget, (b) => new Int32Array(b)) };
    if (!(state.E.buffer instanceof SharedArrayBuffer && state.W.buffer instanceof SharedArrayBuffer && state.b.buffer instanceof SharedArrayBuffer)) {
      throw new Error('fasttext: two threads need the parameters on shared memory (shareFastTextState)');
    }
    this.worker = new Worker(helperSource(fastTextSteps.toString()), { eval: true, workerData: { state: shared, x, order: this.order, ctrl: this.ctrl.buffer, job: this.job.buffer } });
    // The helper must never keep a finished program alive.
    this.worker.unref();
    this.worker.on('error', (err) => (this.failure = err));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.failure ??= new Error(`fasttext: the helper thread exited (code ${code})`);
    });
  }

  start(from: number, to: number, stepBase: number, stride: number): void {
    this.job.set([from, to, stepBase, stride]);
    Atomics.store(this.ctrl, 0, RUN);
    Atomics.notify(this.ctrl, 0);
  }

  /** Resolves once the helper has finished its share of the epoch; polls, so this thread's event loop stays free. */
  async finish(): Promise<void> {
    while (Atomics.load(this.ctrl, 0) === RUN) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
  }

  close(): void {
    this.closed = true;
    Atomics.store(this.ctrl, 0, EXIT);
    Atomics.notify(this.ctrl, 0);
    void this.worker.terminate();
  }
}
