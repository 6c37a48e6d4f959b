import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveModel, setGlobalSeed, writeJsonAtomic } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { TextVectorizer } from '@seqlab/tokenize';
import {
  bucketedData,
  loadSentimentModel,
  loadTextGenerator,
  resolveTextClassifierOptions,
  textClassifier,
  train,
  DEFAULT_MODELS,
  RnnArgumentError,
  type SentimentModelDirConfig,
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
    await saveModel(model, dir);
    await writeJsonAtomic(path.join(dir, 'vectorizer.json'), vectorizer.toJSON());
    const config: SentimentModelDirConfig = {
      task: 'sentiment',
      format: 'seqlab-rnn/text-classifier@1',
      labels: ['negative', 'positive'],
      vectorizerFile: 'vectorizer.json',
      maxLength: 64,
      architecture: resolveTextClassifierOptions(arch),
    };
    await writeJsonAtomic(path.join(dir, 'config.json'), config);

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
    model.dispose();
  });

  it('names the file that is missing or of the wrong kind', async () => {
    const dir = await tempDir();
    await expect(loadSentimentModel(dir)).rejects.toThrow(/config.json does not exist/);
    await writeJsonAtomic(path.join(dir, 'config.json'), { task: 'text-generation' });
    await expect(loadSentimentModel(dir)).rejects.toThrow(RnnArgumentError);
    await expect(loadTextGenerator(dir)).rejects.toThrow(/unsupported tokenizer undefined/);
    expect(DEFAULT_MODELS).toEqual({ sentiment: 'models/sentiment', generator: 'models/shakespeare-char' });
  });
});
