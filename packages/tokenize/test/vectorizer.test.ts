import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTokenizer, TextNormalizer, TextVectorizer, TokenizeFormatError, Vocabulary, type Token, type Tokenizer, type TokenizerName } from '../src/index.js';
import { dataFile, shakespeare, sst2 } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-tokenize-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

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
    expect(tv.decode(e.ids.subarray(0, 6), { skipSpecial: false })).toBe('[BOS] the cat [UNK] [PAD] [PAD]');
  });

  it('adaptCounts builds from token counts the vocabulary adapt builds from the texts; subword tokenizers refuse it', async () => {
    const texts = sst2('dev').slice(0, 300);
    const adapted = await new TextVectorizer({ maxTokens: 500 }).adapt(texts);
    const counts = new Map<string, number>();
    // Counted in reverse order: the vocabulary depends on the counts alone.
    for (const t of [...texts].reverse()) for (const tok of adapted.tokenize(t)) counts.set(tok.text, (counts.get(tok.text) ?? 0) + 1);
    const fromCounts = new TextVectorizer({ maxTokens: 500 }).adaptCounts(counts);
    expect(fromCounts.toJSON()).toEqual(adapted.toJSON());
    expect(fromCounts.encodeIds(texts[7]!)).toEqual(adapted.encodeIds(texts[7]!));
    expect(() => new TextVectorizer({ tokenizer: 'bpe' }).adaptCounts(counts)).toThrow(/bpe tokenizer is trained on texts/);
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
    expect(Vocabulary.build(new Map([['x', 3], ['y', 1]]), { minFrequency: 2 }).toArray().slice(5)).toEqual(['x']);
    expect(Vocabulary.build({ x: 1, y: 1 }, { specials: { pad: '<pad>', extra: ['[CLS]'] } }).toArray()).toEqual([
      '<pad>', '[UNK]', '[BOS]', '[EOS]', '[MASK]', '[CLS]', 'x', 'y',
    ]);
    expect(Vocabulary.fromJSON(JSON.parse(JSON.stringify(v))).toArray()).toEqual(v.toArray());
  });

  it('extends a vocabulary without moving an id, taking only words it reads as one token', async () => {
    const tv = await new TextVectorizer({ maxLength: 4 }).adapt(['the cat sat', 'the dog']);
    const before = tv.vocabulary;
    const catId = before.tokenToId('cat');
    expect(tv.encodeIds('the gerbil')).toEqual([before.tokenToId('the'), before.unkId]);
    // "cat" is held already, "isn't" reads as two tokens, "Ferret" is not a normalized token, "[PAD]" is a special.
    const added = tv.extendVocabulary(['cat', 'gerbil', "isn't", 'Ferret', '[PAD]', 'hamster', 'vole', 'mole'], { limit: 3 });
    expect(added).toBe(3);
    const after = tv.vocabulary;
    expect(after.toArray()).toEqual([...before.toArray(), 'gerbil', 'hamster', 'vole']);
    expect(after.tokenToId('cat')).toBe(catId);
    expect(tv.encodeIds('the gerbil')).toEqual([before.tokenToId('the'), before.size]);
    expect(after.count(before.size)).toBe(0);
    expect(TextVectorizer.fromJSON(JSON.parse(JSON.stringify(tv.toJSON()))).vocabulary.toArray()).toEqual(after.toArray());
    expect(tv.extendVocabulary(['gerbil'])).toBe(0);
    expect(() => before.extend(['x'], { limit: -1 })).toThrow(/limit must be an integer >= 0/);
  });

  it('maps text that spells a special token to UNK, not to the special', async () => {
    const tv = await new TextVectorizer({ tokenizer: 'whitespace' }).adapt(['a b']);
    expect(tv.encodeIds('a [PAD] [EOS]')).toEqual([tv.vocabulary.tokenToId('a'), 1, 1]);
  });
});

