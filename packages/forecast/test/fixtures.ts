/** What the forecast tests share: the repository's data folder and a scratch folder per test file. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/** The repository's `data` folder (real series: classic_ts, m4, ett ...). */
export const DATA = path.resolve(import.meta.dirname, '../../../data');

/** Makes a scratch folder for the calling test file; it is removed after the file's tests. */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
