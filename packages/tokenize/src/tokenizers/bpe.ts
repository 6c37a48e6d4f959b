import { TokenizeFormatError } from '../errors.js';
import type { SubwordTrainOptions, Token, TrainableTokenizer } from '../types.js';
import { lines } from './corpus.js';
import { pairKey, trainMerges } from './merges.js';
import { BadInputError } from '@seqlab/core/base';

/**
 * GPT-2's reversible map from bytes to printable characters, so every byte sequence is a
 * string of visible symbols (space is "Ġ", newline "Ċ").
 */
function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(keep.includes(b) ? b : 256 + extra++);
  return out;
}

const BYTE_CHARS = bytesToUnicode();
const BYTE_OF = new Map(BYTE_CHARS.map((c, b) => [c, b]));
// GPT-2 pre-tokenization: contractions, optional space + letters / digits / other symbols,
// whitespace. Every code point matches one branch, so the pieces concatenate back to the input.
const PRETOKEN = /'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
/** Longer pre-tokens are cut, so one huge "word" (a 10 MB run of letters) stays linear. */
const MAX_PRETOKEN = 256;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** Options of {@link BpeTokenizer}. */
export interface BpeOptions {
  /** Merges as pairs of symbol strings, in rank order (from a trained model). */
  merges?: ReadonlyArray<readonly [string, string]>;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Splits text into GPT-2 pre-tokens with their offsets; long ones are cut at code-point boundaries. */
function pretokenize(text: string): Array<{ text: string; start: number }> {
  const out: Array<{ text: string; start: number }> = [];
  PRETOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PRETOKEN.exec(text)) !== null) {
    const s = m[0];
    if (s.length <= MAX_PRETOKEN) out.push({ text: s, start: m.index });
    else {
      for (let i = 0; i < s.length; ) {
        let j = Math.min(s.length, i + MAX_PRETOKEN);
        if (j < s.length && (s.charCodeAt(j) & 0xfc00) === 0xdc00) j--;
        out.push({ text: s.slice(i, j), start: m.index + i });
        i = j;
      }
    }
  }
  return out;
}

/**
 * Byte-level BPE (GPT-2 style): text is UTF-8 bytes, so any string encodes without an unknown
 * token, and `detokenize` restores it exactly. Train with {@link BpeTokenizer.train} or load
 * merges from JSON.
 *
 * @example
 * ```ts
 * const bpe = new BpeTokenizer();
 * await bpe.train(['low lower lowest'], { vocabSize: 300 });
 * bpe.detokenize(bpe.tokenize('lowering').map((t) => t.text)); // 'lowering'
 * ```
 */
export class BpeTokenizer implements TrainableTokenizer {
  readonly kind = 'bpe';
  private symbolList: string[] = [...BYTE_CHARS];
  private mergeList: Array<[string, string]> = [];
  private ranks = new Map<number, number>(); // pair key -> rank
  private results = new Map<number, number>(); // pair key -> merged id
  private cache = new Map<string, Int32Array>();
  private isTrained = false;

  constructor(options: BpeOptions = {}) {
    if (options.merges) this.loadMerges(options.merges);
  }

  get trained(): boolean {
    return this.isTrained;
  }

  /** Learned merges in rank order, as symbol strings. */
  get merges(): ReadonlyArray<readonly [string, string]> {
    return this.mergeList;
  }

  symbols(): readonly string[] {
    return this.symbolList;
  }

  private loadMerges(merges: ReadonlyArray<readonly [string, string]>): void {
    const symbols = [...BYTE_CHARS];
    const idOf = new Map(symbols.map((s, i) => [s, i]));
    this.ranks.clear();
    this.results.clear();
    merges.forEach((m, rank) => {
      if (!Array.isArray(m) || m.length !== 2 || typeof m[0] !== 'string' || typeof m[1] !== 'string') {
        throw new TokenizeFormatError(`BPE merges[${rank}] must be a pair of strings, got ${JSON.stringify(m)}`);
      }
      const a = idOf.get(m[0]);
      const b = idOf.get(m[1]);
      if (a === undefined || b === undefined) {
        throw new TokenizeFormatError(`BPE merges[${rank}] uses a symbol not produced by earlier merges: ${JSON.stringify(a === undefined ? m[0] : m[1])}`);
      }
      const name = m[0] + m[1];
      let id = idOf.get(name);
      if (id === undefined) {
        id = symbols.length;
        symbols.push(name);
        idOf.set(name, id);
      }
      const key = pairKey(a, b);
      if (!this.ranks.has(key)) {
        this.ranks.set(key, rank);
        this.results.set(key, id);
      }
    });
    this.symbolList = symbols;
    this.mergeList = merges.map((m) => [m[0], m[1]]);
    this.cache.clear();
    this.isTrained = true;
  }

