import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, registerTrainingKernels, SeededRandom } from '../src/index.js';
import { expectNoLeakedTensors } from '../src/testing.js';

function randomData(n: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe('wasm Reverse and GatherV2 (backward RNN layers, embedding lookups)', () => {
  beforeAll(async () => {
    await initBackend();
  });
  const x = randomData(3 * 5 * 7, 4);
  const table = randomData(50 * 6, 5);
  const ids = Int32Array.from({ length: 24 }, (_, i) => (i * 17) % 50);
  const ops = {
    'reverse the time axis of [3, 5, 7]': () => [tf.reverse(tf.tensor3d(x, [3, 5, 7]), 1)],
    'reverse axes 0 and 2': () => [tf.reverse(tf.tensor3d(x, [3, 5, 7]), [0, 2])],
    'reverse the last axis': () => [tf.reverse(tf.tensor2d(x, [15, 7]), -1)],
    'reverse a vector': () => [tf.reverse(tf.tensor1d(x))],
    'reverse int32': () => [tf.reverse(tf.tensor2d(Int32Array.from({ length: 12 }, (_, i) => i), [3, 4], 'int32'), 1)],
    'reverse bool': () => [tf.cast(tf.reverse(tf.tensor2d([true, false, false, true, true, false], [2, 3], 'bool'), 1), 'int32')],
    'gather embedding rows': () => [tf.gather(tf.tensor2d(table, [50, 6]), tf.tensor2d(ids, [4, 6], 'int32'))],
    'gather along axis 1': () => [tf.gather(tf.tensor3d(x, [3, 5, 7]), tf.tensor1d([4, 0, 0, 2], 'int32'), 1)],
    'gather int32 values': () => [tf.gather(tf.tensor1d(Int32Array.from({ length: 9 }, (_, i) => 10 * i), 'int32'), tf.tensor1d([8, 1, 1], 'int32'))],
    'slice time steps of [3, 5, 7]': () => [tf.slice(tf.tensor3d(x, [3, 5, 7]), [0, 2, 0], [3, 1, 7])],
    'slice a corner of [3, 5, 7]': () => [tf.slice(tf.tensor3d(x, [3, 5, 7]), [1, 1, 2], [2, 3, 4])],
    'slice whole rows': () => [tf.slice(tf.tensor2d(x, [15, 7]), [4, 0], [6, 7])],
    'slice a vector and an empty slice': () => [tf.slice(tf.tensor1d(x), [10], [20]), tf.slice(tf.tensor2d(x, [15, 7]), [3, 0], [0, 7])],
    'slice int32 and bool': () => [
      tf.slice(tf.tensor2d(Int32Array.from({ length: 12 }, (_, i) => i), [3, 4], 'int32'), [1, 1], [2, 2]),
      tf.cast(tf.slice(tf.tensor2d([true, false, false, true, true, false], [2, 3], 'bool'), [0, 1], [2, 2]), 'int32'),
    ],
    'split and unstack (slices)': () => [...tf.split(tf.tensor3d(x, [3, 5, 7]), [2, 5], 2), ...tf.unstack(tf.tensor3d(x, [3, 5, 7]), 1)],
    'gradient through gather and reverse': () => [
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.reverse(tf.gather(t, tf.tensor2d(ids, [4, 6], 'int32')), 1), tf.reshape(tf.range(0, 36), [1, 6, 6]))))(tf.tensor2d(table, [50, 6])),
    ],
  };
  for (const [name, op] of Object.entries(ops)) {
    // The reference is the cpu backend: the stock wasm Reverse fails on bool, and stock wasm has no
    // UnsortedSegmentSum for the gather gradient.
    it(`${name}: same values and shapes as on cpu, no leaks`, async () => {
      const run = () => tf.tidy(() => op().map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) })));
      await tf.setBackend('wasm');
      let ours: ReturnType<typeof run> = [];
      await expectNoLeakedTensors(() => {
        ours = run();
      });
      await tf.setBackend('cpu');
      const reference = run();
      await tf.setBackend('wasm');
      expect(ours).toEqual(reference);
      expect(ours[0]!.values.length).toBeGreaterThan(0);
    });
  }

  it('names an out-of-range id', async () => {
    await tf.setBackend('wasm');
    expect(() => tf.tidy(() => tf.gather(tf.tensor2d(table, [50, 6]), tf.tensor1d([3, 50], 'int32')))).toThrow(/index value 50 is not in \[0, 49\]/);
  });

  it('is what registerTrainingKernels installs for wasm', () => {
    expect(registerTrainingKernels().replaced).toEqual(expect.arrayContaining(['Reverse@wasm', 'GatherV2@wasm', 'Slice@wasm']));
  });
});
