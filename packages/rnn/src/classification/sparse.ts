/**
 * Sparse bag-of-n-gram features for the linear text classifiers, built without a string per
 * n-gram: texts are tokenized once into word ids (a packed Int32Array for the whole corpus),
 * n-grams are counted in an open-addressing table keyed by numbers, and the features of every
 * row land in one CSR matrix of typed arrays. The values equal what `LinearTextClassifier.featurize`
 * computes at inference, bit for bit (same order of accumulation, same float32 rounding).
 */
import { BadInputError, LimitExceededError, throwIfCancelled } from '@seqlab/core/base';
import type { TextVectorizer } from '@seqlab/tokenize';

/** Rows of sparse features: row `r` has `indices[indptr[r]..indptr[r+1])` with `values` alike. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Progress of a featurizing pass: `done` of `total` texts read. */
export type FeaturizeProgress = (done: number, total: number) => void;

/** A growable typed array (amortised doubling). */
class Growable<T extends Int32Array | Float32Array | Float64Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}

  push(v: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = v;
  }

  reserve(n: number): void {
    if (n <= this.data.length) return;
    const next = this.make(Math.max(n, this.data.length * 2, 16));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  /** {@link trimmed} on shared memory, which the solver's helper thread reads without a copy. */
  shared(make: (b: SharedArrayBuffer) => T): T {
    const out = make(new SharedArrayBuffer(Math.max(4, this.length * this.data.BYTES_PER_ELEMENT)));
    out.set(this.data.subarray(0, this.length));
    return out.length === this.length ? out : (out.subarray(0, this.length) as T);
  }
}

/**
 * A large growable column in one growable `SharedArrayBuffer`: growing never copies (the
 * buffer's address range is reserved up front and pages are committed as they are written), and
 * {@link view} is the filled part without a copy, shared with the solver's helper threads. A
 * doubling array and its exact-size copy held a corpus's matrix two to three times over at once
 * (about 1 GB of a 250,000-review tf-idf fit's peak).
 */
export class SharedColumn<T extends Int32Array | Float32Array> {
  length = 0;
  data: T;
  private readonly buffer: SharedArrayBuffer;

  constructor(
    private readonly make: (b: SharedArrayBuffer, length?: number) => T,
    private readonly what: string,
  ) {
    this.buffer = new (SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer)(1 << 16, { maxByteLength: MAX_COLUMN_BYTES });
    this.data = make(this.buffer);
  }

  reserve(n: number): void {
    const bytes = n * this.data.BYTES_PER_ELEMENT;
    if (bytes <= this.buffer.byteLength) return;
    if (bytes > MAX_COLUMN_BYTES) throw new LimitExceededError(`${this.what}: ${n} entries exceed the ${MAX_COLUMN_BYTES / 2 ** 30} GB a column holds; use fewer rows or features`);
    (this.buffer as unknown as { grow(n: number): void }).grow(Math.min(MAX_COLUMN_BYTES, Math.max(bytes, Math.ceil((this.buffer.byteLength * 1.5) / 4096) * 4096)));
    // Views made before a grow keep their length: make the view again.
    this.data = this.make(this.buffer);
  }

  push(v: number): void {
    if (this.length === this.data.length) this.reserve(this.length + 1);
    this.data[this.length++] = v;
  }

  /** The filled part (no copy; the next push may move past it but never changes it). */
  view(): T {
    return this.make(this.buffer, this.length);
  }
}

/** Bytes one {@link SharedColumn} may grow to (address space reserved, not memory). */
const MAX_COLUMN_BYTES = 2 ** 32;
const sharedInt32s = (b: SharedArrayBuffer, length?: number) => new Int32Array(b, 0, length);
const sharedFloat32s = (b: SharedArrayBuffer, length?: number) => new Float32Array(b, 0, length);

const int32s = (n: number) => new Int32Array(n);

/** A corpus tokenized into word ids: text `r` is `tokens[offsets[r]..offsets[r+1])`. */
export interface PackedCorpus {
  words: string[];
  wordIndex: Map<string, number>;
  tokens: Int32Array;
  offsets: Int32Array;
  /** How the texts were tokenized, when a caller may hand the corpus to a fit that must tokenize the same way. */
  tokenization?: string;
}

/**
 * Tokenizes every text once, keeping only word ids (no token strings per row). Yields to the
 * event loop every 256 texts so progress can be shown and `signal` honoured.
 */
export async function packTexts(texts: readonly string[], tokenizer: TextVectorizer, o: { onProgress?: FeaturizeProgress; signal?: AbortSignal } = {}): Promise<PackedCorpus> {
  const wordIndex = new Map<string, number>();
  const words: string[] = [];
  const tokens = new SharedColumn(sharedInt32s, 'packing texts');
  const offsets = new Int32Array(texts.length + 1);
  for (let r = 0; r < texts.length; r++) {
    for (const t of tokenizer.tokenize(texts[r]!)) {
      let id = wordIndex.get(t.text);
      if (id === undefined) {
        id = words.length;
        wordIndex.set(t.text, id);
        words.push(t.text);
      }
      tokens.push(id);
    }
    offsets[r + 1] = tokens.length;
    if (r % 256 === 255) {
      o.onProgress?.(r + 1, texts.length);
      await new Promise<void>((resolve) => setImmediate(resolve));
      throwIfCancelled(o.signal, 'featurizing');
    }
  }
  o.onProgress?.(texts.length, texts.length);
  return { words, wordIndex, tokens: tokens.view(), offsets };
}

