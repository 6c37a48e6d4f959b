import { readFile } from 'node:fs/promises';
import { TokenizeFormatError } from './errors.js';
import { composeNormalizers, describe, isWellFormed, lowercase as lowercaseStep, normalizerFromJSON, TextNormalizer, type NormalizeOptions } from './normalize.js';
import { CleanTextNormalizer, type CleanTextOptions } from './clean.js';
import { lines } from './tokenizers/corpus.js';
import { createTokenizer, isTokenizer, isTrainable, tokenizerFromJSON, type TokenizerName } from './tokenizers/registry.js';
import type { Normalizer, Token, Tokenizer } from './types.js';
import { Vocabulary, type SpecialTokens, type VocabularyJSON } from './vocabulary.js';
// @seqlab/core/base, not the package root: the root brings TensorFlow.js, which tokenization never
// needs (a linear classifier then loads without it).
import { BadInputError, writeJsonAtomic, type SharedTokens } from '@seqlab/core/base';

/** Current version of {@link TextVectorizerJSON}; `fromJSON` refuses any other. */
export const VECTORIZER_FORMAT_VERSION = 1;

/** Where padding or truncation happens: before (`pre`) or after (`post`) the text. */
export type Side = 'pre' | 'post';

/** Options of {@link TextVectorizer}. */
export interface TextVectorizerOptions {
  /** Tokenizer name or object. Default `'word'` (natural's Treebank rules). */
  tokenizer?: TokenizerName | Tokenizer;
  /**
   * Normalization before tokenization: options of {@link TextNormalizer}, a {@link Normalizer},
   * or `false` for none. Defaults depend on the tokenizer: word/whitespace NFKC + lower-case +
   * control removal + whitespace folding; char none (exact round trip); bpe NFC; wordpiece like
   * word plus accent stripping (BERT uncased).
   */
  normalize?: NormalizeOptions | Normalizer | false;
  /**
   * Cleaning before normalization (markup stripping, URL and number placeholders; see
   * {@link CleanTextNormalizer}). Saved with the vectorizer. Default: none.
   */
  clean?: CleanTextOptions;
  /** Shortcut that overrides the lower-casing of `normalize`. */
  lowercase?: boolean;
  /**
   * Vocabulary size limit, specials included. For bpe/wordpiece it is the training target
   * (default 8000); for the others unlimited by default.
   */
  maxTokens?: number;
  /** Tokens (or merged pairs) seen fewer times are left out. Default 1 (bpe/wordpiece: 2). */
  minFrequency?: number;
  /** Special token strings. */
  specials?: Partial<SpecialTokens>;
  /** Default `maxLength` of {@link TextVectorizer.encode} (Keras `output_sequence_length`). */
  maxLength?: number;
  /** Default padding side. Default `'post'`. */
  padding?: Side;
  /** Default truncation side. Default `'post'` (keep the beginning). */
  truncation?: Side;
}

/** Options of {@link TextVectorizer.encode}. */
export interface EncodeOptions {
  /** Row length. Default: the vectorizer's `maxLength`, else the longest row of the batch. */
  maxLength?: number;
  padding?: Side;
  truncation?: Side;
  /** Put BOS first in every row (kept when truncating). */
  addBos?: boolean;
  /** Put EOS last in every row (kept when truncating). */
  addEos?: boolean;
}

/** Result of {@link TextVectorizer.encode}: row-major `[batch, maxLength]` arrays. */
export interface EncodedBatch {
  /** Token ids, PAD (0) where `mask` is 0. */
  ids: Int32Array;
  /** 1 for real tokens (BOS/EOS included), 0 for padding. */
  mask: Uint8Array;
  shape: [number, number];
  /** Number of real tokens per row. */
  lengths: Int32Array;
  /**
   * Tokens kept in each row (after truncation), in row order, BOS/EOS not included, with offsets
   * into the ORIGINAL input text.
   */
  tokens: Token[][];
}

