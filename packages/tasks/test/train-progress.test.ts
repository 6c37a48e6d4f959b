/**
 * Every long stage of train('text-classification') reports progress with an ETA (the linear
 * kinds' featurizing and fitting, scoring the validation rows), and a time budget that ends the
 * rnn's first epoch early is reported as the rows it saw (`truncated.rnnRows`). TREC questions.
 */
import { describe, expect, it } from 'vitest';
import { train, type TrainEvent } from '../src/index.js';
import { coarse, trecRows, useScratchDir } from './trec-fixtures.js';

const rows = trecRows('train_5500.label').map(coarse);
const tmp = useScratchDir('seqlab-train-progress-');

type Items = Extract<TrainEvent, { type: 'items' }>;

describe("train('text-classification') progress", () => {
  it('sends items events with an ETA while tfidf-lr featurizes and fits and while it scores the validation rows', async () => {
    const events: TrainEvent[] = [];
    const { report } = await train('text-classification', rows, { out: tmp('lr'), model: 'tfidf-lr', onProgress: (e) => events.push(e) });
    const items = events.filter((e): e is Items => e.type === 'items' && e.candidate === 'tfidf-lr');
    for (const stage of ['featurize', 'fit', 'validate']) {
      const of = items.filter((e) => e.stage === stage);
      expect(of.length, stage).toBeGreaterThan(0);
      expect(of.at(-1)!.done, stage).toBe(of.at(-1)!.total);
      expect(of.at(-1)!.etaSeconds, stage).toBe(0);
      expect(of.every((e) => e.etaSeconds === undefined || e.etaSeconds >= 0)).toBe(true);
    }
    expect(items.filter((e) => e.stage === 'validate').at(-1)!.total).toBe(report.details.validationRows);
  }, 120_000);

  it('reports the rows the rnn saw when its time budget ended the first epoch early', async () => {
    const { report } = await train('text-classification', rows, {
      out: tmp('rnn'),
      model: 'rnn',
      wordVectors: 'none',
      units: 8,
      embeddingDim: 16,
      vocabSize: 2000,
      batchSize: 32,
      epochs: 3,
      timeBudgetSeconds: 1,
    });
    const settings = report.candidates.find((c) => c.kind === 'rnn')!.settings as { rowsSeen: number; trainRows: number; stopReason: string };
    expect(settings.stopReason).toBe('time-budget');
    expect(settings.trainRows).toBe(report.details.trainRows);
    expect(settings.rowsSeen % 32).toBe(0);
    expect(settings.rowsSeen).toBeLessThan(settings.trainRows);
    expect(report.truncated.rnnRows).toBe(settings.rowsSeen);
  }, 120_000);
});