/**
 * Rows of packed corpora as one corpus, `rows[i]` being `[source, row]`: the same corpus
 * {@link packTexts} gives for those texts in that order (word ids numbered by first occurrence),
 * without tokenizing them again. A refit on training + validation rows reuses their packing so.
 */
export function repackRows(sources: readonly PackedCorpus[], rows: ReadonlyArray<readonly [number, number]>): PackedCorpus {
  const tokenization = sources[0]?.tokenization;
  if (sources.some((c) => c.tokenization !== tokenization)) throw new BadInputError('repackRows: the corpora were tokenized differently');
  const wordIndex = new Map<string, number>();
  const words: string[] = [];
  const remap = sources.map((c) => new Int32Array(c.words.length).fill(-1));
  const offsets = new Int32Array(rows.length + 1);
  for (const [i, [s, r]] of rows.entries()) offsets[i + 1] = offsets[i]! + sources[s]!.offsets[r + 1]! - sources[s]!.offsets[r]!;
  const tokens = new Int32Array(offsets[rows.length]!);
  let k = 0;
  for (const [s, r] of rows) {
    const { tokens: from, offsets: at, words: sourceWords } = sources[s]!;
    const map = remap[s]!;
    for (let i = at[r]!; i < at[r + 1]!; i++) {
      const w = from[i]!;
      let id = map[w]!;
      if (id < 0) {
        const word = sourceWords[w]!;
        id = wordIndex.get(word) ?? -1;
        if (id < 0) {
          id = words.length;
          wordIndex.set(word, id);
          words.push(word);
        }
        map[w] = id;
      }
      tokens[k++] = id;
    }
  }
  return { words, wordIndex, tokens, offsets, ...(tokenization !== undefined ? { tokenization } : {}) };
}

/** Tokens per text and how often each word occurs: what a length default and word-vector coverage are judged on. */
export function packedTokenCounts(corpus: PackedCorpus): { lengths: number[]; wordCounts: Map<string, number> } {
  const counts = new Float64Array(corpus.words.length);
  for (const w of corpus.tokens) counts[w]!++;
  const lengths = Array.from({ length: corpus.offsets.length - 1 }, (_, r) => corpus.offsets[r + 1]! - corpus.offsets[r]!);
  return { lengths, wordCounts: new Map(corpus.words.map((w, i) => [w, counts[i]!])) };
}

/** FNV-1a, 32 bits, continued from state `h` over the UTF-16 units of `s`. */
export function fnv1aFeed(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** FNV-1a of a whole string: the stable hash of feature buckets. */
export function fnv1a(s: string): number {
  return fnv1aFeed(0x811c9dc5, s) >>> 0;
}

/** The character n-grams of `<word>`, lengths `minn..maxn`, the whole `<word>` excluded. */
export function charNgrams(word: string, minn: number, maxn: number): string[] {
  const out: string[] = [];
  if (minn <= 0) return out;
  const w = `<${word}>`;
  for (let n = minn; n <= maxn; n++) for (let s = 0; s + n <= w.length; s++) if (n < w.length) out.push(w.slice(s, s + n));
  return out;
}

/**
 * Accumulates the features of one row in first-occurrence order: `position[f]` is where
 * feature `f` sits in the row (or -1), so counting is O(1) without a Map.
 */
export class RowAccumulator {
  readonly ids: Growable<Int32Array> = new Growable(new Int32Array(256), int32s);
  readonly counts: Growable<Int32Array> = new Growable(new Int32Array(256), int32s);
  total = 0;
  private readonly position: Int32Array;

  constructor(features: number) {
    this.position = new Int32Array(features).fill(-1);
  }

  add(f: number): void {
    this.total++;
    const at = this.position[f]!;
    if (at >= 0) {
      this.counts.data[at]!++;
      return;
    }
    this.position[f] = this.ids.length;
    this.ids.push(f);
    this.counts.push(1);
  }

  reset(): void {
    for (let k = 0; k < this.ids.length; k++) this.position[this.ids.data[k]!] = -1;
    this.ids.length = 0;
    this.counts.length = 0;
    this.total = 0;
  }
}

/** Builds a CSR matrix row by row. */
export class CsrBuilder {
  private readonly indptr: Growable<Int32Array> = new Growable(new Int32Array(1024), int32s);
  private readonly indices = new SharedColumn(sharedInt32s, 'sparse features');
  private readonly values = new SharedColumn(sharedFloat32s, 'sparse features');

  constructor(readonly cols: number) {
    this.indptr.push(0);
  }

  get nnz(): number {
    return this.indices.length;
  }

  /** Appends a row; `values` are rounded to float32 as stored. */
  push(ids: Int32Array, values: ArrayLike<number>, n: number): void {
    this.indices.reserve(this.indices.length + n);
    this.values.reserve(this.values.length + n);
    this.indices.data.set(ids.subarray(0, n), this.indices.length);
    for (let k = 0; k < n; k++) this.values.data[this.indices.length + k] = values[k]!;
    this.indices.length += n;
    this.values.length += n;
    this.indptr.push(this.indices.length);
  }

  build(): CsrMatrix {
    return {
      rows: this.indptr.length - 1,
      cols: this.cols,
      indptr: this.indptr.shared((b) => new Int32Array(b)),
      indices: this.indices.view(),
      values: this.values.view(),
    };
  }
}

/** Rows `from..to` of a CSR matrix as `{ idx, val }` views (no copy). */
export function csrRow(x: CsrMatrix, r: number): { idx: Int32Array; val: Float32Array } {
  const a = x.indptr[r]!;
  const b = x.indptr[r + 1]!;
  return { idx: x.indices.subarray(a, b), val: x.values.subarray(a, b) };
}
