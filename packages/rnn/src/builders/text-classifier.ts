import * as tfl from '@tensorflow/tfjs-layers';
import { buildTidy, CELL_TYPES, recurrentLayer, type CellType } from './cells.js';
import type { RecurrentImplementation } from '../layers/fused-recurrent.js';
import { oneOf, positiveInt, rate, RnnArgumentError } from '../errors.js';
import { AttentionPooling } from '../layers/attention-pooling.js';
import { MaskedConv1D } from '../layers/masked-conv1d.js';
import { MultiHeadSelfAttention } from '../layers/multi-head-self-attention.js';
import { BadInputError } from '@seqlab/core';

/** How a classifier turns the RNN's sequence into one vector. */
export type ClassifierAttention = 'pooling' | 'self' | 'none';
const ATTENTION_KINDS: readonly ClassifierAttention[] = ['pooling', 'self', 'none'];

/** The output activation of a classifier: one class of many, or any subset of the classes. */
export type ClassifierOutput = 'softmax' | 'sigmoid';
const OUTPUT_KINDS: readonly ClassifierOutput[] = ['softmax', 'sigmoid'];

/** Options of {@link textClassifier}. */
export interface TextClassifierOptions {
  /** Vocabulary size; id 0 is padding (masked everywhere). */
  vocabSize: number;
  /** Default 128. */
  embeddingDim?: number;
  /** Default `'lstm'`. */
  cell?: CellType;
  /** Read the text in both directions (concatenated). Default true. */
  bidirectional?: boolean;
  /** Stacked recurrent layers. Default 1. */
  layers?: number;
  /** Units per direction. Default 64. */
  units?: number;
  /**
   * `'pooling'` (default): attention pooling over the RNN outputs, weights exposed;
   * `'self'`: multi-head self-attention, then attention pooling; `'none'`: the last RNN state.
   */
  attention?: ClassifierAttention;
  /** Heads of the self-attention (`attention: 'self'`). Default 4. */
  heads?: number;
  /** Hidden size of the attention-pooling scorer. Default 64. */
  attentionUnits?: number;
  /** Dropout after the embedding and before the output layer. Default 0.3. */
  dropout?: number;
  /** Default 2. */
  numClasses?: number;
  /**
   * `'softmax'` (default): one class per text, probabilities summing to 1. `'sigmoid'`: an
   * independent probability per class, for multi-label data (trained with binary cross-entropy).
   */
  output?: ClassifierOutput;
  /** Optional convolutional front end (the CNN-RNN hybrid): masked Conv1D before the RNN. */
  conv?: { filters: number; kernelSize?: number } | false;
  /** `'fused'` (default) or `'stock'` recurrent layers; not part of the saved config (weights are the same). */
  implementation?: RecurrentImplementation;
}

/** The resolved options of a classifier, stored in `config.json`. */
export type TextClassifierConfig = Required<Omit<TextClassifierOptions, 'conv' | 'implementation'>> & { conv: { filters: number; kernelSize: number } | false };

/** Fills defaults and validates {@link TextClassifierOptions}. */
export function resolveTextClassifierOptions(o: TextClassifierOptions): TextClassifierConfig {
  if (o === null || typeof o !== 'object') throw new BadInputError('textClassifier: options must be an object');
  const conv = o.conv
    ? { filters: positiveInt('textClassifier: conv.filters', o.conv.filters), kernelSize: positiveInt('textClassifier: conv.kernelSize', o.conv.kernelSize ?? 3) }
    : false;
  const numClasses = positiveInt('textClassifier: numClasses', o.numClasses ?? 2);
  if (numClasses < 2) throw new RnnArgumentError(`textClassifier: numClasses must be at least 2, got ${numClasses}`);
  return {
    vocabSize: positiveInt('textClassifier: vocabSize', o.vocabSize),
    embeddingDim: positiveInt('textClassifier: embeddingDim', o.embeddingDim ?? 128),
    cell: oneOf('textClassifier: cell', o.cell ?? 'lstm', CELL_TYPES),
    bidirectional: o.bidirectional ?? true,
    layers: positiveInt('textClassifier: layers', o.layers ?? 1),
    units: positiveInt('textClassifier: units', o.units ?? 64),
    attention: oneOf('textClassifier: attention', o.attention ?? 'pooling', ATTENTION_KINDS),
    heads: positiveInt('textClassifier: heads', o.heads ?? 4),
    attentionUnits: positiveInt('textClassifier: attentionUnits', o.attentionUnits ?? 64),
    dropout: rate('textClassifier: dropout', o.dropout ?? 0.3),
    numClasses,
    output: oneOf('textClassifier: output', o.output ?? 'softmax', OUTPUT_KINDS),
    conv,
  };
}

