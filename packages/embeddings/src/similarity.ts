import { BadInputError } from '@seqlab/core';
/** Length of a USE-lite sentence vector. */
export const EMBEDDING_DIM = 512;

/**
 * Cosine similarity of two vectors of equal length, in [-1, 1]. For the unit-length vectors
 * the encoder returns this equals their dot product; the norms are divided out anyway so that
 * vectors from elsewhere compare correctly. Zero vectors have similarity 0.
 */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new BadInputError(`cosine: vectors differ in length (${a.length} vs ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

/** Scales a vector in place to unit L2 length (left unchanged when it is all zeros). */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}

/** One hit of a nearest-neighbour search. */
export interface SearchHit {
  /** Position of the text in the indexed corpus. */
  index: number;
  /** The corpus text. */
  text: string;
  /** Cosine similarity to the query, in [-1, 1]; hits are sorted by it, highest first. */
  score: number;
}

/**
 * Indices and scores of the `k` largest values of `scores`, highest first; ties keep corpus
 * order so results are deterministic.
 */
export function topK(scores: Float32Array | Float64Array, k: number): Array<{ index: number; score: number }> {
  const n = Math.min(k, scores.length);
  // A small sorted buffer beats sorting the whole corpus when k is much smaller than n.
  const best: Array<{ index: number; score: number }> = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (best.length === n && s <= best[n - 1]!.score) continue;
    let pos = best.length;
    while (pos > 0 && best[pos - 1]!.score < s) pos--;
    best.splice(pos, 0, { index: i, score: s });
    if (best.length > n) best.pop();
  }
  return best;
}
