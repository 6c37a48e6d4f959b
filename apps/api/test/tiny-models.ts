/**
 * Trains tiny but real models for the service tests and the browser test (a few seconds on
 * one core), saved in the same directory formats as the training recipes' default models.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend, setGlobalSeed } from '@seqlab/core';
import * as rnn from '@seqlab/rnn';
import { TextVectorizer } from '@seqlab/tokenize';
import { REPO_ROOT } from '../src/index.js';

/**
 * The service settings shared by the tests that run real workers over the tiny models: any
 * port, no sentence encoder, neural forecasters on, no rate limit, silent logs.
 */
export function tinyServiceSettings(dir: string, models: TinyModels) {
  return { port: 0, modelsDir: dir, sentimentModel: models.sentiment, generatorModel: models.generator, embeddings: false, forecastNeural: true, rateLimitMax: 0, logLevel: 'silent' } as const;
}

/** Sum of the samples of the service's metric lines that start with `prefix` (all label sets). */
export async function metricSum(url: string, prefix: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

/** Directories of the trained models. */
export interface TinyModels {
  sentiment: string;
  generator: string;
}

async function tinyGenerator(out: string): Promise<void> {
  const text = (await readFile(path.join(REPO_ROOT, 'data/tiny_shakespeare/input.txt'), 'utf8')).slice(0, 20_000);
  const vocab = rnn.CharVocabulary.fromText(text);
  const arch: rnn.LanguageModelOptions = { vocabSize: vocab.size, cell: 'gru', layers: 1, units: 32, embeddingDim: 16 };
  setGlobalSeed(1);
  const model = rnn.languageModel(arch);
  try {
    await rnn.train(model, rnn.languageModelData(vocab.encode(text), { sequenceLength: 32, batchSize: 16, windowsPerEpoch: 400, seed: 1 }), {
      epochs: 1,
      learningRate: 0.01,
      seed: 1,
    });
    await rnn.saveTextGenerator(out, model, vocab, { architecture: rnn.resolveLanguageModelOptions(arch) });
  } finally {
    model.dispose();
  }
}

async function tinySentiment(out: string): Promise<void> {
  const rows = (await readFile(path.join(REPO_ROOT, 'data/sst2/train.tsv'), 'utf8'))
    .trim()
    .split('\n')
    .slice(1, 1201)
    .map((l) => l.split('\t'));
  const texts = rows.map((r) => r[0]!.trim());
  const labels = rows.map((r) => Number(r[1]));
  const maxLength = 24;
  const vectorizer = await new TextVectorizer({ maxTokens: 1500, maxLength }).adapt(texts);
  const enc = vectorizer.encode(texts, { padding: 'post', truncation: 'post', maxLength });
  const [n, width] = enc.shape;
  const x = Array.from({ length: n }, (_, i) => enc.ids.subarray(i * width, (i + 1) * width));
  const arch: rnn.TextClassifierOptions = {
    vocabSize: vectorizer.vocabSize,
    embeddingDim: 16,
    cell: 'gru',
    bidirectional: false,
    units: 16,
    attentionUnits: 16,
    dropout: 0,
  };
  setGlobalSeed(2);
  const model = rnn.textClassifier(arch);
  try {
    await rnn.train(model, rnn.arrayData(x, labels, { batchSize: 32, seed: 2 }), { epochs: 2, learningRate: 0.01, seed: 2 });
    // A binary negative/positive text classifier: what the sentiment task serves.
    await rnn.saveRecurrentTextClassifier(out, model, vectorizer, { architecture: rnn.resolveTextClassifierOptions(arch), classes: ['negative', 'positive'], maxLength, truncation: 'head' });
  } finally {
    model.dispose();
  }
}

/** Trains a tiny sentiment classifier (SST-2 subset) and a tiny character generator into `dir`. */
export async function trainTinyModels(dir: string): Promise<TinyModels> {
  await initBackend();
  const models = { sentiment: path.join(dir, 'sentiment'), generator: path.join(dir, 'generator') };
  await tinySentiment(models.sentiment);
  await tinyGenerator(models.generator);
  return models;
}
