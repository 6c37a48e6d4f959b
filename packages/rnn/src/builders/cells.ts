import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

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
}

/** Creates a stock tfjs recurrent layer of the given cell type. */
export function recurrentLayer(cell: CellType, args: RecurrentArgs): tfl.layers.Layer {
  const common = {
    units: args.units,
    returnSequences: args.returnSequences,
    returnState: args.returnState ?? false,
    dropout: args.dropout ?? 0,
    recurrentDropout: args.recurrentDropout ?? 0,
    ...(args.name ? { name: args.name } : {}),
  };
  // Forget-gate bias 1 at the start (Jozefowicz et al. 2015; the Keras default, not tfjs's).
  if (cell === 'lstm') return tfl.layers.lstm({ ...common, unitForgetBias: true });
  if (cell === 'gru') return tfl.layers.gru(common);
  return tfl.layers.simpleRNN(common);
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
