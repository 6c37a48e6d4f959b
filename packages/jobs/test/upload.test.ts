/** Uploads streamed to disk: the bytes arrive whole under the final name, over-limit ones leave nothing. */
import { createReadStream, mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@seqlab/tasks';
import { saveUpload } from '../src/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-upload-'));
const AIRLINE = path.join(repoRoot()!, 'data/classic_ts/airline-passengers.csv');

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('saveUpload', () => {
  it('streams a file to the folder under a new name with its extension', async () => {
    const saved = await saveUpload(createReadStream(AIRLINE, { highWaterMark: 256 }), { dir: path.join(tmp, 'ok'), maxBytes: 1 << 20, extension: '.csv' });
    expect(saved.path.endsWith('.csv')).toBe(true);
    expect(readFileSync(saved.path)).toEqual(readFileSync(AIRLINE));
    expect(saved.bytes).toBe(readFileSync(AIRLINE).length);
  });

  it('stops an upload over the limit and leaves no file', async () => {
    const dir = path.join(tmp, 'big');
    const size = readFileSync(AIRLINE).length;
    await expect(saveUpload(createReadStream(AIRLINE, { highWaterMark: 256 }), { dir, maxBytes: size - 1 })).rejects.toMatchObject({
      code: 'limit_exceeded',
      details: { limit: 'maxUploadBytes', max: size - 1 },
    });
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses an empty upload and a bad extension', async () => {
    const dir = path.join(tmp, 'empty');
    await expect(saveUpload((async function* () {})(), { dir, maxBytes: 10 })).rejects.toThrow(/the data is empty/);
    expect(await fs.readdir(dir)).toEqual([]);
    await expect(saveUpload(createReadStream(AIRLINE), { dir, maxBytes: 1 << 20, extension: 'csv/../x' })).rejects.toThrow(/bad file extension/);
  });
});
