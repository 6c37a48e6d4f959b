import { TokenizeFormatError } from './errors.js';
import { describe } from './normalize.js';
import { BadInputError } from '@seqlab/core/base';

/** Current version of {@link VocabularyJSON}; `fromJSON` refuses any other. */
export const VOCABULARY_FORMAT_VERSION = 1;

/** Strings of the reserved tokens. PAD always gets id 0, then UNK, BOS, EOS, MASK, then `extra`. */
export interface SpecialTokens {
  pad: string;
  unk: string;
  bos: string;
  eos: string;
  mask: string;
  /** Further reserved tokens (e.g. `[CLS]`, `[SEP]`), ids 5, 6, ... */
  extra: readonly string[];
}

/** Defaults of {@link SpecialTokens}. */
export const DEFAULT_SPECIALS: Readonly<SpecialTokens> = Object.freeze({
  pad: '[PAD]',
  unk: '[UNK]',
  bos: '[BOS]',
  eos: '[EOS]',
  mask: '[MASK]',
  extra: Object.freeze([]) as readonly string[],
});

/** Options of {@link Vocabulary.build}. */
export interface VocabularyBuildOptions {
  /** Tokens seen fewer times are left out (default 1). */
  minFrequency?: number;
  /** Largest vocabulary, specials included (default unlimited). */
  maxSize?: number;
  /** Special token strings (defaults {@link DEFAULT_SPECIALS}). */
  specials?: Partial<SpecialTokens>;
}

/** JSON form of a {@link Vocabulary}. */
export interface VocabularyJSON {
  format: 'seqlab.vocabulary';
  formatVersion: number;
  specials: SpecialTokens;
  /** Every token in id order, specials first. */
  tokens: string[];
  /** Corpus count of every token in id order (0 for specials and untrained symbols). */
  counts: number[];
}

/** Token counts in any of the shapes `build` accepts. */
export type TokenCounts = Map<string, number> | Record<string, number> | Iterable<string | readonly [string, number]>;

function resolveSpecials(s: Partial<SpecialTokens> | undefined): SpecialTokens {
  const out: SpecialTokens = { ...DEFAULT_SPECIALS, ...(s ?? {}), extra: [...(s?.extra ?? [])] };
  const all = [out.pad, out.unk, out.bos, out.eos, out.mask, ...out.extra];
  for (const t of all) {
    if (typeof t !== 'string' || t.length === 0) throw new BadInputError(`specials: every special token must be a non-empty string, got ${describe(t)}`);
  }
  const dup = all.find((t, i) => all.indexOf(t) !== i);
  if (dup !== undefined) throw new BadInputError(`specials: ${JSON.stringify(dup)} is used for two special tokens`);
  return out;
}

function checkCount(name: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) {
    throw new BadInputError(`${name} must be an integer >= ${min}, got ${String(v)}`);
  }
}

/**
 * Two-way map between tokens and integer ids with reserved special tokens.
 *
 * Ids: PAD = 0, UNK = 1, BOS = 2, EOS = 3, MASK = 4, extra specials next, then corpus tokens by
 * descending count with ties broken by code-unit order of the token, so the same counts always
 * give the same ids.
 *
 * @example
 * ```ts
 * const v = Vocabulary.build(['a', 'b', 'a'], { minFrequency: 1 });
 * v.tokenToId('a'); // 5
 * v.tokenToId('zzz') === v.unkId; // true
 * ```
 */
export class Vocabulary {
  readonly specials: Readonly<SpecialTokens>;
  private readonly tokens: readonly string[];
  private readonly counts: readonly number[];
  private readonly index: Map<string, number>;
  private readonly nSpecial: number;

  private constructor(specials: SpecialTokens, tokens: string[], counts: number[]) {
    this.specials = Object.freeze({ ...specials, extra: Object.freeze([...specials.extra]) });
    this.tokens = Object.freeze(tokens);
    this.counts = Object.freeze(counts);
    this.nSpecial = 5 + specials.extra.length;
    this.index = new Map();
    tokens.forEach((t, i) => this.index.set(t, i));
  }

