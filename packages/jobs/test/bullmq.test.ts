/**
 * The Redis engine against a real Redis (127.0.0.1:6379, one key prefix per run) and real
 * worker processes: a worker SIGKILLed mid-training leaves its job (a language model, a segrnn
 * forecaster) to a second worker, which resumes from the checkpoints and publishes exactly one
 * version; cancellation reaches a running
 * job on a worker; a Redis restart with AOF loses no accepted job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { ModelStore, repoRoot } from '@seqlab/tasks';
import { BullMqJobEngine, runJob, runWorker, spawnWorker, type JobEvent, type JobSpec, type JobState } from '../src/index.js';

const ROOT = repoRoot()!;
const REDIS_URL = 'redis://127.0.0.1:6379';
const SHAKESPEARE = path.join(ROOT, 'data/tiny_shakespeare/input.txt');
const AIRLINE = path.join(ROOT, 'data/classic_ts/airline-passengers.csv');
const TINY_LM = { seed: 1, cell: 'gru', units: 16, embeddingDim: 8, seqLength: 24, batchSize: 16, windowsPerEpoch: 64, patience: 0, maxChars: 20_000 };
const PREFIX = `seqlab-test-${randomUUID().slice(0, 8)}`;

let tmp: string;
let modelsDir: string;
const children: ChildProcess[] = [];

/** A `seqlab worker` process; resolves once it says it is ready. */
function startWorker(redisUrl: string, prefix: string): Promise<ChildProcess> {
  const child = spawnWorker({ redisUrl, modelsDir, prefix, cwd: ROOT, args: ['--lock-duration-ms', '3000', '--stalled-interval-ms', '1000'] });
  // Registered at once (not when ready), so a worker killed while starting is still cleaned up.
  void child.then((c) => children.push(c), () => undefined);
  return child;
}

