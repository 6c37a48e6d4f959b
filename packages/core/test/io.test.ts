import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '../src/testing.js';
import {
  fileSystem,
  initBackend,
  loadGraphModel,
  loadLayersModel,
  ModelFileError,
  registerFileRouter,
  saveModel,
  setGlobalSeed,
  toFloat16Bits,
  writeFileAtomic,
} from '../src/index.js';

let root: string;

/** A small masked BiGRU classifier; with `seed`, its initial weights are that seed's. */
function classifier(seed?: number): tfl.LayersModel {
  if (seed !== undefined) setGlobalSeed(seed);
  const m = tfl.sequential();
  m.add(tfl.layers.embedding({ inputDim: 30, outputDim: 6, inputLength: 5, maskZero: true }));
  m.add(tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 4 }) as tfl.RNN }));
  m.add(tfl.layers.dense({ units: 3, activation: 'softmax' }));
  return m;
}

let ids: tf.Tensor2D;

beforeAll(async () => {
  await initBackend();
  ids = tf.tensor2d([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]], undefined, 'int32');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-io-'));
});
afterAll(async () => {
  ids.dispose();
  await fs.rm(root, { recursive: true, force: true });
});

async function predict(model: tfl.LayersModel): Promise<number[]> {
  const out = model.predict(ids) as tf.Tensor;
  const v = Array.from(await out.data());
  out.dispose();
  return v;
}

/** Loads `dir` and expects exactly `model`'s predictions from it. */
async function expectLoadsSame(dir: string, model: tfl.LayersModel): Promise<void> {
  const loaded = await loadLayersModel(dir);
  try {
    expect(await predict(loaded)).toEqual(await predict(model));
  } finally {
    loaded.dispose();
  }
}

