import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classScores, initBackend, setGlobalSeed, type TextClassificationResult } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import {
  EMBEDDING_DIM,
  SentimentClassifier,
  headAccuracy,
  loadEncoder,
  loadSentimentClassifier,
  loadUseTextClassifier,
  trainSentimentHead,
  useSentimentHead,
  type EmbeddedExamples,
  type SentenceEncoder,
} from '../src/index.js';

const positiveOf = (r: TextClassificationResult) => classScores(r, ['negative', 'positive'])[1]!;

const SST2_DEV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data/sst2/dev.tsv');

let encoder: SentenceEncoder;
let train: EmbeddedExamples;
let held: EmbeddedExamples;
let tmp: string;

async function embedded(encoderToUse: SentenceEncoder, rows: Array<[string, number]>): Promise<EmbeddedExamples> {
  const vecs = await encoderToUse.embed(rows.map((r) => r[0]));
  const x = new Float32Array(rows.length * EMBEDDING_DIM);
  vecs.forEach((v, i) => x.set(v, i * EMBEDDING_DIM));
  return { x, y: rows.map((r) => r[1]) };
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  setGlobalSeed(7);
  encoder = await loadEncoder();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-sentiment-'));
  // 144 real SST-2 dev sentences (balanced), split 96 / 48.
  const lines = (await fs.readFile(SST2_DEV, 'utf8')).split('\n').slice(1).filter(Boolean);
  const rows = lines
    .map((l) => [l.slice(0, l.lastIndexOf('\t')).trim(), Number(l.slice(l.lastIndexOf('\t') + 1))] as [string, number])
    .filter(([s]) => s.length < 150);
  const pos = rows.filter((r) => r[1] === 1).slice(0, 72);
  const neg = rows.filter((r) => r[1] === 0).slice(0, 72);
  const mixed = pos.flatMap((p, i) => [p, neg[i]!]);
  train = await embedded(encoder, mixed.slice(0, 96));
  held = await embedded(encoder, mixed.slice(96));
});

afterAll(async () => {
  encoder?.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('USE sentiment head', () => {
  it('builds a [512] -> [1] sigmoid head and validates its options', () => {
    const head = useSentimentHead({ hidden: 16 });
    expect(head.inputs[0]!.shape).toEqual([null, EMBEDDING_DIM]);
    expect(head.outputs[0]!.shape).toEqual([null, 1]);
    expect(head.countParams()).toBe(512 * 16 + 16 + 16 + 1);
    head.dispose();
    expect(() => useSentimentHead({ dropout: 1 })).toThrow(/dropout must be a number in \[0, 1\), got 1/);
    expect(() => useSentimentHead({ hidden: 2.5 })).toThrow(/hidden must be an integer/);
  });

  it('learns real SST-2 sentences from their USE vectors, keeps the best epoch, leaks nothing', async () => {
    const head = useSentimentHead({ hidden: 32, dropout: 0.1, learningRate: 0.003 });
    try {
      const before = headAccuracy(head, train);
      // Adam creates its two moment tensors per weight at the first step; nothing else may remain.
      const result = await expectNoLeakedTensors(
        () => trainSentimentHead(head, train, held, { epochs: 25, batchSize: 16, patience: 25, seed: 3 }),
        { allowed: 2 * head.trainableWeights.length },
      );
      expect(result.history.length).toBe(25);
      expect(result.bestValAccuracy).toBe(Math.max(...result.history.map((h) => h.valAccuracy)));
      expect(headAccuracy(head, held)).toBeCloseTo(result.bestValAccuracy, 10);
      const after = headAccuracy(head, train);
      expect(after).toBeGreaterThanOrEqual(0.8);
      expect(after).toBeGreaterThan(before);
      // Generalises beyond the 96 training sentences: well above chance on 48 unseen ones.
      expect(result.bestValAccuracy).toBeGreaterThanOrEqual(0.65);
    } finally {
      head.dispose();
    }
  });

  it('classifies through the encoder, and saves / loads with identical predictions', async () => {
    const head = useSentimentHead({ hidden: 32, dropout: 0.1, learningRate: 0.003 });
    await trainSentimentHead(head, train, held, { epochs: 15, batchSize: 16, patience: 15 });
    const clf = new SentimentClassifier(encoder, head, { kind: 'use-head', labels: ['negative', 'positive'], encoder: 'use-lite', devAccuracy: 0.5 });
    const texts = ['a gorgeous , witty , seductive movie .', 'the plot is tedious and the acting is dreadful .'];
    const preds = await expectNoLeakedTensors(() => clf.predict(texts));
    expect(preds.map((p) => p.label)).toEqual(['positive', 'negative']);
    for (const p of preds) {
      expect(p.score).toBeGreaterThanOrEqual(0.5);
      expect(p.score).toBeCloseTo(positiveOf(p) >= 0.5 ? positiveOf(p) : 1 - positiveOf(p), 6);
      expect(p.predicted).toEqual([p.label]);
    }
    const dir = path.join(tmp, 'clf');
    await clf.save(dir, '# test model\n');
    expect(await fs.readFile(path.join(dir, 'README.md'), 'utf8')).toBe('# test model\n');
    // Saved as what it is: a binary text classifier of kind use (one format for the family).
    expect(JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'))).toMatchObject({ task: 'text-classification', kind: 'use', problem: 'binary', classes: ['negative', 'positive'], inputScale: 1, training: { devAccuracy: 0.5 } });
    const loaded = await loadUseTextClassifier(dir, { encoder });
    try {
      const again = await loaded.predict(texts);
      again.forEach((p, i) => expect(positiveOf(p)).toBeCloseTo(positiveOf(preds[i]!), 6));
    } finally {
      loaded.dispose(); // shared encoder stays usable
      clf.dispose();
    }
    expect((await encoder.embed(['still alive']))[0]!.length).toBe(EMBEDDING_DIM);
  });

  it('rejects mismatched data and foreign model directories clearly', async () => {
    const head = useSentimentHead({ hidden: 4 });
    try {
      await expect(trainSentimentHead(head, { x: new Float32Array(512), y: [0, 1] }, held)).rejects.toThrow(
        /train: x has 512 floats, expected 2 labels x 512 = 1024/,
      );
      await expect(trainSentimentHead(head, { x: new Float32Array(512), y: [2] }, held)).rejects.toThrow(/label 0 is 2, expected 0 or 1/);
    } finally {
      head.dispose();
    }
    await expect(loadSentimentClassifier({ modelDir: path.join(tmp, 'none'), encoder })).rejects.toThrow(/model\.json: file not found/);
  });
});
