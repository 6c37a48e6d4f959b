/**
 * Streaming labelled files (openLabelledTexts) gives the rows readLabelledTexts gives, in
 * batches, on the shipped SST-2 and TREC files and on CSV / JSONL / Latin-1 copies of them; and
 * ClassificationCounts accumulates the metrics classificationMetrics computes in one go.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TextClassificationResult } from '@seqlab/core';
import { ClassificationCounts, classificationMetrics, openLabelledTexts, readLabelledTexts, type LabelledTextStream } from '../src/index.js';

const ROOT = path.resolve(__dirname, '../../..');
const SST2_DEV = path.join(ROOT, 'data/sst2/dev.tsv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-stream-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const file = path.join(tmp, name);
  writeFileSync(file, content);
  return file;
}

async function drain(stream: LabelledTextStream, batchSize: number): Promise<{ texts: string[]; labels: string[][]; lines: number[]; sizes: number[] }> {
  const out = { texts: [] as string[], labels: [] as string[][], lines: [] as number[], sizes: [] as number[] };
  for await (const b of stream.batches(batchSize)) {
    out.texts.push(...b.texts);
    out.labels.push(...b.labels);
    out.lines.push(...b.lines);
    out.sizes.push(b.texts.length);
  }
  return out;
}

const sst2 = readLabelledTexts(SST2_DEV);
const csvCell = (s: string) => (/[",\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

describe('openLabelledTexts', () => {
  it('streams the SST-2 TSV in batches with the same rows, columns and lines as readLabelledTexts', async () => {
    const stream = await openLabelledTexts(SST2_DEV);
    expect(stream).toMatchObject({ format: 'tsv', textColumn: 'sentence', labelColumn: 'label', header: true });
    const got = await drain(stream, 100);
    expect(got.texts).toEqual(sst2.texts);
    expect(got.labels).toEqual(sst2.labels);
    expect(got.lines).toEqual(sst2.lines);
    expect(got.sizes.slice(0, -1).every((s) => s === 100)).toBe(true);
    expect(got.sizes.at(-1)).toBe(sst2.texts.length % 100 || 100);
  });

  it('reads a quoted CSV with multi-line cells, a semicolon delimiter and no header the same way', async () => {
    const rows = sst2.texts.slice(0, 300).map((t, i) => [i % 7 === 0 ? `${t}\nsecond line; "quoted"` : t, sst2.labels[i]![0]!]);
    const content = rows.map(([t, l]) => `${csvCell(t!)};${l}`).join('\n') + '\n';
    const file = write('nohead.csv', content);
    const whole = readLabelledTexts(file);
    const stream = await openLabelledTexts(file);
    expect(stream.header).toBe(false);
    expect([stream.textColumn, stream.labelColumn]).toEqual([whole.textColumn, whole.labelColumn]);
    const got = await drain(stream, 64);
    expect(got.texts).toEqual(whole.texts);
    expect(got.lines).toEqual(whole.lines);
  });

  it('reads JSONL with list labels when multiLabel is on, and Latin-1 bytes', async () => {
    const jsonl = write('ml.jsonl', ['{"text":"a b","label":["x","y"]}', '', '{"text":"c","label":"z"}'].join('\n'));
    expect((await drain(await openLabelledTexts(jsonl, { multiLabel: true }), 10)).labels).toEqual([['x', 'y'], ['z']]);
    const latin = write('latin.tsv', Buffer.from('text\tlabel\ncaf\xe9 au lait\tDESC\n', 'latin1'));
    expect((await drain(await openLabelledTexts(latin), 10)).texts).toEqual(['café au lait']);
  });

  it('names the file, line and column of a bad row that comes after the first batch', async () => {
    const lines = ['text\tlabel', ...Array.from({ length: 500 }, (_, i) => `row ${i}\tpos`), ' \tneg'];
    const file = write('bad.tsv', lines.join('\n'));
    await expect(drain(await openLabelledTexts(file), 50)).rejects.toThrow(`${file}: line 502, column "text": empty text`);
    await expect(openLabelledTexts(path.join(tmp, 'missing.tsv'))).rejects.toThrow(/file not found/);
    await expect(openLabelledTexts(file, { labelColumn: 'tag' })).rejects.toThrow(/label column "tag" not found; columns are text, label/);
  });
});

describe('ClassificationCounts', () => {
  // Results of a deterministic "model": the score of the second class follows the text length.
  const classes = ['0', '1'];
  const results: TextClassificationResult[] = sst2.texts.map((t) => {
    const p = 1 / (1 + Math.exp(-(t.length - 100) / 30));
    const label = p >= 0.5 ? '1' : '0';
    return { label, score: Math.max(p, 1 - p), predicted: [label], labels: [{ label: '1', score: p }, { label: '0', score: 1 - p }], truncated: t.length > 200 } as unknown as TextClassificationResult;
  });

  it('gives the metrics classificationMetrics gives, added in batches (ROC-AUC to the binned precision)', () => {
    const whole = classificationMetrics(classes, 'binary', sst2.labels, results);
    const counts = new ClassificationCounts(classes, 'binary');
    for (let s = 0; s < results.length; s += 97) counts.add(sst2.labels.slice(s, s + 97), results.slice(s, s + 97));
    const streamed = counts.metrics();
    expect(counts.size).toBe(results.length);
    expect({ ...streamed, rocAuc: undefined }).toEqual({ ...whole, rocAuc: undefined });
    expect(whole.rocAuc).toBeGreaterThan(0.5);
    expect(Math.abs(streamed.rocAuc! - whole.rocAuc!)).toBeLessThan(1e-3);
  });

  it('counts multi-label sets (subset accuracy, Jaccard) and names a label the model lacks', () => {
    const labelsOf = (p: string[]) => ({ label: p[0] ?? 'a', score: 0.9, predicted: p, labels: ['a', 'b', 'c'].map((l) => ({ label: l, score: p.includes(l) ? 0.9 : 0.1 })) }) as unknown as TextClassificationResult;
    const truth = [['a'], ['a', 'b'], ['c'], ['b']];
    const res = [labelsOf(['a']), labelsOf(['a']), labelsOf(['b', 'c']), labelsOf([])];
    const counts = new ClassificationCounts(['a', 'b', 'c'], 'multi-label');
    counts.add(truth.slice(0, 2), res.slice(0, 2));
    counts.add(truth.slice(2), res.slice(2));
    expect(counts.metrics()).toEqual(classificationMetrics(['a', 'b', 'c'], 'multi-label', truth, res));
    expect(() => counts.add([['d']], [labelsOf(['a'])])).toThrow(/row 5: true label "d" is not one of the model's classes/);
  });
});
