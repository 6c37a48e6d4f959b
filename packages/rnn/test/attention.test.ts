import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLayersModel, saveModel, setGlobalSeed, SeededRandom } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import {
  AdditiveAttention,
  AttentionPooling,
  DotProductAttention,
  MaskedConv1D,
  MultiHeadSelfAttention,
  arrayData,
  textClassifier,
  train,
  withAttentionWeights,
  type CellType,
  type TextClassifierOptions,
} from '../src/index.js';
import { maxAbsDiff, setupBackend, tempDir } from './helpers.js';

beforeAll(setupBackend);

/** sum(f(inputs) * R) for a fixed random R, so every output element matters. */
type Scalarize = (inputs: tf.Tensor[]) => tf.Scalar;

function scalarizer(layer: tfl.layers.Layer, mask?: tf.Tensor | (tf.Tensor | null)[]): Scalarize {
  let r: tf.Tensor | undefined;
  return (inputs) =>
    tf.tidy(() => {
      const out = layer.apply(inputs.length === 1 ? inputs[0]! : inputs, mask ? { mask } : {}) as tf.Tensor;
      if (!r) r = tf.keep(tf.randomNormal(out.shape, 0, 1, 'float32', 7));
      return tf.sum(tf.mul(out, r)) as tf.Scalar;
    });
}

