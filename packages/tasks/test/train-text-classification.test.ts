/**
 * train('text-classification') and evaluate('text-classification') on real questions: three
 * TREC coarse classes (HUM, LOC, NUM) from the training file, scored on the test file's
 * questions of those classes, which training never sees.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSeqlabError } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { evaluate, pipeline, train, type TrainEvent, type TextClassificationRow } from '../src/index.js';
import { coarse, trecRows, useScratchDir } from './trec-fixtures.js';

const CLASSES = ['HUM', 'LOC', 'NUM'];

function trec(file: string): TextClassificationRow[] {
  return trecRows(file).filter((r) => CLASSES.includes(r.label)).map(coarse);
}

// Every 3rd training question of the three classes (about 1,000), and every test question of them.
const rows = trec('train_5500.label').filter((_, i) => i % 3 === 0);
const heldBack = trec('TREC_10.label');
/** A tiny recurrent model: the rule and the plumbing are under test here, not the rnn's accuracy. */
const TINY = { epochs: 2, units: 8, embeddingDim: 16, vocabSize: 2000, batchSize: 32, learningRate: 0.01, wordVectors: 'none' } as const;
const tmp = useScratchDir('seqlab-train-textclf-');

describe("train('text-classification') under model auto", () => {
  let result: Awaited<ReturnType<typeof train<'text-classification'>>>;
  const events: TrainEvent[] = [];

  beforeAll(async () => {
    result = await train('text-classification', rows, { out: tmp('auto'), seed: 1, ...TINY, onProgress: (e) => events.push(e) });
  }, 120_000);

  it('predicts held-back questions at 90% or better through pipeline()', async () => {
    expect(rows.length).toBeGreaterThan(800);
    expect(heldBack.length).toBeGreaterThan(250);
    const clf = await pipeline('text-classification', result.dir);
    try {
      expect([...clf.classes]).toEqual(CLASSES);
      const predicted = await clf.predict(heldBack.map((r) => r.text));
      const right = predicted.filter((p, i) => p.label === heldBack[i]!.label).length;
      expect(right / heldBack.length).toBeGreaterThanOrEqual(0.9);
    } finally {
      clf.dispose();
    }
  });

  it('reports every candidate with its validation metrics, the kind kept and why', () => {
    const { report } = result;
    expect(report).toMatchObject({ task: 'text-classification', dir: result.dir, seed: 1, backend: 'wasm' });
    const kinds = report.candidates.map((c) => c.kind);
    expect(kinds.slice(0, 3)).toEqual(['tfidf-lr', 'fasttext', 'rnn']);
    for (const c of report.candidates) {
      expect(c.metrics.accuracy).toBeGreaterThan(0.5);
      expect(c.metrics.macroF1).toBeGreaterThan(0.4);
      expect(c.metrics.microF1).toBeCloseTo(c.metrics.accuracy, 10);
    }
    expect(kinds).toContain(report.kind);
    expect(report.reason).toMatch(new RegExp(report.kind === 'ensemble' ? 'cross-fitted' : `^${report.kind} has the best validation accuracy`));
    expect(Object.keys(report.stages)).toEqual(expect.arrayContaining(['read', 'vectorize', 'fit tfidf-lr', 'fit fasttext', 'fit rnn', 'choose', 'save', 'refit']));
    // The wall clock covers every stage once; no stage is counted twice.
    const staged = Object.values(report.stages).reduce((a, b) => a + b, 0);
    expect(staged).toBeLessThanOrEqual(report.seconds + 1e-6);
    const d = report.details;
    expect(d).toMatchObject({ problem: 'multi-class', classes: CLASSES, data: 'rows' });
    expect(d.trainRows + d.validationRows).toBe(rows.length);
    expect(d.history).toHaveLength(d.epochsCompleted!);
    for (const h of d.history) expect(h.seconds).toBeGreaterThan(0);
    // Scored again through the saved folder (before any refit): the same figures as the candidate kept.
    expect(d.validationMetrics.accuracy).toBeCloseTo(report.candidates.find((c) => c.kind === report.kind)!.metrics.accuracy, 10);
    expect(JSON.parse(readFileSync(path.join(result.dir, 'training.json'), 'utf8'))).toMatchObject({ kind: report.kind, reason: report.reason });
  });

  it('keeps an ensemble only when its cross-fitted validation accuracy beats the best kind alone', () => {
    const { report } = result;
    const e = report.details.ensemble;
    const singles = report.candidates.filter((c) => c.kind !== 'ensemble');
    const bestAlone = Math.max(...singles.map((c) => c.metrics.accuracy));
    if (e === null) {
      expect(report.kind).not.toBe('ensemble');
      return;
    }
    expect(e.bestAloneAccuracy).toBe(bestAlone);
    expect(e.crossFittedAccuracy).not.toBeNull();
    expect(e.kept).toBe(e.crossFittedAccuracy! > bestAlone);
    if (e.kept) {
      expect(report.kind).toBe('ensemble');
    } else {
      // The best single kind, the first listed on a tie.
      expect(report.kind).toBe(singles.find((c) => c.metrics.accuracy === bestAlone)!.kind);
      expect(report.reason).toMatch(/does not beat it/);
    }
  });

  it('sends stage events per candidate and epoch events with each epoch its own seconds', () => {
    const stages = events.filter((e) => e.type === 'stage');
    for (const kind of ['tfidf-lr', 'fasttext', 'rnn']) expect(stages.some((e) => e.candidate === kind)).toBe(true);
    const epochs = events.filter((e): e is Extract<TrainEvent, { type: 'epoch' }> => e.type === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual(result.report.details.history.map((h) => h.epoch + 1));
    epochs.forEach((e, i) => expect(e.seconds).toBeCloseTo(result.report.details.history[i]!.seconds, 0));
    expect(events.some((e) => e.type === 'batch' && e.candidate === 'rnn')).toBe(true);
  });

  it('leaves no checkpoints in the model folder and removes the run folder', () => {
    const files = readdirSync(result.dir);
    for (const f of ['last', 'best', 'state.json', 'checkpoints', 'run.json']) expect(files).not.toContain(f);
    expect(files).toEqual(expect.arrayContaining(['config.json', 'training.json']));
    expect(existsSync(`${result.dir}.run`)).toBe(false);
  });
});

describe("train('text-classification') checks and controls", () => {
  const small = rows.slice(0, 300);

  it('refuses an unknown option, listing the valid ones', async () => {
    const err = await train('text-classification', small, { out: tmp('x'), epoch: 3 } as never).catch((e: unknown) => e);
    expect(isSeqlabError(err) && err.code).toBe('bad_input');
    expect((err as Error).message).toMatch(/unknown option "epoch"; valid options: .*epochs.*learningRate.*timeBudgetSeconds/);
  });

  it('names a bad row by its index, and a bad value by its option', async () => {
    const bad = [...small.slice(0, 5), { text: 'Who wrote Hamlet ?', label: 7 }, ...small.slice(5)] as unknown as TextClassificationRow[];
    await expect(train('text-classification', bad, { out: tmp('x') })).rejects.toThrow(/data\[5\]\.label: expected a non-empty string or a non-empty list of them, got 7/);
    await expect(train('text-classification', small, { out: tmp('x'), dropout: 1.5 })).rejects.toThrow(/dropout: expected a number in \[0, 1\), got 1\.5/);
  });

  it('stops at the next batch when the signal aborts, with a cancelled error, and frees its tensors', async () => {
    const controller = new AbortController();
    const out = tmp('aborted');
    const err = await expectNoLeakedTensors(() =>
      train('text-classification', small, {
        out,
        model: 'rnn',
        ...TINY,
        epochs: 5,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.type === 'batch' && e.batch === 3) controller.abort();
        },
      }).catch((e: unknown) => e),
    );
    expect(isSeqlabError(err) && err.code).toBe('cancelled');
    expect(existsSync(path.join(out, 'config.json'))).toBe(false);
  }, 60_000);

  it('keeps checkpoints beside the model when asked, and a resume continues after the last epoch', async () => {
    const out = tmp('resumed');
    const first = await expectNoLeakedTensors(() => train('text-classification', small, { out, model: 'rnn', ...TINY, epochs: 1, patience: 0, keepCheckpoints: true }));
    expect(readdirSync(out)).not.toContain('state.json');
    expect(existsSync(path.join(`${out}.run`, 'state.json'))).toBe(true);
    expect(first.report.details.epochsCompleted).toBe(1);
    await expect(train('text-classification', small, { out, model: 'rnn', ...TINY, epochs: 2 })).rejects.toThrow(/holds the checkpoints of a training run; pass resume: true to continue it or overwrite: true/);
    const second = await train('text-classification', small, { out, model: 'rnn', ...TINY, epochs: 2, patience: 0, resume: true });
    expect(second.report.details.resumedFromEpoch).toBe(1);
    expect(second.report.details.history.map((h) => h.epoch)).toEqual([0, 1]);
    expect(existsSync(`${out}.run`)).toBe(false);
  }, 60_000);
});

describe("evaluate('text-classification')", () => {
  it('scores a saved model on real rows: accuracy, per-class figures and the confusion matrix', async () => {
    const out = tmp('linear');
    const { dir } = await expectNoLeakedTensors(() => train('text-classification', rows, { out, model: 'tfidf-lr' }));
    const e = await expectNoLeakedTensors(() => evaluate('text-classification', dir, heldBack, { batchSize: 100 }));
    expect(e).toMatchObject({ kind: 'tfidf-lr', problem: 'multi-class', classes: CLASSES, data: 'rows' });
    expect(e.metrics.count).toBe(heldBack.length);
    expect(e.metrics.perClass.map((c) => c.label)).toEqual(CLASSES);
    const cm = e.metrics.confusionMatrix!;
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(heldBack.length);
    expect(e.metrics.accuracy).toBeCloseTo((cm[0]![0]! + cm[1]![1]! + cm[2]![2]!) / heldBack.length, 10);
    expect(e.metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(e.baseline).toBeNull();
    await expect(evaluate('text-classification', dir, heldBack, { batch: 3 } as never)).rejects.toThrow(/unknown option "batch"; valid options: .*batchSize/);
  }, 60_000);
});