/** Options of {@link TextVectorizer.decode}. */
export interface DecodeOptions {
  /** Leave out PAD, BOS, EOS, MASK and extra specials (UNK is kept, so loss is visible). Default true. */
  skipSpecial?: boolean;
}

/** JSON form of a {@link TextVectorizer}. */
export interface TextVectorizerJSON {
  format: 'seqlab.text-vectorizer';
  formatVersion: number;
  tokenizer: object;
  normalizer: object | null;
  config: { maxTokens?: number; minFrequency?: number; maxLength?: number; padding: Side; truncation: Side };
  specials: SpecialTokens;
  vocabulary: VocabularyJSON | null;
}

const DEFAULT_NORMALIZATION: Record<string, NormalizeOptions> = {
  word: { unicode: 'NFKC', lowercase: true, stripControl: true, foldWhitespace: true },
  whitespace: { unicode: 'NFKC', lowercase: true, stripControl: true, foldWhitespace: true },
  char: {},
  bpe: { unicode: 'NFC' },
  wordpiece: { unicode: 'NFKC', lowercase: true, stripAccents: true, stripControl: true, foldWhitespace: true },
};

function checkInt(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min)) {
    throw new BadInputError(`TextVectorizer: ${name} must be an integer >= ${min}, got ${String(v)}`);
  }
}
function checkSide(name: string, v: unknown): void {
  if (v !== undefined && v !== 'pre' && v !== 'post') throw new BadInputError(`TextVectorizer: ${name} must be 'pre' or 'post', got ${JSON.stringify(v)}`);
}

/**
 * Raw text in, padded id tensors out, and back: normalization, tokenization, a vocabulary and
 * padding/truncation in one object that is saved beside the model (the Keras TextVectorization
 * of seqlab).
 *
 * @example
 * ```ts
 * const tv = await new TextVectorizer({ maxLength: 8 }).adapt(['the cat sat', 'the dog ran']);
 * const { ids, mask, shape } = tv.encode(['the cat ran']); // shape [1, 8]
 * tv.decode(ids); // 'the cat ran'
 * ```
 */
export class TextVectorizer {
  readonly tokenizer: Tokenizer;
  readonly normalizer: Normalizer | null;
  private readonly config: TextVectorizerJSON['config'];
  private readonly specialTokens: Partial<SpecialTokens> | undefined;
  private vocab: Vocabulary | undefined;
  /** Set when the vocabulary is fixed by a trained subword model (adapt does not retrain it). */
  private pretrained = false;
  private tokenization: string | undefined;

  constructor(options: TextVectorizerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new BadInputError(`TextVectorizer: options must be an object, got ${describe(options)}`);
    const tk = options.tokenizer ?? 'word';
    if (typeof tk === 'string') this.tokenizer = createTokenizer(tk);
    else if (isTokenizer(tk)) this.tokenizer = tk;
    else throw new BadInputError(`TextVectorizer: tokenizer must be a name (word, char, whitespace, bpe, wordpiece) or a Tokenizer object, got ${describe(tk)}`);
    checkInt('maxTokens', options.maxTokens, 1);
    checkInt('minFrequency', options.minFrequency, 1);
    checkInt('maxLength', options.maxLength, 1);
    checkSide('padding', options.padding);
    checkSide('truncation', options.truncation);
    const normalizer = resolveNormalizer(this.tokenizer.kind, options.normalize, options.lowercase);
    // Cleaning runs first: entities decode to characters the normalizer then folds like any other.
    const clean = options.clean === undefined ? undefined : new CleanTextNormalizer(options.clean);
    this.normalizer = clean ? (normalizer ? composeNormalizers(clean, normalizer) : clean) : normalizer;
    this.specialTokens = options.specials;
    this.config = {
      maxTokens: options.maxTokens,
      minFrequency: options.minFrequency,
      maxLength: options.maxLength,
      padding: options.padding ?? 'post',
      truncation: options.truncation ?? 'post',
    };
    if (isTrainable(this.tokenizer) && this.tokenizer.trained) {
      this.vocab = Vocabulary.fromSymbols(this.tokenizer.symbols(), options.specials);
      this.pretrained = true;
    }
  }

