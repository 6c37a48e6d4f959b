/**
 * A training interrupted after epoch k (its signal aborted, as a killed worker's would be lost)
 * and run again with `resume: true` continues after epoch k and ends as the uninterrupted run
 * does: the forecast task's segrnn and a panel's es-hybrid, and the rnn candidate of a
 * distributed text classification.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { combineTextClassification, fitTextClassificationCandidate, pipeline, planTextClassification, train, type TrainEvent } from '../src/index.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'seqlab-train-resume-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

const AIRLINE = path.resolve(import.meta.dirname, '../../../data/classic_ts/airline-passengers.csv');
const SEGRNN = { horizon: 12, model: 'segrnn', epochs: 12, lookback: 24, segmentLength: 12, hidden: 16, seed: 3, checkpointSeconds: 0 } as const;

/** Options that abort the run once `k` epochs have ended (or never). */
function stopAfter(k: number | undefined): { signal: AbortSignal; onProgress: (e: TrainEvent) => void } {
  const controller = new AbortController();
  return { signal: controller.signal, onProgress: (e) => void (e.type === 'epoch' && e.epoch === k && controller.abort()) };
}

describe("train('forecast') with checkpoints", () => {
  it('a segrnn training cut after epoch 4 resumes after it and ends like the uninterrupted run; the model loads and the checkpoints go', async () => {
    const whole = await train('forecast', AIRLINE, { ...SEGRNN, out: path.join(tmp, 'whole'), checkpointDir: path.join(tmp, 'whole.run') });
    expect(whole.report.details.resumedFromEpoch).toBeUndefined();
    const epochs = whole.report.details.history.filter((h) => h.split === 'train').length;
    expect(epochs).toBeGreaterThan(5);

    const out = path.join(tmp, 'cut');
    const checkpointDir = path.join(tmp, 'cut.run');
    await expect(train('forecast', AIRLINE, { ...SEGRNN, out, checkpointDir, ...stopAfter(4) })).rejects.toMatchObject({ code: 'cancelled' });
    expect(JSON.parse(await readFile(path.join(checkpointDir, 'state.json'), 'utf8')).epoch).toBe(4);
    expect(existsSync(out)).toBe(false);

    const events: TrainEvent[] = [];
    const resumed = await train('forecast', AIRLINE, { ...SEGRNN, out, checkpointDir, resume: true, onProgress: (e) => events.push(e) });
    expect(resumed.report.details.resumedFromEpoch).toBe(4);
    expect(events.some((e) => e.type === 'stage' && /resuming after epoch 4/.test(e.message))).toBe(true);
    // Epoch events start after the checkpointed epoch; the report's curve covers the whole run.
    expect(events.filter((e) => e.type === 'epoch').map((e) => (e as { epoch: number }).epoch)[0]).toBe(5);
    expect(resumed.report.details.history.filter((h) => h.split === 'train').map((h) => h.epoch)).toEqual(whole.report.details.history.filter((h) => h.split === 'train').map((h) => h.epoch));
    expect(resumed.report.details.validation!.rmse as number).toBeCloseTo(whole.report.details.validation!.rmse as number, 2);
    expect(existsSync(checkpointDir)).toBe(false);
    const p = await pipeline('forecast', out);
    try {
      const r = await p.run(undefined, { horizon: 12 });
      expect(r.main.mean[0]).toHaveLength(12);
      expect(r.main.mean[0]!.every(Number.isFinite)).toBe(true);
    } finally {
      p.dispose();
    }
  });

  it('refuses resume without checkpointDir, and a checkpointDir inside the model folder', async () => {
    const out = path.join(tmp, 'bad');
    await expect(train('forecast', AIRLINE, { ...SEGRNN, out, resume: true })).rejects.toThrow(/resume needs checkpointDir/);
    await expect(train('forecast', AIRLINE, { ...SEGRNN, out, checkpointDir: path.join(out, 'run') })).rejects.toThrow(/is inside the model folder/);
    await expect(train('forecast', AIRLINE, { ...SEGRNN, out, checkpointDir: path.join(tmp, 'bad.run'), checkpointSeconds: -1 })).rejects.toThrow(/checkpointSeconds must be a number >= 0/);
  });
});

