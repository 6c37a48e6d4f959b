/**
 * Pre-trained word vectors: the bundled GloVe 6B 100-d table (verified, filtered to the words
 * asked for), GloVe/word2vec text files, and recurrent classifiers started from them.
 */
import { readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classScores, initBackend, loadLayersModel } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { classificationMetrics, decodeText, embeddingMatrix, extendWithWordVectors, fitRecurrentTextClassifier, loadRecurrentTextClassifier, stratifiedSample, type LabelledRows } from '@seqlab/rnn';
import { cosine, GLOVE_100D, loadWordVectors, type WordVectors } from '../src/index.js';

const ROOT = path.resolve(__dirname, '../../..');

function trec(file: string): LabelledRows {
  const lines = decodeText(readFileSync(path.join(ROOT, 'data/trec', file)))
    .split('\n')
    .filter((l) => l.trim());
  return { texts: lines.map((l) => l.slice(l.indexOf(' ') + 1).trim()), labels: lines.map((l) => [l.slice(0, l.indexOf(':'))]) };
}

let tmp: string;
beforeAll(async () => {
  await initBackend();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-wordvec-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('bundled GloVe', () => {
  let glove: WordVectors;
  beforeAll(async () => {
    glove = await loadWordVectors(GLOVE_100D, { keep: ['good', 'great', 'excellent', 'terrible', 'carpet', 'paris', 'london', 'Paris', "n't", 'zzqxv'] });
  }, 60_000);

  it('holds the asked words only, 100 values each, with GloVe geometry', () => {
    expect(glove.dim).toBe(100);
    // The 7 kept words GloVe has (lower-cased) plus "not" for the clitic.
    expect(glove.size).toBe(8);
    expect(glove.get('good')).toHaveLength(100);
    expect(cosine(glove.get('good')!, glove.get('great')!)).toBeGreaterThan(cosine(glove.get('good')!, glove.get('carpet')!) + 0.3);
    expect(cosine(glove.get('paris')!, glove.get('london')!)).toBeGreaterThan(0.6);
  });

  it('falls back to the lower-cased word and reads clitics as their words', () => {
    expect(glove.get('Paris')).toBe(glove.get('paris'));
    expect(glove.get("n't")).toBeDefined();
    expect(glove.get('zzqxv')).toBeUndefined();
  });
});

describe('text files (GloVe / word2vec / fastText .vec)', () => {
  it('reads a .vec file with its header, keeping only the words asked for', async () => {
    const file = path.join(tmp, 'tiny.vec');
    await fs.writeFile(file, '3 4\ncat 1 0 0 0\ndog 0.9 0.1 0 0\ncar 0 0 1 0.5\n');
    const v = await loadWordVectors(file, { keep: ['cat', 'Car'] });
    expect(v.dim).toBe(4);
    expect(v.size).toBe(2);
    expect(Array.from(v.get('car')!)).toEqual([0, 0, 1, 0.5]);
    expect(v.get('dog')).toBeUndefined();
  });

  it('keeps the first `top` words of the file beside the asked ones, and lists words in file order', async () => {
    const file = path.join(tmp, 'ranked.vec');
    await fs.writeFile(file, '5 2\nthe 1 0\nof 0 1\nand 1 1\ncat 2 0\ndog 0 2\n');
    const v = await loadWordVectors(file, { keep: ['dog'], top: 2 });
    expect([...v.words()]).toEqual(['the', 'of', 'dog']);
    await expect(loadWordVectors(file, { keep: ['dog'], top: -1 })).rejects.toThrow(/top must be a non-negative integer/);
  });

  it('names the line and word of a malformed row', async () => {
    const file = path.join(tmp, 'bad.txt');
    await fs.writeFile(file, 'cat 1 0 0\ndog 0.9 0.1\n');
    await expect(loadWordVectors(file)).rejects.toThrow(/bad\.txt line 2: 2 values for "dog", expected 3/);
    await fs.writeFile(file, 'cat 1 0 0\ndog 0.9 x 0\n');
    await expect(loadWordVectors(file)).rejects.toThrow(/line 2: value 2 of "dog" is not a number/);
    await expect(loadWordVectors(path.join(tmp, 'missing.vec'))).rejects.toThrow(/neither 'glove-6b-100d' nor a readable file/);
  });
});

describe('embeddingMatrix', () => {
  it('copies found words, fills the rest at the vectors scale, zeros padding, reports coverage', async () => {
    const file = path.join(tmp, 'm.txt');
    await fs.writeFile(file, 'a 1 2\nb 3 4\n');
    const v = await loadWordVectors(file);
    const tokens = ['[PAD]', '[UNK]', 'a', 'b', 'c'];
    const { matrix, coverage } = embeddingMatrix(tokens, (id) => id < 2, v, { seed: 3, counts: [0, 0, 5, 3, 2] });
    expect(Array.from(matrix.slice(0, 2))).toEqual([0, 0]);
    expect(Array.from(matrix.slice(4, 8))).toEqual([1, 2, 3, 4]);
    expect(coverage).toEqual({ vectors: 'm.txt', dim: 2, found: 2, vocabulary: 3, tokenShare: 0.8 });
    // Seeded fill: the same call gives the same matrix; another seed does not.
    expect(embeddingMatrix(tokens, (id) => id < 2, v, { seed: 3 }).matrix).toEqual(matrix);
    expect(embeddingMatrix(tokens, (id) => id < 2, v, { seed: 4 }).matrix).not.toEqual(matrix);
  });
});

describe('recurrent classifiers started from GloVe', () => {
  // 600 TREC questions: few enough that a from-scratch embedding sees most words once or twice.
  const train = trec('train_5500.label');
  const test = trec('TREC_10.label');
  const idx = stratifiedSample(train.labels, 600, 5);
  const rows = { texts: idx.map((i) => train.texts[i]!), labels: idx.map((i) => train.labels[i]!) };
  // Three epochs: the from-scratch network is still learning its words, which is where a
  // pre-trained start shows (measured 0.676 vs 0.736 test accuracy; 0.748 vs 0.766 after 6 epochs).
  const settings = { units: 32, epochs: 3, patience: 0, learningRate: 0.005, seed: 2, clean: false as const };

  it('beats the same network from random embeddings on a small sample, and freezing keeps the vectors', async () => {
    const glove = await loadWordVectors(GLOVE_100D, { keep: rows.texts.flatMap((t) => t.toLowerCase().split(/\s+/)).concat(['?']) });
    const accuracy = async (fitted: Awaited<ReturnType<typeof fitRecurrentTextClassifier>>) => {
      const m = classificationMetrics(fitted.classifier.classes, 'multi-class', test.labels, await fitted.classifier.predict(test.texts));
      return m.accuracy;
    };
    await expectNoLeakedTensors(async () => {
    const scratch = await fitRecurrentTextClassifier(rows, { ...settings, embeddingDim: 100 });
    const pretrained = await fitRecurrentTextClassifier(rows, { ...settings, wordVectors: glove });
    const [a, b] = [await accuracy(scratch), await accuracy(pretrained)];
    expect(pretrained.wordVectorCoverage!.tokenShare).toBeGreaterThan(0.9);
    expect(pretrained.classifier.config.training!.wordVectors).toMatchObject({ vectors: GLOVE_100D, fineTuned: true });
    expect(b).toBeGreaterThan(a + 0.03);
    scratch.classifier.dispose();
    pretrained.classifier.dispose();

    const frozen = await fitRecurrentTextClassifier(rows, { ...settings, epochs: 1, wordVectors: glove, fineTuneEmbeddings: false });
    const vocab = frozen.classifier.vectorizer.vocabulary;
    const id = vocab.tokenToId('city');
    // The saved weights are what serving reads: the frozen row must still be GloVe's.
    const dir = path.join(tmp, 'frozen');
    await frozen.classifier.save(dir);
    frozen.classifier.dispose();
    const model = await loadLayersModel(dir);
    const [table] = model.getLayer('embedding').getWeights();
    const row = tf.slice(table!, [id, 0], [1, 100]);
    expect(Array.from(row.dataSync())).toEqual(Array.from(glove.get('city')!));
    row.dispose();
    model.dispose();
    }, { label: 'fitting with word vectors' });
  }, 240_000);
});

describe('open vocabulary: frozen word vectors for words training never saw', () => {
  const train = trec('train_5500.label');
  const test = trec('TREC_10.label');
  const idx = stratifiedSample(train.labels, 400, 7);
  const rows = { texts: idx.map((i) => train.texts[i]!), labels: idx.map((i) => train.labels[i]!) };

  it('adds the most frequent missing words with their vectors; known texts score the same, texts with new words differently', async () => {
    const glove = await loadWordVectors(GLOVE_100D, { keep: rows.texts.flatMap((t) => t.toLowerCase().split(/\s+/)), top: 5000 });
    await expectNoLeakedTensors(async () => {
      const settings = { units: 16, epochs: 1, patience: 0, seed: 3, clean: false as const, wordVectors: glove, fineTuneEmbeddings: false };
      const closed = await fitRecurrentTextClassifier(rows, { ...settings, openVocabulary: 0 });
      expect(closed.openVocabulary).toBeUndefined();
      const { classifier: open, openVocabulary } = extendWithWordVectors(closed.classifier, glove, { limit: 2000 });
      expect(openVocabulary).toEqual({ vectors: GLOVE_100D, added: 2000, limit: 2000 });
      const before = closed.classifier.vectorizer.vocabulary;
      const after = open.vectorizer.vocabulary;
      expect(after.size).toBe(before.size + 2000);
      // Old ids never move.
      for (const id of [5, 100, before.size - 1]) expect(after.idToToken(id)).toBe(before.idToToken(id));
      // Added rows are the words' own vectors, through a save and a load.
      const dir = path.join(tmp, 'open');
      await open.save(dir);
      const loaded = await loadRecurrentTextClassifier(dir);
      const added = after.idToToken(before.size + 10);
      expect(before.has(added)).toBe(false);
      const [table] = loaded.members[0]!.getLayer('embedding').getWeights();
      const row = tf.slice(table!, [before.size + 10, 0], [1, 100]);
      expect(Array.from(row.dataSync())).toEqual(Array.from(glove.get(added)!));
      row.dispose();
      expect(loaded.config.training!['openVocabulary']).toEqual(openVocabulary);

      const known = test.texts.filter((t) => closed.classifier.vectorizer.encodeIds(t).every((id) => id !== before.unkId));
      const unseen = test.texts.filter((t) => open.vectorizer.encodeIds(t).some((id) => id >= before.size));
      expect(known.length).toBeGreaterThan(20);
      expect(unseen.length).toBeGreaterThan(20);
      const scores = async (c: typeof open, texts: string[]) => (await c.predict(texts)).map((r) => classScores(r, c.classes));
      const [k0, k1] = [await scores(closed.classifier, known), await scores(loaded, known)];
      k0.forEach((row0, i) => row0.forEach((v, j) => expect(k1[i]![j]!).toBeCloseTo(v, 2)));
      const [u0, u1] = [await scores(closed.classifier, unseen), await scores(loaded, unseen)];
      const moved = u0.filter((row0, i) => row0.some((v, j) => Math.abs(v - u1[i]![j]!) > 1e-3)).length;
      expect(moved).toBeGreaterThan(unseen.length / 2);
      loaded.dispose();
      open.dispose();
      closed.classifier.dispose();

      // fitRecurrentTextClassifier does the same by default when the vectors are frozen ...
      const byDefault = await fitRecurrentTextClassifier(rows, settings);
      expect(byDefault.openVocabulary!.added).toBeGreaterThan(2000);
      byDefault.classifier.dispose();
      // ... and a fine-tuned embedding is refused: its rows left the pre-trained space.
      const tuned = await fitRecurrentTextClassifier(rows, { ...settings, fineTuneEmbeddings: true });
      expect(tuned.openVocabulary).toBeUndefined();
      expect(() => extendWithWordVectors(tuned.classifier, glove, { limit: 10 })).toThrow(/fine-tuned/);
      tuned.classifier.dispose();
      // A from-scratch embedding never lived in the vectors' space.
      const scratch = await fitRecurrentTextClassifier(rows, { units: 16, epochs: 1, patience: 0, seed: 3, clean: false, embeddingDim: 100 });
      expect(() => extendWithWordVectors(scratch.classifier, glove, { limit: 10 })).toThrow(/no record of frozen word vectors/);
      scratch.classifier.dispose();
    }, { label: 'open vocabulary' });
  }, 240_000);
});
