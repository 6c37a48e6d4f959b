import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BadInputError } from '@seqlab/core';
import { TextVectorizer } from '@seqlab/tokenize';
import { resolveTextClassifierOptions, textClassifier, type TextClassifierConfig } from '../builders/text-classifier.js';
import { RecurrentTextClassifier } from './recurrent.js';
import type { WordVectorLookup } from './word-vectors.js';

/** What {@link extendWithWordVectors} added. */
export interface OpenVocabulary {
  vectors: string;
  /** Words given their pre-trained vector beyond the training vocabulary. */
  added: number;
  /** The `limit` asked for. */
  limit: number;
}

/**
 * A copy of a classifier whose embedding was kept frozen at pre-trained word vectors, with up
 * to `limit` more words: the vectors' most frequent words that its vocabulary lacks, each with
 * its pre-trained vector. Such a model never saw those words, but it learned to read the vector
 * space they live in, so at inference they mean what their vectors mean instead of all being
 * UNK. Training with the larger vocabulary would give the same model (the extra rows never
 * occur in training and the embedding is frozen), which is why this can run after training.
 *
 * On SST-2, 59% of the GLUE dev sentences hold a word missing from the training phrases
 * ("adroitly", "heinous", "uncomplicated"); 40,000 more GloVe words took the frozen-GloVe
 * ensemble of `npm run recipe:sst2 -- --word-vectors glove-6b-100d --freeze-embeddings` from
 * 85.67% to 86.58% dev accuracy.
 *
 * Only for a classifier whose training record says its embedding was frozen word vectors
 * (`training.wordVectors.fineTuned === false`): fine-tuned rows have moved away from the
 * pre-trained space, where the added words would stay, and a from-scratch embedding never was
 * in it. {@link extendModelsWithWordVectors} does the same step without that check.
 *
 * @param vectors Must list its words ({@link WordVectorLookup.words}), most frequent first.
 */
export function extendWithWordVectors(classifier: RecurrentTextClassifier, vectors: WordVectorLookup, options: { limit: number }): { classifier: RecurrentTextClassifier; openVocabulary: OpenVocabulary } {
  const record = (classifier.config.training?.['wordVectors'] ?? undefined) as { fineTuned?: boolean; vectors?: string } | undefined;
  if (record?.fineTuned !== false) {
    const why = record ? 'its embedding was fine-tuned' : 'it has no record of frozen word vectors (training.wordVectors)';
    throw new BadInputError(`extendWithWordVectors: ${classifier.name}: ${why}; only a classifier trained with frozen word vectors can read words it never saw through them`);
  }
  const grown = extendModelsWithWordVectors(classifier.members, classifier.vectorizer, classifier.config.architecture, vectors, options);
  const config = { ...classifier.config, architecture: grown.architecture, training: { ...classifier.config.training, openVocabulary: grown.openVocabulary } };
  return { classifier: new RecurrentTextClassifier(grown.models, grown.vectorizer, config, classifier.name), openVocabulary: grown.openVocabulary };
}

/**
 * The model-level step of {@link extendWithWordVectors}, for code that holds the networks and
 * vectorizer itself (ensembles saved as sentiment models): new networks (the given ones are
 * left as they are), a new vectorizer and the grown architecture.
 */
export function extendModelsWithWordVectors(
  members: readonly tfl.LayersModel[],
  vectorizer: TextVectorizer,
  architecture: TextClassifierConfig,
  vectors: WordVectorLookup,
  options: { limit: number },
): { models: tfl.LayersModel[]; vectorizer: TextVectorizer; architecture: TextClassifierConfig; openVocabulary: OpenVocabulary } {
  const { limit } = options;
  if (!Number.isInteger(limit) || limit < 0) throw new BadInputError(`extendWithWordVectors: limit must be a non-negative integer, got ${String(limit)}`);
  const arch = resolveTextClassifierOptions(architecture);
  if (vectors.dim !== arch.embeddingDim) throw new BadInputError(`extendWithWordVectors: word vectors ${vectors.name} have ${vectors.dim} dimensions, the classifier's embedding ${arch.embeddingDim}`);
  if (!vectors.words) throw new BadInputError(`extendWithWordVectors: word vectors ${vectors.name} do not list their words`);
  if (vectorizer.vocabSize !== arch.vocabSize) throw new BadInputError(`extendWithWordVectors: the vectorizer has ${vectorizer.vocabSize} tokens, the architecture ${arch.vocabSize}`);
  const grown = TextVectorizer.fromJSON(vectorizer.toJSON());
  // Only words with a vector of the right size: the lookup may list others.
  const withVectors = function* (words: Iterable<string>) {
    for (const w of words) if (vectors.get(w)?.length === arch.embeddingDim) yield w;
  };
  const added = grown.extendVocabulary(withVectors(vectors.words()), { limit });
  const oldSize = arch.vocabSize;
  const newArch = resolveTextClassifierOptions({ ...arch, vocabSize: grown.vocabSize });
  const dim = arch.embeddingDim;
  const rows = new Float32Array(added * dim);
  for (let id = oldSize; id < grown.vocabSize; id++) rows.set(vectors.get(grown.vocabulary.idToToken(id))!, (id - oldSize) * dim);
  const models: tfl.LayersModel[] = [];
  try {
    for (const old of members) models.push(copyWithRows(old, newArch, rows, added, dim));
  } catch (err) {
    for (const m of models) m.dispose();
    throw err;
  }
  return { models, vectorizer: grown, architecture: newArch, openVocabulary: { vectors: vectors.name, added, limit } };
}

/** A model of `arch` holding `old`'s weights, with `rows` appended to its embedding. */
function copyWithRows(old: tfl.LayersModel, arch: TextClassifierConfig, rows: Float32Array, added: number, dim: number): tfl.LayersModel {
  const model = textClassifier(arch);
  try {
    // Layer by layer: a model's flat weight list puts frozen weights last, so its order depends
    // on which layers are trainable, while the layers themselves come in build order.
    if (old.layers.length !== model.layers.length) throw new BadInputError(`extendWithWordVectors: the rebuilt model has ${model.layers.length} layers, the classifier ${old.layers.length}`);
    old.layers.forEach((layer, i) => {
      const values = layer.getWeights();
      if (values.length === 0) return;
      const target = model.layers[i]!;
      if (layer.name === 'embedding' && added > 0) {
        const grown = tf.tidy(() => tf.concat([values[0]!, tf.tensor2d(rows, [added, dim])], 0));
        target.setWeights([grown]);
        grown.dispose();
      } else {
        target.setWeights(values);
      }
    });
    model.getLayer('embedding').trainable = false;
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}
