import { readFile } from 'node:fs/promises';
import { ModelFileError } from '@seqlab/core';

/** The first fields of a saved forecaster document: its format, version 1, kind and options. */
export interface SavedHeader<F extends string> {
  format: F;
  version: 1;
  name: string;
  options: Record<string, unknown>;
}

/** The header of a document about to be saved (the options copied). */
export function savedHeader<F extends string>(format: F, name: string, options: object): SavedHeader<F> {
  return { format, version: 1, name, options: { ...options } as Record<string, unknown> };
}

/**
 * The parsed JSON document of a saved model, checked to be of `format`, version 1. A missing file is `not_found` (`missingHint` may
 * explain it better, e.g. when the folder holds another kind of model); an unreadable file or
 * invalid JSON is `model_file_corrupt`.
 */
export async function readSavedJson<F extends string>(file: string, format: F, what: string, missingHint?: () => string | undefined): Promise<SavedHeader<F>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ModelFileError(file, `cannot be read (${code})`, 'model_file_corrupt');
    throw new ModelFileError(file, missingHint?.() ?? `file not found (not a saved ${what})`, 'not_found');
  }
  let saved: SavedHeader<F> | undefined;
  try {
    saved = JSON.parse(text) as SavedHeader<F> | undefined;
  } catch (err) {
    throw new ModelFileError(file, `is not valid JSON (${(err as Error).message})`);
  }
  if (saved?.format !== format || saved.version !== 1) throw new ModelFileError(file, `is not a seqlab ${what} (format/version)`);
  return saved;
}
