/**
 * The USE kinds of the text-classification task (`use`, `hybrid`) on real TREC questions: they
 * learn the question types, save without the encoder's weights (recording its digest), reload
 * to identical scores, leak no tensors and refuse bad options and tampered directories clearly.
 */
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, readModelConfig } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { classificationMetrics, decodeText } from '@seqlab/rnn';
import { USE_LITE_SHA256, fitUseTextClassifier, loadEncoder, loadUseTextClassifier, type SentenceEncoder, type UseTextClassifier } from '../src/index.js';

const TREC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data/trec');

interface Questions {
  texts: string[];
  coarse: string[][];
  fine: string[];
}

/** TREC rows `from..to` of a file: question, coarse label, fine label. */
function trec(file: string, from: number, to: number): Questions {
  const lines = decodeText(readFileSync(path.join(TREC, file)))
    .split('\n')
    .filter((l) => l.trim())
    .slice(from, to);
  const tags = lines.map((l) => l.slice(0, l.indexOf(' ')));
  return { texts: lines.map((l) => l.slice(l.indexOf(' ') + 1).trim()), coarse: tags.map((t) => [t.split(':')[0]!]), fine: tags };
}

// Small real subsets: 400 training questions, 100 more that choose the head, 100 test questions.
const train = trec('train_5500.label', 0, 400);
const validation = trec('train_5500.label', 400, 500);
const test = trec('TREC_10.label', 0, 100);
const CLASSES = ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'];
const QUICK = { hidden: [0, 16], epochs: 20, patience: 4, batchSize: 32, seed: 3 };

let encoder: SentenceEncoder;
let tmp: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  encoder = await loadEncoder();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-use-clf-'));
});

