import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  attentionPoolingForward,
  bidirectionalForward,
  gemmF32,
  recurrentForward,
  type GatheredProjection,
  type MergeMode,
  type RecurrentActivation,
  type RecurrentForward,
  type ResidentSource,
  type SimpleActivation,
} from '@seqlab/core';

// The inference fast path: a trained LayersModel's weights copied once into plain arrays and
// run layer by layer on @seqlab/core's WebAssembly kernels, with no TensorFlow.js op, tensor or
// tape per call. One sentence through a BiLSTM + attention classifier is a few dozen kernel
// calls instead of a few hundred tf ops. Only the layers seqlab's text models use are covered;
// `compileModel` returns undefined for anything else, and callers keep the tf.layers path.

/** A value flowing between layers: `[batch, ...shape]` row-major, with an optional `[batch, time]` mask. */
interface Value {
  data: Float32Array;
  shape: number[];
  mask?: Float32Array;
  /** Integer ids (input layer only). */
  ids?: Int32Array;
  /**
   * Set when `data` is rows of an embedding table picked by ids (row `i` of `data` is row
   * `ids[i]` of `table`): a recurrent layer reading it can gather precomputed projections.
   */
  rowsOf?: { ids: Int32Array; table: Float32Array };
}

/**
 * Largest projected-embedding table a recurrent layer keeps, in bytes (vocabulary x gates x
 * units x 4). Bigger vocabularies keep computing the input projection per call.
 */
export const MAX_PROJECTION_TABLE_BYTES = 64 * 2 ** 20;

type Step = (inputs: Value[]) => Value[];

interface NodeLike {
  inputTensors: tfl.SymbolicTensor[];
}

interface LayerLike {
  name: string;
  getClassName(): string;
  getWeights(): tf.Tensor[];
  inboundNodes: NodeLike[];
  output: tfl.SymbolicTensor | tfl.SymbolicTensor[];
  [key: string]: unknown;
}

interface CellLike {
  units: number;
  activation: { getClassName(): string };
  recurrentActivation?: { getClassName(): string };
  useBias: boolean;
}

interface RnnLike extends LayerLike {
  cell: CellLike;
  resetAfter?: boolean;
  goBackwards: boolean;
  returnSequences: boolean;
  returnState: boolean;
  stateful: boolean;
}

function weightsOf(layer: { getWeights(): tf.Tensor[] }): Float32Array[] {
  return layer.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
}

function applyActivation(name: string, v: Float32Array, width: number): boolean {
  if (name === 'linear') return true;
  if (name === 'relu') {
    for (let i = 0; i < v.length; i++) if (v[i]! < 0) v[i] = 0;
    return true;
  }
  if (name === 'tanh') {
    for (let i = 0; i < v.length; i++) v[i] = Math.tanh(v[i]!);
    return true;
  }
  if (name === 'sigmoid') {
    for (let i = 0; i < v.length; i++) v[i] = 1 / (1 + Math.exp(-v[i]!));
    return true;
  }
  if (name === 'softmax') {
    for (let r = 0; r < v.length; r += width) {
      let max = -Infinity;
      for (let j = 0; j < width; j++) max = Math.max(max, v[r + j]!);
      let sum = 0;
      for (let j = 0; j < width; j++) sum += v[r + j] = Math.exp(v[r + j]! - max);
      for (let j = 0; j < width; j++) v[r + j]! /= sum;
    }
    return true;
  }
  return false;
}

const DENSE_ACTIVATIONS = new Set(['linear', 'relu', 'tanh', 'sigmoid', 'softmax']);

