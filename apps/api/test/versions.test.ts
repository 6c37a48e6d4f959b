/**
 * The hot reload model workers use (VersionedPipelines) on real published TREC classifiers (tiny recurrent ones, whose weights are tensors): a
 * new version loads while the old one keeps answering, requests then move to it, the old one is
 * disposed only after its last in-flight request (tensors back to the baseline), a pin rolls
 * back, and a version that fails to load leaves the served one in place.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { liveTensors } from '@seqlab/core/testing';
import { ModelStore, pipeline, servedModelDir, train, type TextClassificationPipeline } from '@seqlab/tasks';
import { VersionedPipelines, versionOf } from '../src/workers/versions.js';
import { trecTsv } from './job-helpers.js';

let tmp: string;
let store: ModelStore;

async function publishClassifier(seed: number): Promise<number> {
  const out = path.join(tmp, `run-${seed}`);
  await train('text-classification', path.join(tmp, 'trec.tsv'), { model: 'rnn', epochs: 1, units: 8, embeddingDim: 8, maxLength: 16, vocabSize: 500, seed, out } as never);
  return (await store.publish('questions', out)).version;
}

beforeAll(async () => {
  await initBackend();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-api-versions-'));
  writeFileSync(path.join(tmp, 'trec.tsv'), trecTsv(200));
  store = new ModelStore(path.join(tmp, 'models'));
  await publishClassifier(1);
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('VersionedPipelines', () => {
  it('swaps to a published version without dropping requests, disposing the old one after its last request', async () => {
    const baseline = liveTensors();
    const served = new VersionedPipelines<TextClassificationPipeline>(0);
    const resolveDir = () => servedModelDir(store.root, 'questions')!;
    const load = (dir: string) => pipeline('text-classification', dir);
    const use = () => served.use('questions', resolveDir, load, async (clf, folder) => ({ version: folder.version, label: (await clf.predict(['How many feet are in a mile ?']))[0]!.label }));

    expect(await use()).toEqual({ version: 1, label: expect.any(String) });
    const loadedOne = liveTensors();
    expect(loadedOne).toBeGreaterThan(baseline);
    // A request holds version 1 while version 2 is published and taken up.
    let release!: () => void;
    const held = served.use('questions', resolveDir, load, async (clf, folder) => {
      await new Promise<void>((r) => (release = r));
      return { version: folder.version, label: (await clf.predict(['Who wrote Hamlet ?']))[0]!.label };
    });
    expect(await publishClassifier(2)).toBe(2);
    // The old version answers while the new one loads.
    let answer = await use();
    for (let i = 0; answer.version !== 2 && i < 200; i++) answer = await new Promise((r) => setTimeout(r, 25)).then(use);
    expect(answer.version).toBe(2);
    // Version 1 is still loaded for the held request, which still answers.
    release();
    expect((await held).version).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(liveTensors()).toBe(loadedOne);

    await store.pin('questions', 1);
    for (let i = 0; answer.version !== 1 && i < 200; i++) answer = await new Promise((r) => setTimeout(r, 25)).then(use);
    expect(answer.version).toBe(1);
    served.clear();
    await new Promise((r) => setTimeout(r, 50));
    expect(liveTensors()).toBe(baseline);
  });

  it('keeps serving the current version when a new one cannot be loaded', async () => {
    await store.pin('questions', null);
    const served = new VersionedPipelines<TextClassificationPipeline>(0);
    const resolveDir = () => servedModelDir(store.root, 'questions')!;
    const load = (dir: string) => pipeline('text-classification', dir);
    const version = () => served.use('questions', resolveDir, load, (_clf, folder) => folder.version);
    expect(await version()).toBe(2);
    // A version folder whose files are broken: loading it fails, version 2 keeps answering.
    mkdirSync(path.join(store.root, 'questions', '9'));
    writeFileSync(path.join(store.root, 'questions', '9', 'config.json'), '{ not json');
    expect(await version()).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(await version()).toBe(2);
    expect(versionOf(path.join(store.root, 'questions', '2'))).toBe(2);
    served.clear();
  });
});
