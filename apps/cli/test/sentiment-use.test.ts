import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { SentimentClassifier, loadEncoder, trainSentimentHead, useSentimentHead } from '@seqlab/embeddings';
import { sentimentCommand } from '../src/commands/sentiment.js';
import { modelsCommand } from '../src/commands/models.js';
import { KNOWN } from './fixtures.js';
import { dataFile, run } from './helpers.js';

/** The first `n` SST-2 training phrases longer than two words, with labels. */
function phrases(n: number, skip = 0): { texts: string[]; labels: number[] } {
  const rows = readFileSync(dataFile('sst2', 'train.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim().split(/\s+/).length > 3);
  const picked = rows.slice(skip, skip + n).map((l) => l.split('\t'));
  return { texts: picked.map((r) => r[0]!.trim()), labels: picked.map((r) => Number(r[1])) };
}

describe('seqlab sentiment with a Universal Sentence Encoder head (the @seqlab/embeddings format)', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'seqlab-use-')), 'sentiment-use');

  beforeAll(async () => {
    await initBackend();
    const encoder = await loadEncoder();
    const embed = async (texts: string[]) => {
      const vecs = await encoder.embed(texts);
      const flat = new Float32Array(texts.length * 512);
      vecs.forEach((v, i) => flat.set(v, i * 512));
      return flat;
    };
    const train = phrases(400);
    const val = phrases(100, 400);
    const head = useSentimentHead({ hidden: 0, dropout: 0, learningRate: 0.01 });
    await trainSentimentHead(head, { x: await embed(train.texts), y: train.labels }, { x: await embed(val.texts), y: val.labels }, { epochs: 40, batchSize: 64 });
    const clf = new SentimentClassifier(encoder, head);
    await clf.save(dir);
    clf.dispose();
    encoder.dispose();
  }, 120_000);

  it('is loaded through the embeddings package and labels known sentences', async () => {
    const r = await run(sentimentCommand(), ['--model', dir, '--json', ...KNOWN.map(([t]) => t)]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.results.map((x: { label: string }) => x.label)).toEqual(KNOWN.map(([, label]) => label));
    for (const x of out.results) expect(x.probabilities[0] + x.probabilities[1]).toBeCloseTo(1, 5);
  });

  it('refuses --explain (no attention weights) with a usage error', async () => {
    const r = await run(sentimentCommand(), ['--model', dir, '--explain', 'fine']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--explain needs a recurrent attention model/);
  });

  it('is saved and listed as a binary text classifier of kind use', async () => {
    const r = await run(modelsCommand(), ['--dir', join(dir, '..'), '--json']);
    const entry = JSON.parse(r.stdout).models.find((m: { path: string }) => m.path === dir);
    expect(entry).toMatchObject({ task: 'text-classification', kind: 'use', defaultFor: [] });
  });
});
