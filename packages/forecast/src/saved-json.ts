import { readFile } from 'node:fs/promises';
import { ModelFileError } from '@seqlab/core';

/**
 * The parsed JSON document of a saved model. A missing file is `not_found` (`missingHint` may
 * explain it better, e.g. when the folder holds another kind of model); an unreadable file or
 * invalid JSON is `model_file_corrupt`.
 */
export async function readSavedJson(file: string, what: string, missingHint?: () => string | undefined): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ModelFileError(file, `cannot be read (${code})`, 'model_file_corrupt');
    throw new ModelFileError(file, missingHint?.() ?? `file not found (not a saved ${what})`, 'not_found');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ModelFileError(file, `is not valid JSON (${(err as Error).message})`);
  }
}
