import { recurrentRuntime, type KernelName, type RecurrentRuntime, type ResidentSource } from './runtime.js';
import { hasSideWork } from '../../side-work.js';

/** Gate activation of LSTM/GRU: `'hardSigmoid'` is tf.layers' default, `'sigmoid'` Keras'. */
export type RecurrentActivation = 'sigmoid' | 'hardSigmoid';
/** Output activation of a SimpleRNN. */
export type SimpleActivation = 'tanh' | 'relu' | 'linear';

const REC_KIND: Record<RecurrentActivation, number> = { sigmoid: 0, hardSigmoid: 1 };
const ACT_KIND: Record<SimpleActivation, number> = { tanh: 0, relu: 1, linear: 2 };

/** Shape of one call: `batch` rows, `steps` time steps, `units` hidden units. */
export interface SequenceShape {
  batch: number;
  steps: number;
  units: number;
}

/** What a forward pass keeps for its backward pass (plain arrays, no tensors). */
export interface SavedActivations {
  /** LSTM: activated gates `[B,T,4H]`; GRU: z, r, candidate `[B,T,3H]`. */
  gates: Float32Array;
  /** LSTM: cell state after each step `[B,T,H]`; GRU: the recurrent product's input or output for the candidate `[B,T,H]`. */
  aux?: Float32Array;
}

/** Result of a forward pass. */
export interface ForwardResult {
  /** Output at every step `[B,T,H]` (the carried h at padded steps). */
  sequence: Float32Array;
  /** Final h `[B,H]`. */
  h: Float32Array;
  /** Final c `[B,H]` (LSTM only). */
  c?: Float32Array;
  /** Present when the forward was asked to save. */
  saved?: SavedActivations;
}

export function check(name: string, values: ArrayLike<number> | undefined, expected: number): void {
  if (values !== undefined && values.length !== expected) {
    throw new Error(`recurrent kernel: ${name} has ${values.length} values, expected ${expected}`);
  }
}

// Work (multiply-adds) below which a call stays on one thread: waking the helper costs
// microseconds, a call this small costs about as much.
const PARALLEL_MIN_WORK = 1 << 19;

/** A kernel argument: a plain value, or a pointer to per-row data `stride` floats per batch row. */
type Arg = number | { ptr: number; stride: number };

// A call's numeric arguments for rows r0..r0+n-1: the row count first, row pointers offset.
function resolveArgs(args: Arg[], r0: number, n: number): number[] {
  return [n, ...args.map((a) => (typeof a === 'number' ? a : a.ptr === 0 ? 0 : a.ptr + r0 * a.stride * 4))];
}

/** A pointer to per-row data, `stride` floats per batch row, for {@link callRows}. */
function row(ptr: number, stride: number): Arg {
  return { ptr, stride };
}

/**
 * Calls `name` over the batch, its rows split between the runtime's threads when the work is
 * worth it. The first argument of every sequence kernel is the number of rows; row-indexed
 * pointers are offset to each thread's first row (0 stays 0: "absent").
 */
function callRows(rt: RecurrentRuntime, name: KernelName, rows: number, work: number, args: Arg[]): void {
  if (rows < 2 || work < PARALLEL_MIN_WORK || rt.threads < 2) {
    rt.call(name, resolveArgs(args, 0, rows));
    return;
  }
  const half = Math.ceil(rows / 2);
  rt.parallel([
    [name, resolveArgs(args, 0, half)],
    [name, resolveArgs(args, half, rows - half)],
  ]);
}

/** Row blocks per direction of a bidirectional layer run beside side work (see {@link bidirectionalForward}). */
const SIDE_WORK_BLOCKS = 4;

/**
 * `[first row, rows]` of at most `blocks` blocks of `rows` rows. Block sizes are multiples of 4:
 * the GEMM takes rows four at a time and a leftover row alone (another order of additions), so
 * every row is computed exactly as in one call over all rows.
 */
function rowBlocks(rows: number, blocks: number): Array<[number, number]> {
  const size = Math.ceil(rows / Math.max(1, blocks) / 4) * 4;
  const out: Array<[number, number]> = [];
  for (let r0 = 0; r0 < rows; r0 += size) out.push([r0, Math.min(size, rows - r0)]);
  return out;
}

/** A forward kernel call laid out in the runtime's memory, and where its outputs will be. */
interface PreparedForward {
  name: KernelName;
  batch: number;
  work: number;
  args: Arg[];
  out: { B: number; T: number; H: number; G: number; hseq: number; hT: number; cT?: number; gates?: number; aux?: number };
}