  /** The fitted vocabulary; throws if `adapt` has not run. */
  get vocabulary(): Vocabulary {
    if (!this.vocab) throw new BadInputError('TextVectorizer: no vocabulary yet; call adapt(corpus) first or load a saved vectorizer');
    return this.vocab;
  }

  /** Number of ids (specials included): the input dimension of an embedding layer. */
  get vocabSize(): number {
    return this.vocabulary.size;
  }

  /** Whether a vocabulary is present. */
  get isAdapted(): boolean {
    return this.vocab !== undefined;
  }

  /** Normalizes `text` (identity when normalization is off). */
  normalize(text: string): string {
    return this.normalizer ? this.normalizer.normalize(text) : text;
  }

  /**
   * Builds the vocabulary from a corpus of lines: an array, any iterable, or an async iterable
   * (a file read line by line, so the corpus need not fit in memory). Subword tokenizers are
   * trained here (unless the tokenizer was given or loaded already trained: then its inventory
   * is the vocabulary and the corpus is not read); word/char/whitespace tokens are counted.
   * Replaces any earlier vocabulary.
   */
  async adapt(corpus: Iterable<string> | AsyncIterable<string>): Promise<this> {
    // Training a subword tokenizer changes its tokens.
    this.tokenization = undefined;
    const normalizer = this.normalizer;
    // Long lines are read in windows (as in encode), so a 10 MB line never becomes 10 MB of
    // intermediates at once; no token crosses a window cut.
    async function* normalizedWindows() {
      for await (const line of lines(corpus, 'TextVectorizer.adapt')) {
        const cuts = line.length > WINDOW ? windowCuts(line) : [0, line.length];
        for (let w = 0; w + 1 < cuts.length; w++) {
          const part = cuts.length === 2 ? line : line.slice(cuts[w], cuts[w + 1]);
          yield normalizer ? normalizer.normalize(part) : part;
        }
      }
    }
    const specialCount = 5 + (this.specialTokens?.extra?.length ?? 0);
    if (isTrainable(this.tokenizer)) {
      if (!this.pretrained) {
        const maxTokens = this.config.maxTokens ?? 8000;
        if (maxTokens <= specialCount) throw new BadInputError(`TextVectorizer: maxTokens (${maxTokens}) leaves no room after ${specialCount} special tokens`);
        const minFrequency = this.config.minFrequency ?? 2;
        await this.tokenizer.train(normalizedWindows(), { vocabSize: maxTokens - specialCount, minFrequency });
      }
      this.vocab = Vocabulary.fromSymbols(this.tokenizer.symbols(), this.specialTokens);
      return this;
    }
    const counts = new Map<string, number>();
    for await (const text of normalizedWindows()) {
      for (const t of this.tokenizer.tokenize(text)) counts.set(t.text, (counts.get(t.text) ?? 0) + 1);
    }
    return this.adaptCounts(counts);
  }

  /**
   * Builds the vocabulary from token counts made already, as {@link adapt} builds it from the
   * texts those counts came from (the same ids: the vocabulary's order depends only on the
   * counts). For a corpus tokenized once and shared by several models: counting it again would
   * tokenize every text a second time. The tokens must come from this vectorizer's tokenization
   * ({@link tokenizationKey}); word, char and whitespace tokenizers only, since a subword
   * tokenizer is trained on the texts themselves.
   */
  adaptCounts(counts: ReadonlyMap<string, number>): this {
    if (isTrainable(this.tokenizer)) throw new BadInputError(`TextVectorizer.adaptCounts: a ${this.tokenizer.kind} tokenizer is trained on texts; call adapt(corpus)`);
    if (!(counts instanceof Map)) throw new BadInputError(`TextVectorizer.adaptCounts: expected a Map of token counts, got ${describe(counts)}`);
    this.vocab = Vocabulary.build(counts as Map<string, number>, { minFrequency: this.config.minFrequency ?? 1, maxSize: this.config.maxTokens, specials: this.specialTokens });
    return this;
  }