function rows(shape: number[]): number {
  return shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/** A recurrent layer (not stateful, no returned states) as a step over `[B,T,D]` values. */
function recurrentStep(layer: RnnLike, stats: CompiledModelStats): ((x: Value) => Value) | undefined {
  const direction = recurrentDirection(layer, stats);
  if (!direction) return undefined;
  return (x) => {
    const out = recurrentForward(direction(x));
    const [B, T] = x.shape as [number, number, number];
    const H = layer.cell.units;
    if (layer.returnSequences) return { data: out.sequence, shape: [B, T, H], ...(x.mask ? { mask: x.mask } : {}) };
    return { data: out.h, shape: [B, H] };
  };
}

/** What a recurrent layer's kernel call is for an input value (its cell and arguments), or undefined when not covered. */
function recurrentDirection(layer: RnnLike, stats: CompiledModelStats): ((x: Value) => RecurrentForward) | undefined {
  if (layer.stateful || layer.returnState) return undefined;
  const kind = layer.getClassName();
  const cell = layer.cell;
  const recName = cell.recurrentActivation?.getClassName();
  const rec: RecurrentActivation | undefined = recName === 'sigmoid' || recName === 'hardSigmoid' ? recName : undefined;
  const actName = cell.activation.getClassName();
  if (kind === 'SimpleRNN') {
    if (!['tanh', 'relu', 'linear'].includes(actName)) return undefined;
  } else if (kind === 'LSTM' || kind === 'GRU') {
    if (!rec || actName !== 'tanh') return undefined;
  } else {
    return undefined;
  }
  const H = cell.units;
  const gates = kind === 'LSTM' ? 4 : kind === 'GRU' ? 3 : 1;
  const [kernel, recurrent, bias] = weightsOf(layer);
  const D = kernel!.length / (gates * H);
  // A reset-after GRU (Keras' convention) keeps an input and a recurrent bias row.
  const resetAfter = kind === 'GRU' && layer.resetAfter === true;
  const inputBias = resetAfter ? (bias ? bias.subarray(0, 3 * H) : undefined) : bias;
  const recurrentBias = resetAfter ? (bias ? bias.subarray(3 * H) : new Float32Array(3 * H)) : undefined;
  // Fed straight from an embedding, x.W + b of a token depends on its id only. Once the tokens
  // seen reach the vocabulary size (when computing x.W per token has cost as much as the whole
  // table would), the layer projects every embedding row once and then gathers rows instead of
  // multiplying: most of a small classifier's inference arithmetic. A one-off call (the CLI
  // scoring a sentence) never pays for the table; a server does after its first requests.
  // The table lives in the kernels' memory only: it is made there when first needed (and again
  // if the runtime drops it), so the process never holds a second copy.
  let projected: { table: ResidentSource; source: Float32Array } | undefined;
  let tokensSeen = 0;
  const projectionFor = (source: Float32Array): ResidentSource | undefined => {
    if (projected?.source === source) return projected.table;
    const V = source.length / D;
    if (V * gates * H * 4 > MAX_PROJECTION_TABLE_BYTES || tokensSeen < V) return undefined;
    const make = () => gemmF32(source, kernel!, V, D, gates * H, cell.useBias ? inputBias : undefined);
    projected = { table: { key: {}, floats: V * gates * H, make }, source };
    stats.projectionTables++;
    stats.projectionTableBytes += V * gates * H * 4;
    return projected.table;
  };
  return (x) => {
    const [B, T] = x.shape as [number, number, number];
    let mask = x.mask;
    if (layer.goBackwards && mask) mask = reverseTime(mask, B, T, 1);
    tokensSeen += B * T;
    const table = x.rowsOf ? projectionFor(x.rowsOf.table) : undefined;
    let projection: { xp: Float32Array } | { gathered: GatheredProjection };
    if (table) {
      projection = { gathered: { table, ids: layer.goBackwards ? reverseIds(x.rowsOf!.ids, B, T) : x.rowsOf!.ids } };
    } else {
      const input = layer.goBackwards ? reverseTime(x.data, B, T, D) : x.data;
      projection = { xp: gemmF32(input, kernel!, B * T, D, gates * H, cell.useBias ? inputBias : undefined) };
    }
    const h0 = new Float32Array(B * H);
    const common = { batch: B, steps: T, units: H, ...projection, kernel: recurrent!, h0, ...(mask ? { mask } : {}) };
    if (kind === 'LSTM') return { cell: 'lstm', args: { ...common, c0: new Float32Array(B * H), recurrentActivation: rec! } };
    if (kind === 'GRU') return { cell: 'gru', args: { ...common, recurrentActivation: rec!, resetAfter, ...(recurrentBias ? { recurrentBias } : {}) } };
    return { cell: 'simple', args: { ...common, activation: actName as SimpleActivation } };
  };
}

function reverseIds(ids: Int32Array, B: number, T: number): Int32Array {
  const out = new Int32Array(ids.length);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[b * T + (T - 1 - t)] = ids[b * T + t]!;
  return out;
}

function reverseTime(v: Float32Array, B: number, T: number, W: number): Float32Array {
  const out = new Float32Array(v.length);
  if (W === 1) {
    // A mask: one value per step (a subarray per value would cost more than the copy).
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[b * T + (T - 1 - t)] = v[b * T + t]!;
    return out;
  }
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out.set(v.subarray((b * T + t) * W, (b * T + t + 1) * W), (b * T + (T - 1 - t)) * W);
  return out;
}

/** An Embedding layer as a row lookup that remembers the ids (for projected tables) and the mask. */
function embeddingStep(layer: LayerLike): Step {
  const [table] = weightsOf(layer);
  const E = (layer.outputDim as number) ?? table!.length / (layer.inputDim as number);
  const maskZero = layer.maskZero === true;
  const V = table!.length / E;
  return ([x]) => {
    const ids = x!.ids ?? Int32Array.from(x!.data);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!(id >= 0 && id < V)) throw new RangeError(`embedding ${layer.name}: id ${id} outside [0, ${V})`);
    }
    // The rows are copied only if a consumer reads them: a recurrent layer that gathers from
    // its projected table never does.
    let rows: Float32Array | undefined;
    const value: Value = {
      get data(): Float32Array {
        if (!rows) {
          rows = new Float32Array(ids.length * E);
          for (let i = 0, o = 0; i < ids.length; i++, o += E) for (let k = 0, s = ids[i]! * E; k < E; k++) rows[o + k] = table![s + k]!;
        }
        return rows;
      },
      shape: [...x!.shape, E],
      rowsOf: { ids, table: table! },
    };
    if (maskZero) value.mask = Float32Array.from(ids, (id) => (id === 0 ? 0 : 1));
    else if (x!.mask) value.mask = x!.mask;
    return [value];
  };
}

