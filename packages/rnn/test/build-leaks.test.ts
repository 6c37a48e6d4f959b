import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { arrayData, languageModel, textClassifier, train } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

// tfjs-layers' LSTM forget-bias initializer leaves intermediates behind unless the builders
// clean up; building and disposing a model must return the tensor count to where it was.
describe('builders leave no tensors behind', () => {
  for (const cell of ['lstm', 'gru', 'simple'] as const) {
    it(`${cell}: languageModel and textClassifier`, async () => {
      await expectNoLeakedTensors(() => {
        const lm = languageModel({ vocabSize: 20, cell, units: 8, layers: 2 });
        expect(lm.countParams()).toBeGreaterThan(0);
        lm.dispose();
        const clf = textClassifier({ vocabSize: 20, cell, units: 8 });
        expect(clf.countParams()).toBeGreaterThan(0);
        clf.dispose();
      });
    });
  }
});

// train() attaches an Adam optimizer (two moment tensors per weight); disposing the trained
// model must free it too.
describe('a trained model frees its optimizer on dispose', () => {
  it('train (default optimizer) -> dispose returns to the starting tensor count', async () => {
    await expectNoLeakedTensors(async () => {
      const clf = textClassifier({ vocabSize: 20, units: 4, embeddingDim: 4 });
      const x = [[1, 2, 3], [4, 5, 0], [6, 7, 8], [9, 1, 0]];
      await train(clf, arrayData(x, [0, 1, 0, 1], { batchSize: 2, seed: 1 }), { epochs: 1, learningRate: 0.01, seed: 1 });
      expect(clf.optimizer).toBeTruthy();
      clf.dispose();
    });
  });
});
