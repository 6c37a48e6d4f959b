import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createForecaster, evaluateOnSplit, LinearForecaster, readCsvSeries, Scaler, SeasonalNaiveForecaster, sliceSeries, splitBySpec } from '../src/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data');
const air = readCsvSeries(path.join(DATA, 'classic_ts/airline-passengers.csv'));
const ett = readCsvSeries(path.join(DATA, 'ett/ETTh1.csv'), { targets: ['OT'] });

describe('splitBySpec', () => {
  it('ett, fractions, row counts and dates give the same kind of split', () => {
    expect(splitBySpec(ett, 'ett', 96).bounds).toEqual({ trainEnd: 8640, valEnd: 11520, testEnd: 14400, lookback: 96 });
    expect(splitBySpec(ett, '8640:2880:2880', 96).bounds).toEqual({ trainEnd: 8640, valEnd: 11520, testEnd: 14400, lookback: 96 });
    expect(splitBySpec(air, '0.7:0.1:0.2', 12).bounds).toEqual({ trainEnd: 100, valEnd: 115, testEnd: 144, lookback: 12 });
    expect(splitBySpec(air, '0.5:0.2:0.2', 12).bounds.testEnd).toBe(129);
    // ETTh1 starts 2016-07-01; 12 months of 30 days later is 2017-06-26.
    expect(splitBySpec(ett, '2017-06-26:2017-10-24:2018-02-21', 96).bounds).toEqual({ trainEnd: 8640, valEnd: 11520, testEnd: 14400, lookback: 96 });
    expect(splitBySpec(ett, '2017-06-26 00:00,2017-10-24 00:00', 96).bounds.valEnd).toBe(11520);
    const s = splitBySpec(air, '96:24:24', 12);
    expect(s.val.dates![0]!.toISOString().slice(0, 7)).toBe('1956-01'); // 12 rows of context before row 96
  });
  it('names what is wrong with a bad specification', () => {
    expect(() => splitBySpec(air, '0.7:0.3', 12)).toThrow(/split "0.7:0.3": fractions and row counts need three parts/);
    expect(() => splitBySpec(air, '0.8:0.2:0.2', 12)).toThrow(/fractions must be > 0 and sum to at most 1, got 1.2/);
    expect(() => splitBySpec(air, '100:40:40', 12)).toThrow(/split needs 180 rows; the series has 144/);
    expect(() => splitBySpec(air, '1959-01-01:soon', 12)).toThrow(/test start "soon" is not a date/);
    expect(() => splitBySpec(air, 'ett', 96)).toThrow(/split needs 14400 rows/);
  });
});

describe('evaluateOnSplit', () => {
  it('scores every stride-th test window like a hand computation: scaler from train rows only, MASE with its season', async () => {
    const split = splitBySpec(air, '96:24:24', 12);
    const r = await evaluateOnSplit(new SeasonalNaiveForecaster({ season: 12, scaler: 'none' }), air, split, { horizon: 6, stride: 2, level: null });
    const y = air.values[0]!;
    let se = 0, ae = 0, sm = 0, n = 0;
    for (let o = 120; o + 6 <= 144; o += 2) {
      for (let h = 0; h < 6; h++) {
        const p = y[o + h - 12]!;
        const e = y[o + h]! - p;
        se += e * e;
        ae += Math.abs(e);
        sm += (200 * Math.abs(e)) / (Math.abs(y[o + h]!) + Math.abs(p));
        n++;
      }
    }
    let scale = 0;
    for (let t = 12; t < 96; t++) scale += Math.abs(y[t]! - y[t - 12]!);
    scale /= 84;
    expect(r.windows).toBe(10);
    expect(r.original.mse).toBeCloseTo(se / n, 9);
    expect(r.original.mae).toBeCloseTo(ae / n, 9);
    expect(r.original.smape).toBeCloseTo(sm / n, 9);
    expect(r.original.mase).toBeCloseTo(ae / n / scale, 9);
    expect(r.maseSeason).toEqual({ period: 12, source: 'inferred' });
    // Normalised units are the training rows' standard deviation, not the whole series'.
    const trainScale = Scaler.fit(sliceSeries(air, 0, 96), 'standard').unitScale(0);
    expect(trainScale).not.toBeCloseTo(Scaler.fit(air, 'standard').unitScale(0), 1);
    expect(r.normalised.mse * trainScale ** 2).toBeCloseTo(se / n, 6);
    expect(r.original.coverage).toBeUndefined();
  });
  it('measures coverage of validation-calibrated intervals and gives the same numbers in any batch size', async () => {
    const split = splitBySpec(ett, 'ett', 96);
    const fresh = () => new LinearForecaster({ lookback: 96, horizon: 24, scaler: 'none' });
    const calls: number[] = [];
    const a = await evaluateOnSplit(fresh(), ett, split, { horizon: 24, stride: 24, chunk: 7, onProgress: (done) => calls.push(done) });
    const b = await evaluateOnSplit(fresh(), ett, split, { horizon: 24, stride: 24 });
    expect(a.windows).toBe(Math.floor((2880 - 24) / 24) + 1);
    expect(calls).toHaveLength(Math.ceil(a.windows / 7));
    expect(calls.at(-1)).toBe(a.windows);
    expect(a.normalised).toEqual(b.normalised);
    expect(a.level).toBe(0.9);
    // Calibrated on held-out validation windows, 90% intervals cover close to 90% of the test.
    expect(a.original.coverage!).toBeGreaterThan(0.8);
    expect(a.original.coverage!).toBeLessThan(0.98);
  });
  it('refuses a model that would rescale already scaled data', async () => {
    await expect(evaluateOnSplit(createForecaster('naive', {}), air, splitBySpec(air, '96:24:24', 12), { horizon: 3 })).rejects.toThrow(/build naive with scaler: 'none'/);
  });
});