  /**
   * Builds a vocabulary from counts (`Map`, plain object, or `[token, count]` pairs) or from a
   * stream of tokens (each occurrence counts once).
   */
  static build(counts: TokenCounts, options: VocabularyBuildOptions = {}): Vocabulary {
    const minFrequency = options.minFrequency ?? 1;
    checkCount('minFrequency', minFrequency, 1);
    checkCount('maxSize', options.maxSize, 1);
    const specials = resolveSpecials(options.specials);
    const specialList = [specials.pad, specials.unk, specials.bos, specials.eos, specials.mask, ...specials.extra];
    if (options.maxSize !== undefined && options.maxSize < specialList.length) {
      throw new BadInputError(`maxSize must be at least the number of special tokens (${specialList.length}), got ${options.maxSize}`);
    }
    const table = countTokens(counts);
    for (const s of specialList) table.delete(s);
    const entries = [...table].filter(([, c]) => c >= minFrequency);
    entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const room = options.maxSize === undefined ? entries.length : options.maxSize - specialList.length;
    const kept = entries.slice(0, room);
    return new Vocabulary(
      specials,
      [...specialList, ...kept.map((e) => e[0])],
      [...specialList.map(() => 0), ...kept.map((e) => e[1])],
    );
  }

  /**
   * A vocabulary whose non-special tokens are exactly `symbols`, in that order (the inventory of
   * a trained subword model).
   */
  static fromSymbols(symbols: readonly string[], specials?: Partial<SpecialTokens>): Vocabulary {
    const sp = resolveSpecials(specials);
    const specialList = [sp.pad, sp.unk, sp.bos, sp.eos, sp.mask, ...sp.extra];
    const reserved = new Set(specialList);
    const seen = new Set<string>();
    for (const s of symbols) {
      if (typeof s !== 'string') throw new BadInputError(`fromSymbols: symbols must be strings, got ${describe(s)}`);
      if (reserved.has(s)) throw new BadInputError(`fromSymbols: symbol ${JSON.stringify(s)} collides with a special token`);
      if (seen.has(s)) throw new BadInputError(`fromSymbols: symbol ${JSON.stringify(s)} appears twice`);
      seen.add(s);
    }
    return new Vocabulary(sp, [...specialList, ...symbols], [...specialList.map(() => 0), ...symbols.map(() => 0)]);
  }

  /**
   * This vocabulary plus `tokens` it does not hold yet, appended in the order given (count 0),
   * at most `limit` of them. Existing ids never move, so a model trained on this vocabulary
   * reads the extended one unchanged; the new ids are for rows added to its embedding, e.g.
   * frozen pre-trained word vectors for words the training data never showed.
   */
  extend(tokens: Iterable<string>, options: { limit?: number } = {}): Vocabulary {
    checkCount('limit', options.limit, 0);
    const limit = options.limit ?? Infinity;
    const added = new Set<string>();
    for (const t of tokens) {
      if (added.size >= limit) break;
      if (typeof t !== 'string' || t.length === 0) throw new BadInputError(`extend: tokens must be non-empty strings, got ${describe(t)}`);
      if (!this.index.has(t)) added.add(t);
    }
    if (added.size === 0) return this;
    return new Vocabulary({ ...this.specials, extra: [...this.specials.extra] }, [...this.tokens, ...added], [...this.counts, ...[...added].map(() => 0)]);
  }

  /** Number of ids, specials included. */
  get size(): number {
    return this.tokens.length;
  }
  /** Id of the padding token: always 0, so zero-filled arrays are padding. */
  get padId(): number {
    return 0;
  }
  /** Id that unknown tokens map to (1). */
  get unkId(): number {
    return 1;
  }
  /** Id of the begin-of-sequence token (2). */
  get bosId(): number {
    return 2;
  }
  /** Id of the end-of-sequence token (3). */
  get eosId(): number {
    return 3;
  }
  /** Id of the mask token for masked-language-model inputs (4). */
  get maskId(): number {
    return 4;
  }
  /** Number of reserved ids at the start (5 + extra specials). */
  get specialCount(): number {
    return this.nSpecial;
  }

  /** Id of `token`, or {@link unkId} when it is not in the vocabulary. */
  tokenToId(token: string): number {
    return this.index.get(token) ?? 1;
  }

  /** Id of `token`, or `undefined` when absent. */
  lookup(token: string): number | undefined {
    return this.index.get(token);
  }

  /** Whether `token` has an id. */
  has(token: string): boolean {
    return this.index.has(token);
  }

  /** Token of `id`; throws a RangeError for ids outside `[0, size)`. */
  idToToken(id: number): string {
    const t = Number.isInteger(id) ? this.tokens[id] : undefined;
    if (t === undefined) throw new BadInputError(`id ${String(id)} is not in the vocabulary (valid ids are integers 0..${this.tokens.length - 1})`);
    return t;
  }

  /** Whether `id` is one of the reserved special ids. */
  isSpecialId(id: number): boolean {
    return id >= 0 && id < this.nSpecial;
  }

