import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { gruSequence, lstmSequence, recurrentKernelsAvailable, simpleSequence, UnsupportedError, type RecurrentActivation, type SimpleActivation } from '@seqlab/core';
import type { Kwargs } from './masking.js';

// Fused LSTM / GRU / SimpleRNN: subclasses of tf.layers' own recurrent layers whose `call` runs
// the whole sequence through @seqlab/core's WebAssembly kernels (one op and one tape entry per
// sequence instead of about ten ops per time step). They inherit everything else - weights,
// their names and shapes, build, masks, configs - so a model saved with either loads into the
// other: the classes serialize under tf.layers' own names ('LSTM', 'GRU', 'SimpleRNN'), and
// registering them replaces tf.layers' entries, so every model loaded after this module is
// imported (committed models, Bidirectional's inner layers) runs fused. Whatever the kernels do
// not cover (stateful layers, recurrent dropout while training, other activations) takes the
// stock path of the parent class, unchanged.

type RnnClass = (new (args: never) => tfl.RNN) & { className: string };

const STOCK_NAMES = ['LSTM', 'GRU', 'SimpleRNN'] as const;
type StockName = (typeof STOCK_NAMES)[number];

function registeredClass(name: StockName): RnnClass {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[name];
  if (!entry) throw new Error(`tf.layers has no registered ${name} class`);
  return entry[0] as unknown as RnnClass;
}

// tf.layers' own classes, captured before this module registers its subclasses in their place.
const STOCK: Record<StockName, RnnClass> = {
  LSTM: registeredClass('LSTM'),
  GRU: registeredClass('GRU'),
  SimpleRNN: registeredClass('SimpleRNN'),
};

/** Which implementation recurrent layers use. */
export type RecurrentImplementation = 'fused' | 'stock';

/** Extra constructor argument of the fused layers. */
export interface FusedRecurrentArgs {
  /**
   * `'fused'` (default): whole-sequence WebAssembly kernels; `'stock'`: tf.layers' step-by-step
   * ops. Saved in the config only when `'stock'`, so saved models stay readable by tf.layers.
   */
  implementation?: RecurrentImplementation | number;
}

// The shape of tf.layers' cells that the fused path reads (runtime fields of LSTMCell & co).
interface CellFields {
  units: number;
  kernel: tfl.LayerVariable;
  recurrentKernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  activation: { getClassName(): string };
  recurrentActivation?: { getClassName(): string };
  dropout: number;
  recurrentDropout: number;
}

interface RnnFields {
  name: string;
  cell: CellFields;
  /** GRU only: Keras' reset-after convention (bias [2, 3H]: input and recurrent rows). */
  resetAfter?: boolean;
  stateful: boolean;
  goBackwards: boolean;
  returnSequences: boolean;
  returnState: boolean;
}

function recurrentActivationOf(cell: CellFields): RecurrentActivation | undefined {
  const name = cell.recurrentActivation?.getClassName();
  return name === 'sigmoid' ? 'sigmoid' : name === 'hardSigmoid' ? 'hardSigmoid' : undefined;
}

function simpleActivationOf(cell: CellFields): SimpleActivation | undefined {
  const name = cell.activation.getClassName();
  return name === 'tanh' || name === 'relu' || name === 'linear' ? name : undefined;
}

/** The single input tensor of a call, or undefined when tf.layers passed several. */
function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | undefined {
  if (!Array.isArray(inputs)) return inputs;
  return inputs.length === 1 ? inputs[0] : undefined;
}

type Kind = 'lstm' | 'gru' | 'simple';

/**
 * Runs one fused recurrent call, or returns undefined when the stock path must run. Shared by
 * the three layer classes (which differ only in the cell's gates).
 */
