import { createRequire } from 'node:module';
import natural from 'natural/lib/natural/tokenizers/index.js';
import type { Token, Tokenizer } from '../types.js';
import { alignPieces, matchTokens } from './align.js';
import { BadInputError } from '@seqlab/core/base';

// natural's index pulls in its storage back ends (which print dotenv banners on load), so its
// modules are loaded one by one; these two ship no .d.ts, hence require() with a typed cast
// (an ambient declaration would not reach packages that compile this file from source).
const requireCjs = createRequire(import.meta.url);
const PorterStemmer = requireCjs('natural/lib/natural/stemmers/porter_stemmer.js') as { stem(token: string): string };
const englishStopWords = (requireCjs('natural/lib/natural/util/stopwords.js') as { words: string[] }).words;

/** Word splitting rules of {@link WordTokenizer}. */
export type WordMethod = 'treebank' | 'wordpunct' | 'word' | 'regexp' | 'unicode';

/** Options of {@link WordTokenizer}. */
export interface WordTokenizerOptions {
  /**
   * `treebank` (natural's Penn Treebank rules: "can't" -> "ca", "n't"; the default, and how
   * SST-2 was tokenized), `wordpunct` (natural: runs of letters, digits, single punctuation),
   * `word` (natural's WordTokenizer: ASCII letters/digits only, punctuation dropped), `regexp`
   * (natural's RegexpTokenizer with `pattern`), or `unicode` (letters/numbers of any script,
   * each other symbol alone; not from natural). For the natural methods, letters and digits
   * outside ASCII count as letters and digits (natural alone would split "café").
   */
  method?: WordMethod;
  /** For `regexp`: the pattern. With `gaps: true` (natural's default) it matches separators. */
  pattern?: RegExp | string;
  /** For `regexp`: whether `pattern` matches gaps (true) or tokens (false). Default true. */
  gaps?: boolean;
  /** Remove stop words: `true` for natural's English list, or your own list. Default none. */
  stopWords?: boolean | readonly string[];
  /** Replace each token by its Porter stem (natural's PorterStemmer). Default false. */
  stem?: boolean;
  /** Also emit n-grams up to this order after the unigrams (Keras `ngrams`). Default 1. */
  ngrams?: number;
}