/** Name of the attention-pooling layer inside a classifier. */
export const POOLING_LAYER = 'attention_pooling';

/**
 * A recurrent text classifier: ids `[batch, time]` (0 = padding) -> class probabilities.
 * Embedding (masking zeros) -> optional masked Conv1D -> (Bi)RNN layers -> attention pooling /
 * self-attention + pooling / last state -> dropout -> softmax (or sigmoid per class, multi-label).
 *
 * @example
 * ```ts
 * const model = textClassifier({ vocabSize: 20000 }); // BiLSTM(64) + attention pooling, 2 classes
 * ```
 */
export function textClassifier(options: TextClassifierOptions): tfl.LayersModel {
  const c = resolveTextClassifierOptions(options);
  return buildTidy(() => {
    const input = tfl.input({ shape: [null], dtype: 'int32', name: 'tokens' });
    let h = tfl.layers.embedding({ inputDim: c.vocabSize, outputDim: c.embeddingDim, maskZero: true, name: 'embedding' }).apply(input) as tfl.SymbolicTensor;
    if (c.dropout > 0) h = tfl.layers.dropout({ rate: c.dropout, name: 'embedding_dropout' }).apply(h) as tfl.SymbolicTensor;
    if (c.conv) h = new MaskedConv1D({ filters: c.conv.filters, kernelSize: c.conv.kernelSize, name: 'conv' }).apply(h) as tfl.SymbolicTensor;
    for (let i = 0; i < c.layers; i++) {
      const returnSequences = c.attention !== 'none' || i < c.layers - 1;
      const rnn = recurrentLayer(c.cell, { units: c.units, returnSequences, name: `rnn_${i + 1}`, ...(options.implementation ? { implementation: options.implementation } : {}) });
      const layer = c.bidirectional ? tfl.layers.bidirectional({ layer: rnn as tfl.RNN, mergeMode: 'concat', name: `bidirectional_${i + 1}` }) : rnn;
      h = layer.apply(h) as tfl.SymbolicTensor;
    }
    if (c.attention === 'self') {
      h = new MultiHeadSelfAttention({ numHeads: c.heads, residual: true, name: 'self_attention' }).apply(h) as tfl.SymbolicTensor;
    }
    if (c.attention !== 'none') {
      const pooled = new AttentionPooling({ units: c.attentionUnits, returnAttentionWeights: true, name: POOLING_LAYER }).apply(h) as tfl.SymbolicTensor[];
      h = pooled[0]!;
    }
    if (c.dropout > 0) h = tfl.layers.dropout({ rate: c.dropout, name: 'output_dropout' }).apply(h) as tfl.SymbolicTensor;
    const probs = tfl.layers.dense({ units: c.numClasses, activation: c.output, name: 'probabilities' }).apply(h) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: probs, name: 'text_classifier' });
  });
}

/**
 * The companion of {@link textClassifier} for explanations: the same layers and weights, with
 * outputs `[probabilities, attentionWeights [batch, time]]`, plus with `states: true` the
 * sequence the attention pools, `[batch, time, features]` (per-class token contributions are
 * computed from it). Needs `attention` other than 'none'.
 */
export function withAttentionWeights(model: tfl.LayersModel, options: { states?: boolean } = {}): tfl.LayersModel {
  let layer: tfl.layers.Layer;
  try {
    layer = model.getLayer(POOLING_LAYER);
  } catch {
    throw new RnnArgumentError(`withAttentionWeights: the model has no '${POOLING_LAYER}' layer (was it built with attention: 'none'?)`);
  }
  const outs = layer.output as tfl.SymbolicTensor[];
  if (!Array.isArray(outs) || outs.length !== 2) throw new RnnArgumentError(`withAttentionWeights: '${POOLING_LAYER}' does not return attention weights`);
  const states = options.states ? [layer.input as tfl.SymbolicTensor] : [];
  return tfl.model({ inputs: model.inputs, outputs: [model.outputs[0]!, outs[1]!, ...states], name: `${model.name}_with_attention` });
}