// The buffers every forward kernel takes: initial state, mask, outputs and (when saving for a
// backward pass) the activated gates [B,T,G] and one auxiliary [B,T,H] per step.
function stateBuffers(rt: RecurrentRuntime, a: SequenceShape & { h0: ArrayLike<number>; mask?: ArrayLike<number>; save: boolean }, G: number) {
  const { batch: B, steps: T, units: H } = a;
  return {
    h0: rt.put(a.h0),
    mask: a.mask ? rt.put(a.mask) : 0,
    hseq: rt.alloc(B * T * H),
    hT: rt.alloc(B * H),
    gates: a.save ? rt.alloc(B * T * G) : 0,
    aux: a.save ? rt.alloc(B * T * H) : 0,
  };
}

function run(rt: RecurrentRuntime, p: PreparedForward): PreparedForward {
  callRows(rt, p.name, p.batch, p.work, p.args);
  return p;
}

// The outputs of a forward call, copied out of the runtime's memory.
function collect(rt: RecurrentRuntime, p: PreparedForward): ForwardResult {
  const { B, T, H, G, hseq, hT, cT, gates, aux } = p.out;
  return {
    sequence: rt.take(hseq, B * T * H),
    h: rt.take(hT, B * H),
    ...(cT ? { c: rt.take(cT, B * H) } : {}),
    ...(gates ? { saved: { gates: rt.take(gates, B * T * G), aux: rt.take(aux!, B * T * H) } } : {}),
  };
}

// Lays `K x N` floats at `src` (row stride `ldb`) out as the kernels' packed panels.
function packed(rt: RecurrentRuntime, src: number, K: number, N: number, ldb = N): number {
  const out = rt.alloc(K * N);
  rt.exports.pack_b(K, N, src, ldb, out);
  return out;
}

// The transpose of `K x N` at `src`, packed (the backward pass multiplies by Uᵀ).
function packedTranspose(rt: RecurrentRuntime, src: number, K: number, N: number): number {
  const t = rt.alloc(K * N);
  rt.exports.transpose(K, N, src, t);
  return packed(rt, t, N, K);
}

export function withRuntime<T>(fn: (rt: RecurrentRuntime) => T): T {
  const rt = recurrentRuntime();
  rt.reset();
  return fn(rt);
}

/**
 * The input side of a recurrent layer, for kernels that form `xp = x . W + b` themselves (in
 * their own memory, in one matrix multiply) instead of receiving it: saves copying the
 * `[B,T,gates*H]` projection and its gradient between TensorFlow.js and the kernels.
 */
export interface InputProjection {
  /** Inputs `[B,T,D]`. */
  x: ArrayLike<number>;
  /** Input kernel `[D, gates*H]`. */
  kernel: ArrayLike<number>;
  /** Input bias `[gates*H]`; absent = none. */
  bias?: ArrayLike<number>;
  /** D. */
  inputDim: number;
}

/** Gradients of an {@link InputProjection}'s parts. */
export interface InputProjectionGradients {
  dX: Float32Array;
  dInputKernel: Float32Array;
  dInputBias: Float32Array;
}

/**
 * `C[M,N] (+)= A[M,K] . Bp` (`gemm_p`) or `Aᵀ . Bp` with A stored `[K,M]` (`gemm_tn_p`), C's rows
 * split between the runtime's threads when the work is worth it.
 */
function splitGemm(rt: RecurrentRuntime, kernel: 'gemm_p' | 'gemm_tn_p', M: number, N: number, K: number, A: number, lda: number, Bp: number, C: number, ldc: number): void {
  if (M >= 8 && M * N * K >= PARALLEL_MIN_WORK && rt.threads >= 2) {
    const half = Math.ceil(M / 2);
    // Row m of the product reads row m of A, or (transposed) column m of A.
    const aOffset = kernel === 'gemm_p' ? half * lda * 4 : half * 4;
    rt.parallel([
      [kernel, [half, N, K, A, lda, Bp, C, ldc]],
      [kernel, [M - half, N, K, A + aOffset, lda, Bp, C + half * ldc * 4, ldc]],
    ]);
  } else {
    rt.exports[kernel](M, N, K, A, lda, Bp, C, ldc);
  }
}

/** Sums of the `cols` columns of `rows x cols` floats in the runtime's memory (a bias gradient). */
function columnSums(rt: RecurrentRuntime, ptr: number, rows: number, cols: number): Float32Array {
  const sums = new Float32Array(cols);
  const d = rt.view(ptr, rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) sums[j]! += d[r * cols + j]!;
  return sums;
}

