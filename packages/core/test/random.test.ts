import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, SeededRandom, setGlobalSeed } from '../src/index.js';
import { expectNoLeakedTensors, liveTensors, TensorLeakError } from '../src/testing.js';

beforeAll(async () => {
  await initBackend();
});
afterEach(() => setGlobalSeed(undefined));

function initialWeights(): number[] {
  const m = tfl.sequential({ layers: [tfl.layers.lstm({ units: 3, inputShape: [4, 2] }), tfl.layers.dense({ units: 1 })] });
  const w = m.getWeights().flatMap((t) => Array.from(t.dataSync()));
  m.dispose();
  return w;
}

describe('seeded randomness', () => {
  it('makes unseeded initializers reproducible', () => {
    setGlobalSeed(42);
    const a = initialWeights();
    setGlobalSeed(42);
    const b = initialWeights();
    setGlobalSeed(43);
    const c = initialWeights();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('makes dropout masks reproducible', () => {
    const drop = () =>
      tf.tidy(() => {
        const layer = tfl.layers.dropout({ rate: 0.5 });
        return Array.from((layer.apply(tf.ones([64]), { training: true }) as tf.Tensor).dataSync());
      });
    setGlobalSeed('x');
    const a = drop();
    setGlobalSeed('x');
    expect(drop()).toEqual(a);
    expect(a.filter((v) => v === 0).length).toBeGreaterThan(10);
  });

  it('SeededRandom shuffles and samples deterministically', () => {
    const a = new SeededRandom(7).shuffle([1, 2, 3, 4, 5, 6, 7, 8]);
    const b = new SeededRandom(7).shuffle([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(a).toEqual(b);
    expect([...a].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const p = new SeededRandom(3).permutation(100);
    expect(new Set(p).size).toBe(100);
    const r = new SeededRandom(1);
    const draws = Array.from({ length: 2000 }, () => r.int(4));
    for (let k = 0; k < 4; k++) expect(draws.filter((d) => d === k).length).toBeGreaterThan(400);
    expect(() => r.int(0)).toThrow(/positive integer, got 0/);
    const normals = Array.from({ length: 4000 }, () => r.normal());
    const mean = normals.reduce((s, v) => s + v, 0) / normals.length;
    expect(Math.abs(mean)).toBeLessThan(0.06);
  });
});

describe('expectNoLeakedTensors', () => {
  it('passes clean code and returns its result', async () => {
    const v = await expectNoLeakedTensors(() => tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]));
    expect(v).toBe(3);
  });
  it('fails a function that leaves tensors behind, saying how many', async () => {
    let leaked: tf.Tensor | undefined;
    const err = await expectNoLeakedTensors(() => {
      leaked = tf.ones([2]);
    }, { label: 'demo' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TensorLeakError);
    expect(String(err)).toMatch(/tensor leak in demo: 1 tensors left behind/);
    leaked?.dispose();
  });
  it('allows tensors returned on purpose', async () => {
    const before = liveTensors();
    const t = await expectNoLeakedTensors(() => tf.zeros([3]), { allowed: 1 });
    expect(liveTensors()).toBe(before + 1);
    t.dispose();
  });
});