  /**
   * Appends words to the vocabulary (ids of existing tokens never move), at most `limit` new
   * ones, in the order given. A word is taken only when this vectorizer reads it as exactly that
   * one token after normalization, so every added id is reachable; the others are skipped.
   * For word-level vocabularies: subword inventories are fixed by their trained tokenizer.
   *
   * Use: a classifier with frozen pre-trained word vectors can carry vectors for words its
   * training data never showed ({@link Vocabulary.extend}); the extra ids never occur in
   * training, so training is unchanged and the model reads those words at inference.
   *
   * @returns the number of words added.
   */
  extendVocabulary(words: Iterable<string>, options: { limit?: number } = {}): number {
    const vocab = this.vocabulary;
    if (isTrainable(this.tokenizer)) throw new BadInputError(`TextVectorizer.extendVocabulary: a ${this.tokenizer.kind} vocabulary is fixed by its trained tokenizer`);
    const tokenizer = this.tokenizer;
    const normalize = (w: string) => this.normalize(w);
    function* readable(): Generator<string> {
      for (const w of words) {
        if (typeof w !== 'string') throw new BadInputError(`TextVectorizer.extendVocabulary: words must be strings, got ${describe(w)}`);
        const tokens = w.length > 0 && w.length <= 100 ? tokenizer.tokenize(normalize(w)) : [];
        if (tokens.length === 1 && tokens[0]!.text === w) yield w;
      }
    }
    const extended = vocab.extend(readable(), options);
    this.vocab = extended;
    return extended.size - vocab.size;
  }

  /**
   * Tokens of one text with offsets into the original text.
   *
   * Texts longer than 64 Ki UTF-16 units are processed in windows cut just before a whitespace
   * that follows a non-space (a token boundary for every built-in tokenizer), so a 10 MB line
   * never builds 10 MB intermediates at once, and `encode` with truncation stops reading once
   * it has enough tokens.
   */
  tokenize(text: string): Token[] {
    if (typeof text !== 'string') throw new BadInputError(`TextVectorizer.tokenize: expected a string, got ${describe(text)}`);
    return this.tokenizeLimited(text, Infinity, 'post');
  }

  /**
   * Names how this vectorizer turns text into tokens (tokenizer and normalization, not the
   * vocabulary): two vectorizers with the same key give the same tokens for every text.
   */
  get tokenizationKey(): string {
    this.tokenization ??= JSON.stringify({ tokenizer: this.tokenizer.toJSON(), normalizer: this.normalizer ? this.normalizer.toJSON() : null });
    return this.tokenization;
  }

  /**
   * {@link tokenize} of every text; with `shared`, taken from (or stored in) the batch's shared
   * tokenizations under {@link tokenizationKey}. The lists may be shared: do not modify them.
   */
  tokenizeAll(texts: readonly string[], shared?: SharedTokens): readonly Token[][] {
    const all = (ts: readonly string[]) => ts.map((t) => this.tokenize(t));
    return shared ? shared.get(texts, this.tokenizationKey, all) : all(texts);
  }

  /**
   * A side-work item that tokenizes `texts` into `shared` one text per call, for a batch to be
   * classified next ({@link tokenizeAll} of those texts then finds them, or finishes the rest).
   */
  prefillTokens(texts: readonly string[], shared: SharedTokens): () => boolean {
    return shared.prefill(texts, this.tokenizationKey, (t) => this.tokenize(t));
  }