describe('custom parts', () => {
  /** Splits on commas: a tokenizer the package does not know until it is registered. */
  class CommaTokenizer implements Tokenizer {
    readonly kind = 'test-comma';
    tokenize(text: string): Token[] {
      const out: Token[] = [];
      let start = 0;
      for (const part of text.split(',')) {
        if (part.length > 0) out.push({ text: part, start, end: start + part.length });
        start += part.length + 1;
      }
      return out;
    }
    detokenize(tokens: string[]): string {
      return tokens.join(',');
    }
    toJSON(): object {
      return { kind: this.kind };
    }
  }

  it('accepts a Tokenizer object and a Normalizer, and saves them once the kind is registered', async () => {
    const tv = await new TextVectorizer({ tokenizer: new CommaTokenizer(), normalize: new TextNormalizer({ lowercase: true }) }).adapt(['A,B,c', 'a,d']);
    expect(tv.vocabulary.toArray().slice(5)).toEqual(['a', 'b', 'c', 'd']);
    const e = tv.encode('X,B');
    expect(e.tokens[0]).toEqual([
      { text: 'x', start: 0, end: 1 },
      { text: 'b', start: 2, end: 3 },
    ]);
    expect(() => TextVectorizer.fromJSON(JSON.parse(JSON.stringify(tv)))).toThrow(/unknown tokenizer kind "test-comma".*registerTokenizer/);
    registerTokenizer('test-comma', () => new CommaTokenizer());
    const back = TextVectorizer.fromJSON(JSON.parse(JSON.stringify(tv)));
    expect(back.encodeIds('X,B')).toEqual(tv.encodeIds('X,B'));
    expect(back.decode(back.encodeIds('a,b'))).toBe('a,b');
  });

  it('lets `lowercase` and `normalize: false` override the defaults', async () => {
    const cased = await new TextVectorizer({ tokenizer: 'whitespace', lowercase: false }).adapt(['The the']);
    expect(cased.vocabSize).toBe(7);
    const raw = await new TextVectorizer({ tokenizer: 'whitespace', normalize: false }).adapt(['Ｔhe  the']);
    expect(raw.vocabulary.toArray().slice(5)).toEqual(['the', 'Ｔhe']);
    expect(raw.normalize('Ｔhe') ).toBe('Ｔhe');
  });
});

