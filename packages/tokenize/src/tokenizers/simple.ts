import type { Token, Tokenizer } from '../types.js';
import { matchTokens } from './align.js';

/**
 * One token per Unicode code point (a surrogate pair stays together). `detokenize` is
 * concatenation, so text made of known characters round-trips exactly.
 */
export class CharTokenizer implements Tokenizer {
  readonly kind = 'char';

  tokenize(text: string): Token[] {
    const out: Token[] = [];
    const n = text.length;
    for (let i = 0; i < n; ) {
      const c = text.charCodeAt(i);
      const w = c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      out.push({ text: w === 1 ? text[i]! : text.slice(i, i + 2), start: i, end: i + w });
      i += w;
    }
    return out;
  }

  detokenize(tokens: string[]): string {
    return tokens.join('');
  }

  toJSON(): { kind: 'char' } {
    return { kind: 'char' };
  }
}

const WS_TOKEN = /\S+/gu;

/** Splits on runs of whitespace; `detokenize` joins with single spaces. */
export class WhitespaceTokenizer implements Tokenizer {
  readonly kind = 'whitespace';

  tokenize(text: string): Token[] {
    return matchTokens(text, WS_TOKEN);
  }

  detokenize(tokens: string[]): string {
    return tokens.join(' ');
  }

  toJSON(): { kind: 'whitespace' } {
    return { kind: 'whitespace' };
  }
}