afterAll(async () => {
  encoder?.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

async function scores(clf: UseTextClassifier, texts: string[]): Promise<number[][]> {
  return (await clf.predict(texts)).map((r) => CLASSES.map((c) => r.labels.find((l) => l.label === c)!.score));
}

describe.each(['use', 'hybrid'] as const)('kind %s', (kind) => {
  it('learns TREC question types, saves without the encoder and reloads to identical scores, leaking no tensors', async () => {
    const dir = path.join(tmp, kind);
    await expectNoLeakedTensors(async () => {
      const fitted = await fitUseTextClassifier({ texts: train.texts, labels: train.coarse }, { kind, classes: CLASSES, validation: { texts: validation.texts, labels: validation.coarse }, encoder, ...QUICK });
      const clf = fitted.classifier;
      try {
        // Compared field by field: a failing match on the classifier itself would print its tensors.
        expect({ task: clf.task, kind: clf.kind, problem: clf.problem, explains: clf.explains }).toEqual({ task: 'text-classification', kind, problem: 'multi-class', explains: false });
        expect(fitted.heads.map((h) => h.hidden)).toEqual([0, 16]);
        expect([0, 16]).toContain(fitted.chosenHidden);
        // The chosen head is the one with the best validation accuracy.
        expect(fitted.heads.find((h) => h.hidden === fitted.chosenHidden)!.validationAccuracy).toBe(Math.max(...fitted.heads.map((h) => h.validationAccuracy)));
        if (kind === 'hybrid') {
          expect(fitted.useWeight).toBeGreaterThanOrEqual(0);
          expect(fitted.useWeight).toBeLessThanOrEqual(1);
          // The weight is chosen on validation, so the mix is at least as good there as the n-gram model alone.
          expect(fitted.validationAccuracy).toBeGreaterThanOrEqual(fitted.ngramValidationAccuracy!);
        }
        const results = await clf.predict(test.texts);
        for (const r of results) {
          expect(r.labels.reduce((s, l) => s + l.score, 0)).toBeCloseTo(1, 4);
          expect(r.predicted).toEqual([r.label]);
          expect(r.truncated).toBe(false);
        }
        const metrics = classificationMetrics(CLASSES, 'multi-class', test.coarse, results);
        // 400 training questions; a majority guess gets about a quarter of these right.
        expect(metrics.accuracy).toBeGreaterThan(0.6);
        const before = await scores(clf, test.texts);
        await clf.save(dir);
        const reloaded = await loadUseTextClassifier(dir, { encoder });
        try {
          expect(await scores(reloaded, test.texts)).toEqual(before);
          expect(reloaded.classes).toEqual(CLASSES);
          expect(reloaded.name).toBe(kind);
        } finally {
          reloaded.dispose();
        }
      } finally {
        clf.dispose();
      }
    });
    const config = await readModelConfig(dir);
    expect(config).toMatchObject({ task: 'text-classification', kind, format: 'seqlab/use-text-classifier@1', classes: CLASSES, encoder: { name: 'use-lite', modelJsonSha256: USE_LITE_SHA256['model.json'] } });
    // The encoder's 27 MB are not copied: only the head (and the n-gram model) are.
    const files = await fs.readdir(dir);
    expect(files.some((f) => f.startsWith('group1-shard'))).toBe(false);
    expect(existsSync(path.join(dir, 'ngrams', 'config.json'))).toBe(kind === 'hybrid');
  });
});

describe('sub-labels and refit', () => {
  it('learns the fine TREC labels, scores the coarse classes as their sums and refits on every row', async () => {
    const fitted = await fitUseTextClassifier(
      { texts: train.texts, labels: train.coarse },
      { kind: 'hybrid', classes: CLASSES, validation: { texts: validation.texts, labels: validation.coarse }, subLabels: { train: train.fine, validation: validation.fine }, refit: true, encoder, ...QUICK },
    );
    const clf = fitted.classifier;
    try {
      const outputs = clf.config.outputs!;
      expect(outputs.labels).toEqual([...new Set([...train.fine, ...validation.fine])].sort());
      outputs.labels.forEach((l, i) => expect(CLASSES[outputs.classOf[i]!]).toBe(l.split(':')[0]));
      expect(clf.config.training).toMatchObject({ refit: true, trainRows: 400, validationRows: 100 });
      expect(clf.ngrams!.classes).toEqual(outputs.labels);
      const results = await clf.predict(test.texts.slice(0, 20));
      for (const r of results) {
        expect(r.labels.map((l) => l.label).sort()).toEqual(CLASSES);
        expect(r.labels.reduce((s, l) => s + l.score, 0)).toBeCloseTo(1, 4);
      }
      // Refitting saw the validation rows: it labels them better than chance by far.
      expect(classificationMetrics(CLASSES, 'multi-class', validation.coarse, await clf.predict(validation.texts)).accuracy).toBeGreaterThan(0.7);
    } finally {
      clf.dispose();
    }
  });
});

/**
 * The error a call fails with, or "resolved": a resolved classifier must not reach vitest's
 * failure message, which would try to print its tensors.
 */
async function errorOf(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    const r = (await p) as { classifier?: { dispose(): void }; dispose?(): void };
    r.classifier?.dispose();
    r.dispose?.();
    return { message: 'resolved' };
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
}

describe('errors', () => {
  const rows = { texts: train.texts.slice(0, 60), labels: train.coarse.slice(0, 60) };
  it('names the bad option or row', async () => {
    expect((await errorOf(fitUseTextClassifier(rows, { kind: 'bert' as 'use', encoder }))).message).toMatch(/kind must be one of use, hybrid, got "bert"/);
    expect((await errorOf(fitUseTextClassifier(rows, { kind: 'use', hidden: [-1], encoder }))).message).toMatch(/hidden\[0\] must be an integer in \[0, 65536\], got -1/);
    expect((await errorOf(fitUseTextClassifier(rows, { kind: 'use', hidden: [], encoder }))).message).toMatch(/hidden must be a non-empty list/);
    expect((await errorOf(fitUseTextClassifier({ texts: ['what ?', ' '], labels: [['A'], ['B']] }, { kind: 'use', encoder }))).message).toMatch(/training data: texts\[1\] is empty/);
    expect(await errorOf(fitUseTextClassifier(rows, { kind: 'hybrid', useWeights: [1.5], encoder }))).toEqual({ code: 'bad_input', message: 'useWeights[0] must be a number in [0, 1], got 1.5' });
    // One sub-label under two classes.
    const labels = rows.labels.map((l, i) => (i === 5 ? ['LOC'] : i === 6 ? ['HUM'] : l));
    const sub = labels.map((l, i) => (i === 5 || i === 6 ? 'place-or-person' : `${l[0]}:x`));
    const conflict = await errorOf(fitUseTextClassifier({ texts: rows.texts, labels }, { kind: 'use', validation: { texts: rows.texts, labels }, subLabels: { train: sub }, encoder }));
    expect(conflict.message).toMatch(/training row 7: sub-label "place-or-person" is under class "HUM" here and "LOC" elsewhere/);
    expect((await errorOf(fitUseTextClassifier(rows, { kind: 'use', subLabels: { train: sub.slice(1) }, encoder }))).message).toMatch(/subLabels.train must have one label per training row \(60\), got 59/);
  });

  it('refuses a directory trained on another encoder, or a hybrid without its n-gram model', async () => {
    const dir = path.join(tmp, 'hybrid');
    const other = path.join(tmp, 'other-encoder');
    await fs.cp(dir, other, { recursive: true });
    const file = path.join(other, 'config.json');
    const config = JSON.parse(await fs.readFile(file, 'utf8'));
    config.encoder.modelJsonSha256 = '0'.repeat(64);
    await fs.writeFile(file, JSON.stringify(config));
    await expectNoLeakedTensors(async () => {
      const wrongEncoder = await errorOf(loadUseTextClassifier(other, { encoder }));
      expect(wrongEncoder.code).toBe('model_file_corrupt');
      expect(wrongEncoder.message).toMatch(/was trained on the encoder whose model.json has SHA-256 0000/);
      config.encoder.modelJsonSha256 = USE_LITE_SHA256['model.json'];
      await fs.writeFile(file, JSON.stringify(config));
      await fs.rm(path.join(other, 'ngrams'), { recursive: true });
      expect((await errorOf(loadUseTextClassifier(other, { encoder }))).message).toMatch(/n-gram model directory not found/);
    });
  });
});
