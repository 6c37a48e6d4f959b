import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, initBackend, LazyAdam, SeededRandom } from '../src/index.js';

const ROWS = 12;
const WIDTH = 5;
const LR = 0.05;

function randomData(n: number, rng: SeededRandom): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** A dense [ROWS, WIDTH] gradient that is zero outside `rows`. */
function densify(rows: Int32Array, values: Float32Array): Float32Array {
  const out = new Float32Array(ROWS * WIDTH);
  rows.forEach((r, k) => out.set(values.subarray(k * WIDTH, (k + 1) * WIDTH), r * WIDTH));
  return out;
}

/** An embedding-like matrix and a dense bias, each twice: one for LazyAdam, one for tf.train.adam. */
function setup(seed: number) {
  const rng = new SeededRandom(seed);
  const table = randomData(ROWS * WIDTH, rng);
  const bias = randomData(3, rng);
  const lazyTable = tf.variable(tf.tensor2d(table, [ROWS, WIDTH]), true, `lazy_table_${seed}`);
  const lazyBias = tf.variable(tf.tensor1d(bias), true, `lazy_bias_${seed}`);
  const denseTable = tf.variable(tf.tensor2d(table, [ROWS, WIDTH]), true, `dense_table_${seed}`);
  const denseBias = tf.variable(tf.tensor1d(bias), true, `dense_bias_${seed}`);
  const lazy = new LazyAdam({ learningRate: LR, variables: [lazyTable, lazyBias], sparse: [lazyTable] });
  const dense = tf.train.adam(LR);
  return { rng, lazy, dense, lazyTable, lazyBias, denseTable, denseBias, dispose: () => {
      tf.dispose([lazyTable, lazyBias, denseTable, denseBias]);
      lazy.dispose();
      dense.dispose();
    },
  };
}

type Setup = ReturnType<typeof setup>;

/** One step of both optimizers with the same gradient (`rows` of the table, all of the bias). */
function stepBoth(s: Setup, rows: number[]): void {
  const r = Int32Array.from(rows);
  const values = randomData(rows.length * WIDTH, s.rng);
  const biasGrad = randomData(3, s.rng);
  tf.tidy(() => {
    s.lazy.step({ [s.lazyBias.name]: tf.tensor1d(biasGrad) }, new Map([[s.lazyTable, { rows: r, values }]]));
    s.dense.applyGradients([
      { name: s.denseTable.name, tensor: tf.tensor2d(densify(r, values), [ROWS, WIDTH]) },
      { name: s.denseBias.name, tensor: tf.tensor1d(biasGrad) },
    ]);
  });
}

const row = (t: tf.Tensor, i: number) => (t.dataSync() as Float32Array).slice(i * WIDTH, (i + 1) * WIDTH);

