import { cpSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setGlobalSeed, writeJsonAtomic } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { TextVectorizer } from '@seqlab/tokenize';
import {
  bucketedData,
  loadRecurrentTextClassifier,
  loadTextGenerator,
  resolveTextClassifierOptions,
  saveRecurrentTextClassifier,
  textClassifier,
  train,
  RnnArgumentError,
  type TextClassificationResult,
} from '../src/index.js';
import { setupBackend, tempDir } from './helpers.js';

beforeAll(setupBackend);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../../..');
const SENTIMENT = ['negative', 'positive'];

/** The positive-class probability of a binary negative/positive result. */
const positive = (r: TextClassificationResult) => r.labels.find((c) => c.label === 'positive')!.score;

function sst2(n: number): { texts: string[]; labels: number[] } {
  const lines = readFileSync(path.join(REPO, 'data/sst2/train.tsv'), 'utf8').split('\n').slice(1, n + 1);
  return { texts: lines.map((l) => l.split('\t')[0]!.trim()), labels: lines.map((l) => Number(l.split('\t')[1])) };
}

interface OldPrediction {
  label: string;
  probabilities: [number, number];
  tokens: string[];
  weights: number[];
}
/** What the removed sentiment loader predicted on the committed old-format fixtures (recorded when they were written). */
const OLD = JSON.parse(readFileSync(path.join(HERE, 'fixtures/old-loader-predictions.json'), 'utf8')) as Record<string, OldPrediction[]> & { texts: string[] };

describe('older sentiment-format folders', () => {
  it.each([
    ['sentiment-rnn-v1', 1, 'head', 16],
    ['sentiment-rnn-ensemble-v1', 2, 'head+tail', 8],
  ] as const)('%s loads as a binary text classifier predicting what the sentiment loader did', async (name, members, truncation, maxLength) => {
    const clf = await loadRecurrentTextClassifier(path.join(HERE, 'fixtures', name));
    expect(clf.members).toHaveLength(members);
    expect([clf.problem, clf.classes, clf.config.truncation, clf.maxLength]).toEqual(['binary', SENTIMENT, truncation, maxLength]);
    const results = await expectNoLeakedTensors(() => clf.predict(OLD.texts));
    results.forEach((r, i) => {
      const old = OLD[name]![i]!;
      expect(r.label).toBe(old.label);
      expect(positive(r)).toBeCloseTo(old.probabilities[1], 5);
      expect(r.tokens!.map((t) => t.text)).toEqual(old.tokens);
      r.tokens!.forEach((t, j) => expect(t.weight).toBeCloseTo(old.weights[j]!, 5));
    });
    expect(results[2]!.truncated).toBe(true);
    // tf.layers gives what the inference fast path does.
    expect(clf.fastPath).toBe(true);
    clf.setFastPath(false);
    expect(clf.fastPath).toBe(false);
    (await clf.predict(OLD.texts)).forEach((r, i) => expect(positive(r)).toBeCloseTo(positive(results[i]!), 5));
    clf.dispose();
  });

  it('re-saves an old folder in the text-classification format, predicting the same', async () => {
    const dir = await tempDir();
    cpSync(path.join(HERE, 'fixtures/sentiment-rnn-ensemble-v1'), dir, { recursive: true });
    const old = await loadRecurrentTextClassifier(dir);
    const before = await old.predict(OLD.texts);
    await old.save(dir);
    old.dispose();
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ task: 'text-classification', kind: 'rnn', problem: 'binary', classes: SENTIMENT, truncation: 'head+tail', maxLength: 8, members: ['member-1', 'member-2'] });
    expect(config.labels).toBeUndefined();
    const again = await loadRecurrentTextClassifier(dir);
    const after = await again.predict(OLD.texts);
    again.dispose();
    after.forEach((r, i) => expect(positive(r)).toBeCloseTo(positive(before[i]!), 6));
  });
});