/**
 * Input projections given as rows of a table: row `i` of xp (time-major within each batch row)
 * is row `ids[i]` of `table` (`gates*H` floats per row). An inference path whose inputs come
 * straight from an embedding projects the whole vocabulary once and passes this instead of xp:
 * the table is kept in the kernels' memory between calls (see `RecurrentRuntime.resident`) and
 * each step reads its row there, so no `[B,T,gates*H]` array is formed or copied.
 */
export interface GatheredProjection {
  /** `[V, gates*H]`: x.W + b of every id, as an array or made on demand. */
  table: Float32Array | ResidentSource;
  /** `[B*T]` ids, each in [0, V). */
  ids: ArrayLike<number>;
}

/** The kernels' `xp` and `ids` arguments: a per-row projection, or a resident table and per-row ids. */
interface ProjectionArgs {
  xp: Arg;
  ids: Arg;
}

function gatheredInputs(rt: RecurrentRuntime, B: number, T: number, G: number, g: GatheredProjection): ProjectionArgs {
  check('gathered.ids', g.ids, B * T);
  const floats = g.table instanceof Float32Array ? g.table.length : g.table.floats;
  const V = floats / G;
  if (!Number.isInteger(V)) throw new Error(`recurrent kernel: gathered table has ${floats} values, not a multiple of ${G}`);
  for (let i = 0; i < B * T; i++) {
    const id = g.ids[i]!;
    if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new RangeError(`recurrent kernel: gathered id ${id} outside [0, ${V})`);
  }
  // The table stays in the kernels' memory between calls; only the ids travel.
  const table = rt.resident(g.table);
  return { xp: table, ids: row(rt.putInts(g.ids), T) };
}

// xp for every step: given, read by id from a resident table, or formed from an InputProjection.
function projectedInputs(rt: RecurrentRuntime, B: number, T: number, G: number, a: { xp?: ArrayLike<number>; gathered?: GatheredProjection; input?: InputProjection }): ProjectionArgs {
  if (a.xp) {
    check('xp', a.xp, B * T * G);
    return { xp: row(rt.put(a.xp), T * G), ids: 0 };
  }
  if (a.gathered) return gatheredInputs(rt, B, T, G, a.gathered);
  return { xp: row(inputProjection(rt, B, T, G, a.input), T * G), ids: 0 };
}

// xp = x . W + b formed in the kernels' memory.
function inputProjection(rt: RecurrentRuntime, B: number, T: number, G: number, p: InputProjection | undefined): number {
  if (!p) throw new Error('recurrent kernel: pass xp, gathered or input');
  const D = p.inputDim;
  check('input.x', p.x, B * T * D);
  check('input.kernel', p.kernel, D * G);
  if (p.bias) check('input.bias', p.bias, G);
  const X = rt.put(p.x);
  const W = packed(rt, rt.put(p.kernel), D, G);
  const xp = rt.alloc(B * T * G);
  const v = rt.view(xp, B * T * G);
  if (p.bias) for (let r = 0; r < B * T; r++) v.set(p.bias as Float32Array, r * G);
  else v.fill(0);
  splitGemm(rt, 'gemm_p', B * T, G, D, X, D, W, xp, G);
  return xp;
}

// dX = dxp . Wᵀ, dW = xᵀ . dxp, db = column sums of dxp, from dxp [B*T, G] in the runtime's memory.
function projectionGradients(rt: RecurrentRuntime, rows: number, G: number, dxp: number, p: InputProjection): InputProjectionGradients {
  const D = p.inputDim;
  const X = rt.put(p.x);
  const dxpPacked = packed(rt, dxp, rows, G);
  const dW = rt.zeros(D * G);
  splitGemm(rt, 'gemm_tn_p', D, G, rows, X, D, dxpPacked, dW, G);
  const Wt = packedTranspose(rt, rt.put(p.kernel), D, G);
  const dX = rt.zeros(rows * D);
  splitGemm(rt, 'gemm_p', rows, D, G, dxp, G, Wt, dX, D);
  const db = columnSums(rt, dxp, rows, G);
  return { dX: rt.take(dX, rows * D), dInputKernel: rt.take(dW, D * G), dInputBias: db };
}

/** The input side's gradients: of the projection's parts when the call formed it, else of xp. */
function inputSideGradients(rt: RecurrentRuntime, rows: number, G: number, dxp: number, input: InputProjection | undefined): Pick<InputGradients, 'dXp' | 'input'> {
  return input ? { input: projectionGradients(rt, rows, G, dxp, input) } : { dXp: rt.take(dxp, rows * G) };
}