describe('LazyAdam (sparse embedding rows)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('equals dense Adam on rows touched every step and on dense variables', () => {
    const s = setup(1);
    for (let step = 0; step < 20; step++) stepBoth(s, step % 3 === 0 ? [1, 4, 7, 9] : [9, 1, 4]);
    for (const r of [1, 4, 9]) expect(maxAbsDiff(row(s.lazyTable, r), row(s.denseTable, r))).toBeLessThan(1e-5);
    expect(maxAbsDiff(s.lazyBias.dataSync(), s.denseBias.dataSync())).toBeLessThan(1e-5);
    // A row both never touched stays where it started in both.
    expect(maxAbsDiff(row(s.lazyTable, 0), row(s.denseTable, 0))).toBe(0);
    s.dispose();
  });

  it('leaves untouched rows unchanged, where dense Adam keeps moving them by their momentum', () => {
    const s = setup(2);
    stepBoth(s, [2, 3]);
    const afterFirst = row(s.lazyTable, 3);
    expect(maxAbsDiff(afterFirst, row(s.denseTable, 3))).toBeLessThan(1e-6);
    for (let step = 0; step < 5; step++) stepBoth(s, [2]);
    expect(maxAbsDiff(row(s.lazyTable, 3), afterFirst)).toBe(0);
    expect(maxAbsDiff(row(s.denseTable, 3), afterFirst)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(row(s.lazyTable, 2), row(s.denseTable, 2))).toBeLessThan(1e-5);
    s.dispose();
  });

  it('keeps the tensor count flat across steps and gives a clone of the weights its own values', () => {
    const s = setup(3);
    stepBoth(s, [0, 5]);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 10; step++) stepBoth(s, [5, 6, 11]);
    expect(tf.memory().numTensors).toBe(before);
    const kept = tf.clone(s.lazyTable);
    const keptValues = kept.dataSync().slice();
    stepBoth(s, [5]);
    expect(maxAbsDiff(kept.dataSync(), keptValues)).toBe(0);
    expect(maxAbsDiff(row(s.lazyTable, 5), keptValues.slice(5 * WIDTH, 6 * WIDTH))).toBeGreaterThan(0);
    kept.dispose();
    s.dispose();
  });

  it("saves its state in Adam's layout: a plain Adam continues from it identically", async () => {
    const s = setup(4);
    for (let step = 0; step < 4; step++) stepBoth(s, [3, 8]);
    const saved = await s.lazy.getWeights();
    expect(saved.map((w) => w.name)).toEqual(['iter', `${s.lazyTable.name}/m`, `${s.lazyBias.name}/m`, `${s.lazyTable.name}/v`, `${s.lazyBias.name}/v`]);
    const denseSaved = await s.dense.getWeights();
    expect(saved.map((w) => w.tensor.shape)).toEqual(denseSaved.map((w) => w.tensor.shape));
    for (let i = 1; i < saved.length; i++) expect(maxAbsDiff(saved[i]!.tensor.dataSync(), denseSaved[i]!.tensor.dataSync())).toBeLessThan(1e-5);
    // Restored into a second LazyAdam: the next steps match the first one's.
    const twin = tf.variable(tf.clone(s.lazyTable), true, 'twin_table');
    const twinBias = tf.variable(tf.clone(s.lazyBias), true, 'twin_bias');
    const restored = new LazyAdam({ learningRate: LR, variables: [twin, twinBias], sparse: [twin] });
    await restored.setWeights(saved.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) })));
    expect(restored.stepsTaken).toBe(4);
    const grad = { rows: Int32Array.from([3, 8]), values: randomData(2 * WIDTH, s.rng) };
    const biasGrad = tf.tensor1d(randomData(3, s.rng));
    s.lazy.step({ [s.lazyBias.name]: biasGrad }, new Map([[s.lazyTable, grad]]));
    restored.step({ [twinBias.name]: biasGrad }, new Map([[twin, grad]]));
    expect(maxAbsDiff(twin.dataSync(), s.lazyTable.dataSync())).toBeLessThan(1e-6);
    expect(maxAbsDiff(twinBias.dataSync(), s.lazyBias.dataSync())).toBeLessThan(1e-6);
    tf.dispose([saved[0]!.tensor, denseSaved[0]!.tensor, twin, twinBias, biasGrad]);
    restored.dispose();
    s.dispose();
  });

  it('frees all it made on dispose', () => {
    const table = tf.variable(tf.zeros([ROWS, WIDTH]), true, 'freed_table');
    const bias = tf.variable(tf.zeros([3]), true, 'freed_bias');
    const before = tf.memory().numTensors;
    const lazy = new LazyAdam({ learningRate: LR, variables: [table, bias], sparse: [table] });
    tf.tidy(() => lazy.step({ [bias.name]: tf.ones([3]) }, new Map([[table, { rows: Int32Array.from([1]), values: new Float32Array(WIDTH).fill(1) }]])));
    lazy.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([table, bias]);
  });

  it('rejects bad rows and shapes with a clear error', () => {
    const s = setup(5);
    expect(() => s.lazy.step({}, new Map([[s.lazyTable, { rows: Int32Array.from([ROWS]), values: new Float32Array(WIDTH) }]]))).toThrow(/row 12 is outside/);
    expect(() => s.lazy.step({}, new Map([[s.lazyTable, { rows: Int32Array.from([1]), values: new Float32Array(3) }]]))).toThrow(BadInputError);
    expect(() => new LazyAdam({ learningRate: LR, variables: [s.lazyBias], sparse: [s.lazyBias] })).toThrow(/2-D float32/);
    s.dispose();
  });
});
