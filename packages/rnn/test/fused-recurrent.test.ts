import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, setGlobalSeed } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { CompiledModel, fusedGru, fusedLstm, fusedSimpleRnn, FusedLSTM, loadRecurrentTextClassifier, loadTextGenerator, setLoadedRecurrentImplementation, textClassifier } from '../src/index.js';

// The fused layers must be drop-in replacements for tf.layers' LSTM / GRU / SimpleRNN: same
// outputs and gradients (float32, 1e-4) for every cell, with masks, both directions, every
// return mode and initial states, on both backends that run without tfjs-node.

type Cell = 'lstm' | 'gru' | 'simple';
const B = 3;
const T = 6;
const D = 5;
const H = 7;

function layerFor(cell: Cell, implementation: 'fused' | 'stock', args: Record<string, unknown>): tfl.RNN {
  const common = { units: H, ...args, implementation };
  if (cell === 'lstm') return fusedLstm({ ...common, recurrentActivation: 'sigmoid' } as never);
  if (cell === 'gru') return fusedGru({ ...common, recurrentActivation: 'hardSigmoid' } as never);
  return fusedSimpleRnn(common as never);
}

interface Case {
  name: string;
  args: Record<string, unknown>;
  masked: boolean;
  bidirectional: boolean;
  initialState: boolean;
}

const CASES: Case[] = [
  { name: 'last output', args: {}, masked: false, bidirectional: false, initialState: false },
  { name: 'sequences, masked', args: { returnSequences: true }, masked: true, bidirectional: false, initialState: false },
  { name: 'sequences + states, initial state, masked', args: { returnSequences: true, returnState: true }, masked: true, bidirectional: false, initialState: true },
  { name: 'goBackwards, masked, states', args: { goBackwards: true, returnState: true }, masked: true, bidirectional: false, initialState: false },
  { name: 'bidirectional sequences, masked', args: { returnSequences: true }, masked: true, bidirectional: true, initialState: false },
];

// Rows of different lengths: padding at the end, a fully padded row start, and a full row.
const MASK = [
  [1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 0],
  [1, 1, 0, 0, 0, 0],
];

let maskTensor: tf.Tensor2D;

