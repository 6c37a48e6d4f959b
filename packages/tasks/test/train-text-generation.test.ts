/**
 * train('text-generation') and evaluate('text-generation') on real text (tiny-shakespeare), with
 * models small enough to train in seconds: the saved model generates, validation loss falls,
 * checkpoints stay out of the model folder, bad options and cancellation are reported.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { defaultCheckpointDir, evaluate, pipeline, repoRoot, train, type TrainEvent, type TextGenerationTrainOptions } from '../src/index.js';

const SHAKESPEARE = path.join(repoRoot()!, 'data/tiny_shakespeare/input.txt');
/** The first 30,000 characters, as lines: the "texts in memory" form of the data. */
const LINES = readFileSync(SHAKESPEARE, 'utf8').slice(0, 30_000).split('\n');
// GRU: building an LSTM leaks tfjs-layers' bias-initializer temporaries (4 tensors a model),
// which would hide leaks of our own.
const TINY: Omit<TextGenerationTrainOptions, 'out'> = { seed: 1, cell: 'gru', units: 24, embeddingDim: 8, seqLength: 24, batchSize: 16, windowsPerEpoch: 96, learningRate: 0.01, patience: 0 };

const root = mkdtempSync(path.join(os.tmpdir(), 'seqlab-train-lm-'));

