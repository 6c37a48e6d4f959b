import * as tf from '@tensorflow/tfjs-core';
import {
  gruBackward,
  gruForward,
  lstmBackward,
  lstmForward,
  simpleBackward,
  simpleForward,
  type ForwardResult,
  type InputGradients,
  type InputProjection,
  type RecurrentActivation,
  type SavedActivations,
  type SimpleActivation,
} from './sequence.js';

// Each op is one tape entry for the whole sequence: tf.customGrad with a forward that runs the
// WebAssembly kernel over the entire sequence and a gradient that runs the hand-written
// backward pass through time. customGrad allows one output tensor, so the outputs travel packed
// along the time axis ([sequence | h | c]) and are sliced apart; slicing's gradient routes each
// part's gradient back into the packed one. The forward's saved activations stay in plain
// arrays held by the closure (no tensors to leak); a gradient asked for without them (a forward
// run outside training) recomputes the forward once.

/** Outputs of a recurrent op. */
export interface RecurrentOpResult {
  /** Output of every step `[batch, steps, units]`. */
  sequence: tf.Tensor3D;
  /** Final hidden state `[batch, units]`. */
  h: tf.Tensor2D;
  /** Final cell state `[batch, units]` (LSTM only). */
  c?: tf.Tensor2D;
}

/** Options shared by the recurrent ops. */
export interface RecurrentOpOptions {
  /** `[batch, steps]`, 0 = padding (state carried over). */
  mask?: tf.Tensor2D | null;
  /** Keep the activations for a gradient (training). Default true. */
  save?: boolean;
}

type OpBody = (...inputs: tf.Tensor[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor[] };

// tf.customGrad's typing passes the save function among the inputs; these ops never use it.
function customOp(body: OpBody): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => tf.Tensor;
}

