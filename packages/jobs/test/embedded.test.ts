/**
 * The in-process engine on real data and real (tiny) models: a training job reports progress
 * and publishes versions 1 then 2 that load and generate; a cancel reaches the training loop and
 * publishes nothing; evaluation and batch prediction jobs write real results; bad specs fail at
 * submission.
 */
import { existsSync, mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { liveTensors } from '@seqlab/core/testing';
import { ModelStore, pipeline, repoRoot, type TrainEvent } from '@seqlab/tasks';
import { EmbeddedJobEngine, type JobEvent, type JobState } from '../src/index.js';

const ROOT = repoRoot()!;
const SHAKESPEARE = path.join(ROOT, 'data/tiny_shakespeare/input.txt');
/** A char-level LM small enough to train an epoch in about a second. */
const TINY_LM = { seed: 1, cell: 'gru', units: 16, embeddingDim: 8, seqLength: 24, batchSize: 16, windowsPerEpoch: 64, patience: 0, maxChars: 20_000 };

let tmp: string;
let engine: EmbeddedJobEngine;

/** Every event of a job until its final state. */
async function collect(id: string, onEvent?: (e: JobEvent) => void): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  for await (const e of engine.events(id)) {
    events.push(e);
    onEvent?.(e);
  }
  return events;
}

function finalState(events: JobEvent[]): JobState {
  const last = events[events.length - 1]!;
  if (last.type !== 'state') throw new Error('the stream did not end on a state');
  return last.state;
}

beforeAll(async () => {
  await initBackend();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-jobs-embedded-'));
  engine = new EmbeddedJobEngine({ modelsDir: path.join(tmp, 'models') });
});

