/**
 * chooseWordVectors: the rule that picks the word vectors a classifier's embedding starts from,
 * with the reason it gives, on a user's vectors file and on the bundled GloVe.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTO_WORD_VECTOR_COVERAGE, chooseWordVectors, GLOVE_100D } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'seqlab-wv-choice-'));
const vec = join(dir, 'own.vec');
// word2vec text format: a header line, then a word and its 3 values per line.
writeFileSync(vec, '3 3\nwhat 0.1 0.2 0.3\nquokkas 0.7 0.7 0.1\nwho -0.1 0.5 0.0\n');
// Counts as a question corpus would give them: "what" 6 times, "who" 2, "is" 2.
const counts = new Map([
  ['what', 6],
  ['who', 2],
  ['is', 2],
]);

describe('chooseWordVectors', () => {
  it('takes an explicit file and reports how much of the training words and tokens it knows', async () => {
    const choice = await chooseWordVectors(vec, counts);
    expect(choice.vectors?.dim).toBe(3);
    expect(choice.knownWords).toBe(2);
    expect(choice.tokenShare).toBeCloseTo(8 / 10, 12);
    expect(choice.reason).toBe('embedding starts from own.vec (2 of the 3 training words, 80.0% of the training tokens)');
  });

  it('keeps the open vocabulary only when asked', async () => {
    expect((await chooseWordVectors(vec, counts)).vectors?.has('quokkas')).toBe(false);
    expect((await chooseWordVectors(vec, counts, { openVocabulary: 1 })).vectors?.has('quokkas')).toBe(true);
  });

  it('trains from scratch for none, and for auto with another size, without reading GloVe', async () => {
    expect(await chooseWordVectors('none', counts)).toEqual({ reason: 'embedding trained from scratch (wordVectors none)' });
    const other = await chooseWordVectors('auto', counts, { embeddingDim: 24 });
    expect(other.vectors).toBeUndefined();
    expect(other.reason).toMatch(/embeddingDim 24; glove-6b-100d has 100 dimensions/);
  });

  it('refuses an explicit source that cannot be read or has another size, naming the option', async () => {
    await expect(chooseWordVectors(join(dir, 'nope.vec'), counts)).rejects.toThrow(/^wordVectors: word vectors: ".*nope\.vec" is neither/);
    await expect(chooseWordVectors(vec, counts, { embeddingDim: 24 })).rejects.toThrow(/embeddingDim 24 differs from the 3 dimensions of wordVectors/);
  });

  it(`under auto drops GloVe when it knows under ${AUTO_WORD_VECTOR_COVERAGE * 100}% of the training tokens`, async () => {
    // One made-up word 50 times beside the 10 question words: GloVe knows 10 of 60 tokens.
    const foreign = await chooseWordVectors('auto', new Map([...counts, ['qzxv', 50]]));
    expect(foreign.vectors).toBeUndefined();
    expect(foreign.reason).toBe(`embedding trained from scratch (${GLOVE_100D} knows 16.7% of the training tokens, under 50%)`);
  }, 60_000);
});
