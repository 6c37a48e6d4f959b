/**
 * resolveModelDir on the model store's layout: a name with published versions resolves to the
 * version a replica serves (the pin, else the newest), an unversioned folder to itself, by name
 * and by path alike.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelStore, resolveModelDir } from '../src/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'seqlab-resolve-versions-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function modelFolder(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ version: 1, task: 'forecast', kind: 'linear' }));
}

describe('resolveModelDir with versioned folders', () => {
  it('serves the newest version, a pinned one when pinned, and unversioned folders as they are', async () => {
    modelFolder(path.join(root, 'plain'));
    modelFolder(path.join(root, 'topics', '1'));
    modelFolder(path.join(root, 'topics', '2'));
    expect(resolveModelDir('plain', { modelsDir: root })).toEqual({ dir: path.join(root, 'plain'), name: 'plain' });
    expect(resolveModelDir('topics', { modelsDir: root })).toEqual({ dir: path.join(root, 'topics', '2'), name: 'topics' });
    await new ModelStore(root).pin('topics', 1);
    expect(resolveModelDir('topics', { modelsDir: root }).dir).toBe(path.join(root, 'topics', '1'));
    expect(resolveModelDir(path.join(root, 'topics')).dir).toBe(path.join(root, 'topics', '1'));
    await new ModelStore(root).pin('topics', null);
    expect(resolveModelDir('topics', { modelsDir: root, allowPaths: false }).dir).toBe(path.join(root, 'topics', '2'));
  });
});