  /** Corpus count recorded for `id` at build time (0 for specials). */
  count(id: number): number {
    return this.counts[id] ?? 0;
  }

  /** All tokens in id order. */
  toArray(): string[] {
    return [...this.tokens];
  }

  /** JSON form, read back by {@link Vocabulary.fromJSON}. */
  toJSON(): VocabularyJSON {
    return {
      format: 'seqlab.vocabulary',
      formatVersion: VOCABULARY_FORMAT_VERSION,
      specials: { ...this.specials, extra: [...this.specials.extra] },
      tokens: [...this.tokens],
      counts: [...this.counts],
    };
  }

  /**
   * Rebuilds a vocabulary from {@link toJSON} output, checking the format version, the specials
   * and that tokens are unique strings. `source` (a file name) is put in error messages.
   */
  static fromJSON(json: unknown, source?: string): Vocabulary {
    const fail = (msg: string): never => {
      throw new TokenizeFormatError(`invalid vocabulary: ${msg}`, source);
    };
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail(`expected an object, got ${describe(json)}`);
    const j = json as Record<string, unknown>;
    if (j['format'] !== 'seqlab.vocabulary') fail(`"format" must be "seqlab.vocabulary", got ${JSON.stringify(j['format'])}`);
    if (j['formatVersion'] !== VOCABULARY_FORMAT_VERSION) {
      fail(`unsupported formatVersion ${JSON.stringify(j['formatVersion'])} (this version reads ${VOCABULARY_FORMAT_VERSION})`);
    }
    const sp = j['specials'] as Record<string, unknown> | undefined;
    if (!sp || typeof sp !== 'object') return fail('"specials" is missing');
    let specials: SpecialTokens;
    try {
      specials = resolveSpecials(sp as Partial<SpecialTokens>);
    } catch (e) {
      return fail((e as Error).message);
    }
    const tokens = j['tokens'];
    if (!Array.isArray(tokens)) return fail('"tokens" must be an array of strings');
    const seen = new Set<string>();
    tokens.forEach((t, i) => {
      if (typeof t !== 'string') fail(`tokens[${i}] must be a string, got ${describe(t)}`);
      if (seen.has(t as string)) fail(`tokens[${i}] ${JSON.stringify(t)} is a duplicate`);
      seen.add(t as string);
    });
    const specialList = [specials.pad, specials.unk, specials.bos, specials.eos, specials.mask, ...specials.extra];
    specialList.forEach((s, i) => {
      if (tokens[i] !== s) fail(`tokens[${i}] must be the special token ${JSON.stringify(s)}, got ${JSON.stringify(tokens[i])}`);
    });
    const counts = j['counts'] ?? tokens.map(() => 0);
    if (!Array.isArray(counts) || counts.length !== tokens.length) fail(`"counts" must be an array as long as "tokens" (${tokens.length})`);
    (counts as unknown[]).forEach((c, i) => {
      if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) fail(`counts[${i}] must be a non-negative number, got ${JSON.stringify(c)}`);
    });
    return new Vocabulary(specials, tokens as string[], counts as number[]);
  }
}

/** Counts tokens from any of the inputs {@link Vocabulary.build} accepts. */
export function countTokens(counts: TokenCounts): Map<string, number> {
  const table = new Map<string, number>();
  const add = (t: unknown, c: unknown, where: string) => {
    if (typeof t !== 'string') throw new BadInputError(`Vocabulary.build: ${where} token must be a string, got ${describe(t)}`);
    if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) {
      throw new BadInputError(`Vocabulary.build: count of ${JSON.stringify(t)} must be a non-negative number, got ${describe(c)}`);
    }
    table.set(t, (table.get(t) ?? 0) + c);
  };
  if (counts instanceof Map) {
    for (const [t, c] of counts) add(t, c, 'a');
  } else if (counts !== null && typeof counts === 'object' && !(Symbol.iterator in counts)) {
    for (const [t, c] of Object.entries(counts as Record<string, number>)) add(t, c, 'a');
  } else if (counts !== null && typeof counts === 'object' || typeof counts === 'string') {
    let k = 0;
    for (const item of counts as Iterable<string | readonly [string, number]>) {
      if (typeof item === 'string') add(item, 1, `item ${k}:`);
      else if (Array.isArray(item)) add(item[0], item[1], `item ${k}:`);
      else throw new BadInputError(`Vocabulary.build: item ${k} must be a token string or a [token, count] pair, got ${describe(item)}`);
      k++;
    }
  } else {
    throw new BadInputError(`Vocabulary.build: expected counts or an iterable of tokens, got ${describe(counts)}`);
  }
  return table;
}