afterAll(async () => {
  await engine.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('EmbeddedJobEngine: training', () => {
  it('runs a train job with progress events and publishes version 1, then 2 for the next job', async () => {
    const tensorsBefore = liveTensors();
    const id = await engine.submit({ type: 'train', task: 'text-generation', data: SHAKESPEARE, model: 'lm', options: { ...TINY_LM, epochs: 2 } });
    expect((await engine.get(id))!.status).toMatch(/queued|active/);
    const events = await collect(id);
    const state = finalState(events);
    expect(state).toMatchObject({ status: 'completed', result: { name: 'lm', version: 1 }, attempts: 1 });
    const progress = events.filter((e): e is Extract<JobEvent, { type: 'progress' }> => e.type === 'progress').map((e) => e.event);
    expect(progress.filter((e) => e.type === 'epoch').map((e) => (e as Extract<TrainEvent, { type: 'epoch' }>).epoch)).toEqual([1, 2]);
    expect(progress.some((e) => e.type === 'batch' && e.etaSeconds !== undefined)).toBe(true);
    expect(events.map((e) => (e.type === 'state' ? e.state.status : 'progress')).filter((s) => s !== 'progress')).toEqual(expect.arrayContaining(['active', 'completed']));
    const report = state.report as { kind: string; dir: string; details: { epochsCompleted: number } };
    expect(report.kind).toBe('char-lm');
    expect(report.details.epochsCompleted).toBe(2);

    const store = new ModelStore(engine.modelsDir);
    const served = await store.resolve('lm');
    expect(served).toMatchObject({ version: 1, dir: report.dir });
    const lm = await pipeline('text-generation', served.dir);
    try {
      expect((await lm.generate('ROMEO:\n', { maxTokens: 20, seed: 2 })).text.length).toBeGreaterThan(5);
    } finally {
      lm.dispose();
    }
    // The run folder keeps only the report: the model moved into the store, checkpoints were removed.
    expect(existsSync(path.join(engine.modelsDir, '.jobs', id, 'checkpoints'))).toBe(false);

    const second = await engine.submit({ type: 'train', task: 'text-generation', data: SHAKESPEARE, model: 'lm', options: { ...TINY_LM, epochs: 1 } });
    expect(finalState(await collect(second)).result).toEqual({ name: 'lm', version: 2 });
    expect(await store.versions('lm')).toEqual([1, 2]);
    expect(liveTensors()).toBe(tensorsBefore);
  });

  it('trains forecasters as jobs (versions 1 and 2) and forecasts with the served version by its store name', async () => {
    const airline = path.join(ROOT, 'data/classic_ts/airline-passengers.csv');
    const first = await engine.submit({ type: 'train', task: 'forecast', data: airline, model: 'airline', options: { model: 'seasonal-naive', horizon: 12 } });
    const firstState = finalState(await collect(first));
    expect(firstState).toMatchObject({ status: 'completed', result: { name: 'airline', version: 1 }, report: { kind: 'seasonal-naive' } });
    const second = await engine.submit({ type: 'train', task: 'forecast', data: airline, model: 'airline', options: { model: 'linear', horizon: 12 } });
    const events = await collect(second);
    expect(events.some((e) => e.type === 'progress' && e.event.type === 'stage' && e.event.stage === 'fit')).toBe(true);
    expect(finalState(events)).toMatchObject({ status: 'completed', result: { name: 'airline', version: 2 }, report: { kind: 'linear' } });

    const predict = await engine.submit({ type: 'predict', task: 'forecast', data: airline, model: 'airline', options: { horizon: 12 } });
    const state = finalState(await collect(predict));
    expect(state.status).toBe('completed');
    const rows = readFileSync(state.output!, 'utf8').trim().split('\n').slice(1);
    expect(rows).toHaveLength(12);
    // The served version is the linear model (version 2), not seasonal naive's copy of the last year.
    const means = rows.map((r) => Number(r.split(',')[3]));
    expect(means[11]).not.toBe(432);
    expect(means.every((m) => m > 300 && m < 800)).toBe(true);
  });

  it('cancels a running job in its training loop: state cancelled, nothing published', async () => {
    const id = await engine.submit({ type: 'train', task: 'text-generation', data: SHAKESPEARE, model: 'cancelled-lm', options: { ...TINY_LM, epochs: 30 } });
    let cancelledAt = 0;
    const events = await collect(id, (e) => {
      if (e.type === 'progress' && e.event.type === 'epoch' && cancelledAt === 0) {
        cancelledAt = e.event.epoch;
        void engine.cancel(id);
      }
    });
    const state = finalState(events);
    expect(state.status).toBe('cancelled');
    expect(state.error?.code).toBe('cancelled');
    const epochs = events.filter((e) => e.type === 'progress' && e.event.type === 'epoch');
    // The abort lands inside the next epoch, far short of the 30 asked for.
    expect(cancelledAt).toBe(1);
    expect(epochs.length).toBeLessThanOrEqual(2);
    expect(await new ModelStore(engine.modelsDir).versions('cancelled-lm')).toEqual([]);
    expect(await engine.cancel(id)).toBe(false);
  });

  it('cancels a queued job before it starts', async () => {
    const first = await engine.submit({ type: 'train', task: 'text-generation', data: SHAKESPEARE, model: 'queued-lm', options: { ...TINY_LM, epochs: 1 } });
    const second = await engine.submit({ type: 'train', task: 'text-generation', data: SHAKESPEARE, model: 'queued-lm', options: { ...TINY_LM, epochs: 1 } });
    expect(await engine.cancel(second)).toBe(true);
    expect(await engine.get(second)).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(finalState(await collect(first)).result).toEqual({ name: 'queued-lm', version: 1 });
    expect(await new ModelStore(engine.modelsDir).versions('queued-lm')).toEqual([1]);
  });

  it('fails a job whose data the task refuses, with the task layer’s code and message', async () => {
    const empty = path.join(tmp, 'empty.txt');
    await fs.writeFile(empty, 'ab\n');
    const id = await engine.submit({ type: 'train', task: 'text-generation', data: empty, model: 'bad-lm', options: { ...TINY_LM, epochs: 1 } });
    const state = finalState(await collect(id));
    expect(state.status).toBe('failed');
    expect(state.error?.code).toBe('bad_input');
    expect(state.error?.message).toMatch(/too few/);
  });
});

describe('EmbeddedJobEngine: evaluation and prediction', () => {
  it('evaluates the served version of a published model', async () => {
    const id = await engine.submit({ type: 'evaluate', task: 'text-generation', data: SHAKESPEARE, model: 'lm', options: { maxChars: 2000, seqLength: 24, context: 8 } });
    const state = finalState(await collect(id));
    expect(state.status).toBe('completed');
    const evaluation = state.report as { perplexity: number; lossNats: number };
    expect(evaluation.perplexity).toBeCloseTo(Math.exp(evaluation.lossNats), 6);
    expect(evaluation.perplexity).toBeLessThan(65);
  });

  it('classifies a file of texts into JSON lines', async () => {
    const rows = readFileSync(path.join(ROOT, 'data/sst2/dev.tsv'), 'utf8').split('\n').slice(1, 41).map((l) => l.split('\t'));
    const texts = path.join(tmp, 'texts.txt');
    await fs.writeFile(texts, rows.map((r) => r[0]!.trim()).join('\n'));
    const id = await engine.submit({ type: 'predict', task: 'text-classification', data: texts, model: path.join(ROOT, 'models/sentiment-glove') });
    const state = finalState(await collect(id));
    expect(state.status).toBe('completed');
    const lines = readFileSync(state.output!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; label: string; score: number });
    expect(lines).toHaveLength(40);
    expect(lines[0]!.text).toBe(rows[0]![0]!.trim());
    const correct = lines.filter((l, i) => (l.label === 'positive' ? '1' : '0') === rows[i]![1]!.trim()).length;
    // The shipped sentiment default scores 86.6% on SST-2 dev; 40 sentences at 70% is far above chance.
    expect(correct / 40).toBeGreaterThan(0.7);
  });

  it('forecasts a CSV series into a CSV of steps with intervals', async () => {
    const id = await engine.submit({ type: 'predict', task: 'forecast', data: path.join(ROOT, 'data/classic_ts/airline-passengers.csv'), model: 'seasonal-naive', options: { horizon: 12, levels: [0.9] } });
    const state = finalState(await collect(id));
    expect(state.status).toBe('completed');
    const [header, ...rows] = readFileSync(state.output!, 'utf8').trim().split('\n');
    expect(header).toBe('step,date,column,mean,lower,upper');
    expect(rows).toHaveLength(12);
    // Seasonal naive repeats the last year: December 1960 had 432 passengers.
    expect(rows[11]!.split(',')).toEqual(expect.arrayContaining(['12', '"Passengers"', '432']));
    for (const row of rows) {
      const [, , , mean, lower, upper] = row.split(',').map(Number);
      expect(lower!).toBeLessThanOrEqual(mean!);
      expect(upper!).toBeGreaterThanOrEqual(mean!);
    }
  });

  it('refuses bad specs at submission, naming the field', async () => {
    await expect(engine.submit({ type: 'fit', task: 'text-generation', data: SHAKESPEARE } as never)).rejects.toThrow(/type must be one of train, evaluate, predict/);
    await expect(engine.submit({ type: 'train', task: 'text-generation', data: SHAKESPEARE, model: '../x' })).rejects.toThrow(/needs model, the name to publish as/);
    await expect(engine.submit({ type: 'train', task: 'text-generation', data: SHAKESPEARE, model: 'x', options: { out: '/tmp/x' } })).rejects.toThrow(/options out are set by the job engine/);
    await expect(engine.submit({ type: 'predict', task: 'text-generation', data: SHAKESPEARE, model: 'x' })).rejects.toThrow(/predict jobs take task/);
    expect(await engine.get('no-such-job')).toBeUndefined();
  });
});
