import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { FusedGRU, FusedLSTM, FusedSimpleRNN, type RecurrentImplementation } from '../layers/fused-recurrent.js';

/** Recurrent cell types every builder accepts. */
export type CellType = 'simple' | 'lstm' | 'gru';
export const CELL_TYPES: readonly CellType[] = ['simple', 'lstm', 'gru'];

/** Number of state tensors a cell carries (LSTM has h and c). */
export function stateCount(cell: CellType): number {
  return cell === 'lstm' ? 2 : 1;
}

export interface RecurrentArgs {
  units: number;
  returnSequences: boolean;
  returnState?: boolean;
  dropout?: number;
  recurrentDropout?: number;
  name?: string;
  /** Default: {@link defaultRecurrentImplementation} (`'fused'`). */
  implementation?: RecurrentImplementation;
}

let defaultImplementation: RecurrentImplementation = 'fused';

/**
 * The implementation builders use when their options do not say: `'fused'` (whole-sequence
 * WebAssembly kernels, the default) or `'stock'` (tf.layers' step-by-step ops). Returns the
 * previous value; with no argument, only reads it.
 */
export function defaultRecurrentImplementation(implementation?: RecurrentImplementation): RecurrentImplementation {
  const previous = defaultImplementation;
  if (implementation) defaultImplementation = implementation;
  return previous;
}

/**
 * Creates a recurrent layer of the given cell type: tf.layers' class run by seqlab's fused
 * kernels, or its stock path (same weights and config either way).
 */
export function recurrentLayer(cell: CellType, args: RecurrentArgs): tfl.layers.Layer {
  const common = {
    units: args.units,
    returnSequences: args.returnSequences,
    returnState: args.returnState ?? false,
    dropout: args.dropout ?? 0,
    recurrentDropout: args.recurrentDropout ?? 0,
    ...(args.name ? { name: args.name } : {}),
    implementation: args.implementation ?? defaultImplementation,
  };
  // Forget-gate bias 1 at the start (Jozefowicz et al. 2015; the Keras default, not tfjs's).
  if (cell === 'lstm') return new FusedLSTM({ ...common, unitForgetBias: true });
  if (cell === 'gru') return new FusedGRU(common);
  return new FusedSimpleRNN(common);
}

/**
 * Runs a model builder inside `tf.tidy`. tfjs-layers' LSTM `unitForgetBias` initializer leaves
 * the intermediate tensors it concatenates behind (4 per LSTM layer); the model's weights are
 * variables, which tidy keeps, so only those intermediates are freed.
 */
export function buildTidy<T>(build: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = build();
  });
  return out as T;
}
