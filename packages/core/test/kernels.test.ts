import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '../src/testing.js';
import { initBackend, registerTrainingKernels, restoreStockKernels, SeededRandom } from '../src/index.js';

function randomData(n: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

async function onBackend<T>(name: 'cpu' | 'wasm', fn: () => T): Promise<T> {
  await tf.setBackend(name);
  return fn();
}

describe('UnsortedSegmentSum (embedding gradient)', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const cases = [
    { rows: 50, inner: [8], numSegments: 13 },
    { rows: 7, inner: [3, 2], numSegments: 4 },
    { rows: 1, inner: [5], numSegments: 1 },
  ];
  for (const c of cases) {
    it(`matches the stock cpu kernel for ${c.rows} rows x [${c.inner}] into ${c.numSegments} segments`, async () => {
      const rng = new SeededRandom(c.rows);
      const x = randomData(c.rows * c.inner.reduce((a, b) => a * b, 1), 3);
      const ids = Int32Array.from({ length: c.rows }, () => rng.int(c.numSegments));
      const run = () =>
        tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(x, [c.rows, ...c.inner]), tf.tensor1d(ids, 'int32'), c.numSegments).arraySync());
      const wasm = await onBackend('wasm', run);
      const ours = await onBackend('cpu', run);
      restoreStockKernels();
      const stock = await onBackend('cpu', run);
      registerTrainingKernels();
      const flat = (v: unknown) => (v as number[]).flat(3) as number[];
      expect(flat(ours).length).toBe(flat(stock).length);
      // Same sums, possibly added in another order: equal to float32 rounding.
      flat(ours).forEach((v, i) => expect(v).toBeCloseTo(flat(stock)[i]!, 5));
      flat(wasm).forEach((v, i) => expect(v).toBeCloseTo(flat(stock)[i]!, 5));
    });
  }

  it('drops rows whose segment id is out of range, as TensorFlow does', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() =>
      tf.unsortedSegmentSum(tf.tensor2d([[1], [2], [4]]), tf.tensor1d([0, 5, 1], 'int32'), 2).arraySync(),
    );
    expect(out).toEqual([[1], [4]]);
  });

  it('lets an embedding + BiLSTM classifier train on wasm with the same gradients as cpu', async () => {
    const build = () => {
      const m = tfl.sequential();
      m.add(tfl.layers.embedding({ inputDim: 50, outputDim: 8, inputLength: 6, embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 1 }) }));
      m.add(tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: 4, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }), recurrentInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }) as tfl.RNN }));
      m.add(tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }));
      return m;
    };
    const rng = new SeededRandom(9);
    const ids = Array.from({ length: 4 * 6 }, () => rng.int(50));
    const grads = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const model = build();
      const out = tf.tidy(() => {
        const x = tf.tensor2d(ids, [4, 6], 'int32');
        const y = tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2);
        const { grads: g } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar);
        return Object.values(g).map((t) => Array.from(t.dataSync()));
      });
      model.dispose();
      return out;
    };
    const wasm = await grads('wasm');
    const cpu = await grads('cpu');
    expect(wasm.length).toBe(cpu.length);
    wasm.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(cpu[i]![j]!, 4)));
    // The embedding gradient is not all zero: the kernel really ran.
    expect(wasm[0]!.some((v) => v !== 0)).toBe(true);
  });
});

