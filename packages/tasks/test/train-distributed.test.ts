/**
 * The auto text-classification run as plan + one fit per candidate + combine (what job workers
 * run apart) against train() in one process: same rows, same seed, the same choice and figures.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, isSeqlabError } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { combineTextClassification, fitTextClassificationCandidate, planTextClassification, repoRoot, train, type TrainReport, type TextClassificationDetails } from '../src/index.js';

const CLASSES = ['HUM', 'LOC', 'NUM'];
/** Every 4th TREC training question of three coarse classes (about 750). */
const rows = readFileSync(path.join(repoRoot()!, 'data/trec/train_5500.label'), 'latin1')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => ({ label: l.slice(0, l.indexOf(':')), text: l.slice(l.indexOf(' ') + 1).trim() }))
  .filter((r) => CLASSES.includes(r.label))
  .filter((_, i) => i % 4 === 0);
const TINY = { epochs: 2, units: 8, embeddingDim: 16, vocabSize: 2000, batchSize: 32, learningRate: 0.01, wordVectors: 'none' } as const;

let tmp: string;
beforeAll(async () => {
  await initBackend();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-train-distributed-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('planTextClassification + fitTextClassificationCandidate + combineTextClassification', () => {
  let single: TrainReport<TextClassificationDetails>;
  let combined: { dir: string; report: TrainReport<TextClassificationDetails> };
  let planned: string[];

  beforeAll(async () => {
    single = (await train('text-classification', rows, { out: path.join(tmp, 'single'), seed: 1, ...TINY })).report;
    const runDir = path.join(tmp, 'run');
    const plan = await planTextClassification(rows, { runDir, seed: 1, ...TINY });
    planned = plan.candidates;
    // Fitted in reverse order, as workers may finish them: the combine must not depend on it.
    for (const kind of [...plan.candidates].reverse()) await fitTextClassificationCandidate(plan.runDir, kind);
    combined = await combineTextClassification(plan.runDir, { out: path.join(tmp, 'combined') });
  }, 180_000);

  it('plans the default auto kinds and combines to the same choice and validation figures as train()', () => {
    expect(planned).toEqual(['tfidf-lr', 'fasttext', 'rnn']);
    const r = combined.report;
    expect(r.kind).toBe(single.kind);
    expect(r.reason).toBe(single.reason);
    expect(r.candidates.map((c) => c.kind)).toEqual(single.candidates.map((c) => c.kind));
    for (const [i, c] of r.candidates.entries()) expect(c.metrics.accuracy).toBeCloseTo(single.candidates[i]!.metrics.accuracy, 10);
    expect(r.details.validationMetrics.accuracy).toBeCloseTo(single.details.validationMetrics.accuracy, 10);
    expect(r.details.ensemble).toEqual(single.details.ensemble);
    expect(r.details.trainRows).toBe(single.details.trainRows);
    expect(r.details.refitRows).toBe(single.details.refitRows);
    expect(r.details.history.map((h) => h.val_accuracy)).toEqual(single.details.history.map((h) => h.val_accuracy));
    expect(Object.keys(r.stages)).toEqual(expect.arrayContaining(['read', 'fit tfidf-lr', 'fit fasttext', 'fit rnn', 'choose', 'save']));
    expect(JSON.parse(readFileSync(path.join(combined.dir, 'training.json'), 'utf8'))).toMatchObject({ kind: single.kind });
  });

  it('refuses to combine before every candidate is fitted, naming the missing one', async () => {
    const runDir = path.join(tmp, 'partial');
    await planTextClassification(rows, { runDir, seed: 1, ...TINY, model: 'fasttext' });
    const err = await combineTextClassification(runDir, { out: path.join(tmp, 'never') }).catch((e: unknown) => e);
    expect(isSeqlabError(err) && err.code).toBe('bad_input');
    expect(String((err as Error).message)).toMatch(/candidate fasttext has not been fitted/);
  });

  it('leaks no tensors over a candidate fit and a combine', async () => {
    const runDir = path.join(tmp, 'leak');
    await planTextClassification(rows, { runDir, seed: 1, model: 'fasttext' });
    await expectNoLeakedTensors(async () => {
      await fitTextClassificationCandidate(runDir, 'fasttext');
      await combineTextClassification(runDir, { out: path.join(tmp, 'leak-model') });
    });
  }, 60_000);
});
