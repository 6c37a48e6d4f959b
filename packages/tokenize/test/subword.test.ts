import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BpeTokenizer, TextVectorizer, WordPieceTokenizer } from '../src/index.js';
import { shakespeare, sst2 } from './helpers.js';

const texts = (tk: { tokenize(s: string): Array<{ text: string }> }, s: string) => tk.tokenize(s).map((t) => t.text);

describe('byte-level BPE', () => {
  let small: BpeTokenizer;
  beforeAll(async () => {
    small = new BpeTokenizer();
    await small.train(shakespeare().split('\n').slice(0, 4000), { vocabSize: 600 });
  });

  it('learns the expected first merges on a toy corpus', async () => {
    const bpe = new BpeTokenizer();
    await bpe.train(['low low low lower lower newest newest widest'], { vocabSize: 260, minFrequency: 2 });
    // Counted by hand: (l,o) and (o,w) both occur 5 times, the tie goes to the smaller ids
    // ("l" < "o"); then (lo,w) 5, (Ġ,low) 4, then (e,s) 3.
    expect(bpe.merges).toEqual([
      ['l', 'o'],
      ['lo', 'w'],
      ['Ġ', 'low'],
      ['e', 's'],
    ]);
    expect(texts(bpe, ' lowest')).toEqual(['Ġlow', 'es', 't']);
  });

  it('decode(encode(x)) equals x for arbitrary Unicode (lone surrogates become U+FFFD)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const expected = s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\ufffd');
        expect(small.detokenize(texts(small, expected))).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('through the vectorizer: never UNK, and decode(encode(x)) is the normalized x', async () => {
    const tv = new TextVectorizer({ tokenizer: small });
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const ids = tv.encodeIds(s);
        expect(ids).not.toContain(tv.vocabulary.unkId);
        expect(tv.decode(ids)).toBe(tv.normalize(s));
      }),
      { numRuns: 300 },
    );
  });

  it('gives every token a span of the input', () => {
    const s = 'Wherefore art thou, Roméo? 😀';
    const toks = small.tokenize(s);
    expect(toks[0]).toMatchObject({ start: 0 });
    expect(toks[toks.length - 1]!.end).toBe(s.length);
    for (const t of toks) expect(t.end).toBeGreaterThan(t.start);
    // The emoji's four bytes are split over byte tokens that all point at its two UTF-16 units.
    expect(toks.filter((t) => t.start === s.length - 2).every((t) => t.end === s.length)).toBe(true);
  });

  it('is deterministic: same corpus (in any order) gives the same merges', async () => {
    const lines = sst2('dev');
    const a = new BpeTokenizer();
    await a.train(lines, { vocabSize: 700 });
    const b = new BpeTokenizer();
    await b.train([...lines].reverse(), { vocabSize: 700 });
    expect(b.merges).toEqual(a.merges);
    expect(BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(a.toJSON()))).symbols()).toEqual(a.symbols());
  });

  it('trains on SST-2 train to an 8k vocabulary in seconds, with hand-checked encodings', async () => {
    const t0 = performance.now();
    const tv = await new TextVectorizer({ tokenizer: 'bpe', maxTokens: 8000 }).adapt(sst2('train'));
    const seconds = (performance.now() - t0) / 1000;
    expect(seconds).toBeLessThan(60);
    expect(tv.vocabSize).toBe(8000);
    // Frequent words are single tokens with their leading space; rare ones split into pieces.
    expect(texts(tv, 'the movie is n\'t good')).toEqual(['the', 'Ġmovie', 'Ġis', 'Ġn', "'t", 'Ġgood']);
    expect(texts(tv, 'unbelievably')).toEqual(['un', 'belie', 'v', 'ably']);
    expect(tv.decode(tv.encodeIds("it 's a charming and often affecting journey . "))).toBe("it 's a charming and often affecting journey . ");
  });

  it('rejects impossible settings', async () => {
    await expect(new BpeTokenizer().train(['a'], { vocabSize: 100 })).rejects.toThrow(/vocabSize must be an integer >= 256/);
    expect(() => BpeTokenizer.fromJSON({ kind: 'bpe', merges: [['x', 'yz']] })).toThrow(/uses a symbol not produced by earlier merges: "yz"/);
  });
});

describe('WordPiece', () => {
  it('splits greedily into the longest known pieces', () => {
    const wp = new WordPieceTokenizer({ vocab: ['un', 'aff', 'able', '##aff', '##able', '##a', 'a', '!'] });
    expect(texts(wp, 'unaffable able!')).toEqual(['un', '##aff', '##able', 'able', '!']);
    expect(texts(wp, 'xyz')).toEqual(['[UNK]']);
    expect(wp.tokenize('un unaffable').map((t) => [t.start, t.end])).toEqual([
      [0, 2],
      [3, 5],
      [5, 8],
      [8, 12],
    ]);
    expect(wp.detokenize(['un', '##aff', '##able', 'able', '!'])).toBe('unaffable able!');
  });

  it('trains deterministically on SST-2, with hand-checked encodings', async () => {
    const lines = sst2('train');
    const tv = await new TextVectorizer({ tokenizer: 'wordpiece', maxTokens: 8000 }).adapt(lines);
    expect(tv.vocabSize).toBe(8000);
    expect(texts(tv, "it 's a charming and often affecting journey .")).toEqual(['it', "'", 's', 'a', 'charming', 'and', 'often', 'affecting', 'journey', '.']);
    expect(texts(tv, 'Unbelievably')).toEqual(['unbelie', '##v', '##ably']);
    expect(tv.decode(tv.encodeIds('the movie is good .'))).toBe('the movie is good.');
    const again = await new TextVectorizer({ tokenizer: 'wordpiece', maxTokens: 8000 }).adapt([...lines].reverse());
    expect(again.vocabulary.toArray()).toEqual(tv.vocabulary.toArray());
  });

  it('makes over-long words UNK', () => {
    const wp = new WordPieceTokenizer({ vocab: ['a', '##a'], maxInputCharsPerWord: 5 });
    expect(texts(wp, 'aaaaa aaaaaa')).toEqual(['a', '##a', '##a', '##a', '##a', '[UNK]']);
  });
});
