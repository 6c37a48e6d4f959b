import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { evaluateClassifierCommand } from '../src/commands/evaluate-classifier.js';
import { sentimentCommand } from '../src/commands/sentiment.js';
import { trainClassifierCommand } from '../src/commands/train-classifier.js';
import { KNOWN, TINY_CLASSIFIER, sst2Slices } from './fixtures.js';
import { pngSize, run } from './helpers.js';

describe('seqlab train classifier + sentiment + evaluate classifier', () => {
  const root = mkdtempSync(join(tmpdir(), 'seqlab-clf-'));
  const model = join(root, 'clf');
  const { train, dev } = sst2Slices();
  let summary: { validationMetrics: { accuracy: number }; epochsCompleted: number; trainRows: number };

  beforeAll(async () => {
    // Head truncation, as SST-2 sentiment models are usually read (the default, head+tail, is checked below).
    const r = await run(trainClassifierCommand(), ['--data', train, '--validation', dev, '--out', model, '--model', 'rnn', '--epochs', '3', ...TINY_CLASSIFIER, '--truncation', 'head', '--json']);
    expect(r.stderr).not.toMatch(/seqlab:/);
    expect(r.exitCode).toBe(0);
    summary = JSON.parse(r.stdout);
  }, 120_000);

  it('trains, saves a loadable sentiment model and beats chance on held-out SST-2', () => {
    expect(summary.trainRows).toBe(2000);
    expect(summary.epochsCompleted).toBeGreaterThanOrEqual(2);
    expect(summary.validationMetrics.accuracy).toBeGreaterThan(0.6);
    for (const f of ['model.json', 'config.json', 'vectorizer.json', 'training.json', 'training-curve.png']) {
      expect(existsSync(join(model, f)), f).toBe(true);
    }
    // Checkpoints live in the run folder beside the model (DIR.run), removed after a successful run.
    for (const f of ['run.json', 'checkpoints', 'state.json']) expect(existsSync(join(model, f)), f).toBe(false);
    expect(existsSync(`${model}.run`)).toBe(false);
  });

  it('saves SST-2 (0/1 labels) as a binary negative/positive text classifier, head+tail by default, which the sentiment command reads so', async () => {
    const ht = join(root, 'clf-head-tail');
    const r = await run(trainClassifierCommand(), ['--data', train, '--out', ht, '--model', 'rnn', '--epochs', '1', ...TINY_CLASSIFIER, '--max-length', '6']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(ht, 'config.json'), 'utf8'))).toMatchObject({ task: 'text-classification', kind: 'rnn', problem: 'binary', classes: ['negative', 'positive'], maxLength: 6, truncation: 'head+tail' });
    const long = 'the first half is a slog , but the final act is a wonderful surprise';
    const s = await run(sentimentCommand(), ['--model', ht, '--explain', '--top', '6', '--json', long]);
    expect(s.exitCode).toBe(0);
    const words = JSON.parse(s.stdout).results[0].explanation.map((t: { word: string }) => t.word);
    // One word from the head, five from the tail.
    expect(new Set(words)).toEqual(new Set(['the', 'is', 'a', 'wonderful', 'surprise', 'act']));
  }, 60_000);

  it('labels known sentences and explains them with attention weights', async () => {
    const r = await run(sentimentCommand(), ['--model', model, '--explain', '--top', '3', '--json', ...KNOWN.map(([t]) => t)]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.results.map((x: { label: string }) => x.label)).toEqual(KNOWN.map(([, label]) => label));
    for (const x of out.results) {
      expect(x.score).toBeGreaterThanOrEqual(0.5);
      expect(x.probabilities[0] + x.probabilities[1]).toBeCloseTo(1, 5);
      expect(x.explanation).toHaveLength(3);
      expect(x.explanation[0].weight).toBeGreaterThanOrEqual(x.explanation[2].weight);
    }
  });

  it('sentiment and evaluate classifier leave no tensors behind', async () => {
    await expectNoLeakedTensors(async () => {
      expect((await run(sentimentCommand(), ['--model', model, '--explain', 'fine film'])).exitCode).toBe(0);
      expect((await run(evaluateClassifierCommand(), ['--model', model, '--data', dev, '--limit', '20'])).exitCode).toBe(0);
    });
  });

  it('reads texts from --file (one per line) and prints a readable line each', async () => {
    const file = join(root, 'texts.txt');
    writeFileSync(file, `${KNOWN.map(([t]) => t).join('\n')}\n\n`);
    const r = await run(sentimentCommand(), ['--model', model, '--file', file]);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(KNOWN.length);
    expect(lines[0]).toMatch(/^positive\s+0\.\d{3}\s+a wonderful/);
  });

  it('evaluates with metrics, a confusion matrix and its plot', async () => {
    const png = join(root, 'cm.png');
    const r = await run(evaluateClassifierCommand(), ['--model', model, '--data', dev, '--plot', png, '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.count).toBe(200);
    const cm: number[][] = out.confusionMatrix;
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(200);
    expect(out.accuracy).toBeCloseTo((cm[0]![0]! + cm[1]![1]!) / 200, 10);
    // The classifier's saved validation score and a fresh evaluation of the same rows agree.
    expect(out.accuracy).toBeCloseTo(summary.validationMetrics.accuracy, 10);
    expect(out.rocAuc).toBeGreaterThan(0.6);
    expect(pngSize(readFileSync(png)).width).toBeGreaterThan(200);
  });

  it.each([
    [() => sentimentCommand(), ['--model', join(root, 'nope'), 'x'], 3, /model directory not found/],
    [() => sentimentCommand(), ['--file', join(root, 'missing.txt')], 3, /--file: file not found/],
    [() => sentimentCommand(), ['--top', '0', '--explain', 'x'], 2, /--top: expected an integer between 1 and 100, got "0"/],
    [() => evaluateClassifierCommand(), ['--model', model, '--data', dev, '--label-col', 'stars'], 3, /label column "stars" not found; columns are sentence, label \(use --label-col\)/],
  ])('bad input %#', async (make, argv, code, message) => {
    const r = await run(make(), argv);
    expect(r.exitCode).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('names the line of an empty label', async () => {
    const bad = join(root, 'bad.tsv');
    writeFileSync(bad, 'sentence\tlabel\ngood\t1\nmeh\t\n');
    const r = await run(trainClassifierCommand(), ['--data', bad, '--out', join(root, 'bad-run')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/bad\.tsv: line 3, column "label": empty label/);
  });
});
