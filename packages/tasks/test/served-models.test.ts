/**
 * Serving from the versioned store without restarts: a replica loads the served version, swaps
 * to a newly published one while an in-flight request finishes on the old one (which is then
 * disposed), rolls back on a pin, and does not cache a failed first load. Real (tiny) char-level
 * language models trained on tiny-shakespeare.
 */
import { promises as fs, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { liveTensors } from '@seqlab/core/testing';
import { ModelStore, ServedModels, repoRoot, train } from '../src/index.js';

const SHAKESPEARE = path.join(repoRoot()!, 'data/tiny_shakespeare/input.txt');
const TINY = { cell: 'gru', units: 16, embeddingDim: 8, seqLength: 24, batchSize: 16, windowsPerEpoch: 32, patience: 0, maxChars: 10_000, epochs: 1 } as const;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-served-'));
const store = new ModelStore(path.join(tmp, 'models'));

/** Trains a tiny model into a fresh run folder, as a finished training job leaves it. */
async function trainedModel(seed: number): Promise<string> {
  const out = path.join(tmp, 'runs', `lm-${seed}-${Date.now()}`);
  await train('text-generation', SHAKESPEARE, { ...TINY, seed, out });
  return out;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

beforeAll(async () => {
  await initBackend();
  await store.publish('lm', await trainedModel(1));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('ServedModels', () => {
  it('swaps to a new version without failing the request in flight, disposes the old one after it, and rolls back on a pin', async () => {
    const before = liveTensors();
    const swaps: { from: number | null; to: number | null }[] = [];
    const served = new ServedModels(store, { intervalMs: 20, onSwap: (e) => swaps.push({ from: e.from, to: e.to }) });
    expect(await served.use('text-generation', 'lm', (_lm, v) => v.version)).toBe(1);
    const oneModel = liveTensors() - before;
    expect(oneModel).toBeGreaterThan(0);

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = served.use('text-generation', 'lm', async (lm, v) => {
      await gate;
      return { version: v.version, text: (await lm.generate('ROMEO:\n', { maxTokens: 12, seed: 1 })).text };
    });
    await store.publish('lm', await trainedModel(2));
    await until(() => swaps.length === 1);
    expect(swaps[0]).toEqual({ from: 1, to: 2 });
    expect(await served.use('text-generation', 'lm', (_lm, v) => v.version)).toBe(2);
    // Both versions are loaded while the old one still has a request.
    expect(liveTensors() - before).toBe(2 * oneModel);
    release();
    const done = await slow;
    expect(done.version).toBe(1);
    expect(done.text.length).toBeGreaterThan(0);
    expect(liveTensors() - before).toBe(oneModel);

    await store.pin('lm', 1);
    await until(() => swaps.length === 2);
    expect(await served.use('text-generation', 'lm', (_lm, v) => v.version)).toBe(1);
    expect(await served.served()).toEqual([{ name: 'lm', version: 1, dir: path.join(store.root, 'lm', '1') }]);
    await store.pin('lm', null);
    await served.close();
    expect(liveTensors()).toBe(before);
  });

  it('answers an unknown name with not_found and loads it once it is published', async () => {
    const served = new ServedModels(store, { intervalMs: 20 });
    try {
      await expect(served.use('text-generation', 'later', () => 0)).rejects.toMatchObject({ code: 'not_found' });
      await store.publish('later', await trainedModel(3));
      expect(await served.use('text-generation', 'later', (_lm, v) => v.version)).toBe(1);
    } finally {
      await served.close();
    }
  });
});
