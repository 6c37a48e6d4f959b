import { TokenizeFormatError } from '../errors.js';
import type { SubwordTrainOptions, Token, TrainableTokenizer } from '../types.js';
import { codePoints, lines } from './corpus.js';
import { matchTokens } from './align.js';
import { trainMerges } from './merges.js';
import { BadInputError } from '@seqlab/core/base';

// BERT's basic tokenization: runs of letters/marks/digits, every other non-space symbol alone.
const PRETOKEN = /[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]/gu;

/** Options of {@link WordPieceTokenizer}. */
export interface WordPieceOptions {
  /** Symbol inventory (from a trained model), including `##` continuation pieces. */
  vocab?: readonly string[];
  /** Token emitted for a word that cannot be pieced together. Default `[UNK]`. */
  unkToken?: string;
  /** Prefix of pieces that continue a word. Default `##`. */
  prefix?: string;
  /** Longer words become `unkToken` (BERT uses 100). */
  maxInputCharsPerWord?: number;
}

/**
 * WordPiece (BERT): words are split greedily into the longest known pieces, continuation pieces
 * carry `##`. The trainer merges the most frequent adjacent pieces (as Hugging Face's
 * WordPieceTrainer does) starting from every character seen, in first and continuation form.
 *
 * @example
 * ```ts
 * const wp = new WordPieceTokenizer();
 * await wp.train(['unaffable affable'], { vocabSize: 40, minFrequency: 1 });
 * wp.tokenize('affable').map((t) => t.text);
 * ```
 */
export class WordPieceTokenizer implements TrainableTokenizer {
  readonly kind = 'wordpiece';
  readonly unkToken: string;
  readonly prefix: string;
  readonly maxInputCharsPerWord: number;
  private vocabList: string[] = [];
  private vocabSet = new Set<string>();
  private cache = new Map<string, string[]>();
  private maxPieceLength = 0;

  constructor(options: WordPieceOptions = {}) {
    this.unkToken = options.unkToken ?? '[UNK]';
    this.prefix = options.prefix ?? '##';
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    if (!Number.isInteger(this.maxInputCharsPerWord) || this.maxInputCharsPerWord < 1) {
      throw new BadInputError(`maxInputCharsPerWord must be an integer >= 1, got ${String(options.maxInputCharsPerWord)}`);
    }
    if (options.vocab) this.setVocab(options.vocab);
  }

  get trained(): boolean {
    return this.vocabList.length > 0;
  }

  symbols(): readonly string[] {
    return this.vocabList;
  }

  private setVocab(vocab: readonly string[]): void {
    vocab.forEach((v, i) => {
      if (typeof v !== 'string' || v.length === 0) throw new TokenizeFormatError(`WordPiece vocab[${i}] must be a non-empty string, got ${JSON.stringify(v)}`);
    });
    this.vocabList = [...new Set(vocab)];
    this.vocabSet = new Set(this.vocabList);
    this.maxPieceLength = Math.max(0, ...this.vocabList.map((v) => codePoints(v.startsWith(this.prefix) ? v.slice(this.prefix.length) : v).length));
    this.cache.clear();
  }

  async train(corpus: Iterable<string> | AsyncIterable<string>, options: SubwordTrainOptions): Promise<void> {
    const { vocabSize, minFrequency = 2 } = options;
    if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new BadInputError(`WordPiece vocabSize must be a positive integer, got ${String(vocabSize)}`);
    if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new BadInputError(`minFrequency must be an integer >= 1, got ${String(minFrequency)}`);
    const wordCounts = new Map<string, number>();
    for await (const line of lines(corpus, 'WordPieceTokenizer.train')) {
      for (const t of matchTokens(line, PRETOKEN)) {
        if (t.text.length <= this.maxInputCharsPerWord) wordCounts.set(t.text, (wordCounts.get(t.text) ?? 0) + 1);
      }
    }
    // The alphabet is every first and continuation character, sorted, so ids do not depend on
    // corpus order.
    const alphabet = new Set<string>();
    const split: string[][] = [];
    for (const w of wordCounts.keys()) {
      const pieces = codePoints(w).map((c, i) => (i === 0 ? c : this.prefix + c));
      for (const p of pieces) alphabet.add(p);
      split.push(pieces);
    }
    const symbols = [...alphabet].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const idOf = new Map(symbols.map((s, i) => [s, i]));
    const words = split.map((pieces) => Int32Array.from(pieces, (p) => idOf.get(p)!));
    const freqs = [...wordCounts.values()];
    const plen = this.prefix.length;
    trainMerges({
      words,
      freqs,
      symbols,
      targetSize: vocabSize,
      minFrequency,
      join: (l, r) => l + (r.startsWith(this.prefix) ? r.slice(plen) : r),
      onProgress: options.onProgress,
    });
    this.setVocab(symbols);
  }

  /** Greedy longest-match-first pieces of one word, or `[unkToken]`. */
  private pieces(word: string): string[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const chars = codePoints(word);
    let out: string[] = [];
    if (chars.length > this.maxInputCharsPerWord) out = [this.unkToken];
    else {
      let start = 0;
      while (start < chars.length) {
        let end = Math.min(chars.length, start + this.maxPieceLength);
        let piece: string | undefined;
        while (end > start) {
          const sub = (start > 0 ? this.prefix : '') + chars.slice(start, end).join('');
          if (this.vocabSet.has(sub)) {
            piece = sub;
            break;
          }
          end--;
        }
        if (piece === undefined) {
          out = [this.unkToken];
          break;
        }
        out.push(piece);
        start = end;
      }
    }
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(word, out);
    return out;
  }

  tokenize(text: string): Token[] {
    const out: Token[] = [];
    for (const w of matchTokens(text, PRETOKEN)) {
      const pieces = this.pieces(w.text);
      if (pieces.length === 1 && pieces[0] === this.unkToken) {
        out.push({ text: this.unkToken, start: w.start, end: w.end });
        continue;
      }
      let at = w.start;
      for (const p of pieces) {
        const len = p.startsWith(this.prefix) && at > w.start ? p.length - this.prefix.length : p.length;
        out.push({ text: p, start: at, end: at + len });
        at += len;
      }
    }
    return out;
  }

  detokenize(tokens: string[]): string {
    let s = '';
    for (const t of tokens) {
      if (t.startsWith(this.prefix) && s.length > 0) s += t.slice(this.prefix.length);
      else s += (s.length > 0 ? ' ' : '') + t;
    }
    // Hugging Face's clean_up_tokenization_spaces.
    return s
      .replace(/ ([.,!?;:%)\]}])/g, '$1')
      .replace(/ (n't|'s|'re|'ve|'ll|'d|'m)\b/gi, '$1')
      .replace(/ ' /g, "'");
  }

  toJSON(): { kind: 'wordpiece'; vocab: string[]; unkToken: string; prefix: string; maxInputCharsPerWord: number } {
    return { kind: 'wordpiece', vocab: [...this.vocabList], unkToken: this.unkToken, prefix: this.prefix, maxInputCharsPerWord: this.maxInputCharsPerWord };
  }

  static fromJSON(json: Record<string, unknown>): WordPieceTokenizer {
    if (!Array.isArray(json['vocab'])) throw new TokenizeFormatError('WordPiece tokenizer JSON: "vocab" must be an array of strings');
    return new WordPieceTokenizer(json as WordPieceOptions);
  }
}