describe('Conv2DBackpropFilter (Conv1D gradient) on wasm', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const cases: Array<{ name: string; x: [number, number, number, number]; f: [number, number, number, number]; strides: [number, number]; pad: 'same' | 'valid' }> = [
    { name: 'conv1d-like, same padding', x: [2, 1, 11, 3], f: [1, 3, 3, 5], strides: [1, 1], pad: 'same' },
    { name: 'strided, valid padding', x: [3, 6, 7, 2], f: [2, 3, 2, 4], strides: [2, 2], pad: 'valid' },
    { name: 'even filter, same padding', x: [1, 5, 8, 2], f: [2, 4, 2, 3], strides: [1, 2], pad: 'same' },
  ];
  for (const c of cases) {
    it(`matches the cpu backend: ${c.name}`, async () => {
      const xv = randomData(c.x.reduce((a, b) => a * b, 1), 1);
      const fv = randomData(c.f.reduce((a, b) => a * b, 1), 2);
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const g = tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, c.strides, c.pad))))(tf.tensor4d(fv, c.f));
          return Array.from(g.dataSync());
        });
      const wasm = await onBackend('wasm', run);
      const cpu = await onBackend('cpu', run);
      expect(wasm.length).toBe(cpu.length);
      wasm.forEach((v, i) => expect(v).toBeCloseTo(cpu[i]!, 3));
    });
  }

  it('trains a Conv1D layer on wasm without leaking tensors', async () => {
    await tf.setBackend('wasm');
    const model = tfl.sequential({
      layers: [tfl.layers.conv1d({ inputShape: [12, 4], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }), tfl.layers.globalMaxPooling1d({}), tfl.layers.dense({ units: 1 })],
    });
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    const x = tf.randomNormal([16, 12, 4], 0, 1, 'float32', 5);
    const y = tf.randomNormal([16, 1], 0, 1, 'float32', 6);
    // The first fit creates the optimizer's slots; later epochs must not add tensors.
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    const h = await expectNoLeakedTensors(() => model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 }));
    expect((h.history.loss as number[]).every(Number.isFinite)).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('BatchMatMul with transpose flags on wasm', () => {
  beforeAll(async () => {
    await initBackend();
  });
  for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
    it(`matches cpu for transposeA=${ta}, transposeB=${tb} (rank 2 and 3)`, async () => {
      const a2 = randomData(5 * 7, 11);
      const b2 = randomData(7 * 3, 12);
      const a3 = randomData(2 * 5 * 7, 13);
      const b3 = randomData(2 * 7 * 3, 14);
      const run = () =>
        tf.tidy(() => {
          const A2 = ta ? tf.tensor2d(a2, [7, 5]) : tf.tensor2d(a2, [5, 7]);
          const B2 = tb ? tf.tensor2d(b2, [3, 7]) : tf.tensor2d(b2, [7, 3]);
          const A3 = ta ? tf.tensor3d(a3, [2, 7, 5]) : tf.tensor3d(a3, [2, 5, 7]);
          const B3 = tb ? tf.tensor3d(b3, [2, 3, 7]) : tf.tensor3d(b3, [2, 7, 3]);
          return [...tf.matMul(A2, B2, ta, tb).dataSync(), ...tf.matMul(A3, B3, ta, tb).dataSync()];
        });
      const before = tf.memory().numTensors;
      const wasm = await onBackend('wasm', run);
      expect(tf.memory().numTensors).toBe(before);
      const cpu = await onBackend('cpu', run);
      expect(wasm.length).toBe(5 * 3 + 2 * 5 * 3);
      wasm.forEach((v, i) => expect(v).toBeCloseTo(cpu[i]!, 4));
    });
  }
});

describe('cpu SplitV and Reverse (LSTM gates, backward RNN layers)', () => {
  beforeAll(async () => {
    await initBackend();
  });
  const x = randomData(3 * 4 * 10, 21);
  const ops = {
    'split into 4 along the last axis': () => tf.split(tf.tensor3d(x, [3, 4, 10]), [2, 3, 1, 4], -1),
    'split evenly along axis 1': () => tf.split(tf.tensor3d(x, [3, 4, 10]), 2, 1),
    'reverse the time axis': () => [tf.reverse(tf.tensor3d(x, [3, 4, 10]), 1)],
    'reverse two axes': () => [tf.reverse(tf.tensor3d(x, [3, 4, 10]), [0, 2])],
    'reverse int32': () => [tf.reverse(tf.tensor2d(Int32Array.from({ length: 12 }, (_, i) => i), [3, 4], 'int32'), 1)],
    'gradient of split and reverse': () => [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.reverse(tf.split(t, [1, 3], 1)[1]!, 1), tf.reshape(tf.range(0, 30), [3, 1, 10]))))(tf.tensor3d(x, [3, 4, 10]))],
  };
  for (const [name, op] of Object.entries(ops)) {
    it(`${name}: same values and shapes as the stock kernels`, async () => {
      await tf.setBackend('cpu');
      const run = () => tf.tidy(() => op().map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) })));
      const ours = run();
      restoreStockKernels();
      const stock = run();
      registerTrainingKernels();
      expect(ours).toEqual(stock);
    });
  }
});
