import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { composeNormalizers, foldWhitespace, lowercase, nfkc, normalizerFromJSON, stripAccents, stripControl, TextNormalizer } from '../src/index.js';

const bert = new TextNormalizer({ unicode: 'NFKC', lowercase: true, stripAccents: true, foldWhitespace: true, stripControl: true });

describe('TextNormalizer', () => {
  it.each([
    ['  Ｃafé\t au  LAIT ', 'cafe au lait'],
    ['ﬁne ½', 'fine 1⁄2'],
    ['x\u0000y\u200bz\u200dw', 'xyz\u200dw'],
    ['e\u0301 İ Σ', 'e i σ'],
    ['\ud800x\udc00', '\ufffdx\ufffd'],
    ['', ''],
    [' \n\t ', ''],
  ])('normalizes %j to %j', (input, expected) => {
    expect(bert.normalize(input)).toBe(expected);
  });

  it('keeps text untouched when every step is off, except lone surrogates', () => {
    const n = new TextNormalizer();
    expect(n.isIdentity).toBe(true);
    expect(n.normalize('A  b\u0000\u00e9\ud83d\ude00')).toBe('A  b\u0000\u00e9\ud83d\ude00');
    expect(n.normalize('a\udc00')).toBe('a\ufffd');
  });

  it('aligns every output unit with the input span it came from', () => {
    const a = bert.normalizeAligned('  Ｃafé\t au  LAIT ');
    // "cafe" comes from input units 2..6, the folded "\t " run from 6..8.
    expect(Array.from(a.starts.subarray(0, 5))).toEqual([2, 3, 4, 5, 6]);
    expect(Array.from(a.ends.subarray(0, 5))).toEqual([3, 4, 5, 6, 8]);
    expect(a.text.slice(8)).toBe('lait');
    expect(a.starts[8]).toBe(12);
  });

  it('produces monotone, in-range alignments for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const a = bert.normalizeAligned(s);
        expect(a.starts.length).toBe(a.text.length);
        for (let k = 0; k < a.text.length; k++) {
          expect(a.starts[k]).toBeLessThan(a.ends[k]!);
          expect(a.ends[k]).toBeLessThanOrEqual(s.length);
          if (k > 0) expect(a.starts[k]).toBeGreaterThanOrEqual(a.starts[k - 1]!);
        }
        // Output is always well-formed UTF-16 with no control characters or double spaces.
        expect(a.text).not.toMatch(/[\uD800-\uDFFF](?<![\uD800-\uDBFF][\uDC00-\uDFFF])(?![\uDC00-\uDFFF])/);
        expect(a.text).not.toMatch(/\p{Cc}| {2}|^ | $/u);
      }),
      { numRuns: 300 },
    );
  });

  it('composes steps and keeps the alignment to the original', () => {
    const n = composeNormalizers(nfkc(), lowercase(), stripAccents(), stripControl(), foldWhitespace());
    expect(n.normalize('  Ｃafé\t au  LAIT ')).toBe('cafe au lait');
    const a = n.normalizeAligned('  Ｃafé\t au  LAIT ');
    expect(a.starts[0]).toBe(2);
    expect(a.ends[a.text.length - 1]).toBe(16);
    const round = normalizerFromJSON(JSON.parse(JSON.stringify(n.toJSON())));
    expect(round.normalize('Ｃafé  X')).toBe('cafe x');
  });

  it('rejects bad options and inputs with specific messages', () => {
    expect(() => new TextNormalizer({ unicode: 'NFX' as never })).toThrow(/normalize\.unicode must be one of/);
    expect(() => new TextNormalizer({ lowercase: 'yes' as never })).toThrow(/normalize\.lowercase must be a boolean/);
    expect(() => bert.normalize(42 as never)).toThrow(/expected a string, got number 42/);
    expect(() => normalizerFromJSON({ kind: 'nope' })).toThrow(/unknown normalizer kind "nope"; known kinds: text, clean, sequence/);
  });
});
