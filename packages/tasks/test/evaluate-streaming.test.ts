/**
 * evaluate('text-classification') on a file scores it as a stream: the same figures as the rows
 * in memory, and live memory that does not grow with the file (N and 10N rows scored by a
 * TF-IDF logistic regression fitted here on SST-2 sentences).
 */
import { readFileSync, writeFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { evaluate, peekLabelledFile, repoRoot, train, type TextClassificationRow, type TrainEvent } from '../src/index.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** SST-2 training sentences with their 0/1 labels. */
const sst2 = readFileSync(path.join(repoRoot()!, 'data/sst2/train.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l.trim())
  .map((l) => {
    const [text, label] = l.split('\t') as [string, string];
    return { text: text.trim(), label };
  });

let tmp: string;
let modelDir: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-eval-stream-'));
  const rows: TextClassificationRow[] = sst2.slice(0, 3000);
  modelDir = (await train('text-classification', rows, { out: path.join(tmp, 'lr'), model: 'tfidf-lr', seed: 1 })).dir;
}, 120_000);

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A TSV of `n` rows: twelve SST-2 sentences of one label joined (review-like lengths), labels alternating. */
function writeRows(name: string, n: number): string {
  const byLabel = ['0', '1'].map((l) => sst2.slice(3000).filter((r) => r.label === l));
  const lines = ['sentence\tlabel'];
  for (let i = 0; i < n; i++) {
    const pool = byLabel[i % 2]!;
    const parts = Array.from({ length: 12 }, (_, k) => pool[(Math.floor(i / 2) * 12 + k) % pool.length]!.text);
    lines.push(`${parts.join(' ')}\t${i % 2}`);
  }
  const file = path.join(tmp, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Scores a file, sampling the live heap (after a full collection) after every batch; returns the peak above the start. */
async function peakLiveHeap(file: string): Promise<{ peakMb: number; count: number; events: TrainEvent[] }> {
  const events: TrainEvent[] = [];
  gc();
  const start = process.memoryUsage().heapUsed;
  let peak = 0;
  const e = await evaluate('text-classification', modelDir, file, {
    batchSize: 200,
    onProgress: (p) => {
      events.push(p);
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - start);
    },
  });
  return { peakMb: peak / 2 ** 20, count: e.metrics.count, events };
}

describe("evaluate('text-classification') on a file", () => {
  it('gives the same figures streamed from the file as from the rows in memory, without leaking tensors', async () => {
    const file = writeRows('small.tsv', 700);
    const rows = readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l)
      .map((l) => ({ text: l.split('\t')[0]!, label: l.split('\t')[1]! }));
    const streamed = await expectNoLeakedTensors(() => evaluate('text-classification', modelDir, file, { batchSize: 64 }));
    const inMemory = await evaluate('text-classification', modelDir, rows, { batchSize: 1000 });
    expect(streamed.metrics).toEqual(inMemory.metrics);
    expect(streamed.metrics.count).toBe(700);
    expect(streamed.metrics.accuracy).toBeGreaterThan(0.8);
    expect(streamed.data).toBe(file);
  }, 60_000);

  it('holds live memory flat from N to 10N rows, with items events counting to the end and an ETA', async () => {
    const small = await peakLiveHeap(writeRows('n.tsv', 800));
    const large = await peakLiveHeap(writeRows('10n.tsv', 8000));
    expect([small.count, large.count]).toEqual([800, 8000]);
    // Measured: streamed, 1.0 MB at N and 1.5 MB at 10N (the tokenizer's per-word caches fill
    // with the vocabulary); read whole (as with `limit`), 1.2 MB and 6.6 MB.
    expect(large.peakMb - small.peakMb).toBeLessThan(1.5);
    const items = large.events.filter((e): e is Extract<TrainEvent, { type: 'items' }> => e.type === 'items');
    expect(items.length).toBe(40);
    expect(items.at(-1)).toMatchObject({ stage: 'score', done: 8000, total: 8000, etaSeconds: 0 });
    expect(items[0]!.etaSeconds).toBeGreaterThan(0);
  }, 120_000);

  it("peeks at a file's layout from its first rows (the CLI's header decision) and names a missing column", async () => {
    const file = writeRows('peek.tsv', 300);
    expect(await peekLabelledFile(file)).toEqual({ format: 'tsv', header: true, columns: ['sentence', 'label'], textColumn: 'sentence', labelColumn: 'label' });
    await expect(peekLabelledFile(file, { textColumn: 'review' })).rejects.toThrow(/text column "review" not found; columns are sentence, label/);
  });
});
