/**
 * train('text-classification')'s `clean` option: the cleaning a caller of the package functions
 * sets (recipe:trec's committed figures were fitted with `clean: false`) reaches every kind, so the
 * same settings through train() give the same model as the package's own fit, bit for bit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitRecurrentTextClassifier } from '@seqlab/rnn';
import { pipeline, train, type TextClassificationRow } from '../src/index.js';
import { coarse, trecRows, useScratchDir } from './trec-fixtures.js';

const CLASSES = ['HUM', 'LOC', 'NUM'];
// Questions that name a web address: the default cleaning turns each address into `xxurl`.
const WITH_URLS: TextClassificationRow[] = [
  { text: 'Who runs www.answers.com ?', label: 'HUM' },
  { text: 'Where is www.questions.com hosted ?', label: 'LOC' },
  { text: 'How many people visit www.answers.com a day ?', label: 'NUM' },
];
const all = trecRows('train_5500.label').filter((r, i) => CLASSES.includes(r.label) && i % 12 === 0);
const train_ = [...WITH_URLS, ...all.slice(0, 150).map(coarse)];
const validation = all.slice(150, 200).map(coarse);
const tmp = useScratchDir('seqlab-train-clean-');

const RNN = { embeddingDim: 16, units: 8, dropout: 0.3, epochs: 2, patience: 3, learningRate: 0.003, seed: 3 };

function configOf(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
}

describe("train('text-classification') clean", () => {
  it('gives the rnn that fitRecurrentTextClassifier fits with the same settings (clean: false keeps the addresses as words)', async () => {
    const { dir, report } = await train('text-classification', train_, { out: tmp('rnn'), model: 'rnn', wordVectors: 'none', validation, clean: false, ...RNN });
    const own = await fitRecurrentTextClassifier(
      { texts: train_.map((r) => r.text), labels: train_.map((r) => [r.label as string]) },
      { ...RNN, classes: CLASSES, validation: { texts: validation.map((r) => r.text), labels: validation.map((r) => [r.label as string]) }, clean: false },
    );
    try {
      expect(own.classifier.vectorizer.vocabulary.has('www.answers.com')).toBe(true);
      expect(report.candidates[0]!.settings?.epochs).toBe(own.result.history.length);
      await own.classifier.save(tmp('own'));
    } finally {
      own.classifier.dispose();
    }
    // Both read back the same way, so the scores compare bit for bit.
    const [mine, theirs] = [await pipeline('text-classification', dir), await pipeline('text-classification', tmp('own'))];
    try {
      const texts = [...WITH_URLS, ...validation.slice(0, 20)].map((r) => r.text);
      const scores = async (m: typeof mine) => (await m.predict(texts)).map((r) => r.labels.map((l) => l.score));
      expect(await scores(mine)).toEqual(await scores(theirs));
    } finally {
      mine.dispose();
      theirs.dispose();
    }
  }, 60_000);

  it('is saved with a linear model (default: markup stripped, addresses replaced)', async () => {
    const plain = await train('text-classification', train_, { out: tmp('plain'), model: 'tfidf-lr', validation, clean: false });
    const cleaned = await train('text-classification', train_, { out: tmp('cleaned'), model: 'tfidf-lr', validation });
    const custom = await train('text-classification', train_, { out: tmp('custom'), model: 'fasttext', validation, clean: { markup: true, urls: 'WEBSITE', numbers: false } });
    expect(configOf(plain.dir).clean).toBe(false);
    expect(configOf(cleaned.dir).clean).toEqual({ markup: true, urls: 'xxurl' });
    expect(configOf(custom.dir).clean).toMatchObject({ markup: true, urls: 'WEBSITE' });
  }, 60_000);

  it('refuses a bad cleaning, naming the option and what it takes', async () => {
    const bad = [true, 'none', { markup: 'yes' }, { urls: '' }, { html: true }];
    for (const clean of bad) {
      await expect(train('text-classification', train_, { out: tmp('bad'), model: 'tfidf-lr', clean: clean as never })).rejects.toThrow(/clean: expected false or an object of markup/);
    }
    await expect(train('text-classification', train_, { out: tmp('bad'), model: 'use', encoderBatchSize: 0 })).rejects.toThrow(/encoderBatchSize: expected an integer in 1\.\.4096, got 0/);
  });
});
