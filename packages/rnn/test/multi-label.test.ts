/**
 * Recurrent multi-label classifiers: a sigmoid per class trained with binary cross-entropy,
 * early stopping on validation subset accuracy, a decision threshold per class chosen on validation rows,
 * stored in config.json and applied after loading.
 *
 * There is no public multi-label corpus in data/, so the tests derive one from real questions:
 * TREC (Li & Roth 2002) gives every question a coarse type and a fine type. Each question here
 * carries its coarse type and, when its fine type is one of the 16 with at least 100 training
 * questions, that fine type too (`HUM` + `HUM:ind`; `NUM` alone for the rare `NUM:temp`). Label
 * sets then have one or two members, labels overlap (every fine label implies its coarse one),
 * and several are rare, which is what per-class thresholds are for.
 */
import { readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, readModelConfig, type TextClassificationResult } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import {
  binaryCrossEntropy,
  bucketedData,
  chooseThresholds,
  classificationMetrics,
  decodeText,
  fitRecurrentTextClassifier,
  loadRecurrentTextClassifier,
  resolveTextClassifierOptions,
  saveRecurrentTextClassifier,
  stratifiedSample,
  stratifiedSplit,
  textClassifier,
  type FitRecurrentClassifierResult,
  type LabelledRows,
} from '../src/index.js';

const ROOT = path.resolve(__dirname, '../../..');

/** TREC questions of a file as multi-label rows: coarse type, plus the fine type when it is common. */
function trecMultiLabel(file: string, commonFine: ReadonlySet<string>): LabelledRows {
  const lines = decodeText(readFileSync(path.join(ROOT, 'data/trec', file)))
    .split('\n')
    .filter((l) => l.trim());
  return {
    texts: lines.map((l) => l.slice(l.indexOf(' ') + 1)),
    labels: lines.map((l) => {
      const fine = l.slice(0, l.indexOf(' '));
      const coarse = fine.split(':')[0]!;
      return commonFine.has(fine) ? [coarse, fine] : [coarse];
    }),
  };
}

/** Fine types with at least 100 questions in the training file. */
function commonFineTypes(): Set<string> {
  const counts = new Map<string, number>();
  for (const l of decodeText(readFileSync(path.join(ROOT, 'data/trec/train_5500.label'))).split('\n')) {
    if (l.trim()) counts.set(l.slice(0, l.indexOf(' ')), (counts.get(l.slice(0, l.indexOf(' '))) ?? 0) + 1);
  }
  return new Set([...counts].filter(([, n]) => n >= 100).map(([f]) => f));
}

const fine = commonFineTypes();
const all = trecMultiLabel('train_5500.label', fine);
const test = trecMultiLabel('TREC_10.label', fine);
// 1,800 training and 400 validation questions, split by label set: enough to learn the common
// labels in seconds, and the validation split still has positives of most labels.
const pick = (rows: LabelledRows, idx: number[]): LabelledRows => ({ texts: idx.map((i) => rows.texts[i]!), labels: idx.map((i) => rows.labels[i]!) });
const subset = pick(all, stratifiedSample(all.labels, 2200, 7));
const split = stratifiedSplit(subset.labels, 400 / subset.texts.length, 7);
const trainRows = pick(subset, split.train);
const validationRows = pick(subset, split.holdout);

/** The best constant answer: the training rows' most frequent label set, given to every test question. */
function labelPriorBaseline(train: LabelledRows, classes: readonly string[]): TextClassificationResult[] {
  const counts = new Map<string, number>();
  for (const ls of train.labels) counts.set(JSON.stringify([...ls].sort()), (counts.get(JSON.stringify([...ls].sort())) ?? 0) + 1);
  const commonest = JSON.parse([...counts].sort((a, b) => b[1] - a[1])[0]![0]) as string[];
  const prior = classes.map((c) => train.labels.filter((ls) => ls.includes(c)).length / train.labels.length);
  return test.texts.map(() => ({
    labels: classes.map((label, i) => ({ label, score: prior[i]! })).sort((a, b) => b.score - a.score),
    label: commonest[0]!,
    score: 1,
    predicted: commonest,
    truncated: false,
  }));
}

let tmp: string;
let fitted: FitRecurrentClassifierResult;

beforeAll(async () => {
  await initBackend();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-multilabel-'));
  fitted = await fitRecurrentTextClassifier(trainRows, {
    validation: validationRows,
    embeddingDim: 32,
    units: 32,
    dropout: 0.3,
    epochs: 30,
    patience: 3,
    learningRate: 0.02,
    seed: 1,
  });
}, 300_000);