  /** At least `keep` tokens from the `side` end of `text` (all when the text is shorter). */
  private tokenizeLimited(text: string, keep: number, side: Side): Token[] {
    if (text.length <= WINDOW) return this.tokenizeWindow(text, 0, text.length);
    const cuts = windowCuts(text);
    const parts: Token[][] = [];
    let have = 0;
    for (let w = 0; w < cuts.length - 1 && have < keep; w++) {
      const k = side === 'post' ? w : cuts.length - 2 - w;
      const part = this.tokenizeWindow(text, cuts[k]!, cuts[k + 1]!);
      parts.push(part);
      have += part.length;
    }
    if (side === 'pre') parts.reverse();
    return parts.length === 1 ? parts[0]! : parts.flat();
  }

  private tokenizeWindow(full: string, from: number, to: number): Token[] {
    const text = from === 0 && to === full.length ? full : full.slice(from, to);
    const identity = !this.normalizer || (this.normalizer instanceof TextNormalizer && this.normalizer.isIdentity);
    if (identity && isWellFormed(text)) {
      const tokens = this.tokenizer.tokenize(text);
      if (from > 0) {
        for (const t of tokens) {
          t.start += from;
          t.end += from;
        }
      }
      return tokens;
    }
    const normalizer = this.normalizer ?? IDENTITY;
    const aligned = normalizer instanceof TextNormalizer ? normalizer.normalizeAlignedTransient(text) : normalizer.normalizeAligned(text);
    const tokens = this.tokenizer.tokenize(aligned.text);
    const n = aligned.text.length;
    for (const t of tokens) {
      // Map normalized [start, end) to the original: first unit's start, last unit's end.
      if (t.end > t.start) {
        const s = aligned.starts[t.start]!;
        t.end = aligned.ends[t.end - 1]! + from;
        t.start = s + from;
      } else {
        const at = (t.start < n ? aligned.starts[t.start]! : n > 0 ? aligned.ends[n - 1]! : 0) + from;
        t.start = at;
        t.end = at;
      }
    }
    return tokens;
  }

  private idsOf(tokens: readonly Token[], vocab: Vocabulary): Int32Array {
    const ids = new Int32Array(tokens.length);
    const unk = vocab.unkId;
    for (let k = 0; k < tokens.length; k++) {
      const id = vocab.tokenToId(tokens[k]!.text);
      // Text that happens to spell a special token ("[PAD]") must not become that special.
      ids[k] = vocab.isSpecialId(id) ? unk : id;
    }
    return ids;
  }

  /** Unpadded ids of one text (no BOS/EOS unless asked, no truncation). */
  encodeIds(text: string, options: { addBos?: boolean; addEos?: boolean } = {}): number[] {
    const vocab = this.vocabulary;
    if (typeof text !== 'string') throw new BadInputError(`TextVectorizer.encodeIds: expected a string, got ${describe(text)}`);
    const ids = Array.from(this.idsOf(this.tokenize(text), vocab));
    if (options.addBos) ids.unshift(vocab.bosId);
    if (options.addEos) ids.push(vocab.eosId);
    return ids;
  }

  /**
   * Encodes one text or a batch into padded `[batch, maxLength]` ids with an attention mask,
   * the real length of each row and the kept tokens with their offsets.
   */
  encode(texts: string | readonly string[], options: EncodeOptions = {}): EncodedBatch {
    const vocab = this.vocabulary;
    const batch = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(batch)) throw new BadInputError(`TextVectorizer.encode: texts must be a string or an array of strings, got ${describe(texts)}`);
    batch.forEach((t, i) => {
      if (typeof t !== 'string') throw new BadInputError(`TextVectorizer.encode: texts[${i}] must be a string, got ${describe(t)}`);
    });
    checkInt('maxLength', options.maxLength, 1);
    checkSide('padding', options.padding);
    checkSide('truncation', options.truncation);
    const padding = options.padding ?? this.config.padding;
    const truncation = options.truncation ?? this.config.truncation;
    const extra = (options.addBos ? 1 : 0) + (options.addEos ? 1 : 0);
    const fixed = options.maxLength ?? this.config.maxLength;
    if (fixed !== undefined && fixed < extra) {
      throw new BadInputError(`TextVectorizer.encode: maxLength ${fixed} cannot hold BOS/EOS (${extra} ids)`);
    }

