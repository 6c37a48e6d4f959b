/**
 * Text cleaning normalizers: a fixture table of inputs and cleaned outputs, alignment of token
 * offsets back to the original text, and the cleaning saved with the vectorizer and applied on load.
 */
import { describe, expect, it } from 'vitest';
import { CleanTextNormalizer, TextVectorizer, cleanText, normalizerFromJSON, type CleanTextOptions } from '../src/index.js';

const FIXTURES: Array<{ name: string; options: CleanTextOptions; input: string; output: string }> = [
  { name: 'tags become spaces', options: { markup: true }, input: 'Loved it.<br /><br />The end', output: 'Loved it.  The end' },
  { name: 'attributes and comments', options: { markup: true }, input: '<p class="x">Hi<!-- note --> <b>there</b></p>', output: ' Hi   there  ' },
  { name: 'entities decoded', options: { markup: true }, input: 'Tom &amp; Jerry&#39;s &quot;show&quot; &#x263A; &bogus;', output: 'Tom & Jerry\'s "show" \u263A &bogus;' },
  { name: 'a comparison is not a tag', options: { markup: true }, input: 'if a < b and c > d', output: 'if a < b and c > d' },
  { name: 'urls and e-mails', options: { urls: 'xxurl' }, input: 'see https://example.com/a?b=1, www.x.org or mail me@site.co.uk.', output: 'see xxurl, xxurl or mail xxurl.' },
  { name: 'numbers', options: { numbers: 'xxnum' }, input: 'costs 1,000.50 or 3 for mp3 and 2nd', output: 'costs xxnum or xxnum for mp3 and 2nd' },
  { name: 'a url keeps its digits', options: { urls: 'xxurl', numbers: 'xxnum' }, input: 'http://a.io/2024 in 2024', output: 'xxurl in xxnum' },
  { name: 'nothing on', options: {}, input: '<b>1 &amp; http://a.io</b>', output: '<b>1 &amp; http://a.io</b>' },
];

describe('CleanTextNormalizer', () => {
  it.each(FIXTURES.map((f) => [f.name, f] as const))('%s', (_name, f) => {
    expect(cleanText(f.input, f.options)).toBe(f.output);
    const aligned = new CleanTextNormalizer(f.options).normalizeAligned(f.input);
    expect(aligned.text).toBe(f.output);
    expect(aligned.starts).toHaveLength(f.output.length);
    for (let k = 0; k < f.output.length; k++) expect(aligned.ends[k]!).toBeGreaterThan(aligned.starts[k]!);
  });

  it('refuses unknown options and placeholders with spaces', () => {
    expect(() => new CleanTextNormalizer({ html: true } as never)).toThrow(expect.objectContaining({ code: 'bad_input', message: 'clean: unknown option(s) html; valid: markup, urls, numbers' }));
    expect(() => new CleanTextNormalizer({ urls: 'a url' })).toThrow(expect.objectContaining({ code: 'bad_input', message: expect.stringMatching(/clean.urls must be a placeholder word/) }));
  });
});

describe('TextVectorizer with clean', () => {
  const review = 'A GREAT film!<br /><br />See https://imdb.com/title/tt01 &amp; rate it 10 of 10.';

  it('tokenizes cleaned text with offsets into the original', async () => {
    const tv = await new TextVectorizer({ tokenizer: 'word', clean: { markup: true, urls: 'xxurl', numbers: 'xxnum' } }).adapt([review]);
    const tokens = tv.tokenize(review);
    expect(tokens.map((t) => t.text)).toEqual(['a', 'great', 'film', '!', 'see', 'xxurl', '&', 'rate', 'it', 'xxnum', 'of', 'xxnum', '.']);
    const url = tokens.find((t) => t.text === 'xxurl')!;
    expect(review.slice(url.start, url.end)).toBe('https://imdb.com/title/tt01');
    const amp = tokens.find((t) => t.text === '&')!;
    expect(review.slice(amp.start, amp.end)).toBe('&amp;');
    expect(tokens.map((t) => t.text)).not.toContain('br');
  });

  it('saves the cleaning with the vectorizer and applies it on load', async () => {
    const tv = await new TextVectorizer({ tokenizer: 'word', clean: { markup: true, numbers: 'xxnum' } }).adapt([review, 'another <i>one</i> in 1999']);
    const json = JSON.parse(JSON.stringify(tv.toJSON()));
    expect(JSON.stringify(json.normalizer)).toContain('"kind":"clean"');
    const loaded = TextVectorizer.fromJSON(json);
    expect(loaded.encodeIds('<b>one</b> of 7')).toEqual(tv.encodeIds('<b>one</b> of 7'));
    expect(loaded.tokenize('<b>one</b> of 7').map((t) => t.text)).toEqual(['one', 'of', 'xxnum']);
    expect(normalizerFromJSON({ kind: 'clean', options: { markup: true } }).normalize('a<br/>b')).toBe('a b');
  });
});
