/**
 * The text-classification task: a recurrent multi-class model saved with its class names,
 * served by pipeline('text-classification'); long texts truncated head+tail or read in chunks,
 * with every truncation flagged; sentiment models served as binary classifiers.
 */
import { readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, readModelConfig, setGlobalSeed } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { bucketedData, resolveTextClassifierOptions, saveRecurrentTextClassifier, textClassifier, train } from '@seqlab/rnn';
import { TextVectorizer } from '@seqlab/tokenize';
import { pipeline, repoRoot } from '../src/index.js';

let tmp: string;
let modelDir: string;
const CLASSES = ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'];

/** The first `n` questions of the TREC test file with their coarse labels. */
function trecQuestions(n: number): { texts: string[]; labels: number[] } {
  const lines = readFileSync(path.join(repoRoot()!, 'data/trec/TREC_10.label'), 'latin1').split('\n').filter((l) => l.trim());
  const rows = lines.slice(0, n).map((l) => {
    const [tag, ...words] = l.split(' ');
    return { text: words.join(' '), label: CLASSES.indexOf(tag!.split(':')[0]!) };
  });
  return { texts: rows.map((r) => r.text), labels: rows.map((r) => r.label) };
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-textclf-'));
  const { texts, labels } = trecQuestions(120);
  setGlobalSeed(3);
  const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(texts);
  const architecture = resolveTextClassifierOptions({ vocabSize: vectorizer.vocabSize, embeddingDim: 16, units: 12, attentionUnits: 8, numClasses: 6, dropout: 0 });
  const model = textClassifier(architecture);
  await train(model, bucketedData(texts.map((t) => vectorizer.encodeIds(t)), labels, { batchSize: 16, seed: 3 }), { epochs: 12, learningRate: 0.02, seed: 3 });
  modelDir = path.join(tmp, 'question-type');
  await saveRecurrentTextClassifier(modelDir, model, vectorizer, { architecture, classes: CLASSES, maxLength: 12, lengthStats: { count: 120, mean: 10, p50: 9, p90: 14, p95: 16, p99: 20, max: 25 } });
  model.dispose();
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("pipeline('text-classification') kind rnn", () => {
  it('stores the class names and problem in config.json and predicts them, learned from the training questions', async () => {
    const config = await readModelConfig(modelDir);
    expect(config).toMatchObject({ version: 1, task: 'text-classification', kind: 'rnn', problem: 'multi-class', classes: CLASSES, maxLength: 12, truncation: 'head+tail' });
    expect(config.lengthStats).toMatchObject({ p90: 14 });
    const { texts, labels } = trecQuestions(120);
    await expectNoLeakedTensors(async () => {
      const clf = await pipeline('text-classification', modelDir);
      try {
        expect(clf).toMatchObject({ task: 'text-classification', kind: 'rnn', problem: 'multi-class', explains: true, maxLength: 12 });
        expect(clf.classes).toEqual(CLASSES);
        const results = await clf.predict(texts);
        for (const r of results) {
          expect(r.labels.map((l) => l.label).sort()).toEqual([...CLASSES].sort());
          expect(r.labels.reduce((s, l) => s + l.score, 0)).toBeCloseTo(1, 4);
          expect(r.labels[0]).toEqual({ label: r.label, score: r.score });
          expect(r.predicted).toEqual([r.label]);
          for (let i = 1; i < r.labels.length; i++) expect(r.labels[i]!.score).toBeLessThanOrEqual(r.labels[i - 1]!.score);
          expect(r.tokens!.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 4);
        }
        const correct = results.filter((r, i) => r.label === CLASSES[labels[i]!]).length;
        // Six classes, the largest about a quarter of the rows: well above what guessing gets.
        expect(correct / texts.length).toBeGreaterThan(0.6);
      } finally {
        clf.dispose();
      }
    });
  });

  it('flags texts longer than the model length; head+tail keeps the end, chunks read every token', async () => {
    const clf = await pipeline('text-classification', modelDir);
    try {
      const long = 'What is the name of the river that flows through the middle of the old city where the famous poet was born in the year 1800 ?';
      const short = 'Who wrote Hamlet ?';
      const [cut, whole] = await clf.predict([long, short]);
      expect(cut!.truncated).toBe(true);
      expect(whole!.truncated).toBe(false);
      expect(cut!.tokens).toHaveLength(12);
      expect(cut!.tokens!.at(-1)!.text).toBe('?');
      expect(cut!.tokens![0]!.text).toBe('what');
      const [chunked] = await clf.predict([long], { longTexts: 'chunks' });
      expect(chunked!.truncated).toBe(true);
      expect(chunked!.tokens!.length).toBeGreaterThan(24);
      expect(chunked!.tokens!.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 4);
      expect(chunked!.labels.map((l) => l.score)).not.toEqual(cut!.labels.map((l) => l.score));
      await expect(clf.predict([long], { longTexts: 'all' as never })).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/longTexts must be one of 'truncate', 'chunks'/) });
    } finally {
      clf.dispose();
    }
  });

  it('saves and reloads with the same output', async () => {
    const first = await pipeline('text-classification', modelDir);
    const again = path.join(tmp, 'saved-again');
    const texts = trecQuestions(10).texts;
    const before = await first.predict(texts);
    await first.save(again);
    first.dispose();
    const second = await pipeline('text-classification', again);
    const after = await second.predict(texts);
    second.dispose();
    expect(after.map((r) => r.labels)).toEqual(before.map((r) => r.labels));
  });

  it('refuses a multi-label recurrent model with code unsupported', async () => {
    const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(['a b', 'c d']);
    const architecture = resolveTextClassifierOptions({ vocabSize: vectorizer.vocabSize, embeddingDim: 4, units: 2, attentionUnits: 2 });
    const model = textClassifier(architecture);
    try {
      await expect(saveRecurrentTextClassifier(path.join(tmp, 'ml'), model, vectorizer, { architecture, classes: ['a', 'b'], problem: 'multi-label' })).rejects.toMatchObject({ code: 'unsupported' });
      await expect(saveRecurrentTextClassifier(path.join(tmp, 'dup'), model, vectorizer, { architecture, classes: ['a', 'a'] })).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/class "a" is listed twice/) });
    } finally {
      model.dispose();
    }
  });
});

describe('sentiment models as binary text classifiers', () => {
  it('the default sentiment ensemble gives the same scores through both tasks', async () => {
    const texts = ['a gorgeous , witty film', 'tedious , overlong and dull'];
    const sentiment = await pipeline('sentiment');
    const clf = await pipeline('text-classification', 'sentiment');
    try {
      const a = await sentiment.predict(texts);
      const b = await clf.predict(texts);
      expect(clf.problem).toBe('binary');
      expect(clf.classes).toEqual(['negative', 'positive']);
      b.forEach((r, i) => {
        expect(r.label).toBe(a[i]!.label);
        expect(r.score).toBeCloseTo(a[i]!.score, 5);
        expect(r.truncated).toBe(false);
      });
    } finally {
      sentiment.dispose();
      clf.dispose();
    }
  });

  it('a text-classification model is not a sentiment model', async () => {
    await expect(pipeline('sentiment', modelDir)).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/is a text-classification model, not a sentiment model/) });
  });
});
