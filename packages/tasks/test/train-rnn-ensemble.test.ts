/**
 * The rnn settings recipe:sst2 hands to train('text-classification'), on real TREC questions of
 * three coarse classes: a seed-averaged ensemble (members) saved as one float16 model, the
 * learning-rate plateau schedule, a subword tokenizer, and the sentence vectors kept across runs
 * (embeddingCache); each refused when malformed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { evaluate, pipeline, train, type TextClassificationRow, type TrainEvent } from '../src/index.js';
import { coarse, trecRows, useScratchDir } from './trec-fixtures.js';

const CLASSES = ['HUM', 'LOC', 'NUM'];
const pick = (file: string, every: number): TextClassificationRow[] => trecRows(file).filter((r, i) => CLASSES.includes(r.label) && i % every === 0).map(coarse);
const rows = pick('train_5500.label', 4);
const test = pick('TREC_10.label', 1);
const TINY = { model: 'rnn', epochs: 2, units: 8, embeddingDim: 16, vocabSize: 2000, batchSize: 32, learningRate: 0.01, wordVectors: 'none', patience: 0 } as const;
const tmp = useScratchDir('seqlab-rnn-ensemble-');

describe("train('text-classification') rnn members", () => {
  it('trains members with consecutive seeds on one vocabulary and saves them as one float16 model that averages them', async () => {
    const events: TrainEvent[] = [];
    const out = tmp('members');
    const { dir, report } = await expectNoLeakedTensors(() =>
      train('text-classification', rows, { out, seed: 5, ...TINY, members: 2, precision: 'float16', keepCheckpoints: true, onProgress: (e) => events.push(e) }),
    );
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.members).toEqual(['member-1', 'member-2']);
    expect(config.precision).toBe('float16');
    expect((config.training as { members: unknown }).members).toEqual([
      { member: 1, seed: 5 },
      { member: 2, seed: 6 },
    ]);
    // Each member kept its own checkpoints in the run folder, not the model folder.
    for (const m of ['member-1', 'member-2']) expect(existsSync(path.join(`${out}.run`, m, 'state.json'))).toBe(true);
    const members = report.candidates[0]!.settings!.members as Array<{ seed: number; epochs: number }>;
    expect(members.map((m) => [m.seed, m.epochs])).toEqual([
      [5, 2],
      [6, 2],
    ]);
    // Epoch events restart per member, each with its own seconds (not the time since the first member began).
    const epochs = events.filter((e): e is Extract<TrainEvent, { type: 'epoch' }> => e.type === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 1, 2]);
    expect(events.some((e) => e.type === 'stage' && e.message.includes('member 2 of 2 (seed 6)'))).toBe(true);
    // The saved ensemble learnt the task, and scores held-back questions through pipeline().
    const { metrics } = await evaluate('text-classification', dir, test);
    expect(metrics.accuracy).toBeGreaterThan(0.6);
    const clf = await pipeline('text-classification', dir);
    try {
      const [r] = await clf.predict(['Who wrote the book ?']);
      expect(CLASSES).toContain(r!.label);
    } finally {
      clf.dispose();
    }
    // A second run over the same run folder refuses to mix in the members' checkpoints unless told.
    await expect(train('text-classification', rows, { out, seed: 5, ...TINY, members: 2 })).rejects.toThrow(/holds the checkpoints of a training run/);
    await train('text-classification', rows, { out, seed: 5, ...TINY, members: 2, overwrite: true });
    expect(existsSync(`${out}.run`)).toBe(false);
  }, 120_000);

  it('halves the learning rate after an epoch without a better validation accuracy, and reads texts as wordpiece pieces', async () => {
    const { dir, report } = await expectNoLeakedTensors(() =>
      train('text-classification', rows, { out: tmp('plateau'), ...TINY, epochs: 6, learningRate: 0.05, reduceLrOnPlateau: { factor: 0.5, patience: 1, minLearningRate: 0.01 }, tokenizer: 'wordpiece' }),
    );
    const h = report.details.history;
    expect(h).toHaveLength(6);
    let best = -Infinity;
    let plateaus = 0;
    for (let i = 0; i + 1 < h.length; i++) {
      const improved = h[i]!.val_accuracy! > best;
      if (improved) best = h[i]!.val_accuracy!;
      else plateaus++;
      expect(h[i + 1]!.learningRate).toBeCloseTo(improved ? h[i]!.learningRate : Math.max(0.01, h[i]!.learningRate / 2), 8);
    }
    // At this rate the tiny model stalls within six epochs: the schedule was exercised.
    expect(plateaus).toBeGreaterThan(0);
    const vectorizer = readFileSync(path.join(dir, 'vectorizer.json'), 'utf8');
    expect(vectorizer).toMatch(/wordpiece/i);
  }, 60_000);

  it('embeddingCache: the use kind embeds the rows once, and a second run reads their vectors from the folder', async () => {
    const few = rows.slice(0, 120);
    const cache = tmp('vectors');
    const run = async (out: string) => {
      const messages: string[] = [];
      const { report } = await train('text-classification', few, { out: tmp(out), model: 'use', headHidden: [0], headEpochs: 3, embeddingCache: cache, onProgress: (e) => void (e.type === 'stage' && messages.push(e.message)) });
      return { messages: messages.filter((m) => m.includes('sentence vectors')), accuracy: report.candidates[0]!.metrics.accuracy };
    };
    const first = await run('use-1');
    expect(first.messages).toHaveLength(2);
    expect(first.messages.every((m) => m.includes('embedded and kept in'))).toBe(true);
    const second = await run('use-2');
    expect(second.messages.every((m) => m.includes('read from'))).toBe(true);
    expect(second.accuracy).toBe(first.accuracy);
  }, 90_000);

  it('refuses malformed members, plateau, precision and tokenizer settings, naming them', async () => {
    const bad = (o: Record<string, unknown>) => train('text-classification', rows, { out: tmp('bad'), ...TINY, ...o });
    await expect(bad({ members: 0 })).rejects.toThrow(/members: expected an integer in 1\.\.32, got 0/);
    await expect(bad({ reduceLrOnPlateau: { factor: 2 } })).rejects.toThrow(/reduceLrOnPlateau: expected true, false or an object of factor, patience, minLearningRate/);
    await expect(bad({ reduceLrOnPlateau: { cooldown: 1 } })).rejects.toThrow(/reduceLrOnPlateau/);
    await expect(bad({ precision: 'int8' })).rejects.toThrow(/precision: expected one of float32, float16, got "int8"/);
    await expect(bad({ tokenizer: 'chars' })).rejects.toThrow(/tokenizer: expected one of word, wordpiece, bpe/);
    await expect(bad({ embeddingCache: '' })).rejects.toThrow(/embeddingCache: expected a folder path/);
    await expect(bad({ sparseEmbeddings: 'yes' })).rejects.toThrow(/sparseEmbeddings: expected true or false, got "yes"/);
    await expect(bad({ tokenizer: 'bpe', wordVectors: 'glove-6b-100d' })).rejects.toThrow(/tokenizer bpe: wordVectors glove-6b-100d list whole words/);
  });
});