function run(layer: tf.serialization.Serializable & tfl.layers.Layer, x: tf.Tensor, c: Case, states: tf.Tensor[]): tf.Tensor[] {
  const kwargs: Record<string, unknown> = {};
  if (c.masked) kwargs.mask = maskTensor;
  if (c.initialState) kwargs.initialState = states;
  const out = layer.apply(x, kwargs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

// A scalar that weighs every output element differently, so every element's gradient is checked.
function objective(outs: tf.Tensor[]): tf.Scalar {
  return tf.addN(outs.map((o, i) => tf.sum(tf.mul(o, tf.reshape(tf.linspace(0.3 + i, -1.1, o.size), o.shape))))) as tf.Scalar;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

function compare(backend: 'wasm' | 'cpu'): void {
  describe(`fused vs stock on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
      setGlobalSeed(3);
      maskTensor = tf.tensor2d(MASK, [B, T], 'bool');
    });
    afterAll(() => maskTensor.dispose());
    for (const cell of ['lstm', 'gru', 'simple'] as const) {
      for (const c of CASES) {
        it(`${cell}: ${c.name}: outputs and gradients within 1e-4, no leaks`, async () => {
          const nStates = cell === 'lstm' ? 2 : 1;
          const build = (impl: 'fused' | 'stock') => {
            const inner = layerFor(cell, impl, c.args);
            return c.bidirectional ? tfl.layers.bidirectional({ layer: inner, mergeMode: 'concat' }) : inner;
          };
          const stock = build('stock');
          const fused = build('fused');
          const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 11);
          const states = Array.from({ length: nStates }, (_, i) => tf.randomNormal([B, H], 0, 0.5, 'float32', 20 + i));
          tf.dispose(run(stock, x, c, states));
          tf.dispose(run(fused, x, c, states));
          fused.setWeights(stock.getWeights());

          await expectNoLeakedTensors(() => {
            const so = run(stock, x, c, states);
            const fo = run(fused, x, c, states);
            expect(fo.length).toBe(so.length);
            so.forEach((s, i) => {
              expect(fo[i]!.shape).toEqual(s.shape);
              expect(maxAbsDiff(s, fo[i]!)).toBeLessThan(1e-4);
            });
            tf.dispose([...so, ...fo]);

            const gradsOf = (layer: tfl.layers.Layer) => {
              const vars = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
              const { value, grads } = tf.variableGrads(() => objective(run(layer, x, c, states)), vars);
              const dx = tf.grad((xx: tf.Tensor) => objective(run(layer, xx, c, states)))(x);
              const dStates = c.initialState
                ? tf.grads((...ss: tf.Tensor[]) => objective(run(layer, x, c, ss)))(states)
                : [];
              return { value, list: [...vars.map((v) => grads[v.name]!), dx, ...dStates] };
            };
            const sg = gradsOf(stock);
            const fg = gradsOf(fused);
            expect(Math.abs(sg.value.dataSync()[0]! - fg.value.dataSync()[0]!)).toBeLessThan(1e-3);
            expect(fg.list.length).toBe(sg.list.length);
            sg.list.forEach((g, i) => expect(maxAbsDiff(g, fg.list[i]!)).toBeLessThan(1e-4));
            tf.dispose([sg.value, fg.value, ...sg.list, ...fg.list]);
          });
          tf.dispose([x, ...states]);
          stock.dispose();
          fused.dispose();
        });
      }
    }
  });
}

compare('wasm');
compare('cpu');

describe('GRU with resetAfter (Keras convention)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });
  // Keras' GRU with reset_after=True, written out with tf ops one step at a time.
  function reference(x: tf.Tensor3D, W: tf.Tensor2D, U: tf.Tensor2D, bias: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor3D {
    const [b, t] = x.shape;
    const [bi, br] = tf.unstack(bias);
    let h = tf.zeros([b, H]) as tf.Tensor2D;
    const outs: tf.Tensor2D[] = [];
    for (let s = 0; s < t; s++) {
      const xt = tf.add(tf.matMul(tf.reshape(tf.slice(x, [0, s, 0], [b, 1, D]), [b, D]), W), bi!);
      const rec = tf.add(tf.matMul(h, U), br!);
      const [xz, xr, xh] = tf.split(xt, 3, 1);
      const [hz, hr, hh] = tf.split(rec, 3, 1);
      const z = tf.sigmoid(tf.add(xz!, hz!));
      const r = tf.sigmoid(tf.add(xr!, hr!));
      const cand = tf.tanh(tf.add(xh!, tf.mul(r, hh!)));
      const next = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), cand)) as tf.Tensor2D;
      const m = tf.reshape(tf.slice(mask, [0, s], [b, 1]), [b, 1]);
      h = tf.add(tf.mul(m, next), tf.mul(tf.sub(1, m), h)) as tf.Tensor2D;
      outs.push(h);
    }
    return tf.stack(outs, 1) as tf.Tensor3D;
  }

  it('matches a step-by-step reference in outputs and gradients, saves resetAfter, and compiles for inference', async () => {
    const layer = fusedGru({ units: H, returnSequences: true, recurrentActivation: 'sigmoid', resetAfter: true } as never);
    const x = tf.randomNormal([B, T, D], 0, 1, 'float32', 4) as tf.Tensor3D;
    const mask = tf.tensor2d(MASK, [B, T]);
    tf.dispose(layer.apply(x, { mask }) as tf.Tensor);
    const w = layer.getWeights();
    expect(w.map((t) => t.shape)).toEqual([[D, 3 * H], [H, 3 * H], [2, 3 * H]]);
    // Non-zero biases in both rows, so each one's path is exercised.
    layer.setWeights([w[0]!, w[1]!, tf.randomNormal([2, 3 * H], 0, 0.5, 'float32', 9)]);
    const [W, U, bias] = layer.getWeights() as tf.Tensor2D[];
    await expectNoLeakedTensors(() => {
      const f = (xx: tf.Tensor) => objective([layer.apply(xx, { mask }) as tf.Tensor]);
      const g = (xx: tf.Tensor) => objective([reference(xx as tf.Tensor3D, W!, U!, bias!, mask)]);
      tf.tidy(() => {
        expect(maxAbsDiff(layer.apply(x, { mask }) as tf.Tensor, reference(x, W!, U!, bias!, mask))).toBeLessThan(1e-4);
        expect(maxAbsDiff(tf.grad(f)(x), tf.grad(g)(x))).toBeLessThan(1e-4);
        const vars = layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
        const { grads } = tf.variableGrads(() => f(x), vars);
        const ref = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => objective([reference(x, a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, mask)]))([W!, U!, bias!]);
        vars.forEach((v, i) => expect(maxAbsDiff(grads[v.name]!, ref[i]!)).toBeLessThan(1e-4));
      });
    });
    expect(layer.getConfig().resetAfter).toBe(true);
    // A model around it round-trips through JSON (Keras models with reset_after load here) and
    // runs on the inference fast path with the same numbers.
    const ids = tfl.input({ shape: [null], dtype: 'int32' });
    const embedded = tfl.layers.embedding({ inputDim: 20, outputDim: D, maskZero: true }).apply(ids) as tfl.SymbolicTensor;
    const gru = fusedGru({ units: H, recurrentActivation: 'sigmoid', resetAfter: true } as never);
    const model = tfl.model({ inputs: ids, outputs: tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(gru.apply(embedded)) as tfl.SymbolicTensor });
    const again = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as never });
    again.setWeights(model.getWeights());
    const compiled = CompiledModel.compile(again);
    expect(compiled).toBeDefined();
    const idValues = Int32Array.from([3, 5, 7, 0, 0, 1, 2, 3, 4, 5]);
    tf.tidy(() => {
      const xIds = tf.tensor2d(idValues, [2, 5], 'int32');
      const a = model.predict(xIds) as tf.Tensor;
      expect(maxAbsDiff(a, again.predict(xIds) as tf.Tensor)).toBeLessThan(1e-6);
      expect(maxAbsDiff(a, tf.tensor2d(compiled!.predict(idValues, 2, 5)[0]!, [2, 3]))).toBeLessThan(1e-5);
    });
    tf.dispose([x, mask]);
    model.dispose();
    again.dispose();
  });
});

describe('CompiledModel: projected embedding tables', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });
  it('gathers precomputed x.W + b rows once the tokens seen reach the vocabulary, with the same outputs', () => {
    setGlobalSeed(3);
    const V = 40;
    const model = textClassifier({ vocabSize: V, embeddingDim: 12, cell: 'lstm', bidirectional: true, units: 8, attention: 'pooling', numClasses: 2 });
    const compiled = CompiledModel.compile(model)!;
    expect(compiled).toBeDefined();
    // Padded rows (id 0 at the end) exercise the mask on both directions.
    const B2 = 4;
    const T2 = 7;
    const ids = Int32Array.from({ length: B2 * T2 }, (_, i) => (i % T2 >= 5 && i >= T2 * 2 ? 0 : 1 + ((i * 13) % (V - 1))));
    const expected = tf.tidy(() => (model.predict(tf.tensor2d(ids, [B2, T2], 'int32')) as tf.Tensor).dataSync() as Float32Array);
    // 28 tokens per call: the first call is below V = 40 tokens (per-call projection), the third is past it (tables).
    const first = compiled.predict(ids, B2, T2)[0]!;
    expect(compiled.stats.projectionTables).toBe(0);
    compiled.predict(ids, B2, T2);
    const later = compiled.predict(ids, B2, T2)[0]!;
    // One table per direction: V x 4 gates x 8 units x 4 bytes each.
    expect(compiled.stats).toEqual({ projectionTables: 2, projectionTableBytes: 2 * V * 4 * 8 * 4 });
    for (let i = 0; i < expected.length; i++) {
      expect(Math.abs(first[i]! - expected[i]!)).toBeLessThan(1e-5);
      expect(Math.abs(later[i]! - first[i]!)).toBeLessThan(1e-6);
    }
    model.dispose();
  });
});

describe('input dropout on the fused path', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });
  it('drops whole input features of a row for every step while training, nothing at inference', () => {
    const fused = fusedLstm({ units: H, dropout: 0.5, returnSequences: true, recurrentActivation: 'sigmoid' });
    const plain = fusedLstm({ units: H, returnSequences: true, recurrentActivation: 'sigmoid' });
    // One input feature per row is non-zero (at every step): dropping it zeroes the row's input.
    const x = tf.tidy(() => tf.tile(tf.reshape(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32'), D), [8, 1, D]), [1, T, 1]));
    tf.dispose([fused.apply(x) as tf.Tensor, plain.apply(x) as tf.Tensor]);
    plain.setWeights(fused.getWeights());
    const [infer, reference, zeroInput] = tf.tidy(() => [
      fused.apply(x, { training: false }) as tf.Tensor,
      plain.apply(x) as tf.Tensor,
      plain.apply(tf.zerosLike(x)) as tf.Tensor,
    ]);
    expect(maxAbsDiff(infer!, reference!)).toBeLessThan(1e-6);
    let dropped = 0;
    let kept = 0;
    for (let trial = 0; trial < 4; trial++) {
      const train = tf.tidy(() => fused.apply(x, { training: true }) as tf.Tensor);
      const t = train.arraySync() as number[][][];
      const z = zeroInput!.arraySync() as number[][][];
      for (let r = 0; r < 8; r++) {
        const isDropped = t[r]!.every((step, i) => step.every((v, j) => Math.abs(v - z[r]![i]![j]!) < 1e-6));
        if (isDropped) dropped++;
        else kept++;
      }
      train.dispose();
    }
    // Rate 0.5 over 32 rows: both outcomes occur (a failure here has probability ~5e-10).
    expect(dropped).toBeGreaterThan(0);
    expect(kept).toBeGreaterThan(0);
    tf.dispose([x, infer!, reference!, zeroInput!]);
    fused.dispose();
    plain.dispose();
  });
});

describe('numeric gradient check of the fused kernels (float32 central differences)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });
  for (const cell of ['lstm', 'gru', 'simple'] as const) {
    it(`${cell}: analytic gradient of the recurrent kernel matches finite differences`, () => {
      const layer = layerFor(cell, 'fused', { returnSequences: true });
      const x = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 5);
      const mask = tf.tensor2d([[1, 1, 1, 1], [1, 1, 0, 0]], [2, 4], 'bool');
      tf.dispose(layer.apply(x, { mask }) as tf.Tensor);
      const weights = layer.getWeights();
      const f = (U: tf.Tensor) => {
        layer.setWeights([weights[0]!, U, weights[2]!]);
        return tf.tidy(() => objective([layer.apply(x, { mask }) as tf.Tensor]).dataSync()[0]!);
      };
      const U = weights[1]!;
      const recurrent = layer.trainableWeights[1] as unknown as { val: tf.Variable };
      const analytic = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => objective([layer.apply(x, { mask }) as tf.Tensor]), [recurrent.val]);
        return grads[recurrent.val.name]!.dataSync().slice();
      });
      const u = U.dataSync().slice();
      const eps = 1e-2;
      for (const idx of [0, 5, u.length - 1]) {
        const plus = u.slice();
        plus[idx]! += eps;
        const minus = u.slice();
        minus[idx]! -= eps;
        const numeric = (f(tf.tensor(plus, U.shape)) - f(tf.tensor(minus, U.shape))) / (2 * eps);
        expect(Math.abs(numeric - analytic[idx]!)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
      }
      tf.dispose([x, mask]);
      layer.dispose();
    });
  }
});

describe('committed models: fused and stock layers give the same predictions', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });
  afterAll(() => {
    setLoadedRecurrentImplementation('fused');
  });

  it('models/sentiment-glove (BiLSTM ensemble, the sentiment default): probabilities equal to 1e-5', async () => {
    const texts = ['a gorgeous, witty, seductive movie.', 'the plot is nothing but boilerplate clichés from start to finish', 'not bad at all'];
    const positive = (r: { labels: { label: string; score: number }[] }) => r.labels.find((l) => l.label === 'positive')!.score;
    setLoadedRecurrentImplementation('stock');
    const stock = await loadRecurrentTextClassifier('../../models/sentiment-glove');
    const a = await stock.predict(texts);
    stock.dispose();
    setLoadedRecurrentImplementation('fused');
    const fused = await loadRecurrentTextClassifier('../../models/sentiment-glove');
    const b = await fused.predict(texts);
    fused.dispose();
    a.forEach((p, i) => {
      expect(Math.abs(positive(p) - positive(b[i]!))).toBeLessThan(1e-5);
      p.tokens!.forEach((t, j) => expect(Math.abs(t.weight - b[i]!.tokens![j]!.weight)).toBeLessThan(1e-5));
      expect(p.label).toBe(b[i]!.label);
    });
  });

  it('models/shakespeare-char (GRU): the same greedy continuation', async () => {
    setLoadedRecurrentImplementation('stock');
    const stock = await loadTextGenerator('../../models/shakespeare-char', { fastPath: false });
    const a = await stock.generate('ROMEO:', { maxTokens: 40, temperature: 0, seed: 1 });
    const aBeam = await stock.generate('KING:', { maxTokens: 30, beam: 3 });
    stock.dispose();
    setLoadedRecurrentImplementation('fused');
    for (const fastPath of [false, true]) {
      const fused = await loadTextGenerator('../../models/shakespeare-char', { fastPath });
      expect((await fused.generate('ROMEO:', { maxTokens: 40, temperature: 0, seed: 1 })).text).toBe(a.text);
      expect((await fused.generate('KING:', { maxTokens: 30, beam: 3 })).text).toBe(aBeam.text);
      fused.dispose();
    }
  });

  it('a fused model is a tf.layers model: its saved config uses the stock class names', () => {
    const layer = new FusedLSTM({ units: 4 });
    expect(layer.getClassName()).toBe('LSTM');
    expect(tf.serialization.SerializationMap.getMap().classNameMap.LSTM![0]).toBe(FusedLSTM);
  });
});
