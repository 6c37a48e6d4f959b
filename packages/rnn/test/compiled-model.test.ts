import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, setGlobalSeed } from '@seqlab/core';
import { attentionPooling, CompiledModel } from '../src/index.js';

// The fast path must give tf.layers' numbers for every Bidirectional merge mode and for the
// attention weights of padded rows (including a row that is all padding).

const V = 30;
const B = 3;
const T = 6;
// Row 0 full, row 1 padded after 3 tokens, row 2 all padding.
const IDS = Int32Array.from([4, 9, 2, 17, 5, 11, 3, 8, 21, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

function classifier(mergeMode: 'concat' | 'sum' | 'ave' | 'mul'): tfl.LayersModel {
  const ids = tfl.input({ shape: [null], dtype: 'int32' });
  const embedded = tfl.layers.embedding({ inputDim: V, outputDim: 5, maskZero: true }).apply(ids) as tfl.SymbolicTensor;
  const rnn = tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: 4, returnSequences: true }) as tfl.RNN, mergeMode }).apply(embedded) as tfl.SymbolicTensor;
  const [pooled, weights] = attentionPooling({ units: 6, returnAttentionWeights: true }).apply(rnn) as tfl.SymbolicTensor[];
  const probs = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(pooled!) as tfl.SymbolicTensor;
  return tfl.model({ inputs: ids, outputs: [probs, weights!] });
}

describe('CompiledModel: Bidirectional merges and attention pooling', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  for (const mergeMode of ['concat', 'sum', 'ave', 'mul'] as const) {
    it(`${mergeMode}: same probabilities and attention weights as tf.layers; padding gets weight 0`, () => {
      setGlobalSeed(5);
      const model = classifier(mergeMode);
      const compiled = CompiledModel.compile(model);
      expect(compiled).toBeDefined();
      const [probs, weights] = tf.tidy(() => (model.predict(tf.tensor2d(IDS, [B, T], 'int32')) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
      const [fastProbs, fastWeights] = compiled!.predict(IDS, B, T);
      expect(fastProbs!.length).toBe(probs!.length);
      expect(fastWeights!.length).toBe(weights!.length);
      for (let i = 0; i < probs!.length; i++) expect(Math.abs(fastProbs![i]! - probs![i]!)).toBeLessThan(1e-5);
      for (let i = 0; i < weights!.length; i++) expect(Math.abs(fastWeights![i]! - weights![i]!)).toBeLessThan(1e-5);
      expect(Array.from(fastWeights!.subarray(T + 3, 3 * T))).toEqual(new Array(2 * T - 3).fill(0));
      const firstRow = fastWeights!.subarray(0, T).reduce((a, b) => a + b, 0);
      expect(firstRow).toBeCloseTo(1, 5);
      model.dispose();
    });
  }

  it('final states of a bidirectional GRU (no sequences): the same probabilities as tf.layers, before and after the projected tables', () => {
    setGlobalSeed(6);
    const ids = tfl.input({ shape: [null], dtype: 'int32' });
    const embedded = tfl.layers.embedding({ inputDim: V, outputDim: 5, maskZero: true }).apply(ids) as tfl.SymbolicTensor;
    const last = tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 4 }) as tfl.RNN, mergeMode: 'concat' }).apply(embedded) as tfl.SymbolicTensor;
    const probs = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(last) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: ids, outputs: probs });
    const compiled = CompiledModel.compile(model)!;
    const expected = tf.tidy(() => (model.predict(tf.tensor2d(IDS, [B, T], 'int32')) as tf.Tensor).dataSync() as Float32Array);
    // The first call multiplies per token; the tokens seen then reach V and later calls gather rows.
    for (let call = 0; call < 3; call++) {
      const [got] = compiled.predict(IDS, B, T);
      for (let i = 0; i < expected.length; i++) expect(Math.abs(got![i]! - expected[i]!)).toBeLessThan(1e-5);
    }
    expect(compiled.stats.projectionTables).toBe(2);
    model.dispose();
  });
});
