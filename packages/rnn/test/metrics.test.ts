import { describe, expect, it } from 'vitest';
import { accuracy, bitsPerCharacter, classificationReport, confusionMatrix, perplexity, rocAuc } from '../src/index.js';

describe('metrics', () => {
  const yTrue = [0, 0, 0, 1, 1, 1, 1, 2];
  const yPred = [0, 1, 0, 1, 1, 0, 1, 2];

  it('accuracy and the confusion matrix', () => {
    expect(accuracy(yTrue, yPred)).toBe(6 / 8);
    expect(confusionMatrix(yTrue, yPred)).toEqual([
      [2, 1, 0],
      [1, 3, 0],
      [0, 0, 1],
    ]);
  });

  it('macro precision / recall / F1 match hand computation', () => {
    const r = classificationReport(yTrue, yPred);
    expect(r.precision).toEqual([2 / 3, 3 / 4, 1]);
    expect(r.recall).toEqual([2 / 3, 3 / 4, 1]);
    expect(r.macroF1).toBeCloseTo((2 / 3 + 3 / 4 + 1) / 3, 12);
  });

  it('ROC-AUC counts ordered pairs, ties as half', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
    expect(rocAuc([0, 1], [0.5, 0.5])).toBe(0.5);
    expect(rocAuc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1])).toBe(1);
    expect(() => rocAuc([1, 1], [0.2, 0.3])).toThrow(/one positive and one negative/);
  });

  it('perplexity and bits per character from nats', () => {
    expect(perplexity(Math.log(65))).toBeCloseTo(65, 10);
    expect(bitsPerCharacter(Math.LN2 * 1.5)).toBeCloseTo(1.5, 12);
  });

  it('rejects mismatched inputs with the sizes in the message', () => {
    expect(() => accuracy([0, 1], [0])).toThrow(/yTrue has 2 entries, yPred 1/);
    expect(() => confusionMatrix([0, 3], [0, 1], 2)).toThrow(/sample 1 has label 3/);
  });
});
