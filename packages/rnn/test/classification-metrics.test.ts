/** classificationMetrics against hand-counted confusion tables. */
import { describe, expect, it } from 'vitest';
import { classificationResult, type TextClassificationResult } from '@seqlab/core';
import { classificationMetrics } from '../src/index.js';

const single = (classes: string[], top: string, pTop = 0.8): TextClassificationResult =>
  classificationResult(classes, classes.map((c) => (c === top ? pTop : (1 - pTop) / (classes.length - 1))), classes.length === 2 ? 'binary' : 'multi-class', { truncated: false });

describe('classificationMetrics', () => {
  it('multi-class: per-class P/R/F1/support, macro, micro = accuracy, confusion matrix', () => {
    const classes = ['a', 'b', 'c'];
    const truth = [['a'], ['a'], ['a'], ['b'], ['b'], ['c']];
    const pred = ['a', 'a', 'b', 'b', 'c', 'c'];
    const m = classificationMetrics(classes, 'multi-class', truth, pred.map((p) => single(classes, p)));
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.confusionMatrix).toEqual([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    expect(m.perClass[0]).toEqual({ label: 'a', precision: 1, recall: 2 / 3, f1: 0.8, support: 3 });
    expect(m.perClass[1]!.precision).toBeCloseTo(0.5, 12);
    expect(m.perClass[2]).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(m.micro.f1).toBeCloseTo(m.accuracy, 12);
    expect(m.macro.f1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 12);
    expect(m.rocAuc).toBeUndefined();
  });

  it('binary: ROC-AUC of the second class; multi-label: subset accuracy, Jaccard, per-label F1', () => {
    const bin = classificationMetrics(['ham', 'spam'], 'binary', [['ham'], ['spam'], ['spam']], [single(['ham', 'spam'], 'ham', 0.9), single(['ham', 'spam'], 'spam', 0.7), single(['ham', 'spam'], 'ham', 0.6)]);
    expect(bin.rocAuc).toBe(1);
    const classes = ['x', 'y'];
    const ml = (px: number, py: number) => classificationResult(classes, [px, py], 'multi-label', { truncated: true });
    const m = classificationMetrics(classes, 'multi-label', [['x', 'y'], ['x'], ['y']], [ml(0.9, 0.8), ml(0.7, 0.6), ml(0.2, 0.1)]);
    expect(m.accuracy).toBeCloseTo(1 / 3, 12);
    expect(m.jaccard).toBeCloseTo((1 + 0.5 + 0) / 3, 12);
    expect(m.perClass[0]).toMatchObject({ precision: 1, recall: 1, support: 2 });
    expect(m.perClass[1]).toMatchObject({ precision: 0.5, recall: 0.5, support: 2 });
    expect(m.truncated).toBe(3);
    expect(m.confusionMatrix).toBeUndefined();
    expect(() => classificationMetrics(classes, 'multi-label', [['z']], [ml(1, 1)])).toThrow(/true label "z" is not one of the model's classes/);
  });
});
