import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { languageModel, textClassifier } from '../src/index.js';

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
