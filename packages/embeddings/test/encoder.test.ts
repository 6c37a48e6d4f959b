import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { EMBEDDING_DIM, SemanticIndex, cosine, loadEncoder, type SentenceEncoder } from '../src/index.js';

let encoder: SentenceEncoder;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  encoder = await loadEncoder({ cacheSize: 64 });
});

afterAll(() => encoder?.dispose());

function norm(v: Float32Array): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

describe('SentenceEncoder (real USE-lite)', () => {
  it('returns one 512-d unit-length vector per text, in order', async () => {
    const texts = ['The movie was wonderful.', 'Stock markets fell sharply on Monday.', 'ok'];
    const vecs = await encoder.embed(texts);
    expect(vecs).toHaveLength(3);
    for (const v of vecs) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(EMBEDDING_DIM);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    // Same text alone gives the same vector: batching does not mix rows.
    const [alone] = await encoder.embed(['Stock markets fell sharply on Monday.']);
    expect(cosine(alone!, vecs[1]!)).toBeGreaterThan(0.9999);
    expect(encoder.source.kind).toBe('dir');
    expect(encoder.source.verified).toBe(true);
  });

  it('scores paraphrases higher than unrelated pairs', async () => {
    const pairs: Array<[string, string, string]> = [
      ['How old are you?', 'What is your age?', 'The train leaves at noon.'],
      ['The cat sat on the mat.', 'A cat was sitting on the rug.', 'Interest rates rose again this quarter.'],
      ['I loved this film, it was fantastic.', 'What a great movie, I enjoyed it a lot.', 'Add two cups of flour to the bowl.'],
    ];
    for (const [a, para, other] of pairs) {
      const sPara = await encoder.similarity(a, para);
      const sOther = await encoder.similarity(a, other);
      expect(sPara).toBeGreaterThan(0.6);
      expect(sPara - sOther).toBeGreaterThan(0.3);
    }
  });

  it('finds the expected neighbour in a small corpus', async () => {
    const corpus = [
      'The weather will be sunny and warm tomorrow.',
      'Our quarterly revenue grew by ten percent.',
      'The striker scored twice in the second half.',
      'Preheat the oven to 200 degrees before baking.',
      'The new phone has a better camera and battery.',
    ];
    const index = await new SemanticIndex(encoder).build(corpus);
    expect(index.size).toBe(5);
    const cases: Array<[string, number]> = [
      ['Will it rain tomorrow?', 0],
      ['company profits increased', 1],
      ['football match goals', 2],
      ['how hot should the oven be for a cake', 3],
      ['smartphone review', 4],
    ];
    for (const [query, want] of cases) {
      const hits = await index.search(query, 3);
      expect(hits).toHaveLength(3);
      expect(hits[0]!.index).toBe(want);
      expect(hits[0]!.text).toBe(corpus[want]);
      expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
      expect(hits[1]!.score).toBeGreaterThanOrEqual(hits[2]!.score);
    }
    // The one-call form agrees with the prebuilt index.
    const [top] = await encoder.search('Will it rain tomorrow?', corpus, 1);
    expect(top!.index).toBe(0);
  });

  it('caches embeddings (LRU) and hands out copies', async () => {
    const fresh = await loadEncoder({ cacheSize: 2 });
    try {
      const [a1] = await fresh.embed(['alpha sentence']);
      expect(fresh.cacheStats()).toMatchObject({ size: 1, capacity: 2, hits: 0, misses: 1 });
      a1!.fill(0); // mutating a result must not corrupt the cache
      const [a2] = await fresh.embed(['alpha sentence']);
      expect(fresh.cacheStats().hits).toBe(1);
      expect(norm(a2!)).toBeCloseTo(1, 5);
      await fresh.embed(['beta sentence', 'gamma sentence']); // evicts alpha (least recently used)
      expect(fresh.cacheStats().size).toBe(2);
      await fresh.embed(['alpha sentence']);
      expect(fresh.cacheStats().misses).toBe(4);
      // Duplicates inside one call are embedded once.
      const before = fresh.cacheStats().misses;
      const dup = await fresh.embed(['delta', 'delta', 'delta']);
      expect(fresh.cacheStats().misses - before).toBe(1);
      expect(cosine(dup[0]!, dup[2]!)).toBeCloseTo(1, 6);
    } finally {
      fresh.dispose();
    }
  });

  it('gives the same vectors whatever the batch size, and under concurrent calls', async () => {
    const texts = ['one small step', 'a giant leap', 'for mankind', 'houston we have a problem', 'the eagle has landed'];
    const small = await loadEncoder({ batchSize: 2, cacheSize: 0 });
    try {
      const a = await small.embed(texts);
      const b = await encoder.embed(texts);
      a.forEach((v, i) => expect(cosine(v, b[i]!)).toBeGreaterThan(0.99999));
      const [c, d] = await Promise.all([small.embed(texts.slice(0, 3)), small.embed(texts.slice(2))]);
      expect(cosine(c[2]!, d[0]!)).toBeGreaterThan(0.99999);
      expect(cosine(c[0]!, a[0]!)).toBeGreaterThan(0.99999);
    } finally {
      small.dispose();
    }
  });

  it('embedTensor returns a [n, 512] tensor owned by the caller', async () => {
    const t = await expectNoLeakedTensors(() => encoder.embedTensor(['first text', 'second text']), { allowed: 1 });
    expect(t.shape).toEqual([2, EMBEDDING_DIM]);
    const norms = tf.tidy(() => tf.norm(t, 2, 1).arraySync() as number[]);
    norms.forEach((n) => expect(n).toBeCloseTo(1, 5));
    t.dispose();
  });

  it('leaks no tensors while embedding', async () => {
    await expectNoLeakedTensors(async () => {
      await encoder.embed(['leak check one', 'leak check two', 'leak check three']);
      await encoder.similarity('leak check four', 'leak check five');
    });
  });

  it('rejects bad input with the offending position', async () => {
    await expect(encoder.embed(['fine', ''])).rejects.toThrow(/texts\[1\] is an empty string/);
    await expect(encoder.embed(['fine', 3 as unknown as string])).rejects.toThrow(/texts\[1\] must be a string, got number/);
    await expect(encoder.embed('not an array' as unknown as string[])).rejects.toThrow(/texts must be an array/);
    await expect(new SemanticIndex(encoder).search('q')).rejects.toThrow(/index is empty/);
    await expect(encoder.search('q', ['a'], 0)).rejects.toThrow(/k must be a positive integer, got 0/);
    await expect(loadEncoder({ batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer, got 0/);
    await expect(loadEncoder({ modelDir: '/x', modelUrl: 'file:///x' })).rejects.toThrow(/either modelDir or modelUrl/);
  });

  it('frees the model weights on dispose and refuses to embed afterwards', async () => {
    const before = tf.memory().numTensors;
    const extra = await loadEncoder({ cacheSize: 0 });
    const held = tf.memory().numTensors - before;
    expect(held).toBeGreaterThan(0);
    extra.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(extra.embed(['x'])).rejects.toThrow(/disposed/);
  });
});
