import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { defaultSentimentDir, loadEncoder, loadSentimentClassifier, type SentenceEncoder } from '../src/index.js';

const SST2_DEV = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data/sst2/dev.tsv');
let encoder: SentenceEncoder;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  encoder = await loadEncoder();
});

afterAll(() => encoder?.dispose());

describe('the shipped models/sentiment-use', () => {
  it('is found by default, carries its card and dev score', async () => {
    const dir = defaultSentimentDir();
    expect(dir.endsWith(path.join('models', 'sentiment-use'))).toBe(true);
    const card = await fs.readFile(path.join(dir, 'README.md'), 'utf8');
    expect(card).toMatch(/GLUE SST-2 dev/);
    const clf = await loadSentimentClassifier({ encoder });
    try {
      expect(clf.metadata.devAccuracy).toBeGreaterThan(0.8);
      expect(card).toContain(`${(clf.metadata.devAccuracy! * 100).toFixed(2)}%`);
    } finally {
      clf.dispose();
    }
  });

  it('classifies real GLUE dev sentences well above chance without leaking tensors', async () => {
    const rows = (await fs.readFile(SST2_DEV, 'utf8'))
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .slice(0, 48)
      .map((l) => [l.slice(0, l.lastIndexOf('\t')).trim(), Number(l.slice(l.lastIndexOf('\t') + 1))] as const);
    const clf = await loadSentimentClassifier({ encoder });
    try {
      await clf.predict(['warm up']);
      const preds = await expectNoLeakedTensors(() => clf.predict(rows.map((r) => r[0])));
      const acc = preds.filter((p, i) => (p.label === 'positive' ? 1 : 0) === rows[i]![1]).length / rows.length;
      expect(acc).toBeGreaterThanOrEqual(0.7);
      const [pos, neg] = await clf.predict(['a gorgeous , witty , seductive movie .', 'a tedious , joyless and badly acted mess .']);
      expect(pos!.label).toBe('positive');
      expect(neg!.label).toBe('negative');
    } finally {
      clf.dispose();
    }
  });
});