/** A Dense layer as one GEMM over the last axis plus its activation (undefined for other activations). */
function denseStep(layer: LayerLike): Step | undefined {
  const [kernel, bias] = weightsOf(layer);
  const act = (layer.activation as { getClassName(): string }).getClassName();
  if (!DENSE_ACTIVATIONS.has(act)) return undefined;
  const units = layer.units as number;
  const inDim = kernel!.length / units;
  return ([x]) => {
    const M = rows(x!.shape);
    const out = gemmF32(x!.data, kernel!, M, inDim, units, bias, act === 'tanh' ? 'tanh' : undefined);
    if (act !== 'tanh') applyActivation(act, out, units);
    return [{ data: out, shape: [...x!.shape.slice(0, -1), units], ...(x!.mask ? { mask: x!.mask } : {}) }];
  };
}

/**
 * A Bidirectional recurrent layer: both directions in one kernel session (one per thread) and
 * merged there (see `bidirectionalForward`).
 */
function bidirectionalStep(layer: LayerLike, stats: CompiledModelStats): Step | undefined {
  const merge = layer.mergeMode as string;
  if (!['concat', 'sum', 'ave', 'mul'].includes(merge)) return undefined;
  const forwardLayer = layer.forwardLayer as RnnLike;
  const f = recurrentDirection(forwardLayer, stats);
  const b = recurrentDirection(layer.backwardLayer as RnnLike, stats);
  if (!f || !b) return undefined;
  const sequences = forwardLayer.returnSequences;
  return ([x]) => {
    const { data, width } = bidirectionalForward(f(x!), b(x!), merge as MergeMode, sequences);
    const [B, T] = x!.shape as [number, number];
    return [sequences ? { data, shape: [B, T, width], ...(x!.mask ? { mask: x!.mask } : {}) } : { data, shape: [B, width] }];
  };
}

/** seqlab's AttentionPooling layer: tanh scores, a masked softmax over time, a weighted sum (one kernel session). */
function attentionPoolingStep(layer: LayerLike): Step {
  const [kernel, bias, context] = weightsOf(layer);
  const units = layer.units as number;
  const withWeights = layer.returnAttentionWeights === true;
  return ([x]) => {
    const [B, T, F] = x!.shape as [number, number, number];
    const { pooled, weights } = attentionPoolingForward({ x: x!.data, batch: B, steps: T, features: F, units, kernel: kernel!, bias: bias!, context: context!, ...(x!.mask ? { mask: x!.mask } : {}) });
    const out: Value[] = [{ data: pooled, shape: [B, F] }];
    if (withWeights) out.push({ data: weights, shape: [B, T] });
    return out;
  };
}

