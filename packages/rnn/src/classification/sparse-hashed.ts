/**
 * Hashed n-gram features of the fastText-style classifier over a packed corpus: the buckets of a
 * word and of its character n-grams are hashed once per distinct word, word n-grams are hashed
 * by feeding FNV-1a the words in place (no joined string), and each row holds the distinct
 * buckets with their share of the text's n-gram occurrences, as `LinearTextClassifier.featurize`
 * computes them.
 */
import { charNgrams, CsrBuilder, fnv1a, fnv1aFeed, RowAccumulator, type CsrMatrix, type PackedCorpus } from './sparse.js';

/** Hashing settings (the model config's `features`, `wordNgrams`, `minn`, `maxn`). */
export interface HashingOptions {
  buckets: number;
  wordNgrams: number;
  minn: number;
  maxn: number;
}

/** Rows of a packed corpus as hashed bucket counts, with per-word hashes cached. */
export class HashedFeaturizer {
  private readonly wordBucket: Int32Array;
  private readonly charBuckets: Array<Int32Array | undefined>;
  /** FNV-1a state after `"n "`, for each order n. */
  private readonly orderState: number[];
  readonly acc: RowAccumulator;
  private scratch = new Float32Array(256);

  constructor(
    private readonly corpus: PackedCorpus,
    private readonly o: HashingOptions,
  ) {
    this.wordBucket = new Int32Array(corpus.words.length).fill(-1);
    this.charBuckets = new Array(corpus.words.length);
    this.orderState = Array.from({ length: o.wordNgrams + 1 }, (_, n) => fnv1aFeed(0x811c9dc5, `${n} `));
    this.acc = new RowAccumulator(o.buckets);
  }

  private cacheWord(w: number): void {
    const word = this.corpus.words[w]!;
    this.wordBucket[w] = fnv1a(`w ${word}`) % this.o.buckets;
    this.charBuckets[w] = Int32Array.from(charNgrams(word, this.o.minn, this.o.maxn), (g) => fnv1a(`c ${g}`) % this.o.buckets);
  }

  /** Counts the buckets of text `r` into `acc` (reset first), in first-occurrence order. */
  private count(r: number): void {
    const { tokens, offsets, words } = this.corpus;
    const acc = this.acc;
    acc.reset();
    const start = offsets[r]!;
    const end = offsets[r + 1]!;
    const wordAt = (k: number) => words[tokens[k]!]!;
    for (let i = start; i < end; i++) {
      const w = tokens[i]!;
      if (this.wordBucket[w]! < 0) this.cacheWord(w);
      acc.add(this.wordBucket[w]!);
      addWordNgrams(acc, this.orderState, this.o, wordAt, i, end);
      for (const b of this.charBuckets[w]!) acc.add(b);
    }
  }

  /**
   * The features of text `r`: distinct buckets and each one's count over all occurrences.
   * The arrays are reused by the next call.
   */
  row(r: number): { idx: Int32Array; val: Float32Array; nnz: number } {
    this.count(r);
    const { ids, counts, total } = this.acc;
    const n = ids.length;
    if (this.scratch.length < n) this.scratch = new Float32Array(2 * n);
    for (let k = 0; k < n; k++) this.scratch[k] = counts.data[k]! / total;
    return { idx: ids.data, val: this.scratch, nnz: n };
  }

  /**
   * The first rows of the corpus as a CSR matrix, as many as fit in `maxEntries` stored
   * features (the rest are recomputed by {@link row} when needed).
   */
  matrix(maxEntries: number): CsrMatrix {
    const out = new CsrBuilder(this.o.buckets);
    const N = this.corpus.offsets.length - 1;
    for (let r = 0; r < N; r++) {
      const { idx, val, nnz } = this.row(r);
      if (out.nnz + nnz > maxEntries) break;
      out.push(idx, val, nnz);
    }
    return out.build();
  }
}

