/**
 * Shared merge trainer of BPE and WordPiece: words are arrays of symbol ids with a corpus
 * frequency; the most frequent adjacent pair is merged into a new symbol until the inventory
 * reaches the target size.
 *
 * Pair counts are kept incrementally: a merge only revisits the words that contain the merged
 * pair (an inverted index), subtracting their old pairs and adding their new ones; the best pair
 * comes from a max-heap with lazy deletion. Ties go to the smaller (left id, right id), so the
 * result depends only on the word counts, never on iteration order.
 */

const SHIFT = 4194304; // 2^22: room for ~4M symbols on the right; keys stay exact doubles.
const pairKey = (a: number, b: number): number => a * SHIFT + b;

/** Max-heap of (count, key) with ties broken by the smaller key. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private above(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i]!;
    this.counts[i] = this.counts[j]!;
    this.counts[j] = c;
    const k = this.keys[i]!;
    this.keys[i] = this.keys[j]!;
    this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): [number, number] | undefined {
    const n = this.keys.length;
    if (n === 0) return undefined;
    const top: [number, number] = [this.counts[0]!, this.keys[0]!];
    this.swap(0, n - 1);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    const m = n - 1;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < m && this.above(l, best)) best = l;
      if (r < m && this.above(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}

/** Input and options of {@link trainMerges}. */
export interface MergeTrainSpec {
  /** Each distinct word as initial symbol ids. Modified in place. */
  words: Int32Array[];
  /** Corpus frequency of each word. */
  freqs: number[];
  /** Initial symbol strings (index = id). Extended in place with merged symbols. */
  symbols: string[];
  /** Stop when `symbols.length` reaches this. */
  targetSize: number;
  /** Stop when the best pair occurs fewer times. */
  minFrequency: number;
  /** Name of the symbol made by merging `left` and `right`. */
  join: (left: string, right: string) => string;
  onProgress?: (merges: number, target: number) => void;
}

/** Pair counts and the inverted index from pair to the words holding it, kept up to date per merge. */
interface PairIndex {
  words: Int32Array[];
  freqs: number[];
  counts: Map<number, number>;
  where: Map<number, number[]>;
  /** Pairs whose count changed during the current merge (to re-push on the heap). */
  changed: Set<number>;
}

/** Records that word `w` holds pair `key` (words are visited in order, so one check dedupes). */
function indexWord(where: Map<number, number[]>, key: number, w: number): void {
  let list = where.get(key);
  if (!list) where.set(key, (list = []));
  if (list[list.length - 1] !== w) list.push(w);
}

/** Counts every adjacent pair of the initial words and indexes where each occurs. */
function indexPairs(words: Int32Array[], freqs: number[]): PairIndex {
  const counts = new Map<number, number>();
  const where = new Map<number, number[]>();
  for (let w = 0; w < words.length; w++) {
    const word = words[w]!;
    const f = freqs[w]!;
    for (let k = 0; k + 1 < word.length; k++) {
      const key = pairKey(word[k]!, word[k + 1]!);
      counts.set(key, (counts.get(key) ?? 0) + f);
      indexWord(where, key, w);
    }
  }
  return { words, freqs, counts, where, changed: new Set<number>() };
}

/** Adds `f` to a pair's count (dropping it at zero) and marks it changed. */
function addCount(index: PairIndex, key: number, f: number): void {
  const c = (index.counts.get(key) ?? 0) + f;
  if (c === 0) index.counts.delete(key);
  else index.counts.set(key, c);
  index.changed.add(key);
}

/** Whether `word` holds `a` directly followed by `b`. */
function holdsPair(word: Int32Array, a: number, b: number): boolean {
  for (let k = 0; k + 1 < word.length; k++) if (word[k] === a && word[k + 1] === b) return true;
  return false;
}

/** `word` with every non-overlapping `a b` (left to right) replaced by `id`. */
function mergeInWord(word: Int32Array, a: number, b: number, id: number): Int32Array {
  const out = new Int32Array(word.length);
  let n = 0;
  for (let k = 0; k < word.length; ) {
    if (k + 1 < word.length && word[k] === a && word[k + 1] === b) {
      out[n++] = id;
      k += 2;
    } else out[n++] = word[k++]!;
  }
  return out.slice(0, n);
}

/** Rewrites the words holding `a b` with symbol `id`, moving their pair counts from old pairs to new. */
function applyMerge(index: PairIndex, a: number, b: number, id: number): void {
  const { words, freqs, where } = index;
  const key = pairKey(a, b);
  const list = where.get(key) ?? [];
  where.delete(key);
  for (const w of list) {
    const word = words[w]!;
    if (!holdsPair(word, a, b)) continue; // the index may hold words that an earlier merge already rewrote
    const f = freqs[w]!;
    for (let k = 0; k + 1 < word.length; k++) addCount(index, pairKey(word[k]!, word[k + 1]!), -f);
    const merged = mergeInWord(word, a, b, id);
    words[w] = merged;
    for (let k = 0; k + 1 < merged.length; k++) {
      const pk = pairKey(merged[k]!, merged[k + 1]!);
      addCount(index, pk, f);
      if (merged[k] === id || merged[k + 1] === id) indexWord(where, pk, w);
    }
  }
}

/** The id of symbol `name`, appending it to `symbols` when new. */
function symbolId(symbols: string[], idOf: Map<string, number>, name: string): number {
  let id = idOf.get(name);
  if (id === undefined) {
    id = symbols.length;
    symbols.push(name);
    idOf.set(name, id);
  }
  return id;
}

/** Returns the merges in order as pairs of symbol ids; `spec.symbols` grows to match. */
export function trainMerges(spec: MergeTrainSpec): Array<[number, number]> {
  const { words, freqs, symbols, targetSize, minFrequency, join } = spec;
  const idOf = new Map<string, number>();
  symbols.forEach((s, i) => idOf.set(s, i));
  const index = indexPairs(words, freqs);
  const heap = new PairHeap();
  for (const [key, c] of index.counts) heap.push(c, key);

  const merges: Array<[number, number]> = [];
  const progressEvery = Math.max(1, Math.floor((targetSize - symbols.length) / 20));
  while (symbols.length < targetSize) {
    const top = heap.pop();
    if (!top) break;
    const [count, key] = top;
    if ((index.counts.get(key) ?? 0) !== count) continue; // stale entry
    if (count < minFrequency) break;
    const a = Math.floor(key / SHIFT);
    const b = key - a * SHIFT;
    const id = symbolId(symbols, idOf, join(symbols[a]!, symbols[b]!));
    merges.push([a, b]);
    index.changed.clear();
    applyMerge(index, a, b, id);
    for (const pk of index.changed) {
      const c = index.counts.get(pk);
      if (c !== undefined && c > 0) heap.push(c, pk);
    }
    if (spec.onProgress && merges.length % progressEvery === 0) spec.onProgress(symbols.length, targetSize);
  }
  return merges;
}

/** Encodes pair keys for merge-rank lookup at encoding time. */
export { pairKey };
