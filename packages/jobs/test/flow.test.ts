/**
 * An auto text-classification training on the Redis engine (real Redis, one key prefix per run)
 * with two real worker processes: the candidate kinds run as child jobs on both workers, the
 * parent combines them and publishes one version; cancelling the training marks its candidates.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelStore, repoRoot } from '@seqlab/tasks';
import { BullMqJobEngine, DEFAULT_QUEUE, candidateJobId, spawnWorker, type JobEvent, type JobSpec, type JobState } from '../src/index.js';

const ROOT = repoRoot()!;
const REDIS_URL = 'redis://127.0.0.1:6379';
const PREFIX = `seqlab-flow-test-${randomUUID().slice(0, 8)}`;
const TINY = { seed: 1, epochs: 2, units: 8, embeddingDim: 16, vocabSize: 2000, batchSize: 32, learningRate: 0.01, wordVectors: 'none' };
const KINDS = ['tfidf-lr', 'fasttext', 'rnn'];

let tmp: string;
let modelsDir: string;
let data: string;
const workers: ChildProcess[] = [];

async function startWorker(): Promise<ChildProcess> {
  const child = await spawnWorker({ redisUrl: REDIS_URL, modelsDir, prefix: PREFIX, cwd: ROOT });
  workers.push(child);
  return child;
}

async function untilFinal(engine: BullMqJobEngine, id: string): Promise<{ events: JobEvent[]; state: JobState }> {
  const events: JobEvent[] = [];
  for await (const e of engine.events(id)) events.push(e);
  const last = events[events.length - 1]!;
  if (last.type !== 'state') throw new Error('no final state');
  return { events, state: last.state };
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-jobs-flow-'));
  modelsDir = path.join(tmp, 'models');
  // Every 4th TREC training question of three coarse classes (about 750), as JSON lines.
  const rows = readFileSync(path.join(ROOT, 'data/trec/train_5500.label'), 'latin1')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => ({ label: l.slice(0, l.indexOf(':')), text: l.slice(l.indexOf(' ') + 1).trim() }))
    .filter((r) => ['HUM', 'LOC', 'NUM'].includes(r.label))
    .filter((_, i) => i % 4 === 0);
  data = path.join(tmp, 'trec.jsonl');
  await fs.writeFile(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await Promise.all([startWorker(), startWorker()]);
}, 60_000);

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('an auto text-classification training as a BullMQ flow', () => {
  it('fits its candidates on two workers, combines once and publishes one version listing every candidate', async () => {
    const engine = new BullMqJobEngine({ redisUrl: REDIS_URL, prefix: PREFIX });
    const queue = new Queue(DEFAULT_QUEUE, { connection: { url: REDIS_URL, maxRetriesPerRequest: null }, prefix: PREFIX });
    try {
      const spec: JobSpec = { type: 'train', task: 'text-classification', data, model: 'trec', options: TINY };
      const id = await engine.submit(spec);
      const { events, state } = await untilFinal(engine, id);
      expect(state).toMatchObject({ status: 'completed', result: { name: 'trec', version: 1 } });
      const report = state.report as { kind: string; candidates: { kind: string }[] };
      expect(report.candidates.map((c) => c.kind).slice(0, 3)).toEqual(KINDS);
      expect(await new ModelStore(modelsDir).versions('trec')).toEqual([1]);
      const ran = await Promise.all(KINDS.map((kind) => queue.getJob(candidateJobId(id, kind))));
      for (const job of ran) expect(job?.finishedOn).toBeDefined();
      const byWorker = ran.map((job) => job!.processedBy);
      expect(byWorker.map((w, i) => w === ran[i]!.returnvalue.worker)).toEqual([true, true, true]);
      expect(new Set(byWorker).size).toBe(2);
      // The candidates' progress reached the training's own event stream.
      const candidatesSeen = new Set(events.flatMap((e) => (e.type === 'progress' && e.event.candidate ? [e.event.candidate] : [])));
      expect([...candidatesSeen].sort()).toEqual([...KINDS].sort());
    } finally {
      await queue.close();
      await engine.close();
    }
  }, 180_000);

  it('a candidate that fails for good fails the training with its own error', async () => {
    const engine = new BullMqJobEngine({ redisUrl: REDIS_URL, prefix: PREFIX });
    try {
      const oneClass = path.join(tmp, 'one-class.jsonl');
      await fs.writeFile(oneClass, ['Who wrote Hamlet ?', 'Who is the president ?', 'Who invented the radio ?'].map((text) => JSON.stringify({ text, label: 'HUM' })).join('\n') + '\n');
      const id = await engine.submit({ type: 'train', task: 'text-classification', data: oneClass, model: 'one-class', options: TINY });
      const { state } = await untilFinal(engine, id);
      expect(state.status).toBe('failed');
      expect(state.error?.code).toBe('bad_input');
      expect(state.error?.message).toMatch(/only one label/);
    } finally {
      await engine.close();
    }
  }, 60_000);

  it('cancelling the training marks its candidates, and nothing is published', async () => {
    const engine = new BullMqJobEngine({ redisUrl: REDIS_URL, prefix: PREFIX });
    const redis = new Redis(REDIS_URL);
    try {
      const id = await engine.submit({ type: 'train', task: 'text-classification', data, model: 'cancelled', options: { ...TINY, epochs: 50 } });
      expect(await engine.cancel(id)).toBe(true);
      const { state } = await untilFinal(engine, id);
      expect(state.status).toBe('cancelled');
      const marked = await Promise.all(KINDS.map((kind) => redis.exists(`${PREFIX}:${DEFAULT_QUEUE}:cancelled:${candidateJobId(id, kind)}`)));
      expect(marked).toEqual([1, 1, 1]);
      await expect(new ModelStore(modelsDir).versions('cancelled')).resolves.toEqual([]);
    } finally {
      redis.disconnect();
      await engine.close();
    }
  }, 120_000);
});
