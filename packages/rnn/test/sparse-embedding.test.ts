import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LazyAdam, setGlobalSeed, SeededRandom } from '@seqlab/core';
import { bucketedData, textClassifier, train, type BatchSource } from '../src/index.js';
import { touchedRows } from '../src/training/sparse-embedding.js';
import { maxAbsDiff, setupBackend, tempDir } from './helpers.js';

beforeAll(setupBackend);

const VOCAB = 40;

/** Rows of ids 2..VOCAB-1 of varying length; the label says whether the low ids outnumber the high ones. */
function toyData(n: number, seed: number): { rows: number[][]; labels: number[] } {
  const rng = new SeededRandom(seed);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const length = 4 + Math.floor(rng.next() * 8);
    rows.push(Array.from({ length }, () => {
      const low = rng.next() < (label === 1 ? 0.8 : 0.2);
      return low ? 2 + Math.floor(rng.next() * 18) : 20 + Math.floor(rng.next() * 20);
    }));
    labels.push(label);
  }
  return { rows, labels };
}

const model = () => textClassifier({ vocabSize: VOCAB, embeddingDim: 8, units: 6, attention: 'pooling', dropout: 0, numClasses: 2 });

/** One fixed batch, as a source (train disposes the batches it is given). */
function oneBatch(rows: number[][], labels: number[]): BatchSource {
  return { batchesPerEpoch: 1, batches: () => bucketedData(rows, labels, { batchSize: rows.length, shuffle: false }).batches(0) };
}

describe('sparse embedding updates in train()', () => {
  it('renumbers ids over the rows a batch touches, padding first', () => {
    const slot = new Int32Array(10).fill(-1);
    const t = touchedRows([7, 3, 7, 0, 9, 3], slot);
    expect([...t.rows]).toEqual([0, 7, 3, 9]);
    expect([...t.local]).toEqual([1, 2, 1, 0, 3, 2]);
    expect(slot.every((s) => s === -1)).toBe(true);
    expect(() => touchedRows([1, 10], slot)).toThrow(/id 10 is outside the vocabulary \(10 ids\)/);
    expect(slot.every((s) => s === -1)).toBe(true);
  });

  it('takes the same first step as dense Adam (gradients, clipping, every weight)', async () => {
    const { rows, labels } = toyData(16, 1);
    const results: tf.Tensor[][] = [];
    for (const sparse of [false, true]) {
      setGlobalSeed(3);
      const m = model();
      // A small clip norm so the clipping factor matters.
      await train(m, oneBatch(rows, labels), { epochs: 1, learningRate: 0.01, clipNorm: 0.05, sparseEmbeddings: sparse, seed: 1 });
      if (sparse) expect(m.optimizer).toBeInstanceOf(LazyAdam);
      results.push(m.getWeights().map((w) => tf.clone(w)));
      m.dispose();
    }
    const [dense, lazy] = results as [tf.Tensor[], tf.Tensor[]];
    dense.forEach((w, i) => expect(maxAbsDiff(w, lazy[i]!)).toBeLessThan(1e-5));
    tf.dispose(results);
  });

  it('keeps the tensor count flat across steps, and a tiny classifier learns', async () => {
    const { rows, labels } = toyData(160, 2);
    const held = toyData(60, 3);
    setGlobalSeed(4);
    const m = model();
    const counts: number[] = [];
    const result = await train(m, bucketedData(rows, labels, { batchSize: 16, seed: 1 }), {
      epochs: 8,
      learningRate: 0.02,
      clipNorm: 5,
      sparseEmbeddings: true,
      validationData: bucketedData(held.rows, held.labels, { batchSize: 60, shuffle: false }),
      onProgress: (e) => void (e.type === 'batch' && e.epoch >= 1 && counts.push(tf.memory().numTensors)),
    });
    expect(new Set(counts).size).toBe(1);
    expect(result.history.at(-1)!.val_accuracy).toBeGreaterThan(0.85);
    m.dispose();
  });

  it('checkpoints and resumes with its state (saved in Adam layout)', async () => {
    const { rows, labels } = toyData(32, 6);
    const dir = await tempDir();
    const data = bucketedData(rows, labels, { batchSize: 16, seed: 1 });
    setGlobalSeed(5);
    const first = model();
    await train(first, data, { epochs: 1, sparseEmbeddings: true, checkpointDir: dir });
    const steps = (first.optimizer as LazyAdam).stepsTaken;
    first.dispose();
    setGlobalSeed(5);
    const second = model();
    const resumed = await train(second, data, { epochs: 2, sparseEmbeddings: true, checkpointDir: dir, resume: true });
    expect(resumed.history).toHaveLength(2);
    expect((second.optimizer as LazyAdam).stepsTaken).toBe(2 * steps);
    second.dispose();
  });

  it('trains a model without a trainable embedding densely', async () => {
    const { rows, labels } = toyData(16, 5);
    const m = model();
    m.getLayer('embedding').trainable = false;
    await train(m, oneBatch(rows, labels), { epochs: 1, sparseEmbeddings: true });
    expect(m.optimizer).not.toBeInstanceOf(LazyAdam);
    m.dispose();
  });
});