describe('file-system model IO', () => {
  it('saves and loads a LayersModel with identical predictions, without leaking', async () => {
    const model = classifier(1);
    const dir = path.join(root, 'clf');
    await expectNoLeakedTensors(() => saveModel(model, dir));
    const files = await fs.readdir(dir);
    expect(files).toContain('model.json');
    expect(files.filter((f) => /^weights\.[0-9a-f]{16}\.bin$/.test(f))).toHaveLength(1);
    await expectLoadsSame(dir, model);
    model.dispose();
  });

  it('float16 precision halves the weights file and loads back within half-precision error', async () => {
    const model = classifier(2);
    const full = path.join(root, 'clf-f32');
    const half = path.join(root, 'clf-f16');
    await saveModel(model, full);
    await expectNoLeakedTensors(() => saveModel(model, half, { precision: 'float16' }));
    const size = async (dir: string) => {
      const f = (await fs.readdir(dir)).find((n) => n.endsWith('.bin'))!;
      return (await fs.stat(path.join(dir, f))).size;
    };
    expect(await size(half)).toBe((await size(full)) / 2);
    const manifest = JSON.parse(await fs.readFile(path.join(half, 'model.json'), 'utf8')).weightsManifest[0].weights;
    expect(manifest.every((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'float16')).toBe(true);
    const loaded = await loadLayersModel(half);
    // Every weight is the float32 value rounded to 11 significant bits.
    const original = model.getWeights().map((w) => w.dataSync());
    loaded.getWeights().forEach((w, i) => {
      const v = w.dataSync();
      v.forEach((x, j) => {
        const o = original[i]![j]!;
        expect(Math.abs(x - o)).toBeLessThanOrEqual(Math.abs(o) * 2 ** -11 + 2 ** -25);
      });
    });
    const [a, b] = [await predict(model), await predict(loaded)];
    a.forEach((x, i) => expect(b[i]).toBeCloseTo(x, 2));
    await expect(saveModel(model, half, { precision: 'int8' as 'float16' })).rejects.toThrow(/precision must be/);
    model.dispose();
    loaded.dispose();
  });

  it('stores large weights once for sibling models that share them, and checks them on load', async () => {
    const a = classifier(3);
    const b = classifier(4);
    // b takes a's embedding (as ensemble members over one frozen embedding do); its other weights differ.
    b.layers[0]!.setWeights(a.layers[0]!.getWeights());
    const ensemble = path.join(root, 'ensemble');
    // The 30 x 6 float32 embedding is 720 bytes: shared above 500, the other weights are smaller.
    for (const [name, m] of [['member-1', a], ['member-2', b]] as const) await saveModel(m, path.join(ensemble, name), { sharedWeights: { minBytes: 500 } });
    const shared = (await fs.readdir(ensemble)).filter((f) => /^shared\.[0-9a-f]{16}\.bin$/.test(f));
    expect(shared).toHaveLength(1);
    expect((await fs.stat(path.join(ensemble, shared[0]!))).size).toBe(720);
    const manifest = JSON.parse(await fs.readFile(path.join(ensemble, 'member-2', 'model.json'), 'utf8')).weightsManifest;
    expect(manifest.map((g: { paths: string[] }) => g.paths[0])).toEqual([expect.stringMatching(/^weights\./), `../${shared[0]}`]);
    for (const [name, m] of [['member-1', a], ['member-2', b]] as const) await expectLoadsSame(path.join(ensemble, name), m);
    // A changed shared file fails every member's integrity check, by name.
    const file = path.join(ensemble, shared[0]!);
    const bytes = await fs.readFile(file);
    bytes[3] ^= 1;
    await fs.writeFile(file, bytes);
    await expect(loadLayersModel(path.join(ensemble, 'member-1'))).rejects.toThrow(/shared\.[0-9a-f]{16}\.bin.*SHA-256 does not match/);
    // Outside the shared-file form, a path out of the directory is still refused.
    const json = JSON.parse(await fs.readFile(path.join(ensemble, 'member-2', 'model.json'), 'utf8'));
    json.weightsManifest[1].paths = ['../../elsewhere.bin'];
    await fs.writeFile(path.join(ensemble, 'member-2', 'model.json'), JSON.stringify(json));
    await expect(loadLayersModel(path.join(ensemble, 'member-2'))).rejects.toThrow(/points outside the model directory/);
    a.dispose();
    b.dispose();
  });

  it('splits a shared weight larger than maxFileBytes into content-addressed parts that load back as one', async () => {
    const a = classifier(5);
    const dir = path.join(root, 'parts');
    // The 720-byte embedding in parts of at most 256 bytes: 256 + 256 + 208.
    await saveModel(a, path.join(dir, 'member-1'), { sharedWeights: { minBytes: 500, maxFileBytes: 256 } });
    const parts = (await fs.readdir(dir)).filter((f) => /^shared\.[0-9a-f]{16}\.bin$/.test(f));
    const sizes = await Promise.all(parts.map(async (f) => (await fs.stat(path.join(dir, f))).size));
    expect(sizes.sort((x, y) => x - y)).toEqual([208, 256, 256]);
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'member-1', 'model.json'), 'utf8')).weightsManifest;
    expect(manifest[1].paths).toHaveLength(3);
    await expectLoadsSame(path.join(dir, 'member-1'), a);
    // A missing part is named.
    await fs.rm(path.join(dir, manifest[1].paths[2].slice(3)));
    await expect(loadLayersModel(path.join(dir, 'member-1'))).rejects.toThrow(/shared\.[0-9a-f]{16}\.bin: weights file listed in model\.json is missing/);
    await expect(saveModel(a, path.join(dir, 'member-2'), { sharedWeights: { maxFileBytes: 0 } })).rejects.toThrow(/maxFileBytes must be a positive integer, got 0/);
    a.dispose();
  });

  it('rounds float32 to float16 bits like IEEE 754 (nearest even, subnormals, overflow)', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -26)).toBe(0x0000);
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(toFloat16Bits(0.1)).toBe(0x2e66);
    expect(toFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
  });

  it('keeps the optimizer state when asked, so training can resume exactly', async () => {
    const model = classifier();
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
    const y = tf.tensor1d([0, 2], 'float32');
    await model.fit(ids, y, { epochs: 2, verbose: 0 });
    const dir = path.join(root, 'with-opt');
    await saveModel(model, dir, { includeOptimizer: true });
    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
    const groups = new Set(json.weightsManifest[0].weights.map((w: { group?: string }) => w.group));
    expect(groups.has('optimizer')).toBe(true);
    const loaded = await loadLayersModel(dir);
    expect(loaded.optimizer).toBeDefined();
    // One more identical step on each gives identical weights only if the Adam moments came back.
    const fresh = await loadLayersModel(dir);
    fresh.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
    await model.fit(ids, y, { epochs: 1, verbose: 0 });
    await loaded.fit(ids, y, { epochs: 1, verbose: 0 });
    await fresh.fit(ids, y, { epochs: 1, verbose: 0 });
    const [a, b, c] = [await predict(model), await predict(loaded), await predict(fresh)];
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
    // A restarted optimizer (no moments) takes a visibly different step.
    expect(Math.max(...a.map((v, i) => Math.abs(v - c[i]!)))).toBeGreaterThan(1e-4);
    y.dispose();
    [model, loaded, fresh].forEach((m) => m.dispose());
  });

  it('a model loaded with its optimizer state frees that state on dispose', async () => {
    const model = classifier(4);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
    const y = tf.tensor1d([0, 2], 'float32');
    await model.fit(ids, y, { epochs: 1, verbose: 0 });
    const dir = path.join(root, 'clf-opt-dispose');
    await saveModel(model, dir, { includeOptimizer: true });
    const before = tf.memory().numTensors;
    const loaded = await loadLayersModel(dir);
    expect(loaded.optimizer).toBeTruthy();
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
    model.optimizer.dispose();
    model.dispose();
  });

  it('saving with the optimizer leaves no tensors behind (the optimizer iteration scalar)', async () => {
    const model = classifier();
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
    const y = tf.tensor1d([0, 2], 'float32');
    await model.fit(ids, y, { epochs: 1, verbose: 0 });
    await expectNoLeakedTensors(async () => {
      for (let i = 0; i < 3; i++) await saveModel(model, path.join(root, `leak-${i}`), { includeOptimizer: true });
    });
    y.dispose();
    model.dispose();
  });

  it('accepts file:// URLs through the registered router', async () => {
    registerFileRouter();
    const model = classifier();
    const url = `file://${path.join(root, 'routed')}`;
    await model.save(url);
    const loaded = await tfl.loadLayersModel(`${url}/model.json`);
    expect(await predict(loaded)).toEqual(await predict(model));
    model.dispose();
    loaded.dispose();
  });

  it('overwrites atomically: a crash before model.json is replaced leaves the old model loadable', async () => {
    const dir = path.join(root, 'atomic');
    const first = classifier();
    await saveModel(first, dir);
    const before = await predict(first);
    // Simulate a crash in the middle of the next save: its weights are written, model.json is not.
    const second = classifier();
    const crashing = fileSystem(dir);
    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) => {
      void second.save(tf.io.withSaveHandler(async (a) => (resolve(a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    });
    const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
    await writeFileAtomic(path.join(dir, 'weights.ffffffffffffffff.bin'), weights);
    await fs.writeFile(path.join(dir, '.model.json.123.tmp'), '{"modelTopology": {"trunc'); // half-written temp file
    const reloaded = await tfl.loadLayersModel(crashing);
    expect(await predict(reloaded)).toEqual(before);
    // A completed save replaces the model and removes the weights the old one used.
    await saveModel(second, dir);
    const after = await loadLayersModel(dir);
    expect(await predict(after)).toEqual(await predict(second));
    const remaining = (await fs.readdir(dir)).filter((f) => f.endsWith('.bin') && f !== 'weights.ffffffffffffffff.bin');
    expect(remaining).toHaveLength(1);
    [first, second, reloaded, after].forEach((m) => m.dispose());
  });

  describe('damaged files give errors that name the file', () => {
    let dir: string;
    let weightsFile: string;
    beforeAll(async () => {
      dir = path.join(root, 'damaged');
      const model = classifier();
      await saveModel(model, dir);
      model.dispose();
      weightsFile = path.join(dir, (await fs.readdir(dir)).find((f) => f.endsWith('.bin'))!);
    });

    it('corrupted weights (same size) -> SHA-256 mismatch', async () => {
      const good = await fs.readFile(weightsFile);
      const bad = Buffer.from(good);
      bad[10] = bad[10]! ^ 0xff;
      await fs.writeFile(weightsFile, bad);
      const err = await loadLayersModel(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelFileError);
      expect((err as ModelFileError).file).toBe(weightsFile);
      expect(String(err)).toMatch(/SHA-256 does not match/);
      await fs.writeFile(weightsFile, good);
    });

    it('truncated weights -> byte counts', async () => {
      const good = await fs.readFile(weightsFile);
      await fs.writeFile(weightsFile, good.subarray(0, good.length - 7));
      await expect(loadLayersModel(dir)).rejects.toThrow(new RegExp(`${path.basename(weightsFile)}: is ${good.length - 7} bytes but model.json expects ${good.length}`));
      await fs.writeFile(weightsFile, good);
    });

    it('missing weights file and missing model.json', async () => {
      const good = await fs.readFile(weightsFile);
      await fs.rm(weightsFile);
      await expect(loadLayersModel(dir)).rejects.toThrow(/weights file listed in model.json is missing/);
      await fs.writeFile(weightsFile, good);
      await expect(loadLayersModel(path.join(root, 'nowhere'))).rejects.toThrow(/nowhere\/model.json: file not found/);
    });

    it('weights of another model (no seqlab checksum) -> manifest size mismatch', async () => {
      const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
      delete json.seqlab;
      const foreign = path.join(root, 'foreign');
      await fs.mkdir(foreign, { recursive: true });
      await fs.writeFile(path.join(foreign, 'model.json'), JSON.stringify(json));
      await fs.writeFile(path.join(foreign, path.basename(weightsFile)), new Uint8Array(64));
      await expect(loadLayersModel(foreign)).rejects.toThrow(/weights hold 64 bytes but the manifest's \d+ tensors need \d+/);
    });

    it('not JSON, or not a model', async () => {
      const bad = path.join(root, 'garbage');
      await fs.mkdir(bad, { recursive: true });
      await fs.writeFile(path.join(bad, 'model.json'), '{ not json');
      await expect(loadLayersModel(bad)).rejects.toThrow(/model.json: is not valid JSON/);
      await fs.writeFile(path.join(bad, 'model.json'), '{"hello": 1}');
      await expect(loadLayersModel(bad)).rejects.toThrow(/has no "modelTopology"/);
    });
  });

  it('loads a GraphModel in the converter layout (several shards)', async () => {
    // y = x @ W + b, written the way tensorflowjs_converter lays out graph models.
    const dir = path.join(root, 'graph');
    await fs.mkdir(dir, { recursive: true });
    const W = new Float32Array([1, 2, 3, 4, 5, 6]); // [3, 2]
    const b = new Float32Array([0.5, -1]);
    const node = (name: string, op: string, extra: object = {}) => ({ name, op, ...extra });
    const topology = {
      node: [
        node('x', 'Placeholder', { attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } } }),
        node('W', 'Const', { attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '2' }] } } } } }),
        node('b', 'Const', { attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '2' }] } } } } }),
        node('mm', 'MatMul', { input: ['x', 'W'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } }),
        node('y', 'BiasAdd', { input: ['mm', 'b'], attr: { T: { type: 'DT_FLOAT' } } }),
      ],
      versions: { producer: 1 },
    };
    await fs.writeFile(
      path.join(dir, 'model.json'),
      JSON.stringify({
        format: 'graph-model',
        generatedBy: 'test',
        convertedBy: 'hand',
        modelTopology: topology,
        weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [{ name: 'W', shape: [3, 2], dtype: 'float32' }, { name: 'b', shape: [2], dtype: 'float32' }] }],
      }),
    );
    const bytes = new Uint8Array(new Float32Array([...W, ...b]).buffer);
    await fs.writeFile(path.join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, 20));
    await fs.writeFile(path.join(dir, 'group1-shard2of2.bin'), bytes.subarray(20));
    const model = await loadGraphModel(`file://${dir}`);
    const y = tf.tidy(() => Array.from((model.predict(tf.tensor2d([[1, 0, 1]])) as tf.Tensor).dataSync()));
    expect(y).toEqual([1 + 5 + 0.5, 2 + 6 - 1]);
    model.dispose();
    // A missing shard names the shard.
    await fs.rm(path.join(dir, 'group1-shard2of2.bin'));
    await expect(loadGraphModel(dir)).rejects.toThrow(/group1-shard2of2\.bin: weights file listed in model.json is missing/);
  });
});
