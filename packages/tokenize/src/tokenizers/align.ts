import type { Token } from '../types.js';

/**
 * Recovers offsets for tokenizers that return bare strings (natural's): each piece is searched
 * for in `source` from the end of the previous one. A piece that is not a substring (a
 * tokenizer that rewrote it) gets an empty span at the current position rather than a wrong one.
 */
export function alignPieces(source: string, pieces: readonly string[]): Token[] {
  const out: Token[] = [];
  let cursor = 0;
  for (const p of pieces) {
    if (p.length === 0) continue;
    const at = source.indexOf(p, cursor);
    if (at < 0) {
      out.push({ text: p, start: cursor, end: cursor });
      continue;
    }
    out.push({ text: p, start: at, end: at + p.length });
    cursor = at + p.length;
  }
  return out;
}

/** All matches of a global regexp as tokens. */
export function matchTokens(source: string, pattern: RegExp): Token[] {
  const re = pattern.global ? pattern : new RegExp(pattern.source, pattern.flags + 'g');
  re.lastIndex = 0;
  const out: Token[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(source)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  }
  return out;
}
