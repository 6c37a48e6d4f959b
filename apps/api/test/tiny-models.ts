/**
 * Trains tiny but real models for the service tests and the browser test (a few seconds on
 * one core), saved in the same directory formats as the training recipes' default models.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend, saveModel, setGlobalSeed, writeJsonAtomic } from '@seqlab/core';
import * as rnn from '@seqlab/rnn';
import { REPO_ROOT } from '../src/index.js';

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
    await saveModel(model, out);
  } finally {
    model.dispose();
  }
  await writeJsonAtomic(path.join(out, 'vocabulary.json'), vocab.toJSON());
  await writeJsonAtomic(path.join(out, 'config.json'), {
    task: 'text-generation',
    format: 'seqlab-rnn/language-model@1',
    tokenizer: 'char',
    vocabularyFile: 'vocabulary.json',
    architecture: rnn.resolveLanguageModelOptions(arch),
  });
}

/** Trains a tiny sentiment classifier (SST-2 subset) and a tiny character generator into `dir`. */
export async function trainTinyModels(dir: string): Promise<TinyModels> {
  await initBackend();
  const models = { sentiment: path.join(dir, 'sentiment'), generator: path.join(dir, 'generator') };
  await tinyGenerator(models.generator);
  return models;
}