/** Arguments of {@link lstmForward}. */
export interface LstmForwardArgs extends SequenceShape {
  /** Input projection x.W + b `[B,T,4H]`, gates i, f, c, o (or pass `input`). */
  xp?: ArrayLike<number>;
  /** xp as rows of a projected table (inference; see {@link GatheredProjection}). */
  gathered?: GatheredProjection;
  /** The layer's inputs and input weights, to form xp here instead. */
  input?: InputProjection;
  /** Recurrent kernel `[H,4H]`. */
  kernel: ArrayLike<number>;
  h0: ArrayLike<number>;
  c0: ArrayLike<number>;
  /** `[B,T]`, 0 = padding; absent = no padding. */
  mask?: ArrayLike<number>;
  recurrentActivation: RecurrentActivation;
  /** Keep what the backward pass needs. */
  save: boolean;
}

/** LSTM over a whole sequence in one call. */
export function lstmForward(a: LstmForwardArgs): ForwardResult {
  return withRuntime((rt) => collect(rt, run(rt, prepareLstm(rt, a))));
}

function prepareLstm(rt: RecurrentRuntime, a: LstmForwardArgs): PreparedForward {
  const { batch: B, steps: T, units: H } = a;
  const G = 4 * H;
  check('kernel', a.kernel, H * G);
  check('h0', a.h0, B * H);
  check('c0', a.c0, B * H);
  check('mask', a.mask, B * T);
  const { xp, ids } = projectedInputs(rt, B, T, G, a);
  const U = packed(rt, rt.put(a.kernel), H, G);
  const { h0, mask, hseq, hT, gates, aux: cseq } = stateBuffers(rt, a, G);
  const c0 = rt.put(a.c0);
  const cT = rt.alloc(B * H);
  const z = rt.alloc(B * G);
  const h = rt.alloc(B * H);
  const c = rt.alloc(B * H);
  return {
    name: 'lstm_forward',
    batch: B,
    work: B * T * H * G,
    args: [
      T, H, xp, ids, U, row(h0, H), row(c0, H), row(mask, T), REC_KIND[a.recurrentActivation],
      row(hseq, T * H), row(hT, H), row(cT, H), row(gates, T * G), row(cseq, T * H), row(z, G), row(h, H), row(c, H),
    ],
    out: { B, T, H, G, hseq, hT, cT, ...(a.save ? { gates, aux: cseq } : {}) },
  };
}

/** Gradients of the outputs of a forward pass. */
export interface OutputGradients {
  /** Of every step's output `[B,T,H]`; absent when only the final state was used. */
  dSequence?: ArrayLike<number>;
  /** Of the final h `[B,H]`. */
  dH: ArrayLike<number>;
  /** Of the final c `[B,H]` (LSTM). */
  dC?: ArrayLike<number>;
}

/** Gradients with respect to a recurrent call's inputs. */
export interface InputGradients {
  /** Of the input projection `[B,T,gates*H]` (absent when the call was given `input`: see `input`). */
  dXp?: Float32Array;
  /** When the call was given an {@link InputProjection}: the gradients of its parts. */
  input?: InputProjectionGradients;
  /** Of the recurrent kernel `[H,gates*H]`. */
  dKernel: Float32Array;
  dH0: Float32Array;
  /** LSTM only. */
  dC0?: Float32Array;
  /** GRU with `resetAfter` only: of the recurrent bias `[3H]`. */
  dRecurrentBias?: Float32Array;
}

// dKernel = prevᵀ . d, summed over every (row, step): one [H, B*T] x [B*T, N] product read from
// prev [B*T, H] as it is, with d's columns [col, col + N) (row stride ldd) packed where they are.
function kernelGradient(rt: RecurrentRuntime, prev: number, d: number, rows: number, H: number, N: number, ldd: number, col: number): Float32Array {
  const dPacked = packed(rt, d + col * 4, rows, N, ldd);
  const out = rt.zeros(H * N);
  splitGemm(rt, 'gemm_tn_p', H, N, rows, prev, H, dPacked, out, N);
  return rt.take(out, H * N);
}

// h_{t-1} for every step: h0 for t = 0, else the output of step t - 1 (the carried h at padding).
function previousStates(rt: RecurrentRuntime, sequence: ArrayLike<number>, h0: ArrayLike<number>, B: number, T: number, H: number): number {
  const at = rt.alloc(B * T * H);
  const v = rt.view(at, B * T * H);
  const seq = sequence as Float32Array;
  const init = h0 as Float32Array;
  for (let b = 0; b < B; b++) {
    v.set(init.subarray(b * H, (b + 1) * H), b * T * H);
    if (T > 1) v.set(seq.subarray(b * T * H, (b * T + T - 1) * H), (b * T + 1) * H);
  }
  return at;
}