function fusedCall(layer: RnnFields, kind: Kind, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] | undefined {
  const x = singleInput(inputs);
  const cell = layer.cell;
  const training = kwargs?.training === true;
  if (!x || x.rank !== 3 || layer.stateful) return undefined;
  if (kwargs?.constants != null) return undefined;
  if (training && cell.recurrentDropout > 0) return undefined;
  const recAct = recurrentActivationOf(cell);
  const simpleAct = simpleActivationOf(cell);
  if (kind === 'simple' ? !simpleAct : !recAct || cell.activation.getClassName() !== 'tanh') return undefined;
  if (!recurrentKernelsAvailable()) return undefined;

  const [B, T, D] = x.shape as [number, number, number];
  const H = cell.units;
  const initial = (kwargs?.initialState as tf.Tensor[] | null | undefined) ?? null;
  const rawMask = (Array.isArray(kwargs?.mask) ? (kwargs.mask as tf.Tensor[])[0] : (kwargs?.mask as tf.Tensor | null | undefined)) ?? null;

  let input = x;
  if (training && cell.dropout > 0 && cell.dropout < 1) {
    // tf.layers draws one mask per (row, feature) and uses it at every step.
    input = tf.mul(x, tf.expandDims(tf.dropout(tf.ones([B, D]), cell.dropout), 1));
  }
  let mask = rawMask ? (tf.cast(tf.reshape(rawMask, [B, T]), 'float32') as tf.Tensor2D) : null;
  if (layer.goBackwards) {
    input = tf.reverse(input, 1);
    if (mask) mask = tf.reverse(mask, 1);
  }
  // x . W + b is formed inside the op, in the kernels' memory (see ProjectionTensors).
  const bias = cell.bias?.read() ?? null;
  let inputBias: tf.Tensor1D | null = bias as tf.Tensor1D | null;
  let recurrentBias: tf.Tensor1D | null = null;
  if (kind === 'gru' && layer.resetAfter) {
    // Keras' layout: row 0 is the input bias, row 1 the recurrent one (inside the reset gate).
    if (bias) {
      const [inputRow, recurrentRow] = tf.unstack(bias);
      inputBias = inputRow as tf.Tensor1D;
      recurrentBias = recurrentRow as tf.Tensor1D;
    } else {
      recurrentBias = tf.zeros([3 * H]);
    }
  }
  const source = { x: input as tf.Tensor3D, kernel: cell.kernel.read() as tf.Tensor2D, bias: inputBias };
  const zeros = () => tf.zeros([B, H]) as tf.Tensor2D;
  const h0 = (initial?.[0] as tf.Tensor2D | undefined) ?? zeros();
  const options = { mask, save: training };
  const U = cell.recurrentKernel.read() as tf.Tensor2D;
  let result;
  if (kind === 'lstm') {
    const c0 = (initial?.[1] as tf.Tensor2D | undefined) ?? zeros();
    result = lstmSequence(source, U, h0, c0, recAct!, options);
  } else if (kind === 'gru') {
    result = gruSequence(source, U, h0, recAct!, layer.resetAfter === true, recurrentBias, options);
  } else {
    result = simpleSequence(source, U, h0, simpleAct!, options);
  }
  const output = layer.returnSequences ? result.sequence : result.h;
  if (!layer.returnState) return output;
  return result.c ? [output, result.h, result.c] : [output, result.h];
}

function implementationOf(args: FusedRecurrentArgs): RecurrentImplementation {
  return args.implementation === 'stock' ? 'stock' : 'fused';
}

// tf.layers' RNN constructors mutate and keep their args; ours strip the string-valued
// `implementation` (tf.layers uses a numeric field of that name) before handing them over.
function stockArgs<T extends object>(args: T & FusedRecurrentArgs): never {
  const { implementation, ...rest } = args;
  return (typeof implementation === 'number' ? { ...rest, implementation } : rest) as never;
}

/** Arguments of {@link FusedLSTM}: tf.layers' LSTM arguments plus {@link FusedRecurrentArgs}. */
export type FusedLSTMArgs = Omit<Parameters<typeof tfl.layers.lstm>[0], 'implementation'> & FusedRecurrentArgs;
/** Arguments of {@link FusedGRU}. */
export type FusedGRUArgs = Omit<Parameters<typeof tfl.layers.gru>[0], 'implementation'> & FusedRecurrentArgs;
/** Arguments of {@link FusedSimpleRNN}. */
export type FusedSimpleRNNArgs = Omit<Parameters<typeof tfl.layers.simpleRNN>[0], 'implementation'> & FusedRecurrentArgs;

/** Runs a call on the fused kernels when the layer uses them and they cover it, else on the stock path. */
function fusedOrStock(layer: tfl.RNN & { fusedImplementation: RecurrentImplementation }, cell: 'lstm' | 'simple', inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs, stock: () => tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
  return tf.tidy(() => (layer.fusedImplementation === 'fused' ? fusedCall(layer as unknown as RnnFields, cell, inputs, kwargs) : undefined) ?? stock());
}

/** The stock layer's config, marked when the layer was asked to take the stock path. */
function withImplementation(config: tf.serialization.ConfigDict, implementation: RecurrentImplementation): tf.serialization.ConfigDict {
  return implementation === 'stock' ? { ...config, implementation: 'stock' } : config;
}

/** tf.layers' LSTM, run by whole-sequence kernels; weights and config identical to the stock layer. */
export class FusedLSTM extends STOCK.LSTM {
  static override className = 'LSTM';
  readonly fusedImplementation: RecurrentImplementation;
  constructor(args: FusedLSTMArgs) {
    super(stockArgs(args));
    this.fusedImplementation = implementationOf(args);
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return fusedOrStock(this, 'lstm', inputs, kwargs, () => super.call(inputs, kwargs));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return withImplementation(super.getConfig(), this.fusedImplementation);
  }
}

interface GruCellInternals {
  units: number;
  useBias: boolean;
  kernel: tfl.LayerVariable;
  recurrentKernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  built: boolean;
  kernelInitializer: unknown;
  recurrentInitializer: unknown;
  biasInitializer: unknown;
  kernelRegularizer: unknown;
  recurrentRegularizer: unknown;
  biasRegularizer: unknown;
  kernelConstraint: unknown;
  recurrentConstraint: unknown;
  biasConstraint: unknown;
  addWeight(name: string, shape: number[], dtype: null, ...rest: unknown[]): tfl.LayerVariable;
  build(inputShape: unknown): void;
}

