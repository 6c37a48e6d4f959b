/** Long documents: length statistics of real texts, the default length chosen from them, head+tail truncation and chunk windows. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TextVectorizer } from '@seqlab/tokenize';
import { chunkStarts, defaultMaxLength, keptPositions, lengthStats } from '../src/index.js';

describe('length statistics and the default length', () => {
  it('describes SST-2 dev token counts and picks their 90th percentile', async () => {
    const texts = readFileSync(path.resolve(__dirname, '../../../data/sst2/dev.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim()).map((l) => l.split('\t')[0]!);
    const tv = await new TextVectorizer({ tokenizer: 'word' }).adapt(texts);
    const lengths = texts.map((t) => tv.tokenize(t).length);
    const s = lengthStats(lengths);
    expect(s.count).toBe(872);
    const sorted = [...lengths].sort((a, b) => a - b);
    expect(s.max).toBe(sorted.at(-1));
    expect(s.p50).toBe(sorted[Math.ceil(0.5 * 872) - 1]);
    expect(s.p90).toBe(sorted[Math.ceil(0.9 * 872) - 1]);
    expect(s.mean).toBeCloseTo(lengths.reduce((a, b) => a + b, 0) / 872, 10);
    expect(s.p50).toBeLessThanOrEqual(s.p90);
    expect(s.p90).toBeLessThanOrEqual(s.p99);
    expect(defaultMaxLength(s)).toBe(s.p90);
    expect(defaultMaxLength({ ...s, p90: 3000 })).toBe(256);
    expect(defaultMaxLength({ ...s, p90: 4 })).toBe(16);
    expect(() => lengthStats([])).toThrow(expect.objectContaining({ code: 'bad_input' }));
  });
});

describe('truncation and chunks', () => {
  it('keeps short texts whole and cuts long ones head, tail or head+tail', () => {
    expect(keptPositions(5, 8, 'head+tail')).toEqual([0, 1, 2, 3, 4]);
    expect(keptPositions(20, 8, 'head')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(keptPositions(20, 8, 'tail')).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
    expect(keptPositions(20, 8, 'head+tail')).toEqual([0, 1, 14, 15, 16, 17, 18, 19]);
  });

  it('covers a long text with full windows, the last one ending at the end', () => {
    expect(chunkStarts(5, 8)).toEqual([0]);
    expect(chunkStarts(16, 8)).toEqual([0, 8]);
    expect(chunkStarts(20, 8)).toEqual([0, 8, 12]);
  });
});