function asF32(values: ArrayLike<number>): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/** Arguments of {@link lstmBackward}: the forward's inputs and results plus output gradients. */
export interface LstmBackwardArgs extends SequenceShape, OutputGradients {
  kernel: ArrayLike<number>;
  /** The forward's {@link InputProjection}, if it was given one. */
  input?: InputProjection;
  h0: ArrayLike<number>;
  c0: ArrayLike<number>;
  mask?: ArrayLike<number>;
  recurrentActivation: RecurrentActivation;
  forward: ForwardResult & { saved: SavedActivations };
}

/** Backward pass through time of {@link lstmForward}. */
export function lstmBackward(a: LstmBackwardArgs): InputGradients {
  const { batch: B, steps: T, units: H } = a;
  const G = 4 * H;
  return withRuntime((rt) => {
    const Ut = packedTranspose(rt, rt.put(a.kernel), H, G);
    const c0 = rt.put(a.c0);
    const mask = a.mask ? rt.put(a.mask) : 0;
    const gates = rt.put(a.forward.saved.gates);
    const cseq = rt.put(a.forward.saved.aux!);
    const dhseq = a.dSequence ? rt.put(a.dSequence) : 0;
    const dhT = rt.put(a.dH);
    const dcT = a.dC ? rt.put(a.dC) : rt.zeros(B * H);
    const dz = rt.alloc(B * T * G);
    const dh0 = rt.alloc(B * H);
    const dc0 = rt.alloc(B * H);
    const dh = rt.alloc(B * H);
    const dc = rt.alloc(B * H);
    const dzt = rt.alloc(B * G);
    callRows(rt, 'lstm_backward', B, B * T * H * G, [
      T, H, Ut, row(c0, H), row(mask, T), REC_KIND[a.recurrentActivation], row(gates, T * G), row(cseq, T * H),
      row(dhseq, T * H), row(dhT, H), row(dcT, H), row(dz, T * G), row(dh0, H), row(dc0, H), row(dh, H), row(dc, H), row(dzt, G),
    ]);
    const prev = previousStates(rt, asF32(a.forward.sequence), asF32(a.h0), B, T, H);
    const dKernel = kernelGradient(rt, prev, dz, B * T, H, G, G, 0);
    return {
      ...inputSideGradients(rt, B * T, G, dz, a.input),
      dKernel,
      dH0: rt.take(dh0, B * H),
      dC0: rt.take(dc0, B * H),
    };
  });
}

/** Arguments of {@link gruForward}. */
export interface GruForwardArgs extends SequenceShape {
  /** x.W + b `[B,T,3H]`, gates z, r, h (or pass `input`). */
  xp?: ArrayLike<number>;
  /** xp as rows of a projected table (inference; see {@link GatheredProjection}). */
  gathered?: GatheredProjection;
  /** The layer's inputs and input weights, to form xp here instead. */
  input?: InputProjection;
  /** `[H,3H]`. */
  kernel: ArrayLike<number>;
  /** `resetAfter` only: the recurrent bias `[3H]`. */
  recurrentBias?: ArrayLike<number>;
  h0: ArrayLike<number>;
  mask?: ArrayLike<number>;
  recurrentActivation: RecurrentActivation;
  /** Keras' (and cuDNN's) convention: reset gate applied after the recurrent product. */
  resetAfter: boolean;
  save: boolean;
}

/** GRU over a whole sequence in one call. */
export function gruForward(a: GruForwardArgs): ForwardResult {
  return withRuntime((rt) => collect(rt, run(rt, prepareGru(rt, a))));
}

function prepareGru(rt: RecurrentRuntime, a: GruForwardArgs): PreparedForward {
  const { batch: B, steps: T, units: H } = a;
  const G = 3 * H;
  check('kernel', a.kernel, H * G);
  check('h0', a.h0, B * H);
  check('mask', a.mask, B * T);
  if (a.resetAfter) check('recurrentBias', a.recurrentBias ?? [], G);
  const { xp, ids } = projectedInputs(rt, B, T, G, a);
  const raw = rt.put(a.kernel);
  // resetAfter: one product with all of U; otherwise [U_z U_r] and U_h separately.
  const U = a.resetAfter ? packed(rt, raw, H, G) : packed(rt, raw, H, 2 * H, G);
  const Uh = a.resetAfter ? 0 : packed(rt, raw + 2 * H * 4, H, H, G);
  const br = a.resetAfter ? rt.put(a.recurrentBias!) : 0;
  const { h0, mask, hseq, hT, gates, aux } = stateBuffers(rt, a, G);
  const rec = rt.alloc(B * G);
  const h = rt.alloc(B * H);
  const rh = rt.alloc(B * H);
  const hx = rt.alloc(B * H);
  return {
    name: 'gru_forward',
    batch: B,
    work: B * T * H * G,
    args: [
      T, H, xp, ids, U, Uh, br, row(h0, H), row(mask, T), REC_KIND[a.recurrentActivation], a.resetAfter ? 1 : 0,
      row(hseq, T * H), row(hT, H), row(gates, T * G), row(aux, T * H), row(rec, G), row(h, H), row(rh, H), row(hx, H),
    ],
    out: { B, T, H, G, hseq, hT, ...(a.save ? { gates, aux } : {}) },
  };
}

