/**
 * What recipes need of train('text-classification') beyond the CLI's defaults, on real TREC
 * questions of three coarse classes: one fixed held-out split for several runs (holdOutRows),
 * an ensemble of already-trained models weighted on those rows (ensembleOf), and the
 * sentence-encoder kinds learning fine labels and refitting on every row (fineLabels,
 * refitEncoderKinds).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, classScores } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { ensembleOf, evaluate, holdOutRows, pipeline, train, type TextClassificationRow } from '../src/index.js';
import { trecRows, useScratchDir } from './trec-fixtures.js';

const CLASSES = ['HUM', 'LOC', 'NUM'];

/** TREC rows of the three classes, each with its fine label (`HUM:ind`, `LOC:city` ...). */
function trec(file: string, every: number): TextClassificationRow[] {
  return trecRows(file).filter((r, i) => CLASSES.includes(r.label) && i % every === 0);
}

const rows = trec('train_5500.label', 3);
const test = trec('TREC_10.label', 1).map(({ text, label }) => ({ text, label }));
const tmp = useScratchDir('seqlab-recipe-options-');

describe('holdOutRows', () => {
  it("gives the split train() makes itself: the same rows, so the same model and validation figures", async () => {
    const held = await holdOutRows(rows, { valSplit: 0.1, seed: 2 });
    expect(held.train.length + held.validation.length).toBe(rows.length);
    expect([...held.train, ...held.validation].map((r) => r.text).sort()).toEqual(rows.map((r) => r.text).sort());
    // Stratified: every class is in the held-out rows, near its share of the data.
    for (const c of CLASSES) {
      const share = rows.filter((r) => r.label === c).length / rows.length;
      expect(held.validation.filter((r) => r.label === c).length / held.validation.length).toBeCloseTo(share, 1);
    }
    expect(held.validation.every((r) => typeof r.fineLabel === 'string' && r.fineLabel.startsWith(`${r.label}:`))).toBe(true);
    const common = { seed: 2, model: 'tfidf-lr', refit: false } as const;
    const own = await train('text-classification', rows, { ...common, out: tmp('own-split'), valSplit: 0.1 });
    const given = await train('text-classification', held.train, { ...common, out: tmp('given-split'), validation: held.validation });
    expect(given.report.details.trainRows).toBe(own.report.details.trainRows);
    expect(given.report.details.validationRows).toBe(own.report.details.validationRows);
    expect(given.report.candidates[0]!.metrics).toEqual(own.report.candidates[0]!.metrics);
  }, 60_000);

  it('refuses a share outside (0, 1) and bad rows, naming them', async () => {
    await expect(holdOutRows(rows, { valSplit: 1 })).rejects.toThrow(/valSplit: expected a number between 0 and 1/);
    await expect(holdOutRows([{ text: 'a question', label: 'HUM' }, { text: '', label: 'LOC' }])).rejects.toThrow(/data\[1\]\.text/);
    await expect(holdOutRows([{ text: 'a', label: 'HUM', fineLabel: 3 as unknown as string }])).rejects.toThrow(/data\[0\]\.fineLabel/);
  });
});