/**
 * tf.layers' GRU run by whole-sequence kernels. Besides tf.layers' convention (reset gate
 * before the recurrent product), `resetAfter: true` gives Keras' default and cuDNN's (reset gate
 * applied to `h . U_h + b_rh`, bias `[2, 3 * units]`), which tf.layers itself refuses, so GRUs
 * trained in Keras load here. A reset-after GRU has no stock path: it needs the fused kernels.
 */
export class FusedGRU extends STOCK.GRU {
  static override className = 'GRU';
  readonly fusedImplementation: RecurrentImplementation;
  readonly resetAfter: boolean;
  constructor(args: FusedGRUArgs) {
    const { resetAfter, ...rest } = args as FusedGRUArgs & { resetAfter?: boolean };
    super(stockArgs(rest));
    this.fusedImplementation = implementationOf(args);
    this.resetAfter = resetAfter === true;
    if (this.resetAfter) {
      const cell = (this as unknown as { cell: GruCellInternals }).cell;
      // Keras' weights: the bias has an input row and a recurrent row.
      cell.build = function (this: GruCellInternals, inputShape: unknown): void {
        const shape = (Array.isArray((inputShape as unknown[])[0]) ? (inputShape as unknown[])[0] : inputShape) as number[];
        const inputDim = shape[shape.length - 1]!;
        const u = this.units;
        this.kernel = this.addWeight('kernel', [inputDim, 3 * u], null, this.kernelInitializer, this.kernelRegularizer, true, this.kernelConstraint);
        this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 3 * u], null, this.recurrentInitializer, this.recurrentRegularizer, true, this.recurrentConstraint);
        this.bias = this.useBias ? this.addWeight('bias', [2, 3 * u], null, this.biasInitializer, this.biasRegularizer, true, this.biasConstraint) : null;
        this.built = true;
      };
    }
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const fused = this.fusedImplementation === 'fused' || this.resetAfter ? fusedCall(this as unknown as RnnFields, 'gru', inputs, kwargs) : undefined;
      if (fused) return fused;
      if (this.resetAfter) {
        throw new UnsupportedError(`GRU ${this.name}: resetAfter runs only on seqlab's fused kernels, which do not cover this call (stateful, recurrent dropout while training, or activations other than tanh / sigmoid / hard sigmoid)`);
      }
      return super.call(inputs, kwargs);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    const config = super.getConfig();
    return withImplementation(this.resetAfter ? { ...config, resetAfter: true } : config, this.fusedImplementation);
  }
}

/** tf.layers' SimpleRNN, run by whole-sequence kernels. */
export class FusedSimpleRNN extends STOCK.SimpleRNN {
  static override className = 'SimpleRNN';
  readonly fusedImplementation: RecurrentImplementation;
  constructor(args: FusedSimpleRNNArgs) {
    super(stockArgs(args));
    this.fusedImplementation = implementationOf(args);
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return fusedOrStock(this, 'simple', inputs, kwargs, () => super.call(inputs, kwargs));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return withImplementation(super.getConfig(), this.fusedImplementation);
  }
}

const FUSED: Record<StockName, RnnClass> = {
  LSTM: FusedLSTM as unknown as RnnClass,
  GRU: FusedGRU as unknown as RnnClass,
  SimpleRNN: FusedSimpleRNN as unknown as RnnClass,
};

let loading: RecurrentImplementation = 'fused';

/**
 * Chooses the classes that model loading (and Bidirectional's inner layers) create for the
 * names 'LSTM', 'GRU' and 'SimpleRNN': `'fused'` (the default once @seqlab/rnn is imported) or
 * tf.layers' `'stock'` classes. Returns the previous choice.
 */
export function setLoadedRecurrentImplementation(implementation: RecurrentImplementation): RecurrentImplementation {
  const previous = loading;
  for (const name of STOCK_NAMES) tf.serialization.registerClass((implementation === 'fused' ? FUSED[name] : STOCK[name]) as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  loading = implementation;
  return previous;
}

/** The implementation model loading currently uses (see {@link setLoadedRecurrentImplementation}). */
export function loadedRecurrentImplementation(): RecurrentImplementation {
  return loading;
}

setLoadedRecurrentImplementation('fused');

/**
 * An LSTM layer, fused unless `implementation: 'stock'` (then it runs tf.layers' step-by-step
 * path, also inside Bidirectional); see {@link FusedLSTM}.
 */
export function fusedLstm(args: FusedLSTMArgs): tfl.RNN {
  return new FusedLSTM(args);
}

/** A fused (default) or stock GRU layer; see {@link FusedGRU}. */
export function fusedGru(args: FusedGRUArgs): tfl.RNN {
  return new FusedGRU(args);
}

/** A fused (default) or stock SimpleRNN layer; see {@link FusedSimpleRNN}. */
export function fusedSimpleRnn(args: FusedSimpleRNNArgs): tfl.RNN {
  return new FusedSimpleRNN(args);
}