  /**
   * Learns merges from a corpus of lines until the inventory (256 byte symbols + merges) has
   * `vocabSize` symbols or no pair occurs `minFrequency` times.
   */
  async train(corpus: Iterable<string> | AsyncIterable<string>, options: SubwordTrainOptions): Promise<void> {
    const { vocabSize, minFrequency = 2 } = options;
    if (!Number.isInteger(vocabSize) || vocabSize < 256) {
      throw new BadInputError(`BPE vocabSize must be an integer >= 256 (the byte alphabet), got ${String(vocabSize)}`);
    }
    if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new BadInputError(`minFrequency must be an integer >= 1, got ${String(minFrequency)}`);
    const wordCounts = new Map<string, number>();
    for await (const line of lines(corpus, 'BpeTokenizer.train')) {
      for (const p of pretokenize(line)) wordCounts.set(p.text, (wordCounts.get(p.text) ?? 0) + 1);
    }
    const words: Int32Array[] = [];
    const freqs: number[] = [];
    for (const [w, f] of wordCounts) {
      words.push(Int32Array.from(encoder.encode(w)));
      freqs.push(f);
    }
    const symbols = [...BYTE_CHARS];
    const merges = trainMerges({
      words,
      freqs,
      symbols,
      targetSize: vocabSize,
      minFrequency,
      join: (l, r) => l + r,
      onProgress: options.onProgress,
    });
    this.loadMerges(merges.map(([a, b]) => [symbols[a]!, symbols[b]!] as [string, string]));
  }

  /** Symbol ids of one pre-token, merged by rank. */
  private encodeWord(word: string): Int32Array {
    const hit = this.cache.get(word);
    if (hit) return hit;
    let ids: number[] = Array.from(encoder.encode(word));
    while (ids.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let k = 0; k + 1 < ids.length; k++) {
        const r = this.ranks.get(pairKey(ids[k]!, ids[k + 1]!));
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = k;
        }
      }
      if (best < 0) break;
      const a = ids[best]!;
      const b = ids[best + 1]!;
      const merged = this.results.get(pairKey(a, b))!;
      const next: number[] = [];
      for (let k = 0; k < ids.length; ) {
        if (k + 1 < ids.length && ids[k] === a && ids[k + 1] === b) {
          next.push(merged);
          k += 2;
        } else next.push(ids[k++]!);
      }
      ids = next;
    }
    const out = Int32Array.from(ids);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(word, out);
    return out;
  }

  tokenize(text: string): Token[] {
    const out: Token[] = [];
    for (const p of pretokenize(text)) {
      const ids = this.encodeWord(p.text);
      const s = p.text;
      if (ids.length === 0) continue;
      if (isAscii(s)) {
        // One byte per UTF-16 unit: byte offsets are character offsets.
        let at = p.start;
        for (const id of ids) {
          const sym = this.symbolList[id]!;
          out.push({ text: sym, start: at, end: at + sym.length });
          at += sym.length;
        }
        continue;
      }
      // Map each UTF-8 byte of the pre-token back to the UTF-16 span of its character.
      const byteStart: number[] = [];
      const byteEnd: number[] = [];
      for (let i = 0; i < s.length; ) {
        const c = s.codePointAt(i)!;
        const units = c > 0xffff ? 2 : 1;
        const nBytes = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        for (let k = 0; k < nBytes; k++) {
          byteStart.push(p.start + i);
          byteEnd.push(p.start + i + units);
        }
        i += units;
      }
      let at = 0;
      for (const id of ids) {
        const sym = this.symbolList[id]!;
        const len = sym.length; // each symbol char is one byte
        out.push({ text: sym, start: byteStart[at]!, end: byteEnd[at + len - 1]! });
        at += len;
      }
    }
    return out;
  }

  detokenize(tokens: string[]): string {
    const bytes: number[] = [];
    for (const t of tokens) {
      for (const ch of t) {
        const b = BYTE_OF.get(ch);
        if (b !== undefined) bytes.push(b);
        else for (const x of encoder.encode(ch)) bytes.push(x); // a special token's own text
      }
    }
    return decoder.decode(Uint8Array.from(bytes));
  }

  toJSON(): { kind: 'bpe'; merges: Array<[string, string]> } {
    return { kind: 'bpe', merges: this.mergeList.map((m) => [m[0], m[1]]) };
  }

  static fromJSON(json: Record<string, unknown>): BpeTokenizer {
    const merges = json['merges'];
    if (!Array.isArray(merges)) throw new TokenizeFormatError('BPE tokenizer JSON: "merges" must be an array of [left, right] pairs');
    return new BpeTokenizer({ merges: merges as Array<[string, string]> });
  }
}