afterAll(async () => {
  fitted?.classifier.dispose();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('fitRecurrentTextClassifier on multi-label rows', () => {
  it('builds sigmoid outputs, keeps the best validation epoch and beats the label-prior baseline on held-out questions', async () => {
    const clf = fitted.classifier;
    expect(clf.problem).toBe('multi-label');
    expect(clf.config.architecture.output).toBe('sigmoid');
    // The best epoch is the one with the best validation subset accuracy, and its weights are kept.
    expect(fitted.result.monitor).toBe('val_accuracy');
    const best = Math.max(...fitted.result.history.map((h) => h.val_accuracy!));
    expect(fitted.result.history[fitted.result.bestEpoch]!.val_accuracy).toBe(best);
    expect(clf.classes).toEqual([...new Set(trainRows.labels.flat())].sort());
    const results = await clf.predict(test.texts);
    const model = classificationMetrics(clf.classes, 'multi-label', test.labels, results);
    const baseline = classificationMetrics(clf.classes, 'multi-label', test.labels, labelPriorBaseline(trainRows, clf.classes));
    // The commonest training label set ({HUM, HUM:ind}) is about a tenth of TREC-10; a model
    // that reads the questions gets most label sets exactly right (about 0.65 when written).
    expect(model.accuracy).toBeGreaterThan(baseline.accuracy + 0.3);
    expect(model.micro.f1).toBeGreaterThan(baseline.micro.f1 + 0.4);
    expect(model.jaccard!).toBeGreaterThan(baseline.jaccard! + 0.3);
    // Scores are independent: they need not sum to 1, and texts get one label, two, or none.
    expect(results.some((r) => Math.abs(r.labels.reduce((s, l) => s + l.score, 0) - 1) > 0.05)).toBe(true);
    expect(results.some((r) => r.predicted.length === 2)).toBe(true);
    expect(results.some((r) => r.predicted.length === 1)).toBe(true);
    // Explanations: one attention distribution per text, shared by its predicted labels, and per
    // predicted label each token's share of that label's logit: with the label's bias the shares
    // add up to the logit, whose sigmoid is the label's score.
    const bias = clf.members[0]!.getLayer('probabilities').getWeights()[1]!.dataSync();
    for (const r of results.slice(0, 50)) {
      expect(r.tokens!.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 4);
      expect(r.labelTokens!.map((l) => l.label)).toEqual(r.predicted);
      for (const { label, tokens } of r.labelTokens!) {
        expect(tokens.map((t) => t.text)).toEqual(r.tokens!.map((t) => t.text));
        const score = r.labels.find((l) => l.label === label)!.score;
        const logit = tokens.reduce((s, t) => s + t.contribution, 0) + bias[clf.classes.indexOf(label)]!;
        // Compared as probabilities: a float32 score near 1 keeps few digits of its logit.
        expect(1 / (1 + Math.exp(-logit))).toBeCloseTo(score, 5);
      }
    }
    // Label-specific, unlike the attention: a question given two labels gets two different
    // sets of shares, and neither is a multiple of the attention weights.
    const two = results.find((r) => r.labelTokens!.length === 2 && r.tokens!.length > 3)!;
    const [a, b] = two.labelTokens!.map((l) => l.tokens.map((t) => t.contribution));
    expect(a).not.toEqual(b);
    const ratios = a!.map((v, i) => v / two.tokens![i]!.weight);
    expect(Math.max(...ratios) - Math.min(...ratios)).toBeGreaterThan(0.1);
    // Without explanations: the same labels and scores, and no token lists.
    const bare = await clf.predict(test.texts.slice(0, 50), { explain: false });
    bare.forEach((r, i) => {
      expect(r.tokens).toBeUndefined();
      expect(r.labelTokens).toBeUndefined();
      expect(r.predicted).toEqual(results[i]!.predicted);
      // Other batches (other padding, the projected table once enough tokens were seen): the
      // same scores up to float rounding.
      r.labels.forEach((l, j) => {
        expect(l.label).toBe(results[i]!.labels[j]!.label);
        expect(l.score).toBeCloseTo(results[i]!.labels[j]!.score, 5);
      });
    });
  });

  it('predicts a class exactly when its score reaches its own threshold, each threshold the best F1 cut on validation', async () => {
    const clf = fitted.classifier;
    const thresholds = clf.thresholds!;
    expect(thresholds).toHaveLength(clf.classes.length);
    expect(fitted.thresholds!.map((t) => t.threshold)).toEqual(thresholds);
    // Tuned, not left at 0.5 everywhere.
    expect(thresholds.some((t) => Math.abs(t - 0.5) > 0.05)).toBe(true);
    const results = await clf.predict(test.texts.slice(0, 100));
    for (const r of results) {
      for (const l of r.labels) expect(r.predicted.includes(l.label)).toBe(l.score >= thresholds[clf.classes.indexOf(l.label)]!);
    }
    // No cut of the validation scores gives a class a better F1 than its chosen threshold.
    const validation = await clf.predict(validationRows.texts);
    const f1At = (label: string, t: number) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      validation.forEach((r, i) => {
        const predicted = r.labels.find((l) => l.label === label)!.score >= t;
        const actual = validationRows.labels[i]!.includes(label);
        if (predicted && actual) tp++;
        else if (predicted) fp++;
        else if (actual) fn++;
      });
      return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    };
    for (const t of fitted.thresholds!) {
      expect(f1At(t.label, t.threshold)).toBeCloseTo(t.f1, 10);
      for (let grid = 0.01; grid < 1; grid += 0.01) expect(f1At(t.label, grid)).toBeLessThanOrEqual(t.f1 + 1e-12);
    }
    // A class without validation positives keeps 0.5.
    const none = chooseThresholds(['x', 'y'], validation.map(() => ['y']), validation.map(() => ({ labels: [{ label: 'x', score: 0.9 }, { label: 'y', score: 0.7 }], label: 'x', score: 0.9, predicted: [], truncated: false })));
    expect(none[0]).toEqual({ label: 'x', threshold: 0.5, f1: 0, support: 0 });
    expect(none[1]).toMatchObject({ label: 'y', f1: 1, support: validation.length });
  });

  it('saves thresholds in config.json, reloads with the same predictions, leaks no tensors', async () => {
    const dir = path.join(tmp, 'trec-multilabel');
    await fitted.classifier.save(dir);
    const config = await readModelConfig(dir);
    expect(config).toMatchObject({ task: 'text-classification', kind: 'rnn', problem: 'multi-label', thresholds: [...fitted.classifier.thresholds!] });
    expect((config.architecture as { output: string }).output).toBe('sigmoid');
    const texts = test.texts.slice(0, 40);
    const before = await fitted.classifier.predict(texts);
    await expectNoLeakedTensors(async () => {
      const loaded = await loadRecurrentTextClassifier(dir);
      try {
        expect(loaded.thresholds).toEqual(fitted.classifier.thresholds);
        const after = await loaded.predict(texts);
        expect(after.map((r) => r.predicted)).toEqual(before.map((r) => r.predicted));
        after.forEach((r, i) => r.labels.forEach((l, j) => expect(l.score).toBeCloseTo(before[i]!.labels[j]!.score, 6)));
      } finally {
        loaded.dispose();
      }
    });
  });

  it('an ensemble averages the members’ probabilities and keeps one threshold per class', async () => {
    const dir = path.join(tmp, 'ensemble');
    const clf = fitted.classifier;
    // The same member twice averages to itself: the ensemble path must not change the answer.
    await saveRecurrentTextClassifier(dir, [clf.members[0]!, clf.members[0]!], clf.vectorizer, {
      architecture: clf.config.architecture,
      classes: clf.classes,
      maxLength: clf.maxLength,
      thresholds: clf.thresholds!,
    });
    const ensemble = await loadRecurrentTextClassifier(dir);
    try {
      expect(ensemble.problem).toBe('multi-label');
      expect(ensemble.members).toHaveLength(2);
      const texts = test.texts.slice(0, 30);
      const [a, b] = [await ensemble.predict(texts), await clf.predict(texts)];
      expect(a.map((r) => r.predicted)).toEqual(b.map((r) => r.predicted));
      a.forEach((r, i) => expect(r.score).toBeCloseTo(b[i]!.score, 6));
    } finally {
      ensemble.dispose();
    }
  });

  it('gives the same per-label shares through tf.layers when the fast path cannot run the model (self-attention)', async () => {
    const clf = fitted.classifier;
    const architecture = resolveTextClassifierOptions({ ...clf.config.architecture, attention: 'self', heads: 2 });
    const model = textClassifier(architecture);
    const dir = path.join(tmp, 'self-attention');
    await saveRecurrentTextClassifier(dir, model, clf.vectorizer, { architecture, classes: clf.classes, maxLength: clf.maxLength, thresholds: clf.classes.map(() => 0.45) });
    model.dispose();
    await expectNoLeakedTensors(async () => {
      const untrained = await loadRecurrentTextClassifier(dir);
      try {
        const bias = untrained.members[0]!.getLayer('probabilities').getWeights()[1]!.dataSync();
        let checked = 0;
        for (const r of await untrained.predict(test.texts.slice(0, 10))) {
          for (const { label, tokens } of r.labelTokens!) {
            checked++;
            const logit = tokens.reduce((s, t) => s + t.contribution, 0) + bias[untrained.classes.indexOf(label)]!;
            expect(1 / (1 + Math.exp(-logit))).toBeCloseTo(r.labels.find((l) => l.label === label)!.score, 5);
          }
          expect(r.predicted).toEqual(r.labels.filter((l) => l.score >= 0.45).map((l) => l.label));
        }
        expect(checked).toBeGreaterThan(10);
      } finally {
        untrained.dispose();
      }
    });
  });

  it('refuses mismatched outputs, problems and thresholds with clear errors', async () => {
    const clf = fitted.classifier;
    const softmax = resolveTextClassifierOptions({ ...clf.config.architecture, output: 'softmax' });
    const model = textClassifier(softmax);
    try {
      await expect(saveRecurrentTextClassifier(path.join(tmp, 'bad'), model, clf.vectorizer, { architecture: softmax, classes: clf.classes, problem: 'multi-label' })).rejects.toMatchObject({
        code: 'bad_input',
        message: expect.stringMatching(/a multi-label classifier needs a sigmoid output .*the architecture has softmax/),
      });
      await expect(saveRecurrentTextClassifier(path.join(tmp, 'bad'), model, clf.vectorizer, { architecture: softmax, classes: clf.classes, thresholds: clf.thresholds! })).rejects.toMatchObject({
        message: expect.stringMatching(/thresholds are for multi-label classifiers, this one is multi-class/),
      });
    } finally {
      model.dispose();
    }
    await expect(
      saveRecurrentTextClassifier(path.join(tmp, 'bad'), clf.members[0]!, clf.vectorizer, { architecture: clf.config.architecture, classes: clf.classes, thresholds: [0.5] }),
    ).rejects.toMatchObject({ message: expect.stringMatching(new RegExp(`thresholds must list ${clf.classes.length} thresholds \\(one per class\\), got 1`)) });
    expect(() => clf.setThresholds(clf.classes.map((_, i) => (i === 3 ? 1.5 : 0.5)))).toThrow(/setThresholds: thresholds\[3\] must be a number between 0 and 1, got 1.5/);
    // A hand-edited config.json with a threshold per class missing is refused on load.
    const dir = path.join(tmp, 'edited');
    await clf.save(dir);
    const file = path.join(dir, 'config.json');
    const config = JSON.parse(await fs.readFile(file, 'utf8'));
    await fs.writeFile(file, JSON.stringify({ ...config, thresholds: config.thresholds.slice(1) }));
    await expect(loadRecurrentTextClassifier(dir)).rejects.toThrow(/config\.json: thresholds must list \d+ thresholds/);
    // A multi-class fit refuses a row with two labels, naming it.
    await expect(fitRecurrentTextClassifier({ texts: ['a b', 'c d', 'e f'], labels: [['x'], ['y'], ['x', 'y']] }, { problem: 'multi-class', epochs: 1 })).rejects.toThrow(
      /training row 3: a multi-class classifier takes one label per text, got 2 \(x, y\)/,
    );
    expect(() => bucketedData([[1, 2], [3]], [[1, 0], [0, 2]])).toThrow(/label 1, class 1 must be 0 or 1, got 2/);
    expect(() => bucketedData([[1, 2], [3]], [[1, 0], [0]])).toThrow(/label 1 must be a multi-hot row of 2 values like label 0, got 1 values/);
  });
});

describe('binary cross-entropy', () => {
  it('averages over classes and weighs positive labels only', () => {
    const p = tf.tensor2d([[0.9, 0.2, 0.6]]);
    const y = tf.tensor2d([[1, 0, 1]]);
    const w = tf.tensor1d([1, 5, 3]);
    const plain = binaryCrossEntropy(p, y).dataSync()[0]!;
    const weighted = binaryCrossEntropy(p, y, w).dataSync()[0]!;
    expect(plain).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.6)) / 3, 5);
    // Class 1 is a negative label, so its weight of 5 does not apply.
    expect(weighted).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + 3 * Math.log(0.6)) / 3, 5);
    tf.dispose([p, y, w]);
  });
});