describe('binary negative/positive classifiers saved by saveRecurrentTextClassifier', () => {
  it('explain predictions with token offsets and weights, and keep the head and tail of long texts', async () => {
    const data = sst2(400);
    const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(data.texts);
    setGlobalSeed(1);
    const arch = { vocabSize: vectorizer.vocabSize, embeddingDim: 16, units: 8, dropout: 0.1 };
    const model = textClassifier(arch);
    const rows = data.texts.map((t) => vectorizer.encodeIds(t));
    await train(model, bucketedData(rows, data.labels, { batchSize: 32, seed: 1 }), { epochs: 2, learningRate: 0.01 });
    const dir = await tempDir();
    await saveRecurrentTextClassifier(dir, model, vectorizer, { architecture: resolveTextClassifierOptions(arch), classes: SENTIMENT, maxLength: 64 });

    const sentiment = await loadRecurrentTextClassifier(dir);
    const texts = ['A gorgeous, witty film!', '', 'dull'];
    const preds = await expectNoLeakedTensors(() => sentiment.predict(texts));
    expect(preds).toHaveLength(3);
    for (const [i, p] of preds.entries()) {
      expect(p.labels[0]!.score + p.labels[1]!.score).toBeCloseTo(1, 5);
      expect(p.score).toBe(Math.max(...p.labels.map((c) => c.score)));
      for (const t of p.tokens!) expect(texts[i]!.slice(t.start, t.end).toLowerCase()).toBe(t.text.toLowerCase());
      if (p.tokens!.length > 0) expect(p.tokens!.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 4);
    }
    expect(preds[1]!.tokens).toEqual([]);
    // Same probabilities as the in-memory model on the same ids.
    const ids = vectorizer.encodeIds(texts[0]!);
    const direct = tf.tidy(() => (model.predict(tf.tensor2d(ids, [1, ids.length], 'int32')) as tf.Tensor).dataSync());
    expect(positive(preds[0]!)).toBeCloseTo(direct[1]!, 5);
    await expect(sentiment.predict([42 as unknown as string])).rejects.toThrow(/texts\[0\] must be a string/);
    sentiment.dispose();

    // Longer texts: head+tail (the default) keeps the start and the end.
    const long = 'the opening is slow and the middle drags on and on without any point at all , but the ending is wonderful';
    const ht = await tempDir();
    await saveRecurrentTextClassifier(ht, model, vectorizer, { architecture: resolveTextClassifierOptions(arch), classes: SENTIMENT, maxLength: 8 });
    const loaded = await loadRecurrentTextClassifier(ht);
    const [pred] = await loaded.predict([long]);
    const words = long.split(' ');
    expect(pred!.tokens!.map((t) => t.text)).toEqual([...words.slice(0, 2), ...words.slice(-6)]);
    const keptIds = [...vectorizer.encodeIds(long).slice(0, 2), ...vectorizer.encodeIds(long).slice(-6)];
    const direct8 = tf.tidy(() => (model.predict(tf.tensor2d(keptIds, [1, 8], 'int32')) as tf.Tensor).dataSync());
    expect(positive(pred!)).toBeCloseTo(direct8[1]!, 5);
    loaded.dispose();
    await expect(saveRecurrentTextClassifier(ht, model, vectorizer, { architecture: resolveTextClassifierOptions(arch), classes: SENTIMENT, truncation: 'middle' as never })).rejects.toThrow(/truncation must be one of/);
    model.dispose();
  });

  it('names the file that is missing or of the wrong kind', async () => {
    const dir = await tempDir();
    await expect(loadRecurrentTextClassifier(dir)).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/config\.json: does not exist/) });
    await writeJsonAtomic(path.join(dir, 'config.json'), { task: 'text-generation' });
    await expect(loadRecurrentTextClassifier(dir)).rejects.toThrow(RnnArgumentError);
    await expect(loadRecurrentTextClassifier(dir)).rejects.toThrow(/task "text-generation" is not a text classifier/);
    await expect(loadTextGenerator(dir)).rejects.toThrow(/unsupported tokenizer undefined/);
  });

  it('saves and loads an ensemble: probabilities and attention are the members\' means; single <-> ensemble saves leave no stale files', async () => {
    const data = sst2(300);
    const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(data.texts);
    const arch = resolveTextClassifierOptions({ vocabSize: vectorizer.vocabSize, embeddingDim: 12, units: 6, dropout: 0.1 });
    const rows = data.texts.map((t) => vectorizer.encodeIds(t));
    const members: ReturnType<typeof textClassifier>[] = [];
    for (const seed of [1, 2]) {
      setGlobalSeed(seed);
      const m = textClassifier(arch);
      await train(m, bucketedData(rows, data.labels, { batchSize: 32, seed }), { epochs: 1, learningRate: 0.01, seed });
      members.push(m);
    }
    const dir = await tempDir();
    const texts = ['a gorgeous , witty film', 'dull and tired'];
    const save = (to: string, models: ReturnType<typeof textClassifier> | ReturnType<typeof textClassifier>[], extra: object = {}) =>
      saveRecurrentTextClassifier(to, models, vectorizer, { architecture: arch, classes: SENTIMENT, maxLength: 32, ...extra });
    // First a single model, then the ensemble into the same directory.
    await save(dir, members[0]!);
    expect(readdirSync(dir)).toContain('model.json');
    const single = await loadRecurrentTextClassifier(dir);
    const p0 = await single.predict(texts);
    single.dispose();
    const config = await save(dir, members, { precision: 'float16', training: { seed: 1 } });
    expect(config.members).toEqual(['member-1', 'member-2']);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'member-1', 'member-2', 'vectorizer.json']);
    const ensemble = await loadRecurrentTextClassifier(dir);
    expect(ensemble.members).toHaveLength(2);
    const pe = await expectNoLeakedTensors(() => ensemble.predict(texts));
    ensemble.dispose();
    const p1: TextClassificationResult[][] = [];
    for (const [i, m] of members.entries()) {
      await save(path.join(dir, `single-${i}`), m);
      const one = await loadRecurrentTextClassifier(path.join(dir, `single-${i}`));
      p1.push(await one.predict(texts));
      one.dispose();
    }
    for (let t = 0; t < texts.length; t++) {
      expect(positive(p1[0]![t]!)).toBeCloseTo(positive(p0[t]!), 6);
      // float16 storage: agreement to about 1e-3.
      expect(positive(pe[t]!)).toBeCloseTo((positive(p1[0]![t]!) + positive(p1[1]![t]!)) / 2, 2);
      pe[t]!.tokens!.forEach((tok, j) => expect(tok.weight).toBeCloseTo((p1[0]![t]!.tokens![j]!.weight + p1[1]![t]!.tokens![j]!.weight) / 2, 2));
      expect(pe[t]!.tokens!.reduce((a, b) => a + b.weight, 0)).toBeCloseTo(1, 4);
    }
    // Back to one model: the member directories go.
    await save(dir, members[1]!);
    expect(readdirSync(dir).filter((f) => f.startsWith('member-'))).toEqual([]);
    // A config whose member escapes the directory is refused.
    await writeJsonAtomic(path.join(dir, 'config.json'), { ...config, members: ['../elsewhere'] });
    await expect(loadRecurrentTextClassifier(dir)).rejects.toThrow(/outside the model directory/);
    await expect(saveRecurrentTextClassifier(dir, members, vectorizer, { architecture: { ...arch, vocabSize: 3 }, classes: SENTIMENT })).rejects.toThrow(/vectorizer has/);
    for (const m of members) m.dispose();
  });
});
