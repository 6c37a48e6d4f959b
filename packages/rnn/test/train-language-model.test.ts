/**
 * trainLanguageModel, the one language-model training path, on real text: a budget in steps
 * becomes equal epochs, the saved model scores as trained, bad budgets are refused.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { loadTextGenerationPipeline, scoreLanguageModel, trainLanguageModel, type TrainLanguageModelOptions } from '../src/index.js';

const TEXT = readFileSync(new URL('../../../data/tiny_shakespeare/input.txt', import.meta.url), 'utf8').slice(0, 12_000);
const TINY: Omit<TrainLanguageModelOptions, 'out'> = { cell: 'gru', units: 16, embeddingDim: 8, sequenceLength: 16, batchSize: 16, windowsPerEpoch: 48, patience: 0 };
const root = mkdtempSync(path.join(os.tmpdir(), 'seqlab-rnn-lm-'));

describe('trainLanguageModel', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('spreads a budget in steps over the fewest equal epochs and saves a model that scores as reported', async () => {
    const out = path.join(root, 'steps');
    const r = await expectNoLeakedTensors(() => trainLanguageModel(TEXT, { ...TINY, out, steps: 7 }));
    // 3 batches an epoch: 7 steps need 3 epochs, of ceil(7 / 3) = 3 steps each.
    expect(r.plan).toMatchObject({ epochs: 3, batchesPerEpoch: 3 });
    expect(r.training.steps).toBe(9);
    expect(r.training.history).toHaveLength(3);
    expect(r.characters.train + r.characters.validation).toBe(TEXT.length);
    const lm = await loadTextGenerationPipeline(out);
    try {
      const ids = lm.vocabulary.encode(TEXT).subarray(r.characters.train);
      const again = scoreLanguageModel(lm.languageModel, ids, { sequenceLength: 16, context: 16 });
      expect(again.lossNats).toBeCloseTo(r.validation.lossNats, 4);
      expect(again.perplexity).toBeCloseTo(Math.exp(again.lossNats), 6);
      expect(lm.config.training).toMatchObject({ sequenceLength: 16, steps: 9, epochs: 3 });
    } finally {
      lm.dispose();
    }
  });

  it('refuses a budget in both epochs and steps, and a text too short for its windows', async () => {
    await expect(trainLanguageModel(TEXT, { ...TINY, out: path.join(root, 'x'), epochs: 2, steps: 4 })).rejects.toThrow(/epochs or in steps, not both/);
    await expect(trainLanguageModel(TEXT.slice(0, 100), { ...TINY, out: path.join(root, 'x') })).rejects.toThrow(/100 characters are too few for sequenceLength 16/);
    await expect(trainLanguageModel(TEXT, { ...TINY, out: path.join(root, 'x'), resume: true })).rejects.toThrow(/resume needs checkpointDir/);
  });
});
