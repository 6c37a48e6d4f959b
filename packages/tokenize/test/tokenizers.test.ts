import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CharTokenizer,
  createTokenizer,
  ngrams,
  splitSentences,
  tokenizerFromJSON,
  WhitespaceTokenizer,
  WordTokenizer,
  type Token,
  type Tokenizer,
} from '../src/index.js';

const spans = (ts: Token[]) => ts.map((t) => [t.text, t.start, t.end]);
const SENTENCE = `"Don't stop," she said -- it's 3.5 km. Café naïve!`;

// Fixtures: tokenizer, input, expected [text, start, end] per token (checked by hand).
const FIXTURES: Array<{ name: string; tokenizer: Tokenizer; text: string; tokens: Array<[string, number, number]> }> = [
  {
    name: 'treebank splits clitics and keeps non-ASCII words whole',
    tokenizer: new WordTokenizer(),
    text: SENTENCE,
    tokens: [
      ['"', 0, 1], ['Do', 1, 3], ["n't", 3, 6], ['stop', 7, 11], [',', 11, 12], ['"', 12, 13], ['she', 14, 17], ['said', 18, 22],
      ['--', 23, 25], ['it', 26, 28], ["'s", 28, 30], ['3.5', 31, 34], ['km.', 35, 38], ['Café', 39, 43], ['naïve', 44, 49], ['!', 49, 50],
    ],
  },
  {
    name: 'wordpunct separates every punctuation mark',
    tokenizer: new WordTokenizer({ method: 'wordpunct' }),
    text: "Don't stop.",
    tokens: [['Don', 0, 3], ["'", 3, 4], ['t', 4, 5], ['stop', 6, 10], ['.', 10, 11]],
  },
  {
    name: "natural's WordTokenizer drops punctuation",
    tokenizer: new WordTokenizer({ method: 'word' }),
    text: "Don't stop, Café!",
    tokens: [['Don', 0, 3], ['t', 4, 5], ['stop', 6, 10], ['Café', 12, 16]],
  },
  {
    name: 'regexp splits on the gaps pattern',
    tokenizer: new WordTokenizer({ method: 'regexp', pattern: /[\s,.!"]+/ }),
    text: 'a,b. c!',
    tokens: [['a', 0, 1], ['b', 2, 3], ['c', 5, 6]],
  },
  {
    name: 'unicode keeps apostrophes inside words',
    tokenizer: new WordTokenizer({ method: 'unicode' }),
    text: "It's 日本語!",
    tokens: [["It's", 0, 4], ['日本語', 5, 8], ['!', 8, 9]],
  },
  {
    name: 'stop words and Porter stems (spans stay on the surface word)',
    tokenizer: new WordTokenizer({ stopWords: true, stem: true }),
    text: 'The runners were running quickly to the houses',
    tokens: [['runner', 4, 11], ['run', 17, 24], ['quickli', 25, 32], ['hous', 40, 46]],
  },
  {
    name: 'bigrams follow the unigrams',
    tokenizer: new WordTokenizer({ ngrams: 2 }),
    text: 'a b c',
    tokens: [['a', 0, 1], ['b', 2, 3], ['c', 4, 5], ['a b', 0, 3], ['b c', 2, 5]],
  },
  {
    name: 'whitespace',
    tokenizer: new WhitespaceTokenizer(),
    text: '  a\tb  c\n',
    tokens: [['a', 2, 3], ['b', 4, 5], ['c', 7, 8]],
  },
  {
    name: 'char keeps surrogate pairs together',
    tokenizer: new CharTokenizer(),
    text: 'a😀b',
    tokens: [['a', 0, 1], ['😀', 1, 3], ['b', 3, 4]],
  },
];

describe('tokenizer fixtures', () => {
  it.each(FIXTURES)('$name', ({ tokenizer, text, tokens }) => {
    expect(spans(tokenizer.tokenize(text))).toEqual(tokens);
    // The JSON form rebuilds a tokenizer that behaves the same.
    expect(spans(tokenizerFromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON()))).tokenize(text))).toEqual(tokens);
  });
});

describe('word tokenizer', () => {
  it.each(['treebank', 'wordpunct', 'word', 'unicode'] as const)('%s offsets always point at the token text', (method) => {
    const tk = new WordTokenizer({ method });
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        let last = 0;
        for (const t of tk.tokenize(s)) {
          expect(s.slice(t.start, t.end)).toBe(t.text);
          expect(t.start).toBeGreaterThanOrEqual(last);
          last = t.end;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('detokenizes Treebank output back into readable English', () => {
    const tk = new WordTokenizer();
    const text = "I don't know, she said (really).";
    expect(tk.detokenize(tk.tokenize(text).map((t) => t.text))).toBe(text);
  });

  it('rejects unknown methods and bad options', () => {
    expect(() => new WordTokenizer({ method: 'nltk' as never })).toThrow(/unknown method "nltk"; valid methods: treebank, wordpunct, word, regexp, unicode/);
    expect(() => new WordTokenizer({ method: 'regexp' })).toThrow(/needs a `pattern`/);
    expect(() => new WordTokenizer({ ngrams: 0 })).toThrow(/ngrams must be an integer >= 1, got 0/);
    expect(() => createTokenizer('sentencepiece' as never)).toThrow(/valid names: word, char, whitespace, bpe, wordpiece/);
    expect(() => tokenizerFromJSON({ kind: 'x' })).toThrow(/unknown tokenizer kind "x"/);
  });
});

describe('sentences and n-grams', () => {
  it('splits sentences with their spans', () => {
    const text = 'Hello there. How are you?  Fine! Bye';
    const s = splitSentences(text);
    expect(spans(s)).toEqual([
      ['Hello there.', 0, 12],
      ['How are you?', 13, 25],
      ['Fine!', 27, 32],
      ['Bye', 33, 36],
    ]);
    expect(splitSentences('   ')).toEqual([]);
  });

  it('builds trigrams spanning their parts', () => {
    const toks = new WhitespaceTokenizer().tokenize('to be or not');
    expect(spans(ngrams(toks, 3, '_'))).toEqual([
      ['to_be_or', 0, 8],
      ['be_or_not', 3, 12],
    ]);
    expect(ngrams(toks, 5)).toEqual([]);
  });
});
