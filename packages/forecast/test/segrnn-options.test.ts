import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSeries, SegRnnForecaster, sliceSeries, type SegRnnOptions } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

// Two noise-free sines; validation is the continuation of training.
const n = 400;
const sine = createSeries({
  a: Array.from({ length: n }, (_, t) => Math.sin((2 * Math.PI * t) / 16)),
  b: Array.from({ length: n }, (_, t) => 0.5 * Math.sin((2 * Math.PI * t) / 10 + 1)),
});
const train = sliceSeries(sine, 0, 320);
const validation = sliceSeries(sine, 320 - 32, n);
const small: SegRnnOptions = { lookback: 32, horizon: 16, segmentLength: 8, hidden: 16, batchSize: 64, dropout: 0, seed: 4 };

/** Exposes the weights to check how they were drawn. */
class Probe extends SegRnnForecaster {
  weight(name: string): Float32Array {
    return this.params[name]!.dataSync() as Float32Array;
  }
}

function std(v: Float32Array): number {
  const m = v.reduce((a, x) => a + x, 0) / v.length;
  return Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / v.length);
}
const maxAbs = (v: Float32Array) => v.reduce((a, x) => Math.max(a, Math.abs(x)), 0);

/** MSE of a model's forecasts over every validation window and column (unscaled models). */
async function validationMse(model: SegRnnForecaster): Promise<number> {
  const H = model.horizon;
  const L = model.lookback;
  const origins = Array.from({ length: validation.values[0]!.length - L - H + 1 }, (_, i) => L + i);
  const preds = await model.predictAt(validation, origins, H);
  let se = 0;
  let count = 0;
  origins.forEach((o, k) => validation.values.forEach((v, c) => {
    for (let h = 0; h < H; h++) {
      se += (v[o + h]! - preds[k]![c]![h]!) ** 2;
      count++;
    }
  }));
  return se / count;
}

