/**
 * The two sparse passes of the logistic-regression solver (`X v` and `X^T r`) split by rows
 * between the calling thread and one helper thread over shared memory, so an L-BFGS iteration
 * on a large corpus uses both cores. The helper runs a few lines of plain JavaScript (an eval
 * worker: no module loader, the same in source and built code) and is told what to do through
 * an `Int32Array` with `Atomics`, as the recurrent kernels' helper is.
 */
import os from 'node:os';
import { isMainThread, Worker } from 'node:worker_threads';
import type { CsrMatrix } from './sparse.js';

/** Stored features from which a solve is worth a second thread (below, the hand-off costs more than it saves). */
export const PARALLEL_MIN_NNZ = 1_000_000;

const IDLE = 0;
const RUN = 1;
const EXIT = 2;

// ctrl: [state, op, vector (0 theta, 1 d), output (0 z, 1 dz)]; op 1 = margins, 2 = gradient part.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { indptr, indices, values, C, F, from, to, ctrl, vectors, outputs, residual, part } = workerData;
const vecs = vectors.map((b) => new Float64Array(b));
const outs = outputs.map((b) => new Float64Array(b));
const res = new Float64Array(residual);
const grad = new Float64Array(part);
const ip = new Int32Array(indptr.buffer, indptr.byteOffset, indptr.length);
const ix = new Int32Array(indices.buffer, indices.byteOffset, indices.length);
const vs = new Float32Array(values.buffer, values.byteOffset, values.length);
const c = new Int32Array(ctrl);
function margins(theta, out) {
  for (let r = from; r < to; r++) {
    const o = r * C;
    for (let k = 0; k < C; k++) out[o + k] = theta[F * C + k];
    for (let j = ip[r]; j < ip[r + 1]; j++) {
      const w = ix[j] * C, v = vs[j];
      for (let k = 0; k < C; k++) out[o + k] += theta[w + k] * v;
    }
  }
}
function gradient() {
  grad.fill(0);
  for (let r = from; r < to; r++) {
    const o = r * C;
    for (let k = 0; k < C; k++) grad[F * C + k] += res[o + k];
    for (let j = ip[r]; j < ip[r + 1]; j++) {
      const w = ix[j] * C, v = vs[j];
      for (let k = 0; k < C; k++) grad[w + k] += res[o + k] * v;
    }
  }
}
for (;;) {
  Atomics.wait(c, 0, ${IDLE});
  const state = Atomics.load(c, 0);
  if (state === ${EXIT}) break;
  if (state !== ${RUN}) continue;
  if (c[1] === 1) margins(vecs[c[2]], outs[c[3]]); else gradient();
  Atomics.store(c, 0, ${IDLE});
  Atomics.notify(c, 0);
}
`;

/**
 * Threads the solver uses by default: `SEQLAB_THREADS` (1 or 2) on a main thread with 2+ cores,
 * else 1. One unless asked: on the shared 2-core machine it was measured on (load average
 * 30-40), the helper thread was descheduled at every hand-off and two threads were slower (a
 * 1.5M-feature problem: 9.8 s against 7.2 s; the 25,000-review tfidf-lr fit: the same wall
 * time for 60 CPU s against 46). It remains to be measured on an idle machine.
 */
export function solverThreads(): number {
  const env = Number(process.env.SEQLAB_THREADS);
  if (!Number.isInteger(env) || env < 2 || !isMainThread) return 1;
  return Math.max(1, Math.min(2, os.availableParallelism()));
}

const shared = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(8 * Math.max(1, n)));

/** `a` as an array on shared memory: itself when it already is, else a copy (a helper thread reads it without one). */
export function sharedCopy<T extends Int32Array | Float32Array | Uint8Array>(a: T, make: (b: SharedArrayBuffer) => T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const out = make(new SharedArrayBuffer(Math.max(4, a.byteLength)));
  out.set(a);
  return out;
}

/**
 * The solver's vectors on shared memory (`theta`, `d`, margins `z`, `dz`, `residual`) and, with
 * two threads, the helper that computes rows `mid..N` of each pass.
 */
export class SolverThreads {
  readonly theta: Float64Array;
  readonly d: Float64Array;
  readonly z: Float64Array;
  readonly dz: Float64Array;
  readonly residual: Float64Array;
  /** Rows `0..mid` are this thread's, `mid..N` the helper's (half the stored features each). */
  readonly mid: number;
  private readonly part: Float64Array;
  private readonly ctrl: Int32Array;
  private worker: Worker | undefined;

  constructor(
    private readonly x: CsrMatrix,
    C: number,
    threads: number,
    minNnz = PARALLEL_MIN_NNZ,
  ) {
    const P = x.cols * C + C;
    [this.theta, this.d, this.part] = [shared(P), shared(P), shared(P)];
    [this.z, this.dz, this.residual] = [shared(x.rows * C), shared(x.rows * C), shared(x.rows * C)];
    this.ctrl = new Int32Array(new SharedArrayBuffer(16));
    const half = x.indptr[x.rows]! / 2;
    let mid = 0;
    while (mid < x.rows && x.indptr[mid]! < half) mid++;
    this.mid = mid;
    if (threads < 2 || x.indptr[x.rows]! < minNnz || mid >= x.rows) return;
    try {
      const workerData = {
        indptr: sharedCopy(x.indptr, (b) => new Int32Array(b)),
        indices: sharedCopy(x.indices, (b) => new Int32Array(b)),
        values: sharedCopy(x.values, (b) => new Float32Array(b)),
        C,
        F: x.cols,
        from: mid,
        to: x.rows,
        ctrl: this.ctrl.buffer,
        vectors: [this.theta.buffer, this.d.buffer],
        outputs: [this.z.buffer, this.dz.buffer],
        residual: this.residual.buffer,
        part: this.part.buffer,
      };
      this.worker = new Worker(HELPER_SOURCE, { eval: true, workerData });
      // The helper must never keep a finished program alive.
      this.worker.unref();
    } catch {
      this.worker = undefined;
    }
  }

  /** Whether a helper thread takes part. */
  get parallel(): boolean {
    return this.worker !== undefined;
  }

  /** Starts the helper on rows `mid..N`: margins of `vector` into `output`, or (op 2) its part of the gradient. */
  private start(op: 1 | 2, vector = 0, output = 0): void {
    const c = this.ctrl;
    [c[1], c[2], c[3]] = [op, vector, output];
    Atomics.store(c, 0, RUN);
    Atomics.notify(c, 0);
  }

  private wait(): void {
    while (Atomics.load(this.ctrl, 0) === RUN) Atomics.wait(this.ctrl, 0, RUN, 1000);
  }

  /**
   * Runs `mine(from, to)` on this thread's rows while the helper does the rest of the pass, or
   * `mine(0, N)` alone without a helper. Only the shared vectors can be handed over.
   */
  margins(vector: Float64Array, output: Float64Array, mine: (from: number, to: number) => void): void {
    const v = vector === this.theta ? 0 : vector === this.d ? 1 : -1;
    const o = output === this.z ? 0 : output === this.dz ? 1 : -1;
    if (!this.worker || v < 0 || o < 0) return mine(0, this.x.rows);
    this.start(1, v, o);
    try {
      mine(0, this.mid);
    } finally {
      this.wait();
    }
  }

  /** `mine(from, to)` accumulates this thread's rows into the gradient; the helper's part is added after. */
  gradient(residual: Float64Array, grad: Float64Array, mine: (from: number, to: number) => void): void {
    if (!this.worker || residual !== this.residual) return mine(0, this.x.rows);
    this.start(2);
    try {
      mine(0, this.mid);
    } finally {
      this.wait();
    }
    const part = this.part;
    for (let i = 0; i < grad.length; i++) grad[i]! += part[i]!;
  }

  /** Stops the helper. */
  close(): void {
    if (!this.worker) return;
    Atomics.store(this.ctrl, 0, EXIT);
    Atomics.notify(this.ctrl, 0);
    void this.worker.terminate();
    this.worker = undefined;
  }
}
