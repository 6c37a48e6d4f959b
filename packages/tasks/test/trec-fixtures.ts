/**
 * What the text-classification training tests share: real TREC questions as rows, and the wasm
 * backend plus a scratch folder that lives as long as the test file.
 */
import { readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { initBackend } from '@seqlab/core';
import { repoRoot } from '../src/index.js';

/** One TREC question: its coarse class (`HUM`), fine class (`HUM:ind`) and text. */
export interface TrecRow {
  label: string;
  fineLabel: string;
  text: string;
}

/** Every question of a file under data/trec (`train_5500.label`, `TREC_10.label`), in file order. */
export function trecRows(file: string): TrecRow[] {
  return readFileSync(path.join(repoRoot()!, 'data/trec', file), 'latin1')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const fine = l.slice(0, l.indexOf(' '));
      return { label: fine.split(':')[0]!, fineLabel: fine, text: l.slice(l.indexOf(' ') + 1).trim() };
    });
}

/** A row without its fine class: what a plain coarse-label training sees. */
export function coarse({ label, text }: TrecRow): { label: string; text: string } {
  return { label, text };
}

/**
 * Starts the wasm backend and makes a scratch folder before the file's tests, removing it after;
 * returns a function that joins paths inside that folder.
 */
export function useScratchDir(prefix: string): (...parts: string[]) => string {
  let dir: string | undefined;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });
  return (...parts) => {
    if (dir === undefined) throw new Error('the scratch folder is made in beforeAll: use it inside tests or hooks');
    return path.join(dir, ...parts);
  };
}
