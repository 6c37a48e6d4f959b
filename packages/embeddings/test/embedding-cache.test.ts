import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { embedWithFileCache, loadEncoder, type SentenceEncoder } from '../src/index.js';

let encoder: SentenceEncoder;
let dir: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  encoder = await loadEncoder({ cacheSize: 64 });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-embedding-cache-'));
});

afterAll(async () => {
  encoder?.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('embedWithFileCache (real USE-lite)', () => {
  const texts = ['a gorgeous , witty , seductive movie .', 'the plot is nothing but boilerplate clichés .', 'ok'];

  it('embeds a text set once: a second call, even from a fresh encoder, reads the same vectors back and runs no model', async () => {
    const first = await embedWithFileCache(encoder, texts, dir);
    expect(first.cached).toBe(false);
    const fresh = await loadEncoder({ cacheSize: 64 });
    try {
      const again = await embedWithFileCache(fresh, texts, dir);
      expect(again.cached).toBe(true);
      expect(again.file).toBe(first.file);
      expect(again.vectors.map((v) => Array.from(v))).toEqual(first.vectors.map((v) => Array.from(v)));
      // The hit filled the fresh encoder's memory cache: embedding the texts now is all hits.
      const before = fresh.cacheStats();
      await fresh.embed(texts);
      expect(fresh.cacheStats().misses).toBe(before.misses);
      expect(fresh.cacheStats().hits).toBe(before.hits + texts.length);
    } finally {
      fresh.dispose();
    }
  }, 60_000);

  it('embeds again when the texts change or an entry does not match its record', async () => {
    const changed = await embedWithFileCache(encoder, [...texts, 'one more'], dir);
    expect(changed.cached).toBe(false);
    const { file } = await embedWithFileCache(encoder, texts, dir);
    await fs.writeFile(file, new Uint8Array(16));
    const redone = await embedWithFileCache(encoder, texts, dir);
    expect(redone.cached).toBe(false);
    expect((await fs.stat(file)).size).toBe(texts.length * 512 * 4);
    await expect(embedWithFileCache(encoder, texts, '')).rejects.toThrow(/dir must be a folder path/);
    expect(() => encoder.remember(['a'], [new Float32Array(3)])).toThrow(/vector 0 has 3 dimensions, expected 512/);
  }, 60_000);
});