/** Compares analytic and central-difference gradients at a few coordinates of every input and weight. */
function gradientCheck(layer: tfl.layers.Layer, inputs: tf.Tensor[], f: Scalarize): void {
  f(inputs).dispose(); // builds the layer
  const rng = new SeededRandom(3);
  const eps = 1e-2;
  const check = (analytic: Float32Array, perturb: (i: number, delta: number) => number, size: number, what: string) => {
    for (let k = 0; k < 6; k++) {
      const i = rng.int(size);
      const numeric = (perturb(i, eps) - perturb(i, -eps)) / (2 * eps);
      const a = analytic[i]!;
      expect(Math.abs(a - numeric), `${what}[${i}] analytic ${a} numeric ${numeric}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(numeric)));
    }
  };
  // Inputs.
  const grads = tf.grads((...xs: tf.Tensor[]) => f(xs))(inputs);
  inputs.forEach((x, j) => {
    const base = x.dataSync().slice();
    const analytic = grads[j]!.dataSync() as Float32Array;
    check(
      analytic,
      (i, d) => {
        const v = base.slice();
        v[i]! += d;
        const xs = inputs.map((t, jj) => (jj === j ? tf.tensor(v, t.shape) : t));
        const out = f(xs);
        const val = out.dataSync()[0]!;
        tf.dispose([out, xs[j]!]);
        return val;
      },
      x.size,
      `input ${j}`,
    );
  });
  tf.dispose(grads);
  // Weights.
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  if (vars.length === 0) return;
  const { value, grads: wg } = tf.variableGrads(() => f(inputs), vars);
  value.dispose();
  for (const v of vars) {
    const base = v.dataSync().slice();
    const analytic = wg[v.name]!.dataSync() as Float32Array;
    check(
      analytic,
      (i, d) => {
        const vals = base.slice();
        vals[i]! += d;
        v.assign(tf.tensor(vals, v.shape));
        const out = f(inputs);
        const val = out.dataSync()[0]!;
        out.dispose();
        v.assign(tf.tensor(base, v.shape));
        return val;
      },
      v.size,
      v.name,
    );
  }
  tf.dispose(Object.values(wg));
}

describe('attention layers', () => {
  const B = 2;
  const T = 5;
  const D = 6;
  const mask = () => tf.tensor2d([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], [B, T]);

  it('numeric gradient check: AttentionPooling', () => {
    setGlobalSeed(1);
    const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 1);
    const layer = new AttentionPooling({ units: 4 });
    gradientCheck(layer, [x], scalarizer(layer, mask()));
  });

  it('numeric gradient check: AdditiveAttention', () => {
    setGlobalSeed(2);
    const q = tf.randomNormal([B, 3, D], 0, 1, 'float32', 2);
    const v = tf.randomNormal([B, T, D], 0, 1, 'float32', 3);
    const layer = new AdditiveAttention({ units: 4 });
    gradientCheck(layer, [q, v], scalarizer(layer, [null, mask()]));
  });

  it('numeric gradient check: DotProductAttention', () => {
    const q = tf.randomNormal([B, 3, D], 0, 1, 'float32', 4);
    const v = tf.randomNormal([B, T, D], 0, 1, 'float32', 5);
    const k = tf.randomNormal([B, T, D], 0, 1, 'float32', 6);
    const layer = new DotProductAttention();
    gradientCheck(layer, [q, v, k], scalarizer(layer, [null, mask(), null]));
  });

  it('numeric gradient check: MultiHeadSelfAttention', () => {
    setGlobalSeed(3);
    const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 7);
    const layer = new MultiHeadSelfAttention({ numHeads: 2, residual: true });
    gradientCheck(layer, [x], scalarizer(layer, mask()));
  });

  it('numeric gradient check: MaskedConv1D', () => {
    setGlobalSeed(4);
    const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 8);
    const layer = new MaskedConv1D({ filters: 3, kernelSize: 3, activation: 'tanh' });
    gradientCheck(layer, [x], scalarizer(layer, mask()));
  });

  it('padded positions get zero weight and do not change the output', () => {
    setGlobalSeed(5);
    const pooling = new AttentionPooling({ units: 4, returnAttentionWeights: true });
    const mha = new MultiHeadSelfAttention({ numHeads: 2 });
    const add = new AdditiveAttention({ units: 4 });
    const x = tf.randomNormal([1, 3, D], 0, 1, 'float32', 9);
    const junk = tf.randomNormal([1, 4, D], 0, 5, 'float32', 10);
    const padded = tf.concat([x, junk], 1);
    const m3 = tf.ones([1, 3]);
    const m7 = tf.tensor2d([[1, 1, 1, 0, 0, 0, 0]]);
    const [p3, w3] = pooling.apply(x, { mask: m3 }) as tf.Tensor[];
    const [p7, w7] = pooling.apply(padded, { mask: m7 }) as tf.Tensor[];
    expect(maxAbsDiff(p3!, p7!)).toBeLessThan(1e-5);
    expect(Array.from(w7!.dataSync().slice(3))).toEqual([0, 0, 0, 0]);
    expect(tf.sum(w3!).dataSync()[0]).toBeCloseTo(1, 5);
    const s3 = mha.apply(x, { mask: m3 }) as tf.Tensor;
    const s7 = mha.apply(padded, { mask: m7 }) as tf.Tensor;
    expect(maxAbsDiff(s3, tf.slice(s7, [0, 0, 0], [1, 3, D]))).toBeLessThan(1e-5);
    const a3 = add.apply([x, x], { mask: [m3, m3] }) as tf.Tensor;
    const a7 = add.apply([x, padded], { mask: [m3, m7] }) as tf.Tensor;
    expect(maxAbsDiff(a3, a7)).toBeLessThan(1e-5);
  });

  it('save -> load gives identical outputs for a model using every layer, with no extra code', async () => {
    setGlobalSeed(6);
    const ids = tfl.input({ shape: [null], dtype: 'int32' });
    const emb = tfl.layers.embedding({ inputDim: 10, outputDim: D, maskZero: true }).apply(ids) as tfl.SymbolicTensor;
    const conv = new MaskedConv1D({ filters: D }).apply(emb) as tfl.SymbolicTensor;
    const self = new MultiHeadSelfAttention({ numHeads: 3 }).apply(conv) as tfl.SymbolicTensor;
    const add = new AdditiveAttention({ units: 5 }).apply([self, conv]) as tfl.SymbolicTensor;
    const dot = new DotProductAttention({ scaled: false }).apply([add, self]) as tfl.SymbolicTensor;
    const pooled = new AttentionPooling({ units: 3 }).apply(dot) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: ids, outputs: pooled });
    const dir = await tempDir();
    await saveModel(model, dir);
    const loaded = await loadLayersModel(dir);
    const x = tf.tensor2d([[1, 2, 3, 0], [4, 5, 6, 7]], [2, 4], 'int32');
    expect(maxAbsDiff(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor)).toBe(0);
    expect(loaded.layers.map((l) => l.getClassName())).toEqual(expect.arrayContaining(['SeqlabAttentionPooling', 'SeqlabMultiHeadSelfAttention']));
  });

  it('rejects bad arguments', () => {
    expect(() => new AttentionPooling({ units: 0 })).toThrow(/units must be a positive integer, got 0/);
    expect(() => new MultiHeadSelfAttention({ numHeads: 1.5 })).toThrow(/numHeads/);
  });
});

describe('textClassifier', () => {
  const variants: [string, Partial<TextClassifierOptions>][] = [
    ['BiLSTM + pooling', {}],
    ['BiGRU + self-attention', { cell: 'gru', attention: 'self', heads: 2 }],
    ['SimpleRNN, last state', { cell: 'simple' as CellType, bidirectional: false, attention: 'none' }],
    ['CNN-RNN hybrid, 2 layers', { conv: { filters: 8, kernelSize: 3 }, layers: 2 }],
  ];

  it.each(variants)('%s: extra padding does not change predictions; save/load identical; one training step on this backend', async (_name, opts) => {
    setGlobalSeed(7);
    const model = textClassifier({ vocabSize: 20, embeddingDim: 8, units: 6, dropout: 0.2, ...opts });
    const short = tf.tensor2d([[3, 4, 5, 0], [6, 7, 8, 9]], [2, 4], 'int32');
    const long = tf.tensor2d([[3, 4, 5, 0, 0, 0, 0], [6, 7, 8, 9, 0, 0, 0]], [2, 7], 'int32');
    const a = model.predict(short) as tf.Tensor;
    const b = model.predict(long) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    const dir = await tempDir();
    await saveModel(model, dir);
    const loaded = await loadLayersModel(dir);
    expect(maxAbsDiff(a, loaded.predict(short) as tf.Tensor)).toBe(0);
    const data = arrayData([[1, 2, 3, 0], [4, 5, 0, 0], [6, 7, 8, 9]], [0, 1, 1], { batchSize: 3 });
    const opt = tf.train.adam(0.01);
    await train(model, data, { epochs: 1, optimizer: opt });
    await expectNoLeakedTensors(() => train(model, data, { epochs: 1, optimizer: opt, clipNorm: 1, classWeights: [1, 2] }), { label: 'train step' });
    tf.dispose([short, long, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('the companion model returns per-token attention weights that ignore padding', () => {
    setGlobalSeed(8);
    const model = textClassifier({ vocabSize: 20, embeddingDim: 8, units: 6 });
    const explain = withAttentionWeights(model);
    const [probs, weights] = explain.predict(tf.tensor2d([[3, 4, 5, 0, 0]], [1, 5], 'int32')) as tf.Tensor[];
    expect(maxAbsDiff(probs!, model.predict(tf.tensor2d([[3, 4, 5]], [1, 3], 'int32')) as tf.Tensor)).toBeLessThan(1e-5);
    const w = Array.from(weights!.dataSync());
    expect(w.slice(3)).toEqual([0, 0]);
    expect(w.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    expect(() => withAttentionWeights(textClassifier({ vocabSize: 5, attention: 'none' }))).toThrow(/attention: 'none'/);
  });

  it('rejects bad options', () => {
    expect(() => textClassifier({ vocabSize: 10, numClasses: 1 })).toThrow(/numClasses must be at least 2, got 1/);
    expect(() => textClassifier({ vocabSize: 10, attention: 'global' as 'none' })).toThrow(/attention must be one of/);
  });
});
