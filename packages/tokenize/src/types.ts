/**
 * One token of a text: what the vocabulary looks up (`text`) and where it came from.
 *
 * `start`/`end` are UTF-16 offsets into the ORIGINAL input string (before normalization), so
 * `input.slice(start, end)` is the span to highlight. `text` may differ from that slice: it is
 * the normalized, possibly stemmed or byte-encoded form.
 */
export interface Token {
  text: string;
  start: number;
  end: number;
}

/**
 * Splits text into tokens and joins token strings back into text.
 *
 * Offsets returned by `tokenize` are into the string it was given; the vectorizer maps them
 * back through normalization.
 */
export interface Tokenizer {
  /** Registry name used by `toJSON` / `tokenizerFromJSON`. */
  readonly kind: string;
  /** Tokens with offsets into `text`. Must return fresh objects: the vectorizer rewrites their offsets. */
  tokenize(text: string): Token[];
  /** Inverse of `tokenize` as far as the tokenizer allows (exact for char and byte-level BPE). */
  detokenize(tokens: string[]): string;
  /** JSON form; must contain `kind`. */
  toJSON(): object;
}

/** A tokenizer whose inventory of symbols is learned from a corpus (BPE, WordPiece). */
export interface TrainableTokenizer extends Tokenizer {
  /** Learns the model from a corpus of (already normalized) lines. */
  train(corpus: Iterable<string> | AsyncIterable<string>, options: SubwordTrainOptions): Promise<void>;
  /** Every symbol the trained model can emit, in a deterministic order (specials excluded). */
  symbols(): readonly string[];
  /** Whether `train` has run (or the model was loaded). */
  readonly trained: boolean;
}

/** Options of the subword trainers. */
export interface SubwordTrainOptions {
  /** Target size of the symbol inventory, specials excluded. */
  vocabSize: number;
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
  /** Called after every `progressEvery` merges. */
  onProgress?: (merges: number, target: number) => void;
}

/** A string plus, for each of its UTF-16 units, the span of the original string it came from. */
export interface AlignedText {
  text: string;
  /** `starts[i]` = start offset in the original of the unit `text[i]`. */
  starts: Int32Array;
  /** `ends[i]` = end offset (exclusive) in the original of the unit `text[i]`. */
  ends: Int32Array;
}

/** Rewrites text before tokenization while keeping an alignment to the original. */
export interface Normalizer {
  readonly kind: string;
  normalize(text: string): string;
  normalizeAligned(text: string): AlignedText;
  toJSON(): object;
}