describe("train('text-generation')", () => {
  const out = path.join(root, 'tiny-lm');
  const events: TrainEvent[] = [];
  let result: Awaited<ReturnType<typeof train<'text-generation'>>>;

  beforeAll(async () => {
    await initBackend();
    result = await train('text-generation', LINES, { ...TINY, out, epochs: 3, onProgress: (e) => events.push(e) });
  });

  it('saves a model pipeline() loads and generates with', async () => {
    expect(result.dir).toBe(out);
    const lm = await pipeline('text-generation', out);
    try {
      const r = await lm.generate('ROMEO:\n', { maxTokens: 40, temperature: 0.8, seed: 3 });
      expect(r.text.length).toBeGreaterThan(20);
      expect(lm.vocabulary.chars).toContain('R');
    } finally {
      lm.dispose();
    }
  });

  it('lowers the validation loss epoch by epoch on real text and reports it', () => {
    const { report } = result;
    const val = report.details.history.map((h) => h.val_loss!);
    expect(val).toHaveLength(3);
    expect(val[1]).toBeLessThan(val[0]!);
    expect(val[2]).toBeLessThan(val[1]!);
    // A 3-epoch model is poor but must beat uniform guessing over its vocabulary.
    expect(val[2]).toBeLessThan(Math.log(report.details.vocabularySize));
    const [candidate] = report.candidates;
    expect(report).toMatchObject({ task: 'text-generation', kind: 'char-lm', seed: 1, dir: out });
    expect(candidate!.metrics.perplexity).toBeCloseTo(Math.exp(candidate!.metrics.loss!), 6);
    expect(candidate!.metrics.bitsPerChar).toBeCloseTo(candidate!.metrics.loss! / Math.LN2, 6);
    expect(report.details).toMatchObject({ stopReason: 'epochs', epochsCompleted: 3, resumedFromEpoch: 0, lastEpochPartial: false });
    expect(Object.keys(report.stages)).toEqual(expect.arrayContaining(['read', 'fit', 'evaluate', 'save']));
  });

  it("sends 1-based epoch events with each epoch's own seconds and batch events with an ETA", () => {
    const epochs = events.filter((e) => e.type === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const total = epochs.reduce((s, e) => s + e.seconds, 0);
    // Per-epoch times add up to about the fitting time; times since the start would add to ~2x.
    expect(total).toBeLessThanOrEqual(result.report.stages.fit! * 1.05);
    expect(epochs.every((e) => e.metrics.val_perplexity! > 1 && !e.partial)).toBe(true);
    const batches = events.filter((e) => e.type === 'batch');
    expect(batches[0]).toMatchObject({ epoch: 1, batch: 1, batches: 6 });
    expect(batches.every((e) => Number.isFinite(e.etaSeconds))).toBe(true);
    expect(events.some((e) => e.type === 'stage' && e.stage === 'save')).toBe(true);
  });

  it('keeps checkpoints out of the model folder and removes the run folder after success', () => {
    const entries = readdirSync(out, { withFileTypes: true });
    expect(entries.every((e) => e.isFile())).toBe(true);
    expect(entries.map((e) => e.name.replace(/^weights\..*bin$/, 'weights.bin')).sort()).toEqual(['config.json', 'model.json', 'vocabulary.json', 'weights.bin']);
    expect(existsSync(defaultCheckpointDir(out))).toBe(false);
  });

  it('evaluate() gives a finite perplexity consistent with the loss', async () => {
    const r = await evaluate('text-generation', out, SHAKESPEARE, { maxChars: 3000, seqLength: 32, context: 16 });
    expect(r.characters).toBeGreaterThan(2900);
    expect(Number.isFinite(r.perplexity)).toBe(true);
    expect(r.perplexity).toBeCloseTo(Math.exp(r.lossNats), 6);
    // Uniform guessing over the (at most 65-character) vocabulary would score 65.
    expect(r.perplexity).toBeLessThan(65);
    expect(r.data).toBe(SHAKESPEARE);
  });
});

describe("train('text-generation'): run folder, resume and refusals", () => {
  it('keeps checkpoints beside the model when asked, refuses to start over on them, and resumes', async () => {
    const out = path.join(root, 'kept');
    const first = await train('text-generation', SHAKESPEARE, { ...TINY, out, epochs: 1, maxChars: 20_000, keepCheckpoints: true });
    const runDir = defaultCheckpointDir(out);
    expect(first.report.details.checkpointDir).toBe(runDir);
    expect(existsSync(path.join(runDir, 'state.json'))).toBe(true);
    expect(existsSync(path.join(out, 'state.json')) || existsSync(path.join(out, 'last'))).toBe(false);
    expect(first.report.truncated.characters).toBe(1_115_394 - 20_000);
    await expect(train('text-generation', SHAKESPEARE, { ...TINY, out, epochs: 1, maxChars: 20_000 })).rejects.toThrow(/holds an unfinished training run; pass resume: true/);
    const resumed = await train('text-generation', SHAKESPEARE, { ...TINY, out, epochs: 2, maxChars: 20_000, resume: true });
    expect(resumed.report.details).toMatchObject({ resumedFromEpoch: 1, epochsCompleted: 2 });
    expect(resumed.report.details.history[0]).toEqual(first.report.details.history[0]);
    expect(existsSync(runDir)).toBe(false);
  });

  it('a time budget cuts an epoch short: the event, the history and the report say so', async () => {
    const events: TrainEvent[] = [];
    const { report } = await train('text-generation', SHAKESPEARE, {
      ...TINY,
      out: path.join(root, 'budget'),
      // 1,800 batches an epoch: far more than half a second of work on any machine.
      maxChars: 400_000,
      windowsPerEpoch: 15_000,
      batchSize: 8,
      epochs: 3,
      timeBudgetSeconds: 0.5,
      onProgress: (e) => events.push(e),
    });
    const epochEvents = events.filter((e) => e.type === 'epoch');
    expect(report.details).toMatchObject({ stopReason: 'time-budget', lastEpochPartial: true, epochsCompleted: 1 });
    expect(epochEvents).toHaveLength(1);
    expect(epochEvents[0]).toMatchObject({ epoch: 1, partial: true });
    expect(report.truncated.epochs).toBe(3);
  });

  it('refuses unknown options, listing the valid ones', async () => {
    await expect(train('text-generation', LINES, { out: path.join(root, 'x'), epoch: 2 } as TextGenerationTrainOptions)).rejects.toThrow(/unknown option "epoch"; valid options: .*epochs/);
    await expect(evaluate('text-generation', 'x', LINES, { seqLen: 3 } as object)).rejects.toMatchObject({ code: 'bad_input' });
  });

  it('refuses a run folder inside the model folder and a missing data file', async () => {
    const out = path.join(root, 'inside');
    await expect(train('text-generation', LINES, { ...TINY, out, checkpointDir: path.join(out, 'checkpoints') })).rejects.toThrow(/is inside the model folder/);
    await expect(train('text-generation', path.join(root, 'no-such.txt'), { ...TINY, out })).rejects.toMatchObject({ code: 'not_found' });
    await expect(train('text-generation', LINES.slice(0, 2), { ...TINY, out })).rejects.toThrow(/too few for sequenceLength 24/);
  });

  it('an aborted signal stops training with a cancelled error and saves no model', async () => {
    const out = path.join(root, 'cancelled');
    const controller = new AbortController();
    const run = train('text-generation', LINES, {
      ...TINY,
      out,
      epochs: 3,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'batch' && e.batch === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(existsSync(path.join(out, 'model.json'))).toBe(false);
  });

  it('train and evaluate leave no tensors behind', async () => {
    await expectNoLeakedTensors(async () => {
      const out = path.join(root, 'leak-check');
      await train('text-generation', LINES, { ...TINY, out, epochs: 1, keepCheckpoints: true });
      await train('text-generation', LINES, { ...TINY, out, epochs: 2, resume: true });
      await evaluate('text-generation', out, LINES.slice(0, 100));
    });
  });
});
