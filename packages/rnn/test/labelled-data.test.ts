/**
 * Reading labelled texts (CSV, TSV, JSONL; delimiters, headers and columns detected; string and
 * multi-label labels), stratified seeded splits and samples, class weights. Fixtures are rows of
 * the shipped SST-2 and TREC files written in each format.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classWeights, decodeText, parseLabelledTexts, readLabelledTexts, selectRows, stratifiedSample, stratifiedSplit } from '../src/index.js';

const ROOT = path.resolve(__dirname, '../../..');
const SST2_DEV = path.join(ROOT, 'data/sst2/dev.tsv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-labelled-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** SST-2 dev rows as [sentence, label]. */
const dev = readFileSync(SST2_DEV, 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l.trim())
  .map((l) => l.split('\t') as [string, string]);

function write(name: string, content: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, content);
  return file;
}

const csvCell = (s: string) => (/[",\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

describe('readLabelledTexts', () => {
  it('reads the SST-2 TSV with its columns detected and labels as strings', () => {
    const d = readLabelledTexts(SST2_DEV);
    expect(d).toMatchObject({ format: 'tsv', textColumn: 'sentence', labelColumn: 'label', multiLabel: false, classes: ['0', '1'] });
    expect(d.texts).toHaveLength(dev.length);
    expect(d.texts[0]).toBe(dev[0]![0].trim());
    expect(d.lines[0]).toBe(2);
  });

  it('reads a CSV with quoted commas and quotes, a review/sentiment header and word labels', () => {
    const rows = dev.slice(0, 50).map(([s, l]) => [`${s.trim()}, "really"`, l === '1' ? 'positive' : 'negative']);
    const file = write('reviews.csv', `review,sentiment\n${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`);
    const d = readLabelledTexts(file);
    expect(d).toMatchObject({ format: 'csv', textColumn: 'review', labelColumn: 'sentiment', classes: ['negative', 'positive'] });
    expect(d.texts).toEqual(rows.map((r) => r[0]));
  });

  it('detects a semicolon delimiter and a headerless label-first TSV (the SMS spam layout)', () => {
    const semi = write('semi.csv', `id;question;category\n${dev.slice(0, 20).map(([s, l], i) => `${i};${csvCell(s.trim())};${l}`).join('\n')}\n`);
    expect(readLabelledTexts(semi)).toMatchObject({ textColumn: 'question', labelColumn: 'category', columns: ['id', 'question', 'category'] });
    const bare = write('spam.txt', dev.slice(0, 40).map(([s, l]) => `${l === '1' ? 'ham' : 'spam'}\t${s.trim()}`).join('\n'));
    const d = readLabelledTexts(bare);
    expect(d).toMatchObject({ format: 'tsv', columns: ['column1', 'column2'], textColumn: 'column2', labelColumn: 'column1', classes: ['ham', 'spam'] });
    expect(d.texts).toHaveLength(40);
  });

  it('reads multi-label rows from JSONL lists and from a|b cells', () => {
    const jsonl = write('tags.jsonl', ['{"text":"cheap flights to paris","labels":["travel","deals"]}', '{"text":"stocks fell","labels":["finance"]}', '{"text":"hotel prices rise","labels":"travel|finance"}'].join('\n'));
    const d = readLabelledTexts(jsonl);
    expect(d).toMatchObject({ format: 'jsonl', multiLabel: true, labelColumn: 'labels', classes: ['deals', 'finance', 'travel'] });
    expect(d.labels).toEqual([['travel', 'deals'], ['finance'], ['travel', 'finance']]);
    const single = parseLabelledTexts('text,label\nhello,"[x]"\nbye,y\n', { multiLabel: false });
    expect(single.labels).toEqual([['[x]'], ['y']]);
  });

  it('decodes Latin-1 files (TREC) without replacement characters', () => {
    const bytes = readFileSync(path.join(ROOT, 'data/trec/train_5500.label'));
    const text = decodeText(bytes);
    expect(text).not.toContain('\uFFFD');
    expect(text.split('\n')).toHaveLength(bytes.toString('latin1').split('\n').length);
    // A CSV of the Latin-1 line 66 ("... sister<NBSP>city ...") reads back the same characters.
    const line = bytes.toString('latin1').split('\n')[65]!;
    const question = line.slice(line.indexOf(' ') + 1);
    const file = path.join(tmp, 'latin1.csv');
    writeFileSync(file, Buffer.concat([Buffer.from('question,class\n'), Buffer.from(`${question},LOC\n`, 'latin1')]));
    expect(readLabelledTexts(file).texts).toEqual([question.trim()]);
    expect(question).toMatch(/sister[^a-z ]city/);
  });

  it('gives errors that name the file, line, column and the columns there are', () => {
    const file = write('cols.csv', 'id,body_text,kind,extra\n1,hello there,a,x\n');
    expect(() => readLabelledTexts(file, { textColumn: 'sentence' })).toThrow(expect.objectContaining({ code: 'not_found', message: `${file}: text column "sentence" not found; columns are id, body_text, kind, extra (use --text-col)` }));
    expect(() => readLabelledTexts(file, { textColumn: 'body_text' })).toThrow(expect.objectContaining({ code: 'bad_input', message: expect.stringMatching(/cannot tell which column holds the label; columns are id, body_text, kind, extra \(use --label-col\)/) }));
    expect(readLabelledTexts(file, { textColumn: 'BODY_TEXT', labelColumn: 'kind' }).texts).toEqual(['hello there']);
    const empty = write('empty.csv', 'text,label\nfine,a\nno label here,\n');
    expect(() => readLabelledTexts(empty)).toThrow(expect.objectContaining({ code: 'bad_input', message: `${empty}: line 3, column "label": empty label` }));
    const ragged = write('ragged.csv', 'text,label\nfine,a\nmore,b,c\n');
    expect(() => readLabelledTexts(ragged)).toThrow(expect.objectContaining({ code: 'bad_input', message: expect.stringMatching(/ragged\.csv: line 3: malformed CSV/) }));
    const badJson = write('bad.jsonl', '{"text":"a","label":"x"}\n{"text": oops}\n');
    expect(() => readLabelledTexts(badJson)).toThrow(expect.objectContaining({ message: expect.stringMatching(/bad\.jsonl: line 2: not valid JSON/) }));
  });
});

describe('stratified, seeded splits and samples', () => {
  // A file sorted by label: the first N rows would be one class.
  const sorted = [...dev].sort((a, b) => a[1].localeCompare(b[1]));
  const labels = sorted.map(([, l]) => [l]);
  const share = (rows: number[]) => rows.filter((i) => labels[i]![0] === '1').length / rows.length;
  const overall = share(labels.map((_, i) => i));

  it('holds out the requested fraction with every class at its share, the same for the same seed', () => {
    const a = stratifiedSplit(labels, 0.2, 7);
    expect(a.holdout.length).toBe(Math.round(labels.length * 0.2));
    expect(a.train.length + a.holdout.length).toBe(labels.length);
    expect(new Set([...a.train, ...a.holdout]).size).toBe(labels.length);
    expect(Math.abs(share(a.holdout) - overall)).toBeLessThan(0.01);
    expect(stratifiedSplit(labels, 0.2, 7)).toEqual(a);
    expect(stratifiedSplit(labels, 0.2, 8).holdout).not.toEqual(a.holdout);
  });

  it('samples --limit rows from every class of a sorted file, keeping a rare class', () => {
    const rows = stratifiedSample(labels, 100, 1);
    expect(rows).toHaveLength(100);
    expect(Math.abs(share(rows) - overall)).toBeLessThan(0.02);
    const withRare = [...labels, ['rare']];
    expect(stratifiedSample(withRare, 10, 1).map((i) => withRare[i]![0])).toContain('rare');
    expect(stratifiedSample(labels, 10_000, 1)).toHaveLength(labels.length);
    const d = readLabelledTexts(SST2_DEV);
    expect(selectRows(d, [0, 2]).texts).toEqual([d.texts[0], d.texts[2]]);
  });

  it('weights classes by inverse frequency', () => {
    const w = classWeights([['ham'], ['ham'], ['ham'], ['spam']], ['ham', 'spam']);
    expect(w[0]).toBeCloseTo(4 / 6, 10);
    expect(w[1]).toBeCloseTo(2, 10);
  });
});