    const rows: Array<{ ids: Int32Array; tokens: Token[] }> = [];
    for (const text of batch) {
      let tokens = fixed === undefined ? this.tokenize(text) : this.tokenizeLimited(text, fixed - extra, truncation);
      let ids = this.idsOf(tokens, vocab);
      if (fixed !== undefined && ids.length > fixed - extra) {
        const keep = fixed - extra;
        if (truncation === 'post') {
          ids = ids.slice(0, keep);
          tokens = tokens.slice(0, keep);
        } else {
          ids = ids.slice(ids.length - keep);
          tokens = tokens.slice(tokens.length - keep);
        }
      }
      rows.push({ ids, tokens });
    }
    const L = fixed ?? rows.reduce((m, r) => Math.max(m, r.ids.length + extra), 0);
    const B = rows.length;
    const ids = new Int32Array(B * L); // PAD is 0
    const mask = new Uint8Array(B * L);
    const lengths = new Int32Array(B);
    rows.forEach((r, i) => {
      const len = r.ids.length + extra;
      lengths[i] = len;
      const base = i * L + (padding === 'pre' ? L - len : 0);
      let at = base;
      if (options.addBos) ids[at++] = vocab.bosId;
      ids.set(r.ids, at);
      at += r.ids.length;
      if (options.addEos) ids[at] = vocab.eosId;
      mask.fill(1, base, base + len);
    });
    return { ids, mask, shape: [B, L], lengths, tokens: rows.map((r) => r.tokens) };
  }

  /** Turns ids back into text through the tokenizer's `detokenize`. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const vocab = this.vocabulary;
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new BadInputError(`TextVectorizer.decode: ids must be an array or typed array of integers, got ${describe(ids)}`);
    }
    const skip = options.skipSpecial ?? true;
    const tokens: string[] = [];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (!Number.isInteger(id) || id < 0 || id >= vocab.size) {
        throw new BadInputError(`TextVectorizer.decode: ids[${k}] = ${String(id)} is not a valid id (0..${vocab.size - 1})`);
      }
      if (skip && id !== vocab.unkId && vocab.isSpecialId(id)) continue;
      tokens.push(vocab.idToToken(id));
    }
    return this.tokenizer.detokenize(tokens);
  }

  toJSON(): TextVectorizerJSON {
    const v = this.vocab;
    return {
      format: 'seqlab.text-vectorizer',
      formatVersion: VECTORIZER_FORMAT_VERSION,
      tokenizer: this.tokenizer.toJSON(),
      normalizer: this.normalizer ? this.normalizer.toJSON() : null,
      config: { ...this.config },
      specials: v ? { ...v.specials, extra: [...v.specials.extra] } : (Vocabulary.fromSymbols([], this.specialTokens).toJSON().specials),
      vocabulary: v ? v.toJSON() : null,
    };
  }

  /** Rebuilds a vectorizer from {@link toJSON} output; `source` (a file name) goes into errors. */
  static fromJSON(json: unknown, source?: string): TextVectorizer {
    const fail = (msg: string): never => {
      throw new TokenizeFormatError(`invalid text vectorizer: ${msg}`, source);
    };
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail(`expected an object, got ${describe(json)}`);
    const j = json as Record<string, unknown>;
    if (j['format'] !== 'seqlab.text-vectorizer') fail(`"format" must be "seqlab.text-vectorizer", got ${JSON.stringify(j['format'])}`);
    if (j['formatVersion'] !== VECTORIZER_FORMAT_VERSION) {
      fail(`unsupported formatVersion ${JSON.stringify(j['formatVersion'])} (this version reads ${VECTORIZER_FORMAT_VERSION})`);
    }
    const config = j['config'] as TextVectorizerJSON['config'] | undefined;
    if (!config || typeof config !== 'object') return fail('"config" is missing');
    let tokenizer: Tokenizer;
    let normalizer: Normalizer | false;
    try {
      tokenizer = tokenizerFromJSON(j['tokenizer']);
      normalizer = j['normalizer'] === null ? false : normalizerFromJSON(j['normalizer']);
    } catch (e) {
      return fail((e as Error).message);
    }
    const vocabulary = j['vocabulary'] === null || j['vocabulary'] === undefined ? undefined : Vocabulary.fromJSON(j['vocabulary'], source);
    let tv: TextVectorizer;
    try {
      tv = new TextVectorizer({ ...config, tokenizer, normalize: normalizer, specials: (j['specials'] as SpecialTokens | undefined) ?? undefined });
    } catch (e) {
      return fail((e as Error).message);
    }
    if (vocabulary) tv.vocab = vocabulary;
    return tv;
  }

  /** Writes the vectorizer as JSON atomically (temporary file + rename). */
  async save(path: string): Promise<void> {
    if (typeof path !== 'string' || path.length === 0) throw new BadInputError('TextVectorizer.save: path must be a non-empty string');
    await writeJsonAtomic(path, this.toJSON());
  }

  /** Reads a vectorizer written by {@link save}; errors name the file and what is wrong. */
  static async load(path: string): Promise<TextVectorizer> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new TokenizeFormatError(`cannot read vectorizer file: ${(e as Error).message}`, path);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new TokenizeFormatError(`not valid JSON (${(e as Error).message})`, path);
    }
    return TextVectorizer.fromJSON(json, path);
  }
}

