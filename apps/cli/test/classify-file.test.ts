/**
 * `seqlab classify --file` streams its input and output: every line of a TREC question file is
 * classified (in slices of 256) by a TF-IDF model trained here, written as it goes, and the same
 * as classifying the questions given as arguments.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { train } from '@seqlab/tasks';
import { classifyCommand } from '../src/commands/classify.js';
import { dataFile, run } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'seqlab-classify-file-'));
const trec = (file: string) =>
  readFileSync(dataFile('trec', file), 'latin1')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => ({ label: l.slice(0, l.indexOf(':')), text: l.slice(l.indexOf(' ') + 1).trim() }));
const questions = trec('TREC_10.label').map((r) => r.text);
let model: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  model = (await train('text-classification', trec('train_5500.label'), { out: join(root, 'lr'), model: 'tfidf-lr' })).dir;
}, 120_000);

describe('classify --file', () => {
  it('classifies every non-empty line of a 500-line file in order, as JSON written row by row, the same as arguments', async () => {
    const file = join(root, 'questions.txt');
    // Blank and CRLF lines as files from other tools have them.
    writeFileSync(file, questions.map((q, i) => (i % 100 === 0 ? `${q}\r\n\n` : `${q}\n`)).join(''));
    const r = await run(classifyCommand(), ['--model', model, '--file', file, '--json']);
    const out = JSON.parse(r.stdout) as { kind: string; classes: string[]; truncated: number; results: { text: string; label: string; score: number }[] };
    expect(out).toMatchObject({ kind: 'tfidf-lr', truncated: 0 });
    expect(out.results.map((x) => x.text)).toEqual(questions);
    const right = out.results.filter((x, i) => x.label === trec('TREC_10.label')[i]!.label).length;
    expect(right / questions.length).toBeGreaterThan(0.7);
    const args = JSON.parse((await run(classifyCommand(), ['--model', model, '--json', ...questions.slice(255, 259)])).stdout) as typeof out;
    expect(args.results).toEqual(out.results.slice(255, 259));
  });

  it('prints one line per text in human mode, and refuses an empty file and a binary one', async () => {
    const file = join(root, 'five.txt');
    writeFileSync(file, `${questions.slice(0, 5).join('\n')}\n`);
    const r = await run(classifyCommand(), ['--model', model, '--file', file]);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    lines.forEach((l, i) => expect(l).toContain(questions[i]!));
    const empty = join(root, 'empty.txt');
    writeFileSync(empty, '\n\n');
    expect((await run(classifyCommand(), ['--model', model, '--file', empty])).stderr).toMatch(/no text found: the input is empty/);
    const binary = join(root, 'binary.txt');
    writeFileSync(binary, 'a question ?\n\u0000\u0001\u0002\n');
    expect((await run(classifyCommand(), ['--model', model, '--file', binary])).stderr).toMatch(/line 2: looks like a binary file/);
  });
});
