/**
 * Finding 6 of the hostile-input probe (issue 14): what the CLI accepted silently or echoed raw.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_PROMPT_LENGTH } from '@seqlab/core';
import { forecastCommand } from '../src/commands/forecast.js';
import { generateCommand } from '../src/commands/generate.js';
import { sentimentCommand } from '../src/commands/sentiment.js';
import { trainClassifierCommand } from '../src/commands/train-classifier.js';
import { dataFile, run } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'seqlab-cli-abuse-'));
const airline = readFileSync(dataFile('classic_ts', 'airline-passengers.csv'), 'utf8').trim().split('\n');

describe('finding 6: CSV and TSV headers', () => {
  it('a CSV without a header row is refused: the first row looks like data', async () => {
    const file = join(dir, 'no-header.csv');
    writeFileSync(file, `${airline.slice(1).join('\n')}\n`);
    const r = await run(forecastCommand(), ['--csv', file, '--horizon', '6']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no-header\.csv: the first row looks like data \("1949-01", "112"\), not a header/);
    expect(r.stdout).toBe('');
  });

  it('a CSV with two columns of the same name is refused, naming the columns', async () => {
    const file = join(dir, 'duplicate.csv');
    writeFileSync(file, ['Month,value,value', ...airline.slice(1).map((l) => `${l},${l.split(',')[1]}`)].join('\n'));
    const r = await run(forecastCommand(), ['--csv', file, '--horizon', '6']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/column name "value" appears twice in the header \(columns 2 and 3\)/);
  });

  it('a labelled TSV without a header row is refused before any training', async () => {
    const file = join(dir, 'no-header.tsv');
    const rows = readFileSync(dataFile('sst2', 'train.tsv'), 'utf8').split('\n').slice(1, 40);
    writeFileSync(file, `${rows.join('\n')}\n`);
    const r = await run(trainClassifierCommand(), ['--data', file, '--out', join(dir, 'run'), '--epochs', '1']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no-header\.tsv: the first row looks like data/);
  });
});

describe('finding 6: prompt cap and echoed text', () => {
  it('generate --prompt over the shared limit fails at once with a clear message', async () => {
    const t0 = performance.now();
    const r = await run(generateCommand(), ['--prompt', 'x'.repeat(120_000), '--max-tokens', '5']);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`--prompt: is 120000 characters; the limit is ${MAX_PROMPT_LENGTH} (the same as the API's)`);
    expect(r.stdout).toBe('');
  });

  it('sentiment refuses a binary --file, and escapes control characters in texts it echoes', async () => {
    const binary = join(dir, 'blob.bin');
    writeFileSync(binary, Buffer.from([0x47, 0x49, 0x46, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x0a, 0x07]));
    const refused = await run(sentimentCommand(), ['--file', binary]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/blob\.bin: looks like a binary file \(it contains NUL bytes\)/);

    const text = join(dir, 'escapes.txt');
    writeFileSync(text, 'a wonderful \u001b[2J film\u0007\nterrible\u009b acting\n');
    const r = await run(sentimentCommand(), ['--file', text]);
    expect(r.exitCode).toBe(0);
    const controls = [...r.stdout].filter((c) => {
      const code = c.codePointAt(0)!;
      return (code < 0x20 && c !== '\t' && c !== '\n') || (code >= 0x7f && code <= 0x9f);
    });
    expect(controls).toEqual([]);
    expect(r.stdout).toContain('a wonderful \\x1b[2J film\\x07');
    expect(r.stdout).toContain('terrible\\x9b acting');
  });
});
