import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { addBias, gruCombine, gruCombineShared } from '../src/neural/cells.js';

beforeAll(async () => {
  await initBackend();
});

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

// SegRNN's decoder ops have hand-written gradients; they must compute what the taped ops do.
describe('SegRNN decoder ops with hand-written gradients', () => {
  it('gruCombineShared: same states and gradients as broadcasting gruCombine', async () => {
    const [B, m, d] = [5, 3, 4];
    const inputs = tf.tidy(() => [
      ...[0, 1, 2].map((s) => tf.randomNormal([B, m, d], 0, 1.5, 'float32', 10 + s)),
      ...[0, 1, 2, 3].map((s) => tf.randomNormal([B, d], 0, 1.5, 'float32', 20 + s)),
    ]);
    // A weighting makes every output element's gradient different.
    const weights = tf.randomNormal([B, m, d], 0, 1, 'float32', 30);
    type Seven = [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const shared = (...[xr, xz, xn, hr, hz, hn, h]: Seven): tf.Tensor =>
      gruCombineShared([xr, xz, xn] as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D], [hr, hz, hn] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D], h as tf.Tensor2D);
    const taped = (...[xr, xz, xn, hr, hz, hn, h]: Seven): tf.Tensor =>
      gruCombine(tf.concat([xr, xz, xn], 2), tf.expandDims(tf.concat([hr, hz, hn], 1), 1), tf.expandDims(h, 1), d);
    await expectNoLeakedTensors(() => {
      tf.tidy(() => {
        expect(maxDiff(shared(...(inputs as Seven)), taped(...(inputs as Seven)))).toBeLessThan(1e-5);
        const loss = (f: typeof shared) => (...a: tf.Tensor[]) => tf.sum(tf.mul(f(...(a as Seven)), weights));
        const g1 = tf.grads(loss(shared))(inputs);
        const g2 = tf.grads(loss(taped))(inputs);
        g1.forEach((g, i) => expect(maxDiff(g, g2[i]!), `gradient of input ${i}`).toBeLessThan(1e-5));
        // The gradients are not trivially zero.
        g1.forEach((g) => expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(1e-3));
      });
    });
    tf.dispose([...inputs, weights]);
  });

  it('addBias: same sum and gradients as tf.add over rows', async () => {
    const y = tf.randomNormal([6, 2, 3], 0, 1, 'float32', 1);
    const b = tf.tensor1d([0.5, -1, 2]);
    const w = tf.randomNormal([6, 2, 3], 0, 1, 'float32', 2);
    await expectNoLeakedTensors(() => {
      tf.tidy(() => {
        expect(maxDiff(addBias(y, b), tf.add(y, b))).toBe(0);
        const [gy1, gb1] = tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(addBias(a, c), w)))([y, b]);
        const [gy2, gb2] = tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.add(a, c), w)))([y, b]);
        expect(maxDiff(gy1!, gy2!)).toBe(0);
        expect(maxDiff(gb1!, gb2!)).toBeLessThan(1e-5);
      });
    });
    tf.dispose([y, b, w]);
  });
});
