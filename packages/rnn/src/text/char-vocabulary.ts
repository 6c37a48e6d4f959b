import { RnnArgumentError } from '../errors.js';

/** Serialized form of {@link CharVocabulary}. */
export interface CharVocabularyJSON {
  type: 'char-vocabulary';
  /** Characters in id order. */
  chars: string[];
}

/**
 * A fixed character vocabulary: every distinct character of the training text gets one id, in
 * code-point order. Characters outside it are mapped to `fallback` (a space when present).
 */
export class CharVocabulary {
  private readonly index = new Map<string, number>();

  constructor(readonly chars: readonly string[]) {
    if (chars.length === 0) throw new RnnArgumentError('CharVocabulary: chars must not be empty');
    chars.forEach((c, i) => {
      if ([...c].length !== 1) throw new RnnArgumentError(`CharVocabulary: entry ${i} must be one character, got ${JSON.stringify(c)}`);
      if (this.index.has(c)) throw new RnnArgumentError(`CharVocabulary: character ${JSON.stringify(c)} appears twice`);
      this.index.set(c, i);
    });
  }

  /** The vocabulary of all characters in `text`. */
  static fromText(text: string): CharVocabulary {
    return new CharVocabulary([...new Set(text)].sort());
  }

  static fromJSON(json: CharVocabularyJSON): CharVocabulary {
    if (json?.type !== 'char-vocabulary' || !Array.isArray(json.chars)) {
      throw new RnnArgumentError(`CharVocabulary.fromJSON: expected { type: 'char-vocabulary', chars: [...] }`);
    }
    return new CharVocabulary(json.chars);
  }

  get size(): number {
    return this.chars.length;
  }

  /** Id of the character used for characters outside the vocabulary. */
  get fallback(): number {
    return this.index.get(' ') ?? 0;
  }

  encode(text: string): Int32Array {
    const chars = [...text];
    const out = new Int32Array(chars.length);
    const fb = this.fallback;
    chars.forEach((c, i) => {
      out[i] = this.index.get(c) ?? fb;
    });
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]!] ?? '';
    return s;
  }

  toJSON(): CharVocabularyJSON {
    return { type: 'char-vocabulary', chars: [...this.chars] };
  }
}
