import * as tfl from '@tensorflow/tfjs-layers';
import { buildTidy, CELL_TYPES, recurrentLayer, type CellType } from './cells.js';
import type { RecurrentImplementation } from '../layers/fused-recurrent.js';
import { oneOf, positiveInt, rate } from '../errors.js';
import { BadInputError } from '@seqlab/core';

/** Options of {@link languageModel}. */
export interface LanguageModelOptions {
  /** Size of the token vocabulary (characters or subwords), including padding/unknown ids. */
  vocabSize: number;
  /** Recurrent cell. Default `'lstm'`. */
  cell?: CellType;
  /** Stacked recurrent layers. Default 1. */
  layers?: number;
  /** Units per recurrent layer. Default 256. */
  units?: number;
  /** Dropout between layers and before the output projection. Default 0. */
  dropout?: number;
  /** Token embedding size. Default 64. */
  embeddingDim?: number;
  /** `'fused'` (default) or `'stock'` recurrent layers; not part of the saved config (weights are the same). */
  implementation?: RecurrentImplementation;
}

/** The resolved configuration of a language model, stored in `config.json` next to it. */
export interface LanguageModelConfig {
  vocabSize: number;
  cell: CellType;
  layers: number;
  units: number;
  dropout: number;
  embeddingDim: number;
}

/** Fills defaults and validates {@link LanguageModelOptions}. */
export function resolveLanguageModelOptions(options: LanguageModelOptions): LanguageModelConfig {
  if (options === null || typeof options !== 'object') throw new BadInputError('languageModel: options must be an object');
  return {
    vocabSize: positiveInt('languageModel: vocabSize', options.vocabSize),
    cell: oneOf('languageModel: cell', options.cell ?? 'lstm', CELL_TYPES),
    layers: positiveInt('languageModel: layers', options.layers ?? 1),
    units: positiveInt('languageModel: units', options.units ?? 256),
    dropout: rate('languageModel: dropout', options.dropout ?? 0),
    embeddingDim: positiveInt('languageModel: embeddingDim', options.embeddingDim ?? 64),
  };
}

/** Layer names the generator relies on to find the trained weights. */
export const LM_LAYER_NAMES = {
  embedding: 'lm_embedding',
  rnn: (i: number) => `lm_rnn_${i + 1}`,
  output: 'lm_logits',
} as const;

/**
 * A next-token model: token ids `[batch, time]` -> logits `[batch, time, vocabSize]`.
 * Train it on text shifted by one token with {@link train}; generate with {@link TextGenerator}.
 *
 * @example
 * ```ts
 * const model = languageModel({ vocabSize: 65, cell: 'lstm', units: 256 });
 * ```
 */
export function languageModel(options: LanguageModelOptions): tfl.LayersModel {
  const cfg = resolveLanguageModelOptions(options);
  return buildTidy(() => {
    const input = tfl.input({ shape: [null], dtype: 'int32', name: 'tokens' });
    let h = tfl.layers
      // Unit-scale embeddings, like the one-hot inputs of classic char-RNNs. The Keras default
      // (uniform +-0.05) gives the RNN almost no input signal at first, and Adam needs hundreds of
      // steps to grow the embeddings: the loss sat at the unigram entropy for ~100 steps.
      .embedding({
        inputDim: cfg.vocabSize,
        outputDim: cfg.embeddingDim,
        embeddingsInitializer: tfl.initializers.randomUniform({ minval: -1, maxval: 1 }),
        name: LM_LAYER_NAMES.embedding,
      })
      .apply(input) as tfl.SymbolicTensor;
    for (let i = 0; i < cfg.layers; i++) {
      h = recurrentLayer(cfg.cell, { units: cfg.units, returnSequences: true, name: LM_LAYER_NAMES.rnn(i), ...(options.implementation ? { implementation: options.implementation } : {}) }).apply(h) as tfl.SymbolicTensor;
      if (cfg.dropout > 0) h = tfl.layers.dropout({ rate: cfg.dropout, name: `lm_dropout_${i + 1}` }).apply(h) as tfl.SymbolicTensor;
    }
    const logits = tfl.layers.dense({ units: cfg.vocabSize, name: LM_LAYER_NAMES.output }).apply(h) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: logits, name: 'language_model' });
  });
}
