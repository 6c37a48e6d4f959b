import { BadInputError, ModelFileError } from '@seqlab/core';
import { GLOVE_100D, GLOVE_100D_DIM, loadWordVectors, type WordVectors } from './word-vectors.js';

/** `wordVectors: 'auto'` uses GloVe only when it knows at least this share of the training tokens (English text). */
export const AUTO_WORD_VECTOR_COVERAGE = 0.5;

/** Options of {@link chooseWordVectors}. */
export interface ChooseWordVectorsOptions {
  /** The embedding size asked for, if any: under `auto` another size than GloVe's means from scratch. */
  embeddingDim?: number;
  /**
   * Also keep this many of the source's most frequent words beyond the training words (an open
   * vocabulary for a frozen embedding). Default 0.
   */
  openVocabulary?: number;
}

/** What {@link chooseWordVectors} decided, and why in one sentence. */
export interface WordVectorChoice {
  /** The vectors the embedding starts from; undefined means trained from scratch. */
  vectors?: WordVectors;
  /** One human-readable sentence, for a report or a progress line. */
  reason: string;
  /** With vectors: the training words they know and the share of training tokens (by count). */
  knownWords?: number;
  tokenShare?: number;
}

/**
 * Picks the word vectors a classifier's embedding starts from. `spec` is `'none'`; `'auto'`
 * (GloVe 6B 100-d when its optional package is installed and it knows at least
 * {@link AUTO_WORD_VECTOR_COVERAGE} of the training tokens, else from scratch, with the reason);
 * or a named or file source, which must load. Only the training words' vectors (plus the open
 * vocabulary's) are kept in memory.
 *
 * @param wordCounts How often each training token occurs (as the classifier tokenizes).
 * @throws BadInputError when an explicit source cannot be read or its size differs from `embeddingDim`.
 */
export async function chooseWordVectors(spec: string, wordCounts: ReadonlyMap<string, number>, options: ChooseWordVectorsOptions = {}): Promise<WordVectorChoice> {
  if (spec === 'none') return { reason: 'embedding trained from scratch (wordVectors none)' };
  const auto = spec === 'auto';
  const { embeddingDim, openVocabulary = 0 } = options;
  // Another size under auto: from scratch, without reading the 300 MB table.
  if (auto && embeddingDim !== undefined && embeddingDim !== GLOVE_100D_DIM) {
    return { reason: `embedding trained from scratch (embeddingDim ${embeddingDim}; ${GLOVE_100D} has ${GLOVE_100D_DIM} dimensions)` };
  }
  let vectors: WordVectors;
  try {
    // An open vocabulary adds the most frequent words training lacked: enough of the top ranks
    // to find that many beyond the training words.
    vectors = await loadWordVectors(auto ? GLOVE_100D : spec, { keep: wordCounts.keys(), top: openVocabulary > 0 ? openVocabulary + wordCounts.size : 0 });
  } catch (err) {
    if (auto && err instanceof ModelFileError) return { reason: `embedding trained from scratch (${err.message})` };
    if (err instanceof BadInputError || err instanceof ModelFileError) throw new BadInputError(`wordVectors: ${err.message}`, { cause: err });
    throw err;
  }
  if (embeddingDim !== undefined && embeddingDim !== vectors.dim) {
    throw new BadInputError(`embeddingDim ${embeddingDim} differs from the ${vectors.dim} dimensions of wordVectors ${spec}; leave embeddingDim unset`);
  }
  const { knownWords, tokenShare } = coverage(vectors, wordCounts);
  const percent = `${(tokenShare * 100).toFixed(1)}%`;
  if (auto && tokenShare < AUTO_WORD_VECTOR_COVERAGE) {
    return { reason: `embedding trained from scratch (${vectors.name} knows ${percent} of the training tokens, under ${AUTO_WORD_VECTOR_COVERAGE * 100}%)` };
  }
  return { vectors, knownWords, tokenShare, reason: `embedding starts from ${vectors.name} (${knownWords} of the ${wordCounts.size} training words, ${percent} of the training tokens)` };
}

function coverage(vectors: WordVectors, wordCounts: ReadonlyMap<string, number>): { knownWords: number; tokenShare: number } {
  let known = 0;
  let total = 0;
  let knownWords = 0;
  for (const [word, count] of wordCounts) {
    total += count;
    if (vectors.has(word)) {
      known += count;
      knownWords++;
    }
  }
  return { knownWords, tokenShare: total > 0 ? known / total : 0 };
}
