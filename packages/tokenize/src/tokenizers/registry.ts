import { describe } from '../normalize.js';
import type { Tokenizer } from '../types.js';
import { BpeTokenizer } from './bpe.js';
import { CharTokenizer, WhitespaceTokenizer } from './simple.js';
import { WordPieceTokenizer } from './wordpiece.js';
import { WordTokenizer } from './word.js';
import { BadInputError } from '@seqlab/core/base';

/** Names accepted wherever a tokenizer can be given by name. */
export type TokenizerName = 'word' | 'char' | 'whitespace' | 'bpe' | 'wordpiece';

type Factory = (json: Record<string, unknown>) => Tokenizer;

const registry = new Map<string, Factory>([
  ['word', (j) => WordTokenizer.fromJSON(j)],
  ['char', () => new CharTokenizer()],
  ['whitespace', () => new WhitespaceTokenizer()],
  ['bpe', (j) => BpeTokenizer.fromJSON(j)],
  ['wordpiece', (j) => WordPieceTokenizer.fromJSON(j)],
]);

/** Makes a fresh (untrained) tokenizer from its name. */
export function createTokenizer(name: TokenizerName): Tokenizer {
  switch (name) {
    case 'word':
      return new WordTokenizer();
    case 'char':
      return new CharTokenizer();
    case 'whitespace':
      return new WhitespaceTokenizer();
    case 'bpe':
      return new BpeTokenizer();
    case 'wordpiece':
      return new WordPieceTokenizer();
    default:
      throw new BadInputError(`unknown tokenizer ${JSON.stringify(name)}; valid names: word, char, whitespace, bpe, wordpiece`);
  }
}

/** Registers a custom tokenizer kind so that saved vectorizers using it can be loaded. */
export function registerTokenizer(kind: string, fromJSON: Factory): void {
  if (typeof kind !== 'string' || kind.length === 0) throw new BadInputError('registerTokenizer: kind must be a non-empty string');
  registry.set(kind, fromJSON);
}

/** Rebuilds a tokenizer from its `toJSON()` output. */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new BadInputError(`tokenizer JSON must be an object, got ${describe(json)}`);
  const kind = (json as Record<string, unknown>)['kind'];
  const f = typeof kind === 'string' ? registry.get(kind) : undefined;
  if (!f) throw new BadInputError(`unknown tokenizer kind ${JSON.stringify(kind)}; known kinds: ${[...registry.keys()].join(', ')} (custom kinds need registerTokenizer)`);
  return f(json as Record<string, unknown>);
}

/** Whether a value looks like a tokenizer object. */
export function isTokenizer(v: unknown): v is Tokenizer {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as Tokenizer).tokenize === 'function' &&
    typeof (v as Tokenizer).detokenize === 'function' &&
    typeof (v as Tokenizer).toJSON === 'function' &&
    typeof (v as Tokenizer).kind === 'string'
  );
}

/** Whether a tokenizer learns its inventory (BPE, WordPiece) rather than counting tokens. */
export function isTrainable(t: Tokenizer): t is Tokenizer & { train: BpeTokenizer['train']; symbols(): readonly string[]; trained: boolean } {
  return typeof (t as BpeTokenizer).train === 'function' && typeof (t as BpeTokenizer).symbols === 'function';
}