const UNICODE_WORD = /[\p{L}\p{M}\p{N}_]+(?:['’][\p{L}\p{M}]+)*|[^\s\p{L}\p{M}\p{N}_]/gu;
const WHITESPACE_ONLY = /^\s+$/u;
const METHODS: readonly WordMethod[] = ['treebank', 'wordpunct', 'word', 'regexp', 'unicode'];

/**
 * Word-level tokenizer on top of natural's tokenizers, with character offsets recovered by
 * scanning the input (natural returns bare strings), optional stop-word removal, Porter
 * stemming and n-grams.
 *
 * @example
 * ```ts
 * new WordTokenizer().tokenize("it isn't bad").map((t) => t.text); // ['it', 'is', "n't", 'bad']
 * ```
 */
export class WordTokenizer implements Tokenizer {
  readonly kind = 'word';
  readonly method: WordMethod;
  private readonly split: (text: string) => Token[];
  private readonly stopSet: ReadonlySet<string> | undefined;
  private readonly options: WordTokenizerOptions;

  constructor(options: WordTokenizerOptions = {}) {
    const method = options.method ?? 'treebank';
    if (!METHODS.includes(method)) {
      throw new BadInputError(`WordTokenizer: unknown method ${JSON.stringify(method)}; valid methods: ${METHODS.join(', ')}`);
    }
    const ngrams = options.ngrams ?? 1;
    if (!Number.isInteger(ngrams) || ngrams < 1) throw new BadInputError(`WordTokenizer: ngrams must be an integer >= 1, got ${String(ngrams)}`);
    if (options.stopWords !== undefined && typeof options.stopWords !== 'boolean' && !Array.isArray(options.stopWords)) {
      throw new BadInputError('WordTokenizer: stopWords must be a boolean or an array of strings');
    }
    this.method = method;
    this.options = { ...options, method, ngrams };
    if (options.stopWords === true) this.stopSet = new Set(englishStopWords);
    else if (Array.isArray(options.stopWords)) this.stopSet = new Set(options.stopWords.map((w) => w.toLowerCase()));
    this.split = makeSplitter(method, options);
  }

  tokenize(text: string): Token[] {
    let tokens = this.split(text);
    if (this.stopSet) {
      const stop = this.stopSet;
      tokens = tokens.filter((t) => !stop.has(t.text.toLowerCase()));
    }
    if (this.options.stem) {
      for (const t of tokens) t.text = PorterStemmer.stem(t.text);
    }
    const n = this.options.ngrams ?? 1;
    if (n > 1) {
      const grams: Token[] = [];
      for (let k = 2; k <= n; k++) grams.push(...ngrams(tokens, k));
      tokens = tokens.concat(grams);
    }
    return tokens;
  }

  /** Joins words with spaces, then attaches punctuation and clitics the way English prints them. */
  detokenize(tokens: string[]): string {
    return tokens
      .join(' ')
      .replace(/ (n't|'s|'re|'ve|'ll|'d|'m)\b/gi, '$1')
      .replace(/ ([.,!?;:%)\]}])/g, '$1')
      .replace(/([([{$]) /g, '$1');
  }

  toJSON(): { kind: 'word'; options: Record<string, unknown> } {
    const { pattern, ...rest } = this.options;
    const options: Record<string, unknown> = { ...rest };
    if (pattern !== undefined) options['pattern'] = pattern instanceof RegExp ? { source: pattern.source, flags: pattern.flags } : pattern;
    return { kind: 'word', options };
  }

  /** Rebuilds from {@link toJSON} output. */
  static fromJSON(json: Record<string, unknown>): WordTokenizer {
    const options = { ...((json['options'] as Record<string, unknown> | undefined) ?? {}) };
    const p = options['pattern'] as { source: string; flags: string } | string | undefined;
    if (p && typeof p === 'object') options['pattern'] = new RegExp(p.source, p.flags);
    return new WordTokenizer(options as WordTokenizerOptions);
  }
}

const NON_ASCII = /[^\p{ASCII}]/u;
const NON_ASCII_WORD_CHAR = /(?!\p{ASCII})[\p{L}\p{M}\p{N}]/gu;

/**
 * natural's rules only know ASCII letters (Treebank splits "café" into "caf", "é"). Replacing
 * every other letter/mark by "a" and digit by "0", unit for unit, lets natural see words of any
 * script while offsets stay valid; token texts are then read back from the real input.
 */
function maskForNatural(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  return text.replace(NON_ASCII_WORD_CHAR, (m) => (/\p{N}/u.test(m) ? '0' : 'a').repeat(m.length));
}

function viaNatural(tokenize: (text: string) => string[] | null, mask: boolean): (text: string) => Token[] {
  return (text) => {
    const masked = mask ? maskForNatural(text) : text;
    const pieces = (tokenize(masked) ?? []).filter((p) => p.length > 0 && !WHITESPACE_ONLY.test(p));
    const tokens = alignPieces(masked, pieces);
    if (masked !== text) for (const t of tokens) t.text = text.slice(t.start, t.end);
    return tokens;
  };
}

function makeSplitter(method: WordMethod, options: WordTokenizerOptions): (text: string) => Token[] {
  switch (method) {
    case 'treebank': {
      const tb = new natural.TreebankWordTokenizer();
      return viaNatural((t) => tb.tokenize(t), true);
    }
    case 'wordpunct': {
      const wp = new natural.WordPunctTokenizer();
      return viaNatural((t) => wp.tokenize(t), true);
    }
    case 'word': {
      const w = new natural.WordTokenizer();
      return viaNatural((t) => w.tokenize(t), true);
    }
    case 'regexp': {
      if (options.pattern === undefined) throw new BadInputError('WordTokenizer: method "regexp" needs a `pattern`');
      const pattern = typeof options.pattern === 'string' ? new RegExp(options.pattern, 'u') : options.pattern;
      const rx = new natural.RegexpTokenizer({ pattern, gaps: options.gaps ?? true });
      return viaNatural((t) => rx.tokenize(t), false);
    }
    case 'unicode':
      return (text) => matchTokens(text, UNICODE_WORD);
  }
}

/**
 * Contiguous n-grams of a token list; each n-gram's text joins the parts with `separator` and
 * its span runs from the first part's start to the last part's end.
 */
export function ngrams(tokens: readonly Token[], n: number, separator = ' '): Token[] {
  if (!Number.isInteger(n) || n < 1) throw new BadInputError(`ngrams: n must be an integer >= 1, got ${String(n)}`);
  const out: Token[] = [];
  for (let i = 0; i + n <= tokens.length; i++) {
    const parts = tokens.slice(i, i + n);
    out.push({ text: parts.map((t) => t.text).join(separator), start: parts[0]!.start, end: parts[n - 1]!.end });
  }
  return out;
}

/**
 * Splits text into sentences with natural's SentenceTokenizer and returns each sentence with its
 * span in `text`.
 */
export function splitSentences(text: string, abbreviations: readonly string[] = []): Token[] {
  if (typeof text !== 'string') throw new BadInputError(`splitSentences: expected a string, got ${typeof text}`);
  if (text.trim().length === 0) return [];
  const st = new natural.SentenceTokenizer([...abbreviations]);
  return alignPieces(text, st.tokenize(text).map((s) => s.trim()).filter((s) => s.length > 0));
}
