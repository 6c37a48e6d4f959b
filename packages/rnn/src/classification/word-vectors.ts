import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { BadInputError } from '@seqlab/core';
import type { Vocabulary } from '@seqlab/tokenize';

/**
 * Pre-trained word vectors a classifier's embedding can start from. `@seqlab/embeddings`'
 * `loadWordVectors` gives GloVe (or any word2vec/GloVe text file) in this shape; anything else
 * that maps a word to a fixed-length vector works too.
 */
export interface WordVectorLookup {
  /** Named in the model's training record, e.g. `glove-6b-100d`. */
  readonly name: string;
  readonly dim: number;
  /** The vector of a (normalized, lower-cased) token, or undefined when it has none. */
  get(word: string): Float32Array | undefined;
  /**
   * The words held, most frequent first when the source is ordered that way (GloVe and
   * word2vec files are). Needed only to extend a vocabulary with words training never showed.
   */
  words?(): Iterable<string>;
}

/** How much of a vocabulary the pre-trained vectors cover. */
export interface WordVectorCoverage {
  vectors: string;
  dim: number;
  /** Vocabulary entries (specials excluded) that got a pre-trained vector. */
  found: number;
  vocabulary: number;
  /** Share of training tokens (by count) whose word got a pre-trained vector. */
  tokenShare: number;
}

/**
 * The `[vocabSize, dim]` embedding matrix for `tokens` (id order, specials first): each word with
 * a pre-trained vector gets it; the others (and UNK) start as normal draws with the pre-trained
 * vectors' own per-dimension spread, so they neither dominate nor vanish; padding (id 0) is zeros.
 * Seeded: the same vocabulary and seed give the same matrix.
 */
export function embeddingMatrix(
  tokens: readonly string[],
  isSpecial: (id: number) => boolean,
  vectors: WordVectorLookup,
  options: { seed?: number; counts?: readonly number[] } = {},
): { matrix: Float32Array; coverage: WordVectorCoverage } {
  const dim = vectors.dim;
  if (!Number.isInteger(dim) || dim < 1) throw new BadInputError(`word vectors ${vectors.name}: dim must be a positive integer, got ${dim}`);
  const matrix = new Float32Array(tokens.length * dim);
  const missing: number[] = [];
  let found = 0;
  let words = 0;
  let tokensSeen = 0;
  let tokensFound = 0;
  const sum = new Float64Array(dim);
  const sumSq = new Float64Array(dim);
  tokens.forEach((token, id) => {
    if (id === 0) return;
    if (isSpecial(id)) {
      missing.push(id);
      return;
    }
    words++;
    const count = options.counts?.[id] ?? 1;
    tokensSeen += count;
    const v = vectors.get(token);
    if (!v) {
      missing.push(id);
      return;
    }
    if (v.length !== dim) throw new BadInputError(`word vectors ${vectors.name}: the vector of ${JSON.stringify(token)} has ${v.length} values, expected ${dim}`);
    matrix.set(v, id * dim);
    for (let d = 0; d < dim; d++) {
      sum[d] += v[d]!;
      sumSq[d] += v[d]! * v[d]!;
    }
    found++;
    tokensFound += count;
  });
  // A small deterministic generator: the fill must not depend on TensorFlow.js' global seed state.
  let state = (options.seed ?? 1) >>> 0 || 1;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const std = Array.from({ length: dim }, (_, d) => (found > 1 ? Math.sqrt(Math.max(sumSq[d]! / found - (sum[d]! / found) ** 2, 1e-8)) : 0.1));
  for (const id of missing) for (let d = 0; d < dim; d++) matrix[id * dim + d] = normal() * std[d]!;
  return {
    matrix,
    coverage: { vectors: vectors.name, dim, found, vocabulary: words, tokenShare: tokensSeen > 0 ? tokensFound / tokensSeen : 0 },
  };
}

/** {@link embeddingMatrix} for a vectorizer's vocabulary: its tokens, specials and training counts. */
export function vocabularyEmbedding(vocabulary: Vocabulary, vectors: WordVectorLookup, seed = 1): { matrix: Float32Array; coverage: WordVectorCoverage } {
  return embeddingMatrix(vocabulary.toArray(), (id) => vocabulary.isSpecialId(id), vectors, {
    seed,
    counts: Array.from({ length: vocabulary.size }, (_, id) => vocabulary.count(id)),
  });
}

/** Writes `matrix` into the model's `embedding` layer (shape-checked). */
export function setEmbedding(model: tfl.LayersModel, matrix: Float32Array, vocabSize: number, dim: number): void {
  const layer = model.getLayer('embedding');
  const [current] = layer.getWeights();
  if (!current || current.shape[0] !== vocabSize || current.shape[1] !== dim) {
    throw new BadInputError(`embedding layer is ${JSON.stringify(current?.shape)}, the pre-trained matrix is [${vocabSize}, ${dim}]`);
  }
  const t = tf.tensor2d(matrix, [vocabSize, dim]);
  layer.setWeights([t]);
  t.dispose();
}
