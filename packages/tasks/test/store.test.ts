/**
 * The versioned model store: publishes become visible in one rename with distinct versions
 * under concurrency (in-process and across processes), idempotency keys stop double
 * publishing, pins roll back, unversioned folders resolve to themselves, a crashed publish
 * leaves nothing visible, and watchers see changes.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readModelConfig } from '@seqlab/core';
import { ModelStore, PIN_FILE, VERSIONS_FILE, repoRoot, servedModelDir, type ResolvedModel } from '../src/index.js';

let tmp: string;
let store: ModelStore;
const SOURCE_MODEL = path.join(repoRoot()!, 'models/question-type');

/** A fresh copy of a real (small) saved model folder, as a finished training leaves it. */
async function finishedModel(tag: string): Promise<string> {
  const dir = path.join(tmp, 'runs', tag);
  await fs.cp(SOURCE_MODEL, dir, { recursive: true });
  return dir;
}

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-store-'));
  store = new ModelStore(path.join(tmp, 'models'));
});

afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('ModelStore.publish', () => {
  it('moves a finished model folder into <name>/<version>/ with the next version and records it', async () => {
    const first = await store.publish('topics', await finishedModel('a'));
    const second = await store.publish('topics', await finishedModel('b'));
    expect([first.version, second.version]).toEqual([1, 2]);
    expect(first.existing).toBe(false);
    expect(existsSync(path.join(tmp, 'runs', 'a'))).toBe(false);
    expect((await readModelConfig(second.dir)).kind).toBe('ensemble');
    expect(await store.versions('topics')).toEqual([1, 2]);
    expect(await store.latest('topics')).toBe(2);
    const manifest = JSON.parse(await fs.readFile(path.join(store.root, 'topics', VERSIONS_FILE), 'utf8')) as { versions: { version: number }[] };
    expect(manifest.versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it('gives concurrent publishers distinct versions, none lost', async () => {
    const sources = await Promise.all(Array.from({ length: 8 }, (_, i) => finishedModel(`c${i}`)));
    // Separate store objects: nothing shared in memory, only the lock file.
    const results = await Promise.all(sources.map((dir) => new ModelStore(store.root).publish('topics', dir)));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await store.versions('topics')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const r of results) expect((await readModelConfig(r.dir)).kind).toBe('ensemble');
  });

  it('gives publishers in separate processes distinct versions', async () => {
    const sources = await Promise.all(Array.from({ length: 6 }, (_, i) => finishedModel(`p${i}`)));
    const script = `import { ModelStore } from '@seqlab/tasks';
      const [root, ...dirs] = process.argv.slice(1);
      const out = [];
      for (const d of dirs) out.push((await new ModelStore(root).publish('topics', d)).version);
      console.log(JSON.stringify(out));`;
    const run = (dirs: string[]): Promise<number[]> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', '--input-type=module', '-e', script, store.root, ...dirs], { cwd: repoRoot() });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim()) as number[]) : reject(new Error(stderr))));
      });
    const [a, b] = await Promise.all([run(sources.slice(0, 3)), run(sources.slice(3))]);
    expect([...a!, ...b!].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('returns the existing version for an idempotency key already published', async () => {
    const first = await store.publish('topics', await finishedModel('a'), { idempotencyKey: 'job-7' });
    const retry = await store.publish('topics', await finishedModel('b'), { idempotencyKey: 'job-7' });
    expect(retry).toMatchObject({ version: first.version, existing: true });
    expect(await store.versions('topics')).toEqual([1]);
    expect(await store.findByKey('topics', 'job-7')).toBe(1);
    expect(await store.findByKey('topics', 'job-8')).toBeUndefined();
  });

  it('publishes a key once when the same key races itself', async () => {
    const sources = await Promise.all(Array.from({ length: 4 }, (_, i) => finishedModel(`r${i}`)));
    const results = await Promise.all(sources.map((dir) => new ModelStore(store.root).publish('topics', dir, { idempotencyKey: 'job-9' })));
    expect(new Set(results.map((r) => r.version))).toEqual(new Set([1]));
    expect(results.filter((r) => !r.existing)).toHaveLength(1);
    expect(await store.versions('topics')).toEqual([1]);
    // The losers' folders go back where they were rather than being thrown away.
    const back = sources.filter((s) => existsSync(s));
    expect(back).toHaveLength(3);
  });

  it('never reuses a version number after a version folder is deleted', async () => {
    await store.publish('topics', await finishedModel('a'));
    const two = await store.publish('topics', await finishedModel('b'));
    await fs.rm(two.dir, { recursive: true });
    expect((await store.publish('topics', await finishedModel('c'))).version).toBe(3);
  });

  it('leaves no visible version after a publish that died before its rename', async () => {
    await store.publish('topics', await finishedModel('a'));
    // What a publisher killed mid-copy leaves behind: a hidden staging folder and its lock.
    const staging = path.join(store.root, 'topics', '.incoming-999-dead');
    await fs.cp(SOURCE_MODEL, staging, { recursive: true });
    expect(await store.versions('topics')).toEqual([1]);
    expect((await store.resolve('topics')).version).toBe(1);
    const old = new Date(Date.now() - 2 * 3_600_000);
    await fs.utimes(staging, old, old);
    await fs.writeFile(path.join(store.root, 'topics', '.publish.lock'), '{}');
    await fs.utimes(path.join(store.root, 'topics', '.publish.lock'), old, old);
    expect((await store.publish('topics', await finishedModel('b'))).version).toBe(2);
    expect(existsSync(staging)).toBe(false);
  });

  it('refuses bad names and folders that are not models', async () => {
    await expect(store.publish('../evil', await finishedModel('a'))).rejects.toThrow(/not a valid model name/);
    await expect(store.publish('topics', path.join(tmp, 'missing'))).rejects.toThrow(/is not a folder/);
    await fs.mkdir(path.join(tmp, 'empty'));
    await expect(store.publish('topics', path.join(tmp, 'empty'))).rejects.toThrow(/is empty/);
    await expect(store.publish('topics', await finishedModel('a'), { idempotencyKey: '' })).rejects.toThrow(/idempotencyKey/);
  });
});

describe('ModelStore.resolve and pin', () => {
  it('serves the newest version, a pinned one while pinned, and the newest again after unpinning', async () => {
    await store.publish('topics', await finishedModel('a'));
    await store.publish('topics', await finishedModel('b'));
    expect(await store.resolve('topics')).toMatchObject({ version: 2, pinned: false, dir: path.join(store.root, 'topics', '2') });
    await store.pin('topics', 1);
    expect(JSON.parse(await fs.readFile(path.join(store.root, 'topics', PIN_FILE), 'utf8'))).toEqual({ version: 1 });
    expect(await store.resolve('topics')).toMatchObject({ version: 1, pinned: true });
    await store.publish('topics', await finishedModel('c'));
    expect((await store.resolve('topics')).version).toBe(1);
    await store.pin('topics', null);
    expect(await store.resolve('topics')).toMatchObject({ version: 3, pinned: false });
    await expect(store.pin('topics', 9)).rejects.toThrow(/no version 9 \(versions: 1, 2, 3\)/);
  });

  it('servedModelDir (synchronous) agrees with resolve for versioned, pinned, unversioned and missing names', async () => {
    await store.publish('topics', await finishedModel('a'));
    await store.publish('topics', await finishedModel('b'));
    expect(servedModelDir(store.root, 'topics')).toBe((await store.resolve('topics')).dir);
    await store.pin('topics', 1);
    expect(servedModelDir(store.root, 'topics')).toBe(path.join(store.root, 'topics', '1'));
    await fs.cp(SOURCE_MODEL, path.join(store.root, 'legacy'), { recursive: true });
    expect(servedModelDir(store.root, 'legacy')).toBe(path.join(store.root, 'legacy'));
    expect(servedModelDir(store.root, 'nothing')).toBeUndefined();
  });

  it('resolves an unversioned folder (config.json directly inside) to itself', async () => {
    await fs.cp(SOURCE_MODEL, path.join(store.root, 'legacy'), { recursive: true });
    const resolved = await store.resolve('legacy');
    expect(resolved).toEqual({ name: 'legacy', dir: path.join(store.root, 'legacy'), version: null, pinned: false });
    expect((await readModelConfig(resolved.dir)).kind).toBe('ensemble');
  });

  it('says which name has no version', async () => {
    await expect(store.resolve('nothing')).rejects.toThrow(/model "nothing" has no published version/);
  });

  it('lists names, versions and the one served', async () => {
    await store.publish('topics', await finishedModel('a'));
    await store.publish('topics', await finishedModel('b'));
    await store.pin('topics', 1);
    await fs.cp(SOURCE_MODEL, path.join(store.root, 'legacy'), { recursive: true });
    expect(await store.list()).toEqual([
      { name: 'legacy', versions: [], served: null, pinned: null, unversioned: true },
      { name: 'topics', versions: [1, 2], served: 1, pinned: 1, unversioned: false },
    ]);
  });
});

describe('ModelStore.watch', () => {
  it('reports a publish, a pin and an unpin, and nothing after close', async () => {
    await store.publish('topics', await finishedModel('a'));
    const seen: ResolvedModel[] = [];
    const watch = store.watch('topics', (m) => seen.push(m), { intervalMs: 20 });
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await new Promise((r) => setTimeout(r, 60));
    await store.publish('topics', await finishedModel('b'));
    await until(1);
    await store.pin('topics', 1);
    await until(2);
    await store.pin('topics', null);
    await until(3);
    watch.close();
    await store.publish('topics', await finishedModel('c'));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((m) => [m.version, m.pinned])).toEqual([
      [2, false],
      [1, true],
      [2, false],
    ]);
  });
});