describe("train('forecast') on a panel with checkpoints", () => {
  it('an es-hybrid cut in its second member keeps the first and resumes the second after its last epoch', async () => {
    const panel = Array.from({ length: 6 }, (_, i) => ({
      id: `S${i + 1}`,
      values: Array.from({ length: 84 }, (_, t) => 50 + 10 * i + 8 * Math.sin((2 * Math.PI * t) / 7) + 0.2 * t),
      dates: Array.from({ length: 84 }, (_, t) => new Date(Date.UTC(2021, 0, 1 + t)).toISOString().slice(0, 10)),
    }));
    const options = { model: 'es-hybrid', horizon: 7, epochs: 4, seeds: [1, 2], seed: 1, checkpointSeconds: 0 };
    const whole = await train('forecast', panel, { ...options, out: path.join(tmp, 'panel-whole'), checkpointDir: path.join(tmp, 'panel-whole.run') });
    const out = path.join(tmp, 'panel-cut');
    const checkpointDir = path.join(tmp, 'panel-cut.run');
    const controller = new AbortController();
    const cut = (e: TrainEvent) => void (e.type === 'epoch' && e.candidate === 'member 2' && e.epoch === 2 && controller.abort());
    await expect(train('forecast', panel, { ...options, out, checkpointDir, signal: controller.signal, onProgress: cut })).rejects.toMatchObject({ code: 'cancelled' });
    const events: TrainEvent[] = [];
    const resumed = await train('forecast', panel, { ...options, out, checkpointDir, resume: true, onProgress: (e) => events.push(e) });
    const member1 = JSON.parse(await readFile(path.join(out, 'training.json'), 'utf8')) as { details: { resumedFromEpoch: number } };
    expect(member1.details.resumedFromEpoch).toBe(resumed.report.details.resumedFromEpoch);
    // Member 1's epochs (however many it ran before early stopping or its budget) plus member 2's two.
    expect(resumed.report.details.resumedFromEpoch).toBeGreaterThanOrEqual(3);
    expect(events.filter((e) => e.type === 'epoch' && e.candidate === 'member 1')).toHaveLength(0);
    expect(events.filter((e) => e.type === 'epoch' && e.candidate === 'member 2').map((e) => (e as { epoch: number }).epoch)[0]).toBe(3);
    expect(resumed.report.details.validation).toEqual(whole.report.details.validation);
    expect(existsSync(checkpointDir)).toBe(false);
  });
});

describe('a distributed text classification whose rnn candidate is cut', () => {
  it('fits the rnn again from its last checkpointed epoch and the combined report says so', async () => {
    const data = path.join(tmp, 'topics.jsonl');
    const topics = ['sports', 'cooking', 'travel'];
    const words: Record<string, string[]> = { sports: ['goal', 'match', 'team', 'score'], cooking: ['oven', 'recipe', 'salt', 'bake'], travel: ['flight', 'hotel', 'beach', 'visa'] };
    const rows = Array.from({ length: 120 }, (_, i) => {
      const label = topics[i % 3]!;
      const w = words[label]!;
      return JSON.stringify({ text: `the ${w[i % 4]} and the ${w[(i + 1) % 4]} were fine ${i}`, label });
    });
    await writeFile(data, rows.join('\n'));
    const runDir = path.join(tmp, 'auto');
    const options = { model: 'auto', seed: 1, epochs: 4, patience: 10, units: 8, embeddingDim: 8, wordVectors: 'none', timeBudgetSeconds: 120, runDir } as never;
    const plan = await planTextClassification(data, options);
    expect(plan.candidates).toContain('rnn');
    await expect(fitTextClassificationCandidate(runDir, 'rnn', stopAfter(2))).rejects.toMatchObject({ code: 'cancelled' });
    const fitted = await fitTextClassificationCandidate(runDir, 'rnn');
    expect(fitted.resumedFromEpoch).toBe(2);
    for (const kind of plan.candidates.filter((k) => k !== 'rnn')) await fitTextClassificationCandidate(runDir, kind);
    const { report } = await combineTextClassification(runDir, { out: path.join(tmp, 'auto-model') });
    expect(report.details.resumedFromEpoch).toBe(2);
    expect(report.details.epochsCompleted).toBe(4);
  });
});
