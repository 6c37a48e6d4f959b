import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Sentences of an SST-2 split (header dropped). */
export function sst2(split: 'train' | 'dev' | 'test'): string[] {
  return readFileSync(path.join(ROOT, 'data/sst2', `${split}.tsv`), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t')[0]!);
}

/** The whole tiny-shakespeare text. */
export function shakespeare(): string {
  return readFileSync(path.join(ROOT, 'data/tiny_shakespeare/input.txt'), 'utf8');
}

export const dataFile = (...p: string[]): string => path.join(ROOT, 'data', ...p);
