import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ModelFileError } from '@seqlab/core/base';

/** Reads a model folder's JSON file; a missing or malformed file is a {@link ModelFileError} naming it. */
export async function readJson<T>(file: string, what: string): Promise<T> {
  if (!existsSync(file)) throw new ModelFileError(file, `does not exist (${what})`, 'not_found');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    throw new ModelFileError(file, `is not valid JSON (${(err as Error).message})`);
  }
}