describe('SegRNN training options', () => {
  it('lrWarmEpochs keeps the initial learning rate for that many epochs, then decays each epoch', async () => {
    const lrs = async (options: SegRnnOptions) => {
      const model = new SegRnnForecaster({ ...small, epochs: 5, learningRate: 0.01, lrDecay: 0.5, ...options });
      await model.fit(train, { calibration: false });
      const out = model.report!.epochs.map((e) => e.learningRate!);
      model.dispose();
      return out;
    };
    const close = (got: number[], want: number[]) => {
      expect(got).toHaveLength(want.length);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 8));
    };
    close(await lrs({}), [0.01, 0.005, 0.0025, 0.00125, 0.000625]);
    close(await lrs({ lrWarmEpochs: 3 }), [0.01, 0.01, 0.01, 0.005, 0.0025]);
    expect(() => new SegRnnForecaster({ lrWarmEpochs: 0 })).toThrow(/lrWarmEpochs must be a positive integer, got 0/);
  }, 60_000);

  it("init 'torch' draws PyTorch's defaults (uniform biases, N(0, 1) embeddings) and trains without leaks", async () => {
    const d = small.hidden!;
    const w = small.segmentLength!;
    const torch = new Probe({ ...small, init: 'torch', epochs: 8, learningRate: 5e-3, patience: 8 });
    // One epoch at a negligible learning rate leaves the initial draw in place.
    const fresh = new Probe({ ...small, init: 'torch', epochs: 1, learningRate: 1e-12 });
    const glorot = new Probe({ ...small, epochs: 1, learningRate: 1e-12 });
    await fresh.fit(train, { calibration: false });
    await glorot.fit(train, { calibration: false });
    const embB = fresh.weight('embB');
    expect(maxAbs(embB)).toBeGreaterThan(0);
    expect(maxAbs(embB)).toBeLessThanOrEqual(1 / Math.sqrt(w) + 1e-6);
    expect(maxAbs(fresh.weight('outB'))).toBeGreaterThan(0);
    expect(maxAbs(fresh.weight('outB'))).toBeLessThanOrEqual(1 / Math.sqrt(d) + 1e-6);
    expect(maxAbs(fresh.weight('embW'))).toBeLessThanOrEqual(1 / Math.sqrt(w) + 1e-6);
    expect(maxAbs(fresh.weight('outW'))).toBeLessThanOrEqual(1 / Math.sqrt(d) + 1e-6);
    // N(0, 1) embeddings reach beyond the glorot init's U(-1, 1).
    const emb = Float32Array.from([...fresh.weight('pos'), ...fresh.weight('chan')]);
    expect(std(emb)).toBeGreaterThan(0.7);
    expect(std(emb)).toBeLessThan(1.3);
    expect(maxAbs(emb)).toBeGreaterThan(1);
    expect(maxAbs(glorot.weight('embB'))).toBeLessThan(1e-9);
    expect(maxAbs(glorot.weight('pos'))).toBeLessThanOrEqual(1);
    fresh.dispose();
    glorot.dispose();

    await expectNoLeakedTensors(() => torch.fit(train, { validation, calibration: false }), { allowed: 10, label: 'segrnn torch-init fit (10 weight variables)' });
    const first = torch.report!.epochs[0]!.valLoss!;
    expect(torch.report!.bestValLoss!).toBeLessThan(first / 2);
    torch.dispose();
    expect(() => new SegRnnForecaster({ init: 'he' as 'torch' })).toThrow(/init must be 'glorot' or 'torch', got "he"/);
  }, 60_000);

  it('emaDecay: validation scores the averaged weights, and those are the weights the fitted model keeps', async () => {
    const options: SegRnnOptions = { ...small, scaler: 'none', loss: 'mse', epochs: 6, learningRate: 1e-2, patience: 6, validationStride: 1 };
    const averaged = new SegRnnForecaster({ ...options, emaDecay: 0.9 });
    await expectNoLeakedTensors(() => averaged.fit(train, { validation, calibration: false }), { allowed: 10, label: 'segrnn fit with weight averaging (10 weight variables)' });
    // The best validation loss is the MSE of the kept model's forecasts over every validation window.
    expect(await validationMse(averaged)).toBeCloseTo(averaged.report!.bestValLoss!, 4);
    const plain = new SegRnnForecaster(options);
    await plain.fit(train, { validation, calibration: false });
    // Same seed and batches: the averaged run's validation curve is its own, not the raw weights'.
    expect(averaged.report!.epochs.map((e) => e.valLoss)).not.toEqual(plain.report!.epochs.map((e) => e.valLoss));
    expect(averaged.report!.epochs.map((e) => e.trainLoss)).toEqual(plain.report!.epochs.map((e) => e.trainLoss));
    averaged.dispose();
    plain.dispose();
    expect(() => new SegRnnForecaster({ emaDecay: 1 })).toThrow(/emaDecay must be in \[0, 1\), got 1/);
  }, 60_000);

  it('validationLoss: training on MAE, early stopping compares (and reports) validation MSE', async () => {
    const options: SegRnnOptions = { ...small, scaler: 'none', loss: 'mae', epochs: 4, learningRate: 1e-2, patience: 4, validationStride: 1 };
    const model = new SegRnnForecaster({ ...options, validationLoss: 'mse' });
    await expectNoLeakedTensors(() => model.fit(train, { validation, calibration: false }), { allowed: 10, label: 'segrnn fit, MSE validation (10 weight variables)' });
    expect(await validationMse(model)).toBeCloseTo(model.report!.bestValLoss!, 4);
    const mae = new SegRnnForecaster(options);
    await mae.fit(train, { validation, calibration: false });
    // Same training (same losses), but validation measured in MAE.
    expect(mae.report!.epochs.map((e) => e.trainLoss)).toEqual(model.report!.epochs.map((e) => e.trainLoss));
    expect(mae.report!.epochs[0]!.valLoss).not.toBeCloseTo(model.report!.epochs[0]!.valLoss!, 4);
    model.dispose();
    mae.dispose();
    expect(() => new SegRnnForecaster({ validationLoss: 'rmse' as 'mse' })).toThrow(/validationLoss must be 'mse' or 'mae', got "rmse"/);
  }, 60_000);
});