/** Every event of a job until its final state; `onEvent` may act on them. */
async function untilFinal(engine: BullMqJobEngine, id: string, onEvent?: (e: JobEvent) => void): Promise<{ events: JobEvent[]; state: JobState }> {
  const events: JobEvent[] = [];
  for await (const e of engine.events(id)) {
    events.push(e);
    onEvent?.(e);
  }
  const last = events[events.length - 1]!;
  if (last.type !== 'state') throw new Error('no final state');
  return { events, state: last.state };
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

beforeAll(async () => {
  await initBackend();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-jobs-bullmq-'));
  modelsDir = path.join(tmp, 'models');
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await deleteKeys(REDIS_URL, PREFIX);
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('BullMqJobEngine with worker processes', () => {
  it('a worker killed mid-training leaves the job to another, which resumes and publishes one version', async () => {
    const engine = new BullMqJobEngine({ redisUrl: REDIS_URL, prefix: PREFIX });
    try {
      const spec: JobSpec = { type: 'train', task: 'text-generation', data: SHAKESPEARE, model: 'lm', options: { ...TINY_LM, epochs: 8 } };
      const id = await engine.submit(spec);
      expect(await engine.get(id)).toMatchObject({ status: 'queued', attempts: 0, spec });
      const { events, state, first, killedAfter, second } = await killWorkerAfterEpoch2(engine, id);
      expect(killedAfter).toBe(2);
      expect(first.signalCode).toBe('SIGKILL');
      expect(state).toMatchObject({ status: 'completed', result: { name: 'lm', version: 1 }, resumed: true });
      expect(state.attempts).toBeGreaterThanOrEqual(2);
      const details = (state.report as { details: { resumedFromEpoch: number; epochsCompleted: number } }).details;
      expect(details.resumedFromEpoch).toBeGreaterThanOrEqual(2);
      expect(details.epochsCompleted).toBe(8);
      // Epoch events came from both workers: the first up to the kill, the second from its resume.
      const epochs = events.flatMap((e) => (e.type === 'progress' && e.event.type === 'epoch' ? [e.event.epoch] : []));
      expect(epochs).toContain(8);
      expect(epochs.filter((n) => n > details.resumedFromEpoch).length).toBeGreaterThan(0);
      const store = new ModelStore(modelsDir);
      expect(await store.versions('lm')).toEqual([1]);
      // A duplicate delivery of the same job (a lost acknowledgement) publishes nothing new.
      expect((await runJob(spec, { id, modelsDir })).result).toEqual({ name: 'lm', version: 1 });
      expect(await store.versions('lm')).toEqual([1]);
      (await second).kill('SIGTERM');
    } finally {
      await engine.close();
    }
  });

  it('a forecast job whose worker is killed after an epoch resumes from its segrnn checkpoint on another worker', async () => {
    const engine = new BullMqJobEngine({ redisUrl: REDIS_URL, prefix: PREFIX });
    try {
      const spec: JobSpec = { type: 'train', task: 'forecast', data: AIRLINE, model: 'airline-segrnn', options: { horizon: 12, model: 'segrnn', epochs: 30, seed: 1, checkpointSeconds: 0 } };
      const id = await engine.submit(spec);
      const { events, state, first, killedAfter, second } = await killWorkerAfterEpoch2(engine, id);
      expect(first.signalCode).toBe('SIGKILL');
      expect(state).toMatchObject({ status: 'completed', result: { name: 'airline-segrnn', version: 1 }, resumed: true });
      // Checkpoints are written after every epoch here: the retry continues at or after the epoch seen.
      expect(state.resumedFromEpoch).toBeGreaterThanOrEqual(killedAfter);
      const details = (state.report as { details: { resumedFromEpoch: number; history: Array<{ epoch: number; split: string }> } }).details;
      expect(details.resumedFromEpoch).toBe(state.resumedFromEpoch);
      const trained = details.history.filter((h) => h.split === 'train').map((h) => h.epoch);
      expect(trained).toEqual(trained.map((_, i) => i + 1));
      const epochs = events.flatMap((e) => (e.type === 'progress' && e.event.type === 'epoch' ? [e.event.epoch] : []));
      expect(epochs.filter((n) => n > details.resumedFromEpoch).length).toBeGreaterThan(0);
      expect(await new ModelStore(modelsDir).versions('airline-segrnn')).toEqual([1]);
      (await second).kill('SIGTERM');
    } finally {
      await engine.close();
    }
  });
});

describe('BullMqJobEngine cancellation', () => {
  it('reaches a job running on a worker and publishes nothing; a queued job is cancelled before it starts', async () => {
    const prefix = `${PREFIX}-cancel`;
    const engine = new BullMqJobEngine({ redisUrl: REDIS_URL, prefix });
    const spec: JobSpec = { type: 'train', task: 'text-generation', data: SHAKESPEARE, model: 'cancelled-lm', options: { ...TINY_LM, epochs: 30 } };
    try {
      const queued = await engine.submit(spec);
      expect(await engine.cancel(queued)).toBe(true);
      expect(await engine.get(queued)).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });

      const worker = await runWorker({ redisUrl: REDIS_URL, prefix, modelsDir });
      try {
        const id = await engine.submit(spec);
        let cancelledAt = 0;
        const { state } = await untilFinal(engine, id, (e) => {
          if (e.type === 'progress' && e.event.type === 'epoch' && cancelledAt === 0) {
            cancelledAt = e.event.epoch;
            void engine.cancel(id);
          }
        });
        expect(cancelledAt).toBe(1);
        expect(state).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' }, attempts: 1 });
        expect(await new ModelStore(modelsDir).versions('cancelled-lm')).toEqual([]);
        expect(await engine.cancel(id)).toBe(false);
      } finally {
        await worker.close();
      }
    } finally {
      await engine.close();
      await deleteKeys(REDIS_URL, prefix);
    }
  });
});

/**
 * Runs job `id` on a worker process, SIGKILLs that worker once the job reports epoch 2 and starts
 * a second worker to take the job over; resolves when the job has reached a final state.
 */
async function killWorkerAfterEpoch2(engine: BullMqJobEngine, id: string): Promise<{ events: JobEvent[]; state: JobState; first: ChildProcess; killedAfter: number; second: Promise<ChildProcess> }> {
  const first = await startWorker(REDIS_URL, PREFIX);
  let killedAfter = 0;
  let second = undefined as Promise<ChildProcess> | undefined;
  const { events, state } = await untilFinal(engine, id, (e) => {
    if (e.type === 'progress' && e.event.type === 'epoch' && e.event.epoch >= 2 && killedAfter === 0) {
      killedAfter = e.event.epoch;
      first.kill('SIGKILL');
      second = startWorker(REDIS_URL, PREFIX);
    }
  });
  if (!second) throw new Error(`job ${id} finished (${state.status}) before its worker reported epoch 2`);
  return { events, state, first, killedAfter, second };
}

/** A free TCP port on localhost. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of our own with every write appended to disk before it is acknowledged. */
async function startDurableRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
  children.push(child);
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
  probe.on('error', () => undefined);
  await probe.connect().catch(() => undefined);
  await probe.ping();
  probe.disconnect();
  return child;
}

describe('BullMqJobEngine durability', () => {
  it('loses no accepted job when Redis is killed and restarted (AOF)', async () => {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmp, 'redis-'));
    const redisUrl = `redis://127.0.0.1:${port}`;
    let redis = await startDurableRedis(port, dir);
    const engine = new BullMqJobEngine({ redisUrl, prefix: PREFIX });
    try {
      const spec: JobSpec = { type: 'predict', task: 'forecast', data: path.join(ROOT, 'data/classic_ts/airline-passengers.csv'), model: 'seasonal-naive', options: { horizon: 12 } };
      const ids = [await engine.submit(spec), await engine.submit(spec)];
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      redis = await startDurableRedis(port, dir);
      for (const id of ids) expect(await engine.get(id)).toMatchObject({ status: 'queued', spec });
      const worker = await runWorker({ redisUrl, prefix: PREFIX, modelsDir });
      try {
        for (const id of ids) {
          const { state } = await untilFinal(engine, id);
          expect(state.status).toBe('completed');
          const rows = (await fs.readFile(state.output!, 'utf8')).trim().split('\n');
          expect(rows).toHaveLength(13);
        }
      } finally {
        await worker.close();
      }
    } finally {
      await engine.close();
      redis.kill('SIGKILL');
    }
  });
});