/** Arguments of {@link gruBackward}. */
export interface GruBackwardArgs extends SequenceShape, OutputGradients {
  kernel: ArrayLike<number>;
  /** The forward's {@link InputProjection}, if it was given one. */
  input?: InputProjection;
  h0: ArrayLike<number>;
  mask?: ArrayLike<number>;
  recurrentActivation: RecurrentActivation;
  resetAfter: boolean;
  forward: ForwardResult & { saved: SavedActivations };
}

/** Backward pass through time of {@link gruForward}. */
export function gruBackward(a: GruBackwardArgs): InputGradients {
  const { batch: B, steps: T, units: H } = a;
  const G = 3 * H;
  return withRuntime((rt) => {
    const Ut = packedTranspose(rt, rt.put(a.kernel), H, G);
    const h0 = rt.put(a.h0);
    const mask = a.mask ? rt.put(a.mask) : 0;
    const gates = rt.put(a.forward.saved.gates);
    const aux = rt.put(a.forward.saved.aux!);
    const hseq = rt.put(a.forward.sequence);
    const dhseq = a.dSequence ? rt.put(a.dSequence) : 0;
    const dhT = rt.put(a.dH);
    const dxp = rt.alloc(B * T * G);
    const drec = rt.alloc(B * T * G);
    const dh0 = rt.alloc(B * H);
    const dh = rt.alloc(B * H);
    const dxt = rt.alloc(B * G);
    const dzr = rt.alloc(B * G);
    const drh = rt.alloc(B * H);
    callRows(rt, 'gru_backward', B, B * T * H * G, [
      T, H, Ut, row(h0, H), row(mask, T), REC_KIND[a.recurrentActivation], a.resetAfter ? 1 : 0, row(gates, T * G), row(aux, T * H),
      row(hseq, T * H), row(dhseq, T * H), row(dhT, H), row(dxp, T * G), row(drec, T * G), row(dh0, H), row(dh, H), row(dxt, G),
      row(dzr, G), row(drh, H),
    ]);
    const prev = previousStates(rt, asF32(a.forward.sequence), asF32(a.h0), B, T, H);
    let dKernel: Float32Array;
    let dRecurrentBias: Float32Array | undefined;
    if (a.resetAfter) {
      dKernel = kernelGradient(rt, prev, drec, B * T, H, G, G, 0);
      dRecurrentBias = columnSums(rt, drec, B * T, G);
    } else {
      // z and r columns come from h_{t-1}; the candidate's from r * h_{t-1} (saved as aux).
      const zr = kernelGradient(rt, prev, drec, B * T, H, 2 * H, G, 0);
      const cand = kernelGradient(rt, aux, drec, B * T, H, H, G, 2 * H);
      dKernel = new Float32Array(H * G);
      for (let i = 0; i < H; i++) {
        dKernel.set(zr.subarray(i * 2 * H, (i + 1) * 2 * H), i * G);
        dKernel.set(cand.subarray(i * H, (i + 1) * H), i * G + 2 * H);
      }
    }
    return {
      ...inputSideGradients(rt, B * T, G, dxp, a.input),
      dKernel,
      dH0: rt.take(dh0, B * H),
      ...(dRecurrentBias ? { dRecurrentBias } : {}),
    };
  });
}

/** Arguments of {@link simpleForward}. */
export interface SimpleForwardArgs extends SequenceShape {
  /** x.W + b `[B,T,H]` (or pass `input`). */
  xp?: ArrayLike<number>;
  /** xp as rows of a projected table (inference; see {@link GatheredProjection}). */
  gathered?: GatheredProjection;
  /** The layer's inputs and input weights, to form xp here instead. */
  input?: InputProjection;
  /** `[H,H]`. */
  kernel: ArrayLike<number>;
  h0: ArrayLike<number>;
  mask?: ArrayLike<number>;
  activation: SimpleActivation;
}