/** One layer as a step on plain arrays, or undefined when the fast path does not cover it. */
function compileLayer(layer: LayerLike, stats: CompiledModelStats): Step | undefined {
  const cls = layer.getClassName();
  if (cls === 'Dropout' || cls === 'SpatialDropout1D' || cls === 'GaussianNoise') return (inputs) => [inputs[0]!];
  if (cls === 'Embedding') return embeddingStep(layer);
  if (cls === 'Dense') return denseStep(layer);
  if (cls === 'LSTM' || cls === 'GRU' || cls === 'SimpleRNN') {
    const step = recurrentStep(layer as RnnLike, stats);
    return step ? ([x]) => [step(x!)] : undefined;
  }
  if (cls === 'Bidirectional') return bidirectionalStep(layer, stats);
  if (cls === 'SeqlabAttentionPooling') return attentionPoolingStep(layer);
  return undefined;
}

/** What a {@link CompiledModel} has built for itself while running. */
export interface CompiledModelStats {
  /** Projected embedding tables built so far (one per recurrent layer direction fed by an embedding). */
  projectionTables: number;
  /** Their total size in bytes. */
  projectionTableBytes: number;
}

/**
 * A LayersModel compiled for the inference fast path (see the module comment). Inputs are
 * token ids `[batch, time]`; outputs come back in the model's output order as plain arrays.
 */
export class CompiledModel {
  private constructor(
    private readonly inputId: number,
    private readonly plan: Array<{ inputs: number[]; outputs: number[]; step: Step }>,
    private readonly outputIds: number[],
    /** Tables built while running (see {@link MAX_PROJECTION_TABLE_BYTES}). */
    readonly stats: CompiledModelStats,
  ) {}

  /**
   * Compiles a single-input model whose layers the fast path covers (embedding, dropout,
   * dense, LSTM/GRU/SimpleRNN and their Bidirectional wrappers, attention pooling), or returns
   * undefined.
   */
  static compile(model: tfl.LayersModel): CompiledModel | undefined {
    if (model.inputs.length !== 1) return undefined;
    // Token ids in: the input must feed embeddings only.
    const inputLayer = model.inputs[0]!.sourceLayer as unknown as { outboundNodes: Array<{ outboundLayer: { getClassName(): string } }> };
    if (!inputLayer.outboundNodes.every((n) => n.outboundLayer.getClassName() === 'Embedding')) return undefined;
    const idOf = (t: tfl.SymbolicTensor) => t.id;
    const plan: Array<{ inputs: number[]; outputs: number[]; step: Step }> = [];
    const stats: CompiledModelStats = { projectionTables: 0, projectionTableBytes: 0 };
    for (const raw of model.layers) {
      const layer = raw as unknown as LayerLike;
      if (layer.getClassName() === 'InputLayer') continue;
      if (layer.inboundNodes.length !== 1) return undefined;
      const step = compileLayer(layer, stats);
      if (!step) return undefined;
      const outs = Array.isArray(layer.output) ? layer.output : [layer.output];
      plan.push({ inputs: layer.inboundNodes[0]!.inputTensors.map(idOf), outputs: outs.map(idOf), step });
    }
    return new CompiledModel(idOf(model.inputs[0]!), plan, model.outputs.map(idOf), stats);
  }

  /** Runs the model on ids `[batch, time]` (row-major); returns each output's values. */
  predict(ids: Int32Array, batch: number, time: number): Float32Array[] {
    const values = new Map<number, Value>();
    values.set(this.inputId, { data: new Float32Array(0), ids, shape: [batch, time] });
    for (const node of this.plan) {
      const inputs = node.inputs.map((id) => {
        const v = values.get(id);
        if (!v) throw new Error('CompiledModel: a layer input was not computed (unsupported graph)');
        return v;
      });
      const outs = node.step(inputs);
      node.outputs.forEach((id, i) => values.set(id, outs[i]!));
    }
    return this.outputIds.map((id) => values.get(id)!.data);
  }
}
