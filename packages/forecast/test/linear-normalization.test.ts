import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createForecaster, DLinearForecaster, LinearForecaster, loadForecaster, readCsvSeries, sliceSeries, splitBySpec } from '../src/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data');
const air = readCsvSeries(path.join(DATA, 'classic_ts/airline-passengers.csv'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-linear-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('per-window normalisation of the linear models', () => {
  const train = sliceSeries(air, 0, 120);
  it('dlinear picks the normalisation with the lowest validation error, each error a real validation MSE', async () => {
    const split = splitBySpec(air, '84:24:36', 24);
    const auto = await new DLinearForecaster({ lookback: 24, horizon: 12, scaler: 'none' }).fit(split.train, { validation: split.val, calibration: false });
    const errs = auto.normalizationErrors!;
    expect(Object.keys(errs).sort()).toEqual(['last', 'none', 'revin']);
    const argmin = (Object.entries(errs) as Array<[string, number]>).sort((a, b) => a[1] - b[1])[0]![0];
    expect(auto.normalization).toBe(argmin);
    // On this trending series the plain fit validates worst.
    expect(errs.none!).toBeGreaterThan(Math.max(errs.last!, errs.revin!));
    for (const norm of ['none', 'last', 'revin'] as const) {
      const fixed = await new DLinearForecaster({ lookback: 24, horizon: 12, scaler: 'none', normalization: norm }).fit(split.train, { validation: split.val, calibration: false });
      const origins = Array.from({ length: 24 - 12 + 1 }, (_, k) => 24 + k);
      const preds = await fixed.predictAt(split.val, origins, 12);
      let se = 0;
      origins.forEach((o, k) => preds[k]![0]!.forEach((p, h) => (se += (split.val.values[0]![o + h]! - p) ** 2)));
      expect(errs[norm]).toBeCloseTo(se / (origins.length * 12), 6);
    }
  });
  it('revin forecasts are equivariant to shifting and scaling the series; linear keeps last-value subtraction by default', async () => {
    const shifted = { ...train, values: [train.values[0]!.map((v) => 3 * v + 1000)] };
    const opts = { lookback: 24, horizon: 12, normalization: 'revin' as const, lambda: 0.01, scaler: 'none' as const };
    const a = await (await new LinearForecaster(opts).fit(train)).predict(12, { level: null });
    const b = await (await new LinearForecaster(opts).fit(shifted)).predict(12, { level: null });
    // Equal up to the small constant under RevIN's square root.
    b.mean[0]!.forEach((v, h) => expect(v).toBeCloseTo(3 * a.mean[0]![h]! + 1000, 3));
    expect(new LinearForecaster({}).normalization).toBe('last');
    expect(new LinearForecaster({ subtractLast: false }).normalization).toBe('none');
    expect(() => new LinearForecaster({ subtractLast: true, normalization: 'revin' })).toThrow(/give either normalization or subtractLast, not both/);
    expect(() => createForecaster('dlinear', { normalization: 'zscore' })).toThrow(/normalization/);
  });
  it('the chosen normalisation is saved with the model', async () => {
    const model = await new DLinearForecaster({ lookback: 24, horizon: 12 }).fit(train);
    await model.save(path.join(tmp, 'dl'));
    const loaded = (await loadForecaster(path.join(tmp, 'dl'))) as DLinearForecaster;
    expect(loaded.normalization).toBe(model.normalization);
    expect((await loaded.predict(12, { level: null })).mean).toEqual((await model.predict(12, { level: null })).mean);
  });
});