describe('encode shapes and masks', () => {
  const WORDS = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'zebra', '!'];
  let tv: TextVectorizer;
  beforeAll(async () => {
    tv = await new TextVectorizer({ tokenizer: 'whitespace' }).adapt(['the cat sat on a mat !']);
  });

  it('holds for every padding/truncation mode, BOS/EOS and length', () => {
    const text = fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }).map((w) => w.join(' '));
    fc.assert(
      fc.property(
        fc.array(text, { minLength: 1, maxLength: 5 }),
        fc.option(fc.integer({ min: 2, max: 10 }), { nil: undefined }),
        fc.constantFrom('pre' as const, 'post' as const),
        fc.constantFrom('pre' as const, 'post' as const),
        fc.boolean(),
        fc.boolean(),
        (texts, maxLength, padding, truncation, addBos, addEos) => {
          const e = tv.encode(texts, { maxLength, padding, truncation, addBos, addEos });
          const extra = (addBos ? 1 : 0) + (addEos ? 1 : 0);
          const raw = texts.map((t) => tv.encodeIds(t));
          const L = maxLength ?? Math.max(...raw.map((r) => r.length + extra));
          expect(e.shape).toEqual([texts.length, L]);
          expect(e.ids.length).toBe(texts.length * L);
          texts.forEach((_, i) => {
            const keep = Math.min(raw[i]!.length, L - extra);
            const content = truncation === 'post' ? raw[i]!.slice(0, keep) : raw[i]!.slice(raw[i]!.length - keep);
            const expected = [...(addBos ? [tv.vocabulary.bosId] : []), ...content, ...(addEos ? [tv.vocabulary.eosId] : [])];
            const pad = new Array<number>(L - expected.length).fill(0);
            const row = Array.from(e.ids.subarray(i * L, (i + 1) * L));
            const mask = Array.from(e.mask.subarray(i * L, (i + 1) * L));
            expect(row).toEqual(padding === 'post' ? [...expected, ...pad] : [...pad, ...expected]);
            const ones = expected.map(() => 1);
            expect(mask).toEqual(padding === 'post' ? [...ones, ...pad] : [...pad, ...ones]);
            expect(e.lengths[i]).toBe(expected.length);
            expect(e.tokens[i]!.length).toBe(keep);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('uses the constructor defaults and rejects impossible lengths', async () => {
    const d = await new TextVectorizer({ tokenizer: 'whitespace', maxLength: 3, padding: 'pre', truncation: 'pre' }).adapt(['a b c d']);
    const e = d.encode(['a b c d', 'b']);
    expect(Array.from(e.ids)).toEqual([6, 7, 8, 0, 0, 6]);
    expect(() => d.encode('a', { maxLength: 1, addBos: true, addEos: true })).toThrow(/maxLength 1 cannot hold BOS\/EOS \(2 ids\)/);
    expect(() => d.encode('a', { maxLength: 0 })).toThrow(/maxLength must be an integer >= 1, got 0/);
    expect(() => d.encode('a', { padding: 'left' as never })).toThrow(/padding must be 'pre' or 'post', got "left"/);
  });
});

describe('save and load', () => {
  it.each(['word', 'char', 'whitespace', 'bpe', 'wordpiece'] as TokenizerName[])('%s gives identical encodings after a round trip', async (kind) => {
    const lines = sst2('dev').slice(0, 300);
    const tv = await new TextVectorizer({ tokenizer: kind, maxTokens: kind === 'bpe' ? 400 : 300, maxLength: 24 }).adapt(lines);
    const file = path.join(dir, `${kind}.json`);
    await tv.save(file);
    const back = await TextVectorizer.load(file);
    expect(back.vocabSize).toBe(tv.vocabSize);
    const sample = [...sst2('test').slice(0, 20), 'Ünïcödé 😀 \u0007 zzz'];
    fc.assert(
      fc.property(fc.constantFrom(...sample), fc.constantFrom('pre' as const, 'post' as const), (s, side) => {
        const a = tv.encode(s, { truncation: side, addEos: true });
        const b = back.encode(s, { truncation: side, addEos: true });
        expect(Array.from(b.ids)).toEqual(Array.from(a.ids));
        expect(b.tokens).toEqual(a.tokens);
        expect(back.decode(b.ids)).toBe(tv.decode(a.ids));
      }),
      { numRuns: 30 },
    );
  });

  it('reports corrupt and wrong-version files with the file name and the problem', async () => {
    const tv = await new TextVectorizer().adapt(['a b c']);
    const good = tv.toJSON();
    const corrupt = path.join(dir, 'corrupt.json');
    await writeFile(corrupt, '{"format": "seqlab.text-vec');
    await expect(TextVectorizer.load(corrupt)).rejects.toThrow(new RegExp(`${corrupt}: not valid JSON`));
    const future = path.join(dir, 'future.json');
    await writeFile(future, JSON.stringify({ ...good, formatVersion: 2 }));
    await expect(TextVectorizer.load(future)).rejects.toThrow(/future\.json: invalid text vectorizer: unsupported formatVersion 2 \(this version reads 1\)/);
    const badVocab = path.join(dir, 'bad-vocab.json');
    const v = good.vocabulary!;
    await writeFile(badVocab, JSON.stringify({ ...good, vocabulary: { ...v, tokens: [...v.tokens.slice(0, -1), 'a'] } }));
    await expect(TextVectorizer.load(badVocab)).rejects.toThrow(/bad-vocab\.json: invalid vocabulary: tokens\[\d+\] "a" is a duplicate/);
    await expect(TextVectorizer.load(path.join(dir, 'missing.json'))).rejects.toThrow(TokenizeFormatError);
    expect(() => Vocabulary.fromJSON({ ...v, formatVersion: 0 })).toThrow(/unsupported formatVersion 0/);
    expect(() => Vocabulary.fromJSON({ ...v, tokens: ['x', ...v.tokens.slice(1)] })).toThrow(/tokens\[0\] must be the special token "\[PAD\]", got "x"/);
    expect(() => TextVectorizer.fromJSON({ ...good, tokenizer: { kind: 'sentencepiece' } })).toThrow(/unknown tokenizer kind "sentencepiece"/);
    expect(JSON.parse(await readFile(future, 'utf8')).formatVersion).toBe(2);
  });
});

describe('bad input', () => {
  let word: TextVectorizer;
  let char: TextVectorizer;
  beforeAll(async () => {
    word = await new TextVectorizer().adapt(sst2('dev'));
    char = await new TextVectorizer({ tokenizer: 'char' }).adapt(sst2('dev'));
  });

  it('names the argument and position of non-strings', () => {
    expect(() => word.encode(['ok', 3 as never])).toThrow(/texts\[1\] must be a string, got number 3/);
    expect(() => word.encode(null as never)).toThrow(/texts must be a string or an array of strings, got null/);
    expect(() => word.encodeIds({} as never)).toThrow(/expected a string, got object/);
    expect(() => word.decode([5, 1.5])).toThrow(/ids\[1\] = 1.5 is not a valid id/);
    expect(() => word.decode([word.vocabSize])).toThrow(/is not a valid id \(0\.\.\d+\)/);
    expect(() => new TextVectorizer().encode('x')).toThrow(/call adapt\(corpus\) first/);
    expect(() => new TextVectorizer({ tokenizer: 42 as never })).toThrow(/tokenizer must be a name/);
    expect(() => new TextVectorizer({ maxTokens: -1 })).toThrow(/maxTokens must be an integer >= 1, got -1/);
  });

  it('rejects bad corpora with the line number', async () => {
    await expect(new TextVectorizer().adapt(['ok', null as never])).rejects.toThrow(/corpus item 1 must be a string, got null/);
    await expect(new TextVectorizer().adapt('one string' as never)).rejects.toThrow(/not a single string/);
    await expect(new TextVectorizer().adapt(5 as never)).rejects.toThrow(/corpus must be an iterable or async iterable of strings, got number 5/);
  });

  it('encodes empty strings, lone surrogates and control characters to defined results', () => {
    const e = word.encode(['', 'good \ud800 movie\u0000\u0007', '\u0001\u0002'], { maxLength: 4 });
    expect(Array.from(e.lengths)).toEqual([0, 3, 0]);
    expect(e.tokens[1]!.map((t) => [t.text, t.start, t.end])).toEqual([
      ['good', 0, 4],
      ['\ufffd', 5, 6],
      ['movie', 7, 12],
    ]);
    expect(word.decode(e.ids.subarray(4, 8))).toBe('good [UNK] movie');
    // Char tokenization keeps control characters (unknown ones become UNK) and never throws.
    expect(char.encodeIds('a\u0000b')).toEqual([char.vocabulary.tokenToId('a'), char.vocabulary.unkId, char.vocabulary.tokenToId('b')]);
  });

  it('never crashes on arbitrary Unicode', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (s) => {
        for (const tv of [word, char]) {
          const e = tv.encode(s, { maxLength: 8, addBos: true });
          expect(e.lengths[0]).toBeGreaterThanOrEqual(1);
          for (const t of e.tokens[0]!) {
            expect(t.start).toBeGreaterThanOrEqual(0);
            expect(t.end).toBeLessThanOrEqual(s.length);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('encodes a 10 MB line with truncation quickly, from either end', () => {
    const line = shakespeare().replace(/\n/g, ' ').repeat(10).slice(0, 10_000_000);
    const t0 = performance.now();
    const post = word.encode(line, { maxLength: 16 });
    const pre = word.encode(line, { maxLength: 16, truncation: 'pre' });
    const c = char.encode(line, { maxLength: 16, truncation: 'pre' });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(post.tokens[0]![0]).toEqual({ text: 'first', start: 0, end: 5 });
    expect(post.tokens[0]!.map((t) => t.text).slice(0, 3)).toEqual(['first', 'citizen', ':']);
    expect(pre.tokens[0]![15]!.end).toBeLessThanOrEqual(line.length);
    expect(pre.tokens[0]![15]!.start).toBeGreaterThan(line.length - 200);
    expect(c.tokens[0]![15]).toEqual({ text: line[line.length - 1], start: line.length - 1, end: line.length });
    // The char vocabulary comes from lower-case SST-2, so capitals decode as UNK.
    expect(char.decode(c.ids)).toBe([...line.slice(-16)].map((ch) => (char.vocabulary.has(ch) ? ch : '[UNK]')).join(''));
  });
});

describe('real corpora', () => {
  it('adapts from a 10 MB line in windows, counting exactly as from the short text', async () => {
    const text = shakespeare();
    const big = text.repeat(9);
    const one = await new TextVectorizer({ tokenizer: 'char' }).adapt([text]);
    const nine = await new TextVectorizer({ tokenizer: 'char' }).adapt([big]);
    expect(big.length).toBeGreaterThan(10_000_000);
    expect(nine.vocabulary.toArray()).toEqual(one.vocabulary.toArray());
    const id = one.vocabulary.tokenToId('e');
    expect(nine.vocabulary.count(id)).toBe(9 * one.vocabulary.count(id));
  });

  it('adapts from an async line stream exactly as from an array', async () => {
    const file = dataFile('sst2', 'dev.tsv');
    async function* sentences() {
      let first = true;
      for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        if (first || line.length === 0) {
          first = false;
          continue;
        }
        yield line.split('\t')[0]!;
      }
    }
    const streamed = await new TextVectorizer().adapt(sentences());
    const array = await new TextVectorizer().adapt(sst2('dev'));
    expect(streamed.vocabulary.toArray()).toEqual(array.vocabulary.toArray());
  });

  it('SST-2 train: vocabulary sizes and hand-checked ids', async () => {
    const lines = sst2('train');
    // SST-2 is already space-tokenized and lower-cased: the whitespace vocabulary is exactly its
    // distinct tokens plus the five specials.
    const distinct = new Set(lines.flatMap((l) => l.split(' ').filter((w) => w.length > 0)));
    const ws = await new TextVectorizer({ tokenizer: 'whitespace' }).adapt(lines);
    expect(ws.vocabSize).toBe(distinct.size + 5);
    const tv = await new TextVectorizer().adapt(lines);
    expect(tv.vocabSize).toBe(14820);
    expect(tv.vocabulary.toArray().slice(5, 12)).toEqual(['the', ',', 'a', 'and', 'of', '.', 'to']);
    expect(tv.encodeIds("it 's a charming and often affecting journey . ")).toEqual([16, 12, 7, 302, 8, 147, 1419, 604, 10]);
    const capped = await new TextVectorizer({ maxTokens: 1000, minFrequency: 3 }).adapt(lines);
    expect(capped.vocabSize).toBe(1000);
  });

  it('tiny-shakespeare: 65 characters + 5 specials, exact round trip', async () => {
    const text = shakespeare();
    const tv = await new TextVectorizer({ tokenizer: 'char' }).adapt([text]);
    expect(tv.vocabSize).toBe(70);
    const passage = text.slice(0, 2000);
    expect(tv.decode(tv.encodeIds(passage))).toBe(passage);
    expect(tv.encodeIds('First')).toEqual(['F', 'i', 'r', 's', 't'].map((c) => tv.vocabulary.tokenToId(c)));
    expect(tv.vocabulary.idToToken(5)).toBe(' ');
  });
});
