import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModelByDigest, initBackend, modelDigest, saveModel, setGlobalSeed, writeModelConfig } from '../src/index.js';

let root: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-digest-'));
});

afterAll(() => fs.rm(root, { recursive: true, force: true }));

async function savedModel(dir: string, seed: number): Promise<void> {
  setGlobalSeed(seed);
  const m = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [4] })] });
  await saveModel(m, dir);
  m.dispose();
  await writeModelConfig(dir, { task: 'text-classification', kind: 'test' }, { classes: ['a', 'b', 'c'] });
}

describe('modelDigest and findModelByDigest', () => {
  it('identify a model by its files wherever it lies, and tell changed weights apart', async () => {
    await savedModel(path.join(root, 'one'), 1);
    await savedModel(path.join(root, 'two'), 2);
    const one = await modelDigest(path.join(root, 'one'));
    expect(one).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Different weights: different content-addressed files, so a different model.json and digest.
    expect(await modelDigest(path.join(root, 'two'))).not.toBe(one);
    await fs.cp(path.join(root, 'one'), path.join(root, 'copy'), { recursive: true });
    await fs.writeFile(path.join(root, 'copy', 'README.md'), '# a card is not part of the model\n');
    expect(await modelDigest(path.join(root, 'copy'))).toBe(one);
    expect(await findModelByDigest(root, one, 'one')).toBe(path.join(root, 'copy'));
    expect(await findModelByDigest(root, 'sha256:0', undefined)).toBeUndefined();
    expect(await findModelByDigest(path.join(root, 'nowhere'), one)).toBeUndefined();
    await fs.mkdir(path.join(root, 'empty'));
    await expect(modelDigest(path.join(root, 'empty'))).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/has no config\.json$/) });
  });
});