describe('ensembleOf', () => {
  let held: Awaited<ReturnType<typeof holdOutRows>>;
  const dirs: string[] = [];
  const accuracies: number[] = [];

  beforeAll(async () => {
    held = await holdOutRows(rows, { seed: 1 });
    for (const model of ['tfidf-lr', 'fasttext'] as const) {
      const r = await train('text-classification', held.train, { out: tmp(model), seed: 1, model, validation: held.validation });
      dirs.push(r.dir);
      accuracies.push(r.report.candidates[0]!.metrics.accuracy!);
    }
  }, 60_000);

  it('weighs trained models on the validation rows and saves an ensemble pipeline() serves and evaluate() scores', async () => {
    const out = tmp('ensemble');
    const result = await expectNoLeakedTensors(() => ensembleOf(dirs.map((model) => ({ model })), held.validation, { out, training: { recipe: 'test' } }));
    expect(result.dir).toBe(out);
    expect(result.classes).toEqual(CLASSES);
    expect(result.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    // The grid holds each member alone, so the chosen weights do at least as well as the best of them.
    expect(result.validationAccuracy).toBeGreaterThanOrEqual(Math.max(...accuracies));
    const ensemble = await pipeline('text-classification', out);
    const members = await Promise.all(dirs.map((d) => pipeline('text-classification', d)));
    try {
      expect(ensemble.kind).toBe('ensemble');
      const texts = test.slice(0, 20).map((r) => r.text);
      const [mine, ...theirs] = await Promise.all([ensemble, ...members].map((m) => m.predict(texts)));
      mine!.forEach((r, i) => {
        const mean = CLASSES.map((_, k) => theirs.reduce((s, t, m) => s + result.weights[m]! * classScores(t[i]!, CLASSES)[k]!, 0));
        classScores(r, CLASSES).forEach((p, k) => expect(p).toBeCloseTo(mean[k]!, 5));
      });
    } finally {
      ensemble.dispose();
      for (const m of members) m.dispose();
    }
    // The card names its members by folder name and content digest, never by this machine's paths.
    const card = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as { training: { recipe: string; members: Array<{ name: string; digest: string }> } };
    expect(card.training.recipe).toBe('test');
    expect(card.training.members.map((m) => m.name)).toEqual(['tfidf-lr', 'fasttext']);
    for (const m of card.training.members) expect(m.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(card)).not.toContain(path.dirname(out));
    const scored = await evaluate('text-classification', out, test);
    expect(scored.kind).toBe('ensemble');
    expect(scored.metrics.accuracy).toBeGreaterThan(0.85);
  }, 60_000);

  it('weighs a member on the validation scores it is given instead of predicting them', async () => {
    const clf = await pipeline('text-classification', dirs[1]!);
    const scores = (await clf.predict(held.validation.map((r) => r.text))).map((r) => classScores(r, clf.classes));
    clf.dispose();
    const predicted = await ensembleOf(dirs.map((model) => ({ model })), held.validation, { out: tmp('ens-predicted') });
    const given = await ensembleOf([{ model: dirs[0]! }, { model: dirs[1]!, validationScores: scores }], held.validation, { out: tmp('ens-given') });
    expect(given.weights).toEqual(predicted.weights);
    // Scores that say nothing (uniform) leave the other member all the weight it needs alone.
    const uniform = scores.map(() => CLASSES.map(() => 1 / CLASSES.length));
    const flat = await ensembleOf([{ model: dirs[0]! }, { model: dirs[1]!, validationScores: uniform }], held.validation, { out: tmp('ens-flat') });
    expect(flat.validationAccuracy).toBeCloseTo(accuracies[0]!, 9);
  }, 60_000);

  it('refuses fewer than two members, a missing out, unknown options and scores of the wrong shape', async () => {
    await expect(ensembleOf([{ model: dirs[0]! }], held.validation, { out: tmp('x') })).rejects.toThrow(/at least two models/);
    await expect(ensembleOf(dirs.map((model) => ({ model })), held.validation, {} as never)).rejects.toThrow(/options\.out/);
    await expect(ensembleOf(dirs.map((model) => ({ model })), held.validation, { out: tmp('x'), weights: [1] } as never)).rejects.toThrow(BadInputError);
    const short = [[1, 0, 0]];
    await expect(ensembleOf([{ model: dirs[0]! }, { model: dirs[1]!, validationScores: short }], held.validation, { out: tmp('x') })).rejects.toThrow(/members\[1\]\.validationScores: expected \d+ rows/);
  }, 60_000);
});

describe('fasttext settings', () => {
  it('fits fasttext with the given dimension and epochs, in the fit and in its refit on every row', async () => {
    const { dir, report } = await train('text-classification', rows, { out: tmp('ft-small'), seed: 1, model: 'fasttext', fasttext: { dim: 4, epochs: 3 } });
    expect(report.details.refitRows).toBe(rows.length);
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config.dim).toBe(4);
    const scored = await evaluate('text-classification', dir, test);
    expect(scored.metrics.accuracy).toBeGreaterThan(0.6);
  }, 60_000);

  it('refuses settings it does not know or cannot use, naming the option', async () => {
    await expect(train('text-classification', rows, { out: tmp('bad'), model: 'fasttext', fasttext: { dim: 0 } })).rejects.toThrow(/^fasttext: expected an object of dim, epochs/);
    await expect(train('text-classification', rows, { out: tmp('bad'), model: 'fasttext', fasttext: { size: 8 } as never })).rejects.toThrow(/fasttext: expected/);
  });
});

describe('use with fineLabels and refitEncoderKinds', () => {
  it('tries the fine labels, refits the kept settings on every row and reports the validation scores of the fit before', async () => {
    const small = trec('train_5500.label', 9);
    const held = await holdOutRows(small, { seed: 1 });
    const { dir, report } = await train('text-classification', held.train, {
      out: tmp('use-fine'),
      seed: 1,
      model: 'use',
      validation: held.validation,
      headHidden: [0],
      fineLabels: 'try',
      refitEncoderKinds: true,
    });
    const settings = report.candidates[0]!.settings!;
    expect((settings.labelTrials as Array<{ labels: string }>).map((t) => t.labels)).toEqual(['labels', 'fine']);
    expect(settings.refit).toBe(true);
    expect(['labels', 'fine']).toContain(settings.labels);
    const scores = report.details.validationScores!;
    expect(scores).toHaveLength(held.validation.length);
    scores.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4));
    // The candidate's validation accuracy is that of these scores (the fit that had not seen the rows).
    const right = scores.filter((row, i) => CLASSES[row.indexOf(Math.max(...row))] === held.validation[i]!.label).length;
    expect(report.candidates[0]!.metrics.accuracy).toBeCloseTo(right / held.validation.length, 9);
    const saved = JSON.parse(readFileSync(path.join(dir, 'training.json'), 'utf8'));
    expect(saved.details.validationScores).toBeUndefined();
    const scored = await evaluate('text-classification', dir, test);
    expect(scored.classes).toEqual(CLASSES);
    // About 300 training questions and a logistic-regression head: far above the 41% of always-HUM.
    expect(scored.metrics.accuracy).toBeGreaterThan(0.75);
  }, 180_000);

  it('trains each head for at most headEpochs epochs, with the given batch size and patience', async () => {
    const held = await holdOutRows(trec('train_5500.label', 9), { seed: 1 });
    const { report } = await train('text-classification', held.train, { out: tmp('use-short'), seed: 1, model: 'use', validation: held.validation, headHidden: [0], headEpochs: 2, headPatience: 1, headBatchSize: 64 });
    const settings = report.candidates[0]!.settings!;
    expect(settings.headEpochs).toBeGreaterThanOrEqual(1);
    expect(settings.headEpochs).toBeLessThanOrEqual(2);
    await expect(train('text-classification', rows, { out: tmp('bad'), model: 'use', headEpochs: 0 })).rejects.toThrow(/headEpochs: expected a positive integer, got 0/);
  }, 180_000);

  it('refuses a value of fineLabels it does not know', async () => {
    await expect(train('text-classification', rows, { out: tmp('bad'), fineLabels: 'yes' as never })).rejects.toThrow(/fineLabels: expected one of off, try, on/);
  });
});
