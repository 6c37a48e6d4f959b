import { describe, expect, it } from 'vitest';
import { TextVectorizer, Vocabulary } from '../src/index.js';

describe('TextVectorizer basics', () => {
  it('adapts, pads post, masks and maps offsets to the original text', async () => {
    const tv = await new TextVectorizer({ maxLength: 6 }).adapt(['The cat sat.', "the dog isn't here"]);
    const e = tv.encode(['The  CAT ran', "dog isn't"], { addBos: true });
    expect(e.shape).toEqual([2, 6]);
    const v = tv.vocabulary;
    expect(Array.from(e.ids.subarray(0, 6))).toEqual([v.bosId, v.tokenToId('the'), v.tokenToId('cat'), v.unkId, 0, 0]);
    expect(Array.from(e.mask.subarray(0, 6))).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(e.lengths)).toEqual([4, 4]);
    // "The  CAT" was folded and lower-cased; offsets still point into the raw input.
    expect(e.tokens[0]!.map((t) => [t.text, t.start, t.end])).toEqual([
      ['the', 0, 3],
      ['cat', 5, 8],
      ['ran', 9, 12],
    ]);
    expect(e.tokens[1]!.map((t) => t.text)).toEqual(['dog', 'is', "n't"]);
    expect(tv.decode(e.ids.subarray(6, 12))).toBe("dog isn't");
  });

  it('round-trips characters exactly with the char tokenizer', async () => {
    const tv = await new TextVectorizer({ tokenizer: 'char' }).adapt(['Hello,  wörld 😀\n\tend']);
    const x = 'dew  😀 Hello\n\t';
    expect(tv.decode(tv.encodeIds(x))).toBe(x);
  });

  it('builds deterministic vocabularies with specials first', () => {
    const v = Vocabulary.build(['b', 'a', 'c', 'a', 'b', 'd'], { minFrequency: 1, maxSize: 8 });
    expect(v.toArray()).toEqual(['[PAD]', '[UNK]', '[BOS]', '[EOS]', '[MASK]', 'a', 'b', 'c']);
    expect(v.tokenToId('zzz')).toBe(v.unkId);
    expect(Vocabulary.fromJSON(JSON.parse(JSON.stringify(v))).toArray()).toEqual(v.toArray());
  });
});