/** SimpleRNN over a whole sequence in one call (its backward needs only the outputs). */
export function simpleForward(a: SimpleForwardArgs): ForwardResult {
  return withRuntime((rt) => collect(rt, run(rt, prepareSimple(rt, a))));
}

function prepareSimple(rt: RecurrentRuntime, a: SimpleForwardArgs): PreparedForward {
  const { batch: B, steps: T, units: H } = a;
  check('kernel', a.kernel, H * H);
  check('h0', a.h0, B * H);
  check('mask', a.mask, B * T);
  const { xp, ids } = projectedInputs(rt, B, T, H, a);
  const U = packed(rt, rt.put(a.kernel), H, H);
  const { h0, mask, hseq, hT } = stateBuffers(rt, { ...a, save: false }, H);
  const h = rt.alloc(B * H);
  const tmp = rt.alloc(B * H);
  return {
    name: 'simple_forward',
    batch: B,
    work: B * T * H * H,
    args: [T, H, xp, ids, U, row(h0, H), row(mask, T), ACT_KIND[a.activation], row(hseq, T * H), row(hT, H), row(h, H), row(tmp, H)],
    out: { B, T, H, G: H, hseq, hT },
  };
}

/** A recurrent layer direction for {@link bidirectionalForward}: its cell and forward arguments (`save` is ignored). */
export type RecurrentForward =
  | { cell: 'lstm'; args: Omit<LstmForwardArgs, 'save'> }
  | { cell: 'gru'; args: Omit<GruForwardArgs, 'save'> }
  | { cell: 'simple'; args: SimpleForwardArgs };

/** How Bidirectional combines its two directions' outputs. */
export type MergeMode = 'concat' | 'sum' | 'ave' | 'mul';

/** Output of {@link bidirectionalForward}. */
export interface BidirectionalResult {
  /** Merged output of every step `[B,T,width]` (with `sequences`), else the merged final states `[B,width]`. */
  data: Float32Array;
  /** 2H for concat, else H. */
  width: number;
}

/**
 * Both directions of a bidirectional recurrent layer in one call, for inference: with two
 * threads the forward direction runs on this thread and the backward one on the helper (the
 * same arithmetic per row as one direction split by rows), and the two outputs are merged
 * straight from the kernels' memory. The backward direction's inputs are already in reversed
 * time; its outputs are flipped back in the merge, as Bidirectional does.
 */
export function bidirectionalForward(forward: RecurrentForward, backward: RecurrentForward, merge: MergeMode, sequences: boolean): BidirectionalResult {
  return withRuntime((rt) => {
    // Both tables must be resident before either direction allocates.
    const tables = [forward, backward].flatMap((d) => (d.args.gathered ? [d.args.gathered.table] : []));
    rt.residentAll(tables);
    const [f, b] = [forward, backward].map((d) => prepareDirection(rt, d)) as [PreparedForward, PreparedForward];
    if (f.out.B !== b.out.B || f.out.T !== b.out.T || f.out.H !== b.out.H) throw new Error('bidirectionalForward: the two directions differ in shape');
    if (f.work + b.work >= PARALLEL_MIN_WORK && rt.threads >= 2) {
      // With side work this thread starts late on its direction and the helper would idle at the
      // end: rows in blocks instead, which both threads take from one queue until it is empty.
      const blocks = hasSideWork() ? SIDE_WORK_BLOCKS : 1;
      rt.parallel([b, f].flatMap((d) => rowBlocks(d.batch, blocks).map(([r0, n]): [KernelName, number[]] => [d.name, resolveArgs(d.args, r0, n)])));
    } else {
      run(rt, f);
      run(rt, b);
    }
    const { B, T, H } = f.out;
    const steps = sequences ? T : 1;
    const n = B * steps;
    const width = merge === 'concat' ? 2 * H : H;
    const [pf, pb] = sequences ? [f.out.hseq, b.out.hseq] : [f.out.hT, b.out.hT];
    if (merge === 'concat') {
      // Row copies inside the kernels' memory, then one copy out: a loop over the units, or a
      // view per row copied into a separate array, cost more than the kernels' own work here.
      const merged = rt.alloc(n * width);
      for (let r = 0; r < n; r++) {
        const t = r % steps;
        rt.copyFloats(merged + r * width * 4, pf + r * H * 4, H);
        rt.copyFloats(merged + (r * width + H) * 4, pb + (r - t + (steps - 1 - t)) * H * 4, H);
      }
      return { data: rt.take(merged, n * width), width };
    }
    const yf = rt.view(pf, n * H);
    const yb = rt.view(pb, n * H);
    const data = new Float32Array(n * width);
    for (let r = 0; r < n; r++) {
      const t = r % steps;
      const fo = r * H;
      const bo = (r - t + (steps - 1 - t)) * H;
      const o = r * width;
      for (let j = 0; j < H; j++) {
        const x = yf[fo + j]!;
        const y = yb[bo + j]!;
        data[o + j] = merge === 'sum' ? x + y : merge === 'mul' ? x * y : (x + y) / 2;
      }
    }
    return { data, width };
  });
}

