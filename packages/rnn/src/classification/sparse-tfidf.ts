/**
 * TF-IDF features of a packed corpus: document frequencies of word n-grams and character
 * n-grams counted over word ids, the vocabulary pruned by document frequency (the same choice
 * and order as the string-keyed code it replaces), and the l2-normalised sublinear tf-idf rows
 * as one CSR matrix.
 */
import { BadInputError, LimitExceededError } from '@seqlab/core/base';
import { charNgrams, CsrBuilder, RowAccumulator, type CsrMatrix, type PackedCorpus } from './sparse.js';

/** Word ids must fit in 26 bits for a (prefix, word) pair to be one exact float64 key. */
export const WORD_BITS = 2 ** 26;

/**
 * Word n-grams of order >= 2 as entries keyed by (prefix, last word): the prefix of a bigram is
 * a word, of a longer n-gram the entry of its first n-1 words. Open addressing over entry ids,
 * so growing rehashes 4-byte slots and entry ids never move.
 */
export class NgramTable {
  private slots = new Int32Array(1 << 16).fill(-1);
  private mask = (1 << 16) - 1;
  keys = new Float64Array(1 << 15);
  df = new Int32Array(1 << 15);
  last = new Int32Array(1 << 15);
  size = 0;

  private static hash(key: number): number {
    let h = Math.imul((key / WORD_BITS) | 0, 0x9e3779b1) ^ Math.imul((key % WORD_BITS) + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return h ^ (h >>> 12);
  }

  /**
   * The entry of (prefix, word), or -1: {@link find} of `prefix * WORD_BITS + word` without
   * dividing the key back into its parts to hash it (scoring looks up every bigram of a text).
   */
  findPair(prefix: number, word: number): number {
    let h = Math.imul(prefix, 0x9e3779b1) ^ Math.imul(word + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    const key = prefix * WORD_BITS + word;
    for (let s = (h ^ (h >>> 12)) & this.mask; ; s = (s + 1) & this.mask) {
      const e = this.slots[s]!;
      if (e < 0 || this.keys[e] === key) return e;
    }
  }

  /** The entry of `key`, or -1. */
  find(key: number): number {
    for (let s = NgramTable.hash(key) & this.mask; ; s = (s + 1) & this.mask) {
      const e = this.slots[s]!;
      if (e < 0 || this.keys[e] === key) return e;
    }
  }

  /** The entry of `key`, added (df 0) when absent. */
  intern(key: number): number {
    let s = NgramTable.hash(key) & this.mask;
    for (; ; s = (s + 1) & this.mask) {
      const e = this.slots[s]!;
      if (e < 0) break;
      if (this.keys[e] === key) return e;
    }
    const e = this.size++;
    if (e === this.keys.length) this.growEntries();
    this.keys[e] = key;
    this.last[e] = -1;
    this.slots[s] = e;
    if (this.size * 4 > this.slots.length * 3) this.rehash();
    return e;
  }

  private growEntries(): void {
    const n = this.keys.length * 2;
    const grow = <T extends Int32Array | Float64Array>(a: T, b: T): T => (b.set(a), b);
    this.keys = grow(this.keys, new Float64Array(n));
    this.df = grow(this.df, new Int32Array(n));
    this.last = grow(this.last, new Int32Array(n));
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    this.mask = this.slots.length - 1;
    for (let e = 0; e < this.size; e++) {
      let s = NgramTable.hash(this.keys[e]!) & this.mask;
      while (this.slots[s]! >= 0) s = (s + 1) & this.mask;
      this.slots[s] = e;
    }
  }
}

/** Document frequencies of every word, word n-gram and character n-gram of a packed corpus. */
interface NgramCounts {
  wordDf: Int32Array;
  table: NgramTable;
  charIndex: Map<string, number>;
  chars: string[];
  charDf: number[];
  /** Character n-gram ids of each word (empty without character n-grams). */
  wordChars: Int32Array[];
}

function countNgrams(corpus: PackedCorpus, wordNgrams: number, minn: number, maxn: number): NgramCounts {
  const V = corpus.words.length;
  if (V >= WORD_BITS) throw new LimitExceededError(`tfidf-lr: ${V} distinct words; at most ${WORD_BITS - 1} are supported`);
  const wordDf = new Int32Array(V);
  const wordLast = new Int32Array(V).fill(-1);
  const table = new NgramTable();
  const charIndex = new Map<string, number>();
  const chars: string[] = [];
  const charDf: number[] = [];
  const charLast: number[] = [];
  const wordChars = corpus.words.map((w) =>
    Int32Array.from(charNgrams(w, minn, maxn), (g) => {
      let id = charIndex.get(g);
      if (id === undefined) {
        id = chars.length;
        charIndex.set(g, id);
        chars.push(g);
        charDf.push(0);
        charLast.push(-1);
      }
      return id;
    }),
  );
  const { tokens, offsets } = corpus;
  for (let r = 0; r + 1 < offsets.length; r++) {
    const end = offsets[r + 1]!;
    for (let i = offsets[r]!; i < end; i++) {
      const w = tokens[i]!;
      if (wordLast[w] !== r) {
        wordLast[w] = r;
        wordDf[w]!++;
      }
      let prefix = 2 * w;
      for (let n = 2; n <= wordNgrams && i + n <= end; n++) {
        const e = table.intern(prefix * WORD_BITS + tokens[i + n - 1]!);
        if (table.last[e] !== r) {
          table.last[e] = r;
          table.df[e]!++;
        }
        prefix = 2 * e + 1;
      }
      for (const c of wordChars[w]!) {
        if (charLast[c] === r) continue;
        charLast[c] = r;
        charDf[c]!++;
      }
    }
  }
  return { wordDf, table, charIndex, chars, charDf, wordChars };
}

/** The feature string of n-gram entry `e` (as `LinearTextClassifier` stores it: `2 w1 w2`). */
function entryString(counts: NgramCounts, words: string[], e: number): string {
  const parts: string[] = [];
  let key = counts.table.keys[e]!;
  for (;;) {
    parts.push(words[key % WORD_BITS]!);
    const prefix = Math.floor(key / WORD_BITS);
    if (prefix % 2 === 0) {
      parts.push(words[prefix / 2]!);
      break;
    }
    key = counts.table.keys[(prefix - 1) / 2]!;
  }
  return `${parts.length} ${parts.reverse().join(' ')}`;
}

/** A pruned TF-IDF vocabulary with the maps from corpus ids to feature ids (-1: not kept). */
export interface TfidfVocabulary {
  features: string[];
  idf: Float32Array;
  wordFeature: Int32Array;
  /** The word n-grams looked up in rows (kept ones and their prefixes), and each entry's feature (-1: a prefix only). */
  table: NgramTable;
  entryFeature: Int32Array;
  charFeature: Int32Array;
  /** Character n-gram ids of each word (empty without character n-grams). */
  wordChars: Int32Array[];
}

function candidateCodes(total: number, dfOf: (code: number) => number, minDf: (code: number) => number): Int32Array {
  let n = 0;
  for (let code = 0; code < total; code++) if (dfOf(code) >= minDf(code)) n++;
  const out = new Int32Array(n);
  n = 0;
  for (let code = 0; code < total; code++) if (dfOf(code) >= minDf(code)) out[n++] = code;
  return out;
}

/** The document frequency of the `keep`-th most frequent candidate (a histogram, no sort). */
function dfCut(codes: Int32Array, dfOf: (code: number) => number, keep: number): number {
  let maxDf = 0;
  for (const c of codes) maxDf = Math.max(maxDf, dfOf(c));
  const histogram = new Int32Array(maxDf + 1);
  for (const c of codes) histogram[dfOf(c)]!++;
  let seen = 0;
  for (let df = maxDf; df > 0; df--) if ((seen += histogram[df]!) >= keep) return df;
  return 0;
}

/**
 * Keeps the n-grams in at least `minDf` texts (default 1 for words, 2 for longer n-grams and
 * character n-grams), at most `maxFeatures` of them, most frequent first, ties in string order.
 */
export function tfidfVocabulary(corpus: PackedCorpus, o: { wordNgrams: number; minn: number; maxn: number; minDf?: number; maxFeatures: number }): TfidfVocabulary {
  const counts = countNgrams(corpus, o.wordNgrams, o.minn, o.maxn);
  const V = counts.wordDf.length;
  const E = counts.table.size;
  const dfOf = (code: number): number => (code < V ? counts.wordDf[code]! : code < V + E ? counts.table.df[code - V]! : counts.charDf[code - V - E]!);
  const nameOf = (code: number): string => (code < V ? `w ${corpus.words[code]}` : code < V + E ? entryString(counts, corpus.words, code - V) : `c ${counts.chars[code - V - E]}`);
  const total = V + E + counts.chars.length;
  const minDf = (code: number): number => o.minDf ?? (code < V ? 1 : 2);
  let kept: Int32Array | number[] = candidateCodes(total, dfOf, minDf);
  if (kept.length > o.maxFeatures) {
    // The df of the last kept feature: all above it stay, ties at it are cut in string order.
    const cut = dfCut(kept, dfOf, o.maxFeatures);
    const above = Array.from(kept.filter((c) => dfOf(c) > cut));
    const tied = Array.from(kept.filter((c) => dfOf(c) === cut), (c) => ({ c, name: nameOf(c) }));
    tied.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    kept = [...above, ...tied.slice(0, o.maxFeatures - above.length).map((t) => t.c)];
  }
  if (kept.length === 0) throw new BadInputError('tfidf-lr: no features (are the texts empty?)');
  const named = Array.from(kept, (c) => ({ c, df: dfOf(c), name: nameOf(c) }));
  named.sort((a, b) => b.df - a.df || (a.name < b.name ? -1 : 1));
  const N = corpus.offsets.length - 1;
  const wordFeature = new Int32Array(V).fill(-1);
  const entryFeature = new Int32Array(E).fill(-1);
  const charFeature = new Int32Array(counts.chars.length).fill(-1);
  named.forEach(({ c }, f) => {
    if (c < V) wordFeature[c] = f;
    else if (c < V + E) entryFeature[c - V] = f;
    else charFeature[c - V - E] = f;
  });
  const kept2 = compactEntries(counts.table, entryFeature);
  return { features: named.map((n) => n.name), idf: Float32Array.from(named, (n) => Math.log((1 + N) / (1 + n.df)) + 1), wordFeature, charFeature, wordChars: counts.wordChars, ...kept2 };
}

/**
 * The n-gram entries the rows still look up: the kept features and the prefixes they are
 * found through, in a table of their own. The counting table holds every distinct n-gram of the
 * corpus (tens of millions on 250,000 reviews, over half a gigabyte) and can go before the
 * matrix is built.
 */
function compactEntries(table: NgramTable, entryFeature: Int32Array): { table: NgramTable; entryFeature: Int32Array } {
  const E = table.size;
  const needed = new Uint8Array(E);
  for (let e = E - 1; e >= 0; e--) {
    if (entryFeature[e]! >= 0) needed[e] = 1;
    if (!needed[e]) continue;
    // A longer n-gram's prefix is an entry interned before it (a smaller id): marked on the way down.
    const prefix = Math.floor(table.keys[e]! / WORD_BITS);
    if (prefix % 2 === 1) needed[(prefix - 1) / 2] = 1;
  }
  const compact = new NgramTable();
  const newId = new Int32Array(E).fill(-1);
  const features: number[] = [];
  for (let e = 0; e < E; e++) {
    if (!needed[e]) continue;
    const key = table.keys[e]!;
    const prefix = Math.floor(key / WORD_BITS);
    const last = key % WORD_BITS;
    newId[e] = compact.intern((prefix % 2 === 1 ? 2 * newId[(prefix - 1) / 2]! + 1 : prefix) * WORD_BITS + last);
    features.push(entryFeature[e]!);
  }
  return { table: compact, entryFeature: Int32Array.from(features) };
}

/** Adds the kept features of text `r`, in the order `LinearTextClassifier.featurize` meets them. */
function addRowFeatures(corpus: PackedCorpus, vocab: TfidfVocabulary, wordNgrams: number, r: number, acc: RowAccumulator): void {
  const { tokens, offsets } = corpus;
  const { table, wordChars } = vocab;
  const end = offsets[r + 1]!;
  for (let i = offsets[r]!; i < end; i++) {
    const w = tokens[i]!;
    const f = vocab.wordFeature[w]!;
    if (f >= 0) acc.add(f);
    let prefix = 2 * w;
    for (let n = 2; n <= wordNgrams && i + n <= end; n++) {
      const e = table.find(prefix * WORD_BITS + tokens[i + n - 1]!);
      if (e < 0) break;
      const g = vocab.entryFeature[e]!;
      if (g >= 0) acc.add(g);
      prefix = 2 * e + 1;
    }
    for (const c of wordChars[w]!) {
      const g = vocab.charFeature[c]!;
      if (g >= 0) acc.add(g);
    }
  }
}

/**
 * The training matrix: sublinear tf times idf, each row scaled to unit length, with the float32
 * roundings of `LinearTextClassifier.featurize` so training and inference see the same numbers.
 */
export function tfidfMatrix(corpus: PackedCorpus, vocab: TfidfVocabulary, wordNgrams: number): CsrMatrix {
  const F = vocab.features.length;
  const acc = new RowAccumulator(F);
  const out = new CsrBuilder(F);
  let scratch = new Float64Array(256);
  for (let r = 0; r + 1 < corpus.offsets.length; r++) {
    acc.reset();
    addRowFeatures(corpus, vocab, wordNgrams, r, acc);
    const n = acc.ids.length;
    if (scratch.length < n) scratch = new Float64Array(2 * n);
    let norm = 0;
    for (let k = 0; k < n; k++) {
      const v = Math.fround((1 + Math.log(acc.counts.data[k]!)) * vocab.idf[acc.ids.data[k]!]!);
      scratch[k] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < n; k++) scratch[k]! /= norm;
    out.push(acc.ids.data, scratch, n);
  }
  return out.build();
}