const IDENTITY = new TextNormalizer();

/** Window size of long-text processing, in UTF-16 units. */
const WINDOW = 1 << 16;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || c === 0x2028 || c === 0x2029 || (c >= 0x2000 && c <= 0x200a);
}

/** Window boundaries of a long text: [0, ..., text.length]. */
function windowCuts(text: string): number[] {
  const n = text.length;
  const cuts = [0];
  let start = 0;
  while (n - start > WINDOW) {
    const limit = start + WINDOW;
    let cut = -1;
    for (let p = limit; p > start + WINDOW / 2; p--) {
      if (isSpace(text.charCodeAt(p)) && !isSpace(text.charCodeAt(p - 1))) {
        cut = p;
        break;
      }
    }
    if (cut < 0) {
      // No space in the back half of the window: cut anyway, but never inside a surrogate pair
      // or before a combining mark.
      cut = limit;
      while (cut > start + 1 && ((text.charCodeAt(cut) & 0xfc00) === 0xdc00 || /^\p{M}/u.test(text.slice(cut, cut + 2)))) cut--;
    }
    cuts.push(cut);
    start = cut;
  }
  cuts.push(n);
  return cuts;
}

function resolveNormalizer(kind: string, normalize: TextVectorizerOptions['normalize'], lower: boolean | undefined): Normalizer | null {
  if (lower !== undefined && typeof lower !== 'boolean') throw new BadInputError(`TextVectorizer: lowercase must be a boolean, got ${describe(lower)}`);
  if (normalize === false) return lower ? lowercaseStep() : null;
  if (normalize !== undefined && normalize !== null && typeof (normalize as Normalizer).normalizeAligned === 'function') {
    return lower ? composeNormalizers(normalize as Normalizer, lowercaseStep()) : (normalize as Normalizer);
  }
  if (normalize !== undefined && (normalize === null || typeof normalize !== 'object')) {
    throw new BadInputError(`TextVectorizer: normalize must be options, a Normalizer or false, got ${describe(normalize)}`);
  }
  const base = normalize === undefined ? (DEFAULT_NORMALIZATION[kind] ?? {}) : (normalize as NormalizeOptions);
  return new TextNormalizer(lower === undefined ? base : { ...base, lowercase: lower });
}