function values(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

function maskValues(mask: tf.Tensor2D | null | undefined): Float32Array | undefined {
  if (!mask) return undefined;
  return (mask.dtype === 'float32' ? mask.dataSync() : Float32Array.from(mask.dataSync())) as Float32Array;
}

function unpack(packed: tf.Tensor3D, B: number, T: number, H: number, states: number): RecurrentOpResult {
  const sequence = tf.slice(packed, [0, 0, 0], [B, T, H]) as tf.Tensor3D;
  const h = tf.reshape(tf.slice(packed, [0, T, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
  const out: RecurrentOpResult = { sequence, h };
  if (states === 2) out.c = tf.reshape(tf.slice(packed, [0, T + 1, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
  return out;
}

function pack(f: ForwardResult, B: number, T: number, H: number): Float32Array {
  const states = f.c ? 2 : 1;
  const out = new Float32Array(B * (T + states) * H);
  for (let b = 0; b < B; b++) {
    const base = b * (T + states) * H;
    out.set(f.sequence.subarray(b * T * H, (b + 1) * T * H), base);
    out.set(f.h.subarray(b * H, (b + 1) * H), base + T * H);
    if (f.c) out.set(f.c.subarray(b * H, (b + 1) * H), base + (T + 1) * H);
  }
  return out;
}

// Splits the packed gradient back into the sequence's and each state's, and drops the
// sequence part when it is all zeros (only the last state was used).
function unpackGradient(dy: Float32Array, B: number, T: number, H: number, states: number) {
  const dSequence = new Float32Array(B * T * H);
  const dH = new Float32Array(B * H);
  const dC = states === 2 ? new Float32Array(B * H) : undefined;
  let any = false;
  for (let b = 0; b < B; b++) {
    const base = b * (T + states) * H;
    const seq = dy.subarray(base, base + T * H);
    dSequence.set(seq, b * T * H);
    if (!any) for (let i = 0; i < seq.length; i++) if (seq[i] !== 0) { any = true; break; }
    dH.set(dy.subarray(base + T * H, base + (T + 1) * H), b * H);
    if (dC) dC.set(dy.subarray(base + (T + 1) * H, base + (T + 2) * H), b * H);
  }
  return { dSequence: any ? dSequence : undefined, dH, dC };
}

/** A recurrent layer's inputs and input weights, for ops that form `x . W + b` themselves. */
export interface ProjectionTensors {
  /** Inputs `[batch, steps, D]`. */
  x: tf.Tensor3D;
  /** Input kernel `[D, gates * units]`. */
  kernel: tf.Tensor2D;
  /** Input bias `[gates * units]`; absent = none. */
  bias?: tf.Tensor1D | null;
}

/**
 * The first inputs of an op: either the projection `xp` itself or a {@link ProjectionTensors}
 * (then the kernels form xp in their own memory, which saves copying `[B, T, gates * H]` floats
 * and their gradient between TensorFlow.js and the kernels).
 */
type Source = tf.Tensor3D | ProjectionTensors;

interface Leading {
  tensors: tf.Tensor[];
  B: number;
  T: number;
  H: number;
  /** Kernel arguments from the leading tensors' values. */
  args(vals: tf.Tensor[]): { xp: Float32Array } | { input: InputProjection };
  /** Gradients of the leading tensors. */
  grads(g: InputGradients): tf.Tensor[];
}

function leading(src: Source, gates: number): Leading {
  if (src instanceof tf.Tensor) {
    if (src.rank !== 3) throw new Error(`recurrent op: xp must be [batch, steps, ${gates} * units], got shape [${src.shape.join(', ')}]`);
    const [B, T, W] = src.shape as [number, number, number];
    if (W % gates !== 0) throw new Error(`recurrent op: xp's last dimension ${W} is not ${gates} * units`);
    return {
      tensors: [src],
      B,
      T,
      H: W / gates,
      args: (vals) => ({ xp: values(vals[0]!) }),
      grads: (g) => [tf.tensor3d(g.dXp!, [B, T, W])],
    };
  }
  const { x, kernel, bias } = src;
  if (x.rank !== 3) throw new Error(`recurrent op: x must be [batch, steps, features], got shape [${x.shape.join(', ')}]`);
  const [B, T, D] = x.shape as [number, number, number];
  const [kD, W] = kernel.shape;
  if (kD !== D || W % gates !== 0) throw new Error(`recurrent op: input kernel [${kernel.shape.join(', ')}] does not fit x [${x.shape.join(', ')}] and ${gates} gates`);
  return {
    tensors: bias ? [x, kernel, bias] : [x, kernel],
    B,
    T,
    H: W / gates,
    args: (vals) => ({ input: { x: values(vals[0]!), kernel: values(vals[1]!), ...(bias ? { bias: values(vals[2]!) } : {}), inputDim: D } }),
    grads: (g) => {
      const p = g.input!;
      const out: tf.Tensor[] = [tf.tensor3d(p.dX, [B, T, D]), tf.tensor2d(p.dInputKernel, [D, W])];
      if (bias) out.push(tf.tensor1d(p.dInputBias));
      return out;
    },
  };
}

/**
 * The kernel arguments every cell takes: the shape, the input side (from the leading tensors),
 * and the recurrent kernel and h0 that follow them among the op's inputs.
 */
function sharedArgs(lead: Leading, inputs: tf.Tensor[], mask: Float32Array | undefined) {
  const n = lead.tensors.length;
  return { batch: lead.B, steps: lead.T, units: lead.H, kernel: values(inputs[n]!), h0: values(inputs[n + 1]!), mask, ...lead.args(inputs) };
}

/** Gradients every cell returns, in input order: the leading tensors', the recurrent kernel's and h0's. */
function sharedGrads(lead: Leading, g: InputGradients, gates: number): tf.Tensor[] {
  const { B, H } = lead;
  return [...lead.grads(g), tf.tensor2d(g.dKernel, [H, gates * H]), tf.tensor2d(g.dH0, [B, H])];
}

/**
 * LSTM over a whole sequence as one differentiable op. `source` is the input projection
 * `x . W + b` for every step (gates i, f, c, o) or a {@link ProjectionTensors}; `kernel` is the
 * recurrent kernel `[H, 4H]`. Gradients flow to the source tensors, `kernel`, `h0` and `c0`.
 */
export function lstmSequence(
  source: Source,
  kernel: tf.Tensor2D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
  recurrentActivation: RecurrentActivation,
  options: RecurrentOpOptions = {},
): RecurrentOpResult {
  const lead = leading(source, 4);
  const { B, T, H } = lead;
  const mask = maskValues(options.mask);
  const save = options.save ?? true;
  const op = customOp((...inputs) => {
    const args = { ...sharedArgs(lead, inputs, mask), c0: values(inputs[lead.tensors.length + 2]!), recurrentActivation };
    let fwd = lstmForward({ ...args, save });
    const value = tf.tensor3d(pack(fwd, B, T, H), [B, T + 2, H]);
    const gradFunc = (dy: tf.Tensor) => {
      if (!fwd.saved) fwd = lstmForward({ ...args, save: true });
      const g = lstmBackward({ ...args, forward: fwd as ForwardResult & { saved: SavedActivations }, ...unpackGradient(values(dy), B, T, H, 2) });
      return [...sharedGrads(lead, g, 4), tf.tensor2d(g.dC0!, [B, H])];
    };
    return { value, gradFunc };
  });
  return unpack(op(...lead.tensors, kernel, h0, c0) as tf.Tensor3D, B, T, H, 2);
}

/**
 * GRU over a whole sequence as one differentiable op. `source` = `x . W + b` (gates z, r, h) or
 * a {@link ProjectionTensors}; `kernel` `[H, 3H]`. With `resetAfter` (Keras' default) pass the
 * recurrent bias `[3H]`; without it, tf.layers' convention (reset gate before the candidate's
 * product).
 */
export function gruSequence(
  source: Source,
  kernel: tf.Tensor2D,
  h0: tf.Tensor2D,
  recurrentActivation: RecurrentActivation,
  resetAfter: boolean,
  recurrentBias: tf.Tensor1D | null,
  options: RecurrentOpOptions = {},
): RecurrentOpResult {
  const lead = leading(source, 3);
  const { B, T, H } = lead;
  const n = lead.tensors.length;
  if (resetAfter && !recurrentBias) throw new Error('gruSequence: resetAfter needs the recurrent bias [3 * units]');
  const mask = maskValues(options.mask);
  const save = options.save ?? true;
  const op = customOp((...inputs) => {
    // customGrad appends its save function to the inputs: take only what was passed.
    const brT = resetAfter ? inputs[n + 2] : undefined;
    const br = brT ? values(brT) : undefined;
    const args = { ...sharedArgs(lead, inputs, mask), recurrentActivation, resetAfter, ...(br ? { recurrentBias: br } : {}) };
    let fwd = gruForward({ ...args, save });
    const value = tf.tensor3d(pack(fwd, B, T, H), [B, T + 1, H]);
    const gradFunc = (dy: tf.Tensor) => {
      if (!fwd.saved) fwd = gruForward({ ...args, save: true });
      const g = gruBackward({ ...args, forward: fwd as ForwardResult & { saved: SavedActivations }, ...unpackGradient(values(dy), B, T, H, 1) });
      const grads = sharedGrads(lead, g, 3);
      if (brT) grads.push(tf.tensor1d(g.dRecurrentBias!));
      return grads;
    };
    return { value, gradFunc };
  });
  const packed = op(...lead.tensors, kernel, h0, ...(resetAfter ? [recurrentBias!] : []));
  return unpack(packed as tf.Tensor3D, B, T, H, 1);
}

/** SimpleRNN over a whole sequence as one differentiable op: `h' = act(xp_t + h . kernel)`. */
export function simpleSequence(
  source: Source,
  kernel: tf.Tensor2D,
  h0: tf.Tensor2D,
  activation: SimpleActivation,
  options: RecurrentOpOptions = {},
): RecurrentOpResult {
  const lead = leading(source, 1);
  const { B, T, H } = lead;
  const mask = maskValues(options.mask);
  const op = customOp((...inputs) => {
    const args = { ...sharedArgs(lead, inputs, mask), activation };
    const fwd = simpleForward(args);
    const value = tf.tensor3d(pack(fwd, B, T, H), [B, T + 1, H]);
    const gradFunc = (dy: tf.Tensor) => {
      const g = simpleBackward({ ...args, forward: fwd, ...unpackGradient(values(dy), B, T, H, 1) });
      return sharedGrads(lead, g, 1);
    };
    return { value, gradFunc };
  });
  return unpack(op(...lead.tensors, kernel, h0) as tf.Tensor3D, B, T, H, 1);
}
