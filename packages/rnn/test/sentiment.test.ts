import { readdirSync, readFileSync } from 'node:fs';
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
  loadSentimentModel,
  loadTextGenerator,
  resolveTextClassifierOptions,
  saveSentimentModel,
  textClassifier,
  train,
  RnnArgumentError,
  type SentimentModel,
} from '../src/index.js';
import { setupBackend, tempDir } from './helpers.js';

beforeAll(setupBackend);

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function sst2(n: number): { texts: string[]; labels: number[] } {
  const lines = readFileSync(path.join(REPO, 'data/sst2/train.tsv'), 'utf8').split('\n').slice(1, n + 1);
  return { texts: lines.map((l) => l.split('\t')[0]!.trim()), labels: lines.map((l) => Number(l.split('\t')[1])) };
}

describe('loadSentimentModel', () => {
  it('loads a saved classifier + vectorizer and explains predictions with token offsets and weights', async () => {
    const data = sst2(400);
    const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(data.texts);
    setGlobalSeed(1);
    const arch = { vocabSize: vectorizer.vocabSize, embeddingDim: 16, units: 8, dropout: 0.1 };
    const model = textClassifier(arch);
    const rows = data.texts.map((t) => vectorizer.encodeIds(t));
    await train(model, bucketedData(rows, data.labels, { batchSize: 32, seed: 1 }), { epochs: 2, learningRate: 0.01 });
    const dir = await tempDir();
    await saveSentimentModel(dir, model, vectorizer, { architecture: resolveTextClassifierOptions(arch), maxLength: 64 });

    const sentiment = await loadSentimentModel(dir);
    const texts = ['A gorgeous, witty film!', '', 'dull'];
    const preds = await expectNoLeakedTensors(() => sentiment.predict(texts));
    expect(preds).toHaveLength(3);
    for (const [i, p] of preds.entries()) {
      expect(p.probabilities[0]! + p.probabilities[1]!).toBeCloseTo(1, 5);
      expect(p.score).toBe(Math.max(...p.probabilities));
      for (const t of p.tokens) expect(texts[i]!.slice(t.start, t.end).toLowerCase()).toBe(t.text.toLowerCase());
      if (p.tokens.length > 0) expect(p.tokens.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 4);
    }
    expect(preds[1]!.tokens).toEqual([]);
    // Same probabilities as the in-memory model on the same ids.
    const ids = vectorizer.encodeIds(texts[0]!);
    const direct = tf.tidy(() => (model.predict(tf.tensor2d(ids, [1, ids.length], 'int32')) as tf.Tensor).dataSync());
    expect(preds[0]!.probabilities[1]).toBeCloseTo(direct[1]!, 5);
    await expect(sentiment.predict([42 as unknown as string])).rejects.toThrow(/texts\[0\] must be a string/);
    sentiment.dispose();

    // Longer texts: head+tail keeps the start and the end, as the text-classification task reads it.
    const long = 'the opening is slow and the middle drags on and on without any point at all , but the ending is wonderful';
    const ht = await tempDir();
    await saveSentimentModel(ht, model, vectorizer, { architecture: resolveTextClassifierOptions(arch), maxLength: 8, truncation: 'head+tail' });
    const loaded = await loadSentimentModel(ht);
    const [pred] = await loaded.predict([long]);
    const words = long.split(' ');
    expect(pred!.tokens.map((t) => t.text)).toEqual([...words.slice(0, 2), ...words.slice(-6)]);
    const keptIds = [...vectorizer.encodeIds(long).slice(0, 2), ...vectorizer.encodeIds(long).slice(-6)];
    const direct8 = tf.tidy(() => (model.predict(tf.tensor2d(keptIds, [1, 8], 'int32')) as tf.Tensor).dataSync());
    expect(pred!.probabilities[1]).toBeCloseTo(direct8[1]!, 5);
    loaded.dispose();
    // The same directory read as a binary text classifier keeps the same tokens.
    const clf = await loadRecurrentTextClassifier(ht);
    const [asClf] = await clf.predict([long]);
    expect(asClf!.tokens!.map((t) => t.text)).toEqual(pred!.tokens.map((t) => t.text));
    clf.dispose();
    await expect(saveSentimentModel(ht, model, vectorizer, { architecture: resolveTextClassifierOptions(arch), truncation: 'middle' as never })).rejects.toThrow(/truncation must be one of/);
    model.dispose();
  });

  it('names the file that is missing or of the wrong kind', async () => {
    const dir = await tempDir();
    await expect(loadSentimentModel(dir)).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/config\.json: does not exist/) });
    await writeJsonAtomic(path.join(dir, 'config.json'), { task: 'text-generation' });
    await expect(loadSentimentModel(dir)).rejects.toThrow(RnnArgumentError);
    await expect(loadTextGenerator(dir)).rejects.toThrow(/unsupported tokenizer undefined/);
  });

  it('saves and loads an ensemble: probabilities and attention are the members\' means; single <-> ensemble saves leave no stale files', async () => {
    const data = sst2(300);
    const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(data.texts);
    const arch = resolveTextClassifierOptions({ vocabSize: vectorizer.vocabSize, embeddingDim: 12, units: 6, dropout: 0.1 });
    const rows = data.texts.map((t) => vectorizer.encodeIds(t));
    const members = [];
    for (const seed of [1, 2]) {
      setGlobalSeed(seed);
      const m = textClassifier(arch);
      await train(m, bucketedData(rows, data.labels, { batchSize: 32, seed }), { epochs: 1, learningRate: 0.01, seed });
      members.push(m);
    }
    const dir = await tempDir();
    const texts = ['a gorgeous , witty film', 'dull and tired'];
    // First a single model, then the ensemble into the same directory.
    await saveSentimentModel(dir, members[0]!, vectorizer, { architecture: arch, maxLength: 32 });
    expect(readdirSync(dir)).toContain('model.json');
    const single = await loadSentimentModel(dir);
    const p0 = await single.predict(texts);
    single.dispose();
    const config = await saveSentimentModel(dir, members, vectorizer, { architecture: arch, maxLength: 32, precision: 'float16', training: { seed: 1 } });
    expect(config.members).toEqual(['member-1', 'member-2']);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'member-1', 'member-2', 'vectorizer.json']);
    const ensemble = await loadSentimentModel(dir);
    expect(ensemble.size).toBe(2);
    const pe = await expectNoLeakedTensors(() => ensemble.predict(texts));
    ensemble.dispose();
    const p1: Awaited<ReturnType<SentimentModel['predict']>>[] = [];
    for (const [i, m] of members.entries()) {
      await saveSentimentModel(path.join(dir, `single-${i}`), m, vectorizer, { architecture: arch, maxLength: 32 });
      const one = await loadSentimentModel(path.join(dir, `single-${i}`));
      p1.push(await one.predict(texts));
      one.dispose();
    }
    for (let t = 0; t < texts.length; t++) {
      expect(p1[0]![t]!.probabilities[1]).toBeCloseTo(p0[t]!.probabilities[1]!, 6);
      // float16 storage: agreement to about 1e-3.
      expect(pe[t]!.probabilities[1]).toBeCloseTo((p1[0]![t]!.probabilities[1]! + p1[1]![t]!.probabilities[1]!) / 2, 2);
      pe[t]!.tokens.forEach((tok, j) => expect(tok.weight).toBeCloseTo((p1[0]![t]!.tokens[j]!.weight + p1[1]![t]!.tokens[j]!.weight) / 2, 2));
      expect(pe[t]!.tokens.reduce((a, b) => a + b.weight, 0)).toBeCloseTo(1, 4);
    }
    // Back to one model: the member directories go.
    await saveSentimentModel(dir, members[1]!, vectorizer, { architecture: arch });
    expect(readdirSync(dir).filter((f) => f.startsWith('member-'))).toEqual([]);
    // A config whose member escapes the directory is refused.
    await writeJsonAtomic(path.join(dir, 'config.json'), { ...config, members: ['../elsewhere'] });
    await expect(loadSentimentModel(dir)).rejects.toThrow(/outside the model directory/);
    await expect(saveSentimentModel(dir, members, vectorizer, { architecture: { ...arch, vocabSize: 3 } })).rejects.toThrow(/vectorizer has/);
    for (const m of members) m.dispose();
  });
});

describe('SentimentModel.predict options', () => {
  it('rejects unknown keys naming the valid ones, and a bad batch size naming the value', async () => {
    const data = sst2(50);
    const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(data.texts);
    const architecture = resolveTextClassifierOptions({ vocabSize: vectorizer.vocabSize, embeddingDim: 8, units: 4 });
    const layers = textClassifier(architecture);
    const dir = await tempDir();
    await saveSentimentModel(dir, layers, vectorizer, { architecture });
    layers.dispose();
    const model = await loadSentimentModel(dir);
    await expect(model.predict(['fine'], { batchSze: 8 } as never)).rejects.toThrow('predict: unknown option "batchSze"; valid options: batchSize');
    await expect(model.predict(['fine'], { batchSize: 0 })).rejects.toThrow(/predict: batchSize must be a positive integer, got 0/);
    expect((await model.predict(['a fine film', 'a dull film'], { batchSize: 1 })).map((r) => r.label)).toHaveLength(2);
    model.dispose();
  });
});