/** The buckets of the word n-grams (orders 2..wordNgrams) starting at position `i` of a text ending at `end`. */
function addWordNgrams(acc: RowAccumulator, orderState: readonly number[], o: HashingOptions, wordAt: (k: number) => string, i: number, end: number, from = 2): void {
  for (let n = from; n <= o.wordNgrams && i + n <= end; n++) {
    let h = fnv1aFeed(orderState[n]!, wordAt(i));
    for (let k = 1; k < n; k++) h = fnv1aFeed(Math.imul(h ^ 32, 0x01000193), wordAt(i + k));
    acc.add((h >>> 0) % o.buckets);
  }
}

/**
 * {@link HashedFeaturizer}'s features for one text at a time (scoring): each distinct word's
 * buckets are hashed once and kept for up to `maxWords` words (a corpus's frequent words
 * cover most tokens; past the cap, words are hashed as they come), word n-grams are hashed in
 * place, and the counts need no Map. The same buckets, order and values as
 * `LinearTextClassifier.featurize` by feature strings.
 */
export class TextHasher {
  /** Per cached word: its bucket, and the hash of a bigram it starts up to the second word's characters. */
  private readonly wordIndex = new Map<string, number>();
  private wordBucket = new Int32Array(1024);
  private bigramPrefix = new Int32Array(1024);
  /** Only with character n-grams (`minn > 0`). */
  private readonly charBuckets = new Map<string, Int32Array>();
  private readonly orderState: number[];
  private readonly acc: RowAccumulator;

  constructor(
    private readonly o: HashingOptions,
    private readonly maxWords = 200_000,
  ) {
    this.orderState = Array.from({ length: o.wordNgrams + 1 }, (_, n) => fnv1aFeed(0x811c9dc5, `${n} `));
    this.acc = new RowAccumulator(o.buckets);
  }

  /** The cache slot of `word`, hashed and stored on first sight (-1 past `maxWords`: then {@link hashWord} each time). */
  private slotOf(word: string): number {
    let k = this.wordIndex.get(word);
    if (k !== undefined) return k;
    k = this.wordIndex.size;
    if (k >= this.maxWords) return -1;
    if (k === this.wordBucket.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.wordBucket = grow(this.wordBucket);
      this.bigramPrefix = grow(this.bigramPrefix);
    }
    const [bucket, prefix] = this.hashWord(word);
    this.wordBucket[k] = bucket;
    this.bigramPrefix[k] = prefix;
    this.wordIndex.set(word, k);
    return k;
  }

  private hashWord(word: string): [bucket: number, prefix: number] {
    return [fnv1a(`w ${word}`) % this.o.buckets, this.o.wordNgrams >= 2 ? Math.imul(fnv1aFeed(this.orderState[2]!, word) ^ 32, 0x01000193) : 0];
  }

  private addChars(word: string): void {
    let b = this.charBuckets.get(word);
    if (b === undefined) {
      b = Int32Array.from(charNgrams(word, this.o.minn, this.o.maxn), (g) => fnv1a(`c ${g}`) % this.o.buckets);
      if (this.charBuckets.size < this.maxWords) this.charBuckets.set(word, b);
    }
    for (const c of b) this.acc.add(c);
  }

  /** The distinct buckets of `words` in first-occurrence order, each with its share of the n-gram occurrences. */
  row(words: readonly string[]): { idx: Int32Array; val: Float32Array } {
    const acc = this.acc;
    acc.reset();
    const chars = this.o.minn > 0;
    const bigrams = this.o.wordNgrams >= 2;
    const wordAt = (k: number) => words[k]!;
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      const k = this.slotOf(word);
      let bucket: number;
      let prefix: number;
      if (k >= 0) {
        bucket = this.wordBucket[k]!;
        prefix = this.bigramPrefix[k]!;
      } else [bucket, prefix] = this.hashWord(word);
      acc.add(bucket);
      // A bigram from this word's cached state: only the second word's characters are hashed.
      if (bigrams && i + 2 <= words.length) acc.add((fnv1aFeed(prefix, words[i + 1]!) >>> 0) % this.o.buckets);
      addWordNgrams(acc, this.orderState, this.o, wordAt, i, words.length, 3);
      if (chars) this.addChars(word);
    }
    const n = acc.ids.length;
    const idx = acc.ids.data.slice(0, n);
    const val = new Float32Array(n);
    for (let k = 0; k < n; k++) val[k] = acc.counts.data[k]! / acc.total;
    return { idx, val };
  }
}
