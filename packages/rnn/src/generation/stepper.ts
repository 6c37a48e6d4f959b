import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { recurrentLayer, stateCount } from '../builders/cells.js';
import { LM_LAYER_NAMES, type LanguageModelConfig } from '../builders/language-model.js';

/**
 * One step of a next-token model over a batch of rows that each carry their own recurrent
 * state. `state` tensors have the rows as their first dimension.
 */
export interface Stepper {
  readonly vocabSize: number;
  /** Zero state for `rows` rows. */
  initialState(rows: number): tf.Tensor[];
  /**
   * Feeds `tokens[row]` (all rows the same length >= 1) after `state`; returns the logits that
   * follow the last token of each row and the new state. Does not dispose `state`.
   */
  step(tokens: number[][], state: tf.Tensor[]): { logits: Float32Array[]; state: tf.Tensor[] };
  dispose(): void;
}

/**
 * Builds an inference copy of a {@link languageModel} that takes and returns the recurrent
 * states, so generation costs one recurrent step per new token instead of re-reading the prefix.
 * The copy holds its own copies of the trained weights; `trained` can be disposed afterwards.
 */
export class RecurrentStepper implements Stepper {
  readonly vocabSize: number;
  private readonly model: tfl.LayersModel;
  private readonly perLayer: number;

  constructor(
    trained: tfl.LayersModel,
    readonly config: LanguageModelConfig,
  ) {
    this.vocabSize = config.vocabSize;
    this.perLayer = stateCount(config.cell);
    const tokens = tfl.input({ shape: [null], dtype: 'int32', name: 'step_tokens' });
    const stateInputs: tfl.SymbolicTensor[] = [];
    const stateOutputs: tfl.SymbolicTensor[] = [];
    const embedding = tfl.layers.embedding({ inputDim: config.vocabSize, outputDim: config.embeddingDim, name: LM_LAYER_NAMES.embedding });
    let h = embedding.apply(tokens) as tfl.SymbolicTensor;
    const copies: [tfl.layers.Layer, string][] = [[embedding, LM_LAYER_NAMES.embedding]];
    for (let i = 0; i < config.layers; i++) {
      const initial = Array.from({ length: this.perLayer }, (_, k) => tfl.input({ shape: [config.units], name: `state_${i + 1}_${k}` }));
      stateInputs.push(...initial);
      const layer = recurrentLayer(config.cell, { units: config.units, returnSequences: true, returnState: true, name: LM_LAYER_NAMES.rnn(i) });
      const outs = layer.apply(h, { initialState: initial }) as tfl.SymbolicTensor[];
      h = outs[0]!;
      stateOutputs.push(...outs.slice(1));
      copies.push([layer, LM_LAYER_NAMES.rnn(i)]);
    }
    const dense = tfl.layers.dense({ units: config.vocabSize, name: LM_LAYER_NAMES.output });
    const logits = dense.apply(h) as tfl.SymbolicTensor;
    copies.push([dense, LM_LAYER_NAMES.output]);
    this.model = tfl.model({ inputs: [tokens, ...stateInputs], outputs: [logits, ...stateOutputs] });
    for (const [layer, name] of copies) layer.setWeights(trained.getLayer(name).getWeights());
  }

  initialState(rows: number): tf.Tensor[] {
    return Array.from({ length: this.config.layers * this.perLayer }, () => tf.zeros([rows, this.config.units]));
  }

  step(tokens: number[][], state: tf.Tensor[]): { logits: Float32Array[]; state: tf.Tensor[] } {
    const rows = tokens.length;
    const len = tokens[0]!.length;
    const flat = new Int32Array(rows * len);
    tokens.forEach((t, r) => flat.set(t, r * len));
    const outs = tf.tidy(() => {
      const x = tf.tensor2d(flat, [rows, len], 'int32');
      const res = this.model.predict([x, ...state]) as tf.Tensor[];
      const last = tf.reshape(tf.slice(res[0]!, [0, len - 1, 0], [rows, 1, this.vocabSize]), [rows, this.vocabSize]);
      return [last, ...res.slice(1)];
    });
    const values = outs[0]!.dataSync() as Float32Array;
    outs[0]!.dispose();
    const logits = Array.from({ length: rows }, (_, r) => values.slice(r * this.vocabSize, (r + 1) * this.vocabSize));
    return { logits, state: outs.slice(1) };
  }

  dispose(): void {
    this.model.dispose();
  }
}
