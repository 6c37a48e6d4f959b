import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataFile } from './helpers.js';

/**
 * Small real SST-2 slices for tests that train a classifier in seconds: the first `trainRows`
 * phrases of GLUE train and the first `devRows` sentences of GLUE dev, same TSV layout.
 */
export function sst2Slices(trainRows = 2000, devRows = 200): { train: string; dev: string } {
  const dir = mkdtempSync(join(tmpdir(), 'seqlab-sst2-'));
  const slice = (split: string, rows: number) => {
    const lines = readFileSync(dataFile('sst2', `${split}.tsv`), 'utf8').split('\n');
    const file = join(dir, `${split}.tsv`);
    writeFileSync(file, `${lines.slice(0, rows + 1).join('\n')}\n`);
    return file;
  };
  return { train: slice('train', trainRows), dev: slice('dev', devRows) };
}

/** Training flags for a classifier small enough to train in a few seconds. */
export const TINY_CLASSIFIER = ['--units', '12', '--embedding-dim', '24', '--vocab-size', '2500', '--max-length', '24', '--batch-size', '32', '--lr', '0.005'];

/** Sentences whose sentiment even a tiny SST-2 model gets right. */
export const KNOWN = [
  ['a wonderful , moving and beautiful film', 'positive'],
  ['the best movie of the year', 'positive'],
  ['a boring , stupid and terrible mess', 'negative'],
  ['the worst movie ever made', 'negative'],
] as const;