/** One recurrent direction (any cell) over a whole sequence, for inference. */
export function recurrentForward(d: RecurrentForward): ForwardResult {
  return withRuntime((rt) => collect(rt, run(rt, prepareDirection(rt, d))));
}

function prepareDirection(rt: RecurrentRuntime, d: RecurrentForward): PreparedForward {
  if (d.cell === 'lstm') return prepareLstm(rt, { ...d.args, save: false });
  if (d.cell === 'gru') return prepareGru(rt, { ...d.args, save: false });
  return prepareSimple(rt, d.args);
}

/** Arguments of {@link simpleBackward}. */
export interface SimpleBackwardArgs extends SequenceShape, OutputGradients {
  kernel: ArrayLike<number>;
  /** The forward's {@link InputProjection}, if it was given one. */
  input?: InputProjection;
  h0: ArrayLike<number>;
  mask?: ArrayLike<number>;
  activation: SimpleActivation;
  forward: ForwardResult;
}

/** Backward pass through time of {@link simpleForward}. */
export function simpleBackward(a: SimpleBackwardArgs): InputGradients {
  const { batch: B, steps: T, units: H } = a;
  return withRuntime((rt) => {
    const Ut = packedTranspose(rt, rt.put(a.kernel), H, H);
    const mask = a.mask ? rt.put(a.mask) : 0;
    const hseq = rt.put(a.forward.sequence);
    const dhseq = a.dSequence ? rt.put(a.dSequence) : 0;
    const dhT = rt.put(a.dH);
    const da = rt.alloc(B * T * H);
    const dh0 = rt.alloc(B * H);
    const dh = rt.alloc(B * H);
    const dat = rt.alloc(B * H);
    callRows(rt, 'simple_backward', B, B * T * H * H, [
      T, H, Ut, row(mask, T), ACT_KIND[a.activation], row(hseq, T * H), row(dhseq, T * H), row(dhT, H), row(da, T * H), row(dh0, H),
      row(dh, H), row(dat, H),
    ]);
    const prev = previousStates(rt, asF32(a.forward.sequence), asF32(a.h0), B, T, H);
    const dKernel = kernelGradient(rt, prev, da, B * T, H, H, H, 0);
    return {
      ...inputSideGradients(rt, B * T, H, da, a.input),
      dKernel,
      dH0: rt.take(dh0, B * H),
    };
  });
}

/**
 * `A [M,K] . B [K,N] (+ bias [N])` on the kernels' WebAssembly GEMM: the inference fast path's
 * dense layers and input projections, without a TensorFlow.js op per call. `activation: 'tanh'`
 * applies tanh to the product in the same call (vectorised; JavaScript's Math.tanh costs about as
 * much as the product itself for an attention layer's hidden units).
 */
export function gemmF32(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number, bias?: ArrayLike<number>, activation?: 'tanh'): Float32Array {
  check('a', a, M * K);
  check('b', b, K * N);
  if (bias) check('bias', bias, N);
  return withRuntime((rt) => {
    const C = gemmInto(rt, rt.put(a), rt.put(b), M, K, N, bias, activation);
    return rt.take(C, M * N);
  });
}

/**
 * `A [M,K] . B [K,N] (+ bias) (tanh)` of operands already in the runtime's memory, into a new
 * allocation (returned): {@link gemmF32}'s product for kernel sessions that keep the result there.
 */
export function gemmInto(rt: RecurrentRuntime, A: number, Bm: number, M: number, K: number, N: number, bias?: ArrayLike<number>, activation?: 'tanh'): number {
  const C = rt.alloc(M * N);
  const c = rt.view(C, M * N);
  if (bias) for (let m = 0; m < M; m++) c.set(bias as Float32Array, m * N);
  else c.fill(0);
  if (M < 16) {
    // A few rows (one sentence, one generation step): packing would cost as much as the product.
    rt.exports.gemm(M, N, K, A, Bm, C);
  } else {
    // M >= 16 here, so splitGemm's row minimum always holds.
    splitGemm(rt, 'gemm_p', M, N, K, A, K, packed(rt, Bm, K, N), C, N);
  }
  if (activation === 'tanh') rt.exports.tanh_inplace(M * N, C);
  return C;
}
