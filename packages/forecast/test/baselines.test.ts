import path from 'node:path';
import { initBackend } from '@seqlab/core';
import { describe, expect, it } from 'vitest';
import {
  createForecaster,
  createSeries,
  DLinearForecaster,
  FORECASTER_NAMES,
  forecastPlotData,
  HoltWintersForecaster,
  LinearForecaster,
  loadForecaster,
  readCsvSeries,
  sliceSeries,
  type Forecaster,
} from '../src/index.js';
import { scratchDir } from './fixtures.js';

const tmp = await scratchDir('seqlab-forecast-');

const seasonal = (n: number, m = 4, slope = 0.5) => Array.from({ length: n }, (_, t) => 10 + slope * t + [3, -1, 2, -4][t % m]!);

describe('statistical baselines are exact on synthetic series', () => {
  const s = createSeries({ y: [1, 2, 4, 8, 5, 6, 7, 9] });
  it('naive repeats the last value', async () => {
    const f = await createForecaster('naive').fit(s);
    expect((await f.predict(3, { level: null })).mean).toEqual([[9, 9, 9]]);
  });
  it('seasonal naive repeats the last season', async () => {
    const f = await createForecaster('seasonal-naive', { season: 3 }).fit(s);
    expect((await f.predict(5, { level: null })).mean).toEqual([[6, 7, 9, 6, 7]]);
  });
  it('drift extends the first-to-last line', async () => {
    // slope (7 - 1) / 3 = 2
    const f = await createForecaster('drift').fit(createSeries({ y: [1, 5, 2, 7] }));
    expect((await f.predict(2, { level: null })).mean[0]).toEqual([9, 11]);
  });
  it('moving average forecasts the window mean', async () => {
    const f = await createForecaster('moving-average', { window: 4 }).fit(s);
    expect((await f.predict(2, { level: null })).mean[0]).toEqual([6.75, 6.75]);
  });
  it('Holt-Winters reproduces a noiseless additive trend + season', async () => {
    const y = seasonal(40);
    const f = await new HoltWintersForecaster({ season: 4 }).fit(createSeries({ y }));
    const pred = (await f.predict(8, { level: null })).mean[0]!;
    const truth = seasonal(48).slice(40);
    pred.forEach((v, i) => expect(v).toBeCloseTo(truth[i]!, 3));
  });
  it('works column by column on multivariate series', async () => {
    const m = createSeries({ a: [1, 2, 3], b: [7, 8, 10] });
    const f = await createForecaster('drift').fit(m);
    expect((await f.predict(1, { level: null })).mean).toEqual([[4], [11.5]]);
  });
});

describe('linear models', () => {
  // x[t] = 0.6 x[t-1] - 0.3 x[t-2] + 0.2 x[t-3] + seasonal drive: exactly linear in the lags.
  const n = 600;
  const x = new Float64Array(n);
  x[0] = 1;
  x[1] = 0.5;
  x[2] = -0.2;
  for (let t = 3; t < n; t++) x[t] = 0.6 * x[t - 1]! - 0.3 * x[t - 2]! + 0.2 * x[t - 3]! + Math.sin(t / 3);
  it('ridge recovers a linear process almost exactly and beats naive', async () => {
    const s = createSeries({ x: Array.from(x.subarray(0, 500)) });
    const lin = await new LinearForecaster({ lookback: 24, horizon: 6, lambda: 1e-9 }).fit(s);
    const naive = await createForecaster('naive').fit(s);
    const origins = [400, 450, 500];
    const full = createSeries({ x: Array.from(x) });
    const pl = await lin.predictAt(full, origins, 6);
    const pn = await naive.predictAt(full, origins, 6);
    let el = 0;
    let en = 0;
    origins.forEach((o, k) => {
      for (let h = 0; h < 6; h++) {
        el += (x[o + h]! - pl[k]![0]![h]!) ** 2;
        en += (x[o + h]! - pn[k]![0]![h]!) ** 2;
      }
    });
    expect(el / 18).toBeLessThan(1e-3);
    expect(el).toBeLessThan(en / 100);
  });
  it('DLinear fits, chooses lambda, and forecasts beyond its horizon recursively', async () => {
    const s = createSeries({ x: Array.from(x.subarray(0, 500)) });
    const d = await new DLinearForecaster({ lookback: 24, horizon: 6 }).fit(s);
    expect(d.chosenLambda).toBeGreaterThan(0);
    const f = await d.predict(15);
    expect(f.mean[0]).toHaveLength(15);
    expect(f.mean[0]!.every(Number.isFinite)).toBe(true);
  });
  it('forecasts from an origin use only rows before it (no look-ahead)', async () => {
    const s = createSeries({ x: Array.from(x.subarray(0, 500)) });
    const lin = await new LinearForecaster({ lookback: 24, horizon: 6 }).fit(s);
    const full = createSeries({ x: Array.from(x) });
    const tampered = createSeries({ x: Array.from(x, (v, t) => (t >= 450 ? v + 1000 : v)) });
    expect(await lin.predictAt(tampered, [450], 6)).toEqual(await lin.predictAt(full, [450], 6));
    expect(await lin.predictAt(tampered, [451], 6)).not.toEqual(await lin.predictAt(full, [451], 6));
  });
  it('rejects a series shorter than lookback + horizon, naming both', async () => {
    await expect(new LinearForecaster({ lookback: 24, horizon: 6 }).fit(createSeries({ x: [1, 2, 3] }))).rejects.toThrow(/3 rows; at least 30 are needed/);
  });
});

describe('the Forecaster contract', () => {
  const air = readCsvSeries(path.join(path.dirname(new URL(import.meta.url).pathname), '../../../data/classic_ts/airline-passengers.csv'));
  it('unknown names list the valid ones; the registry is frozen', () => {
    expect(() => createForecaster('prophet')).toThrow(/unknown forecaster "prophet"; valid names: auto, segrnn, seq2seq, dlinear, linear, seasonal-naive/);
    expect(Object.isFrozen(FORECASTER_NAMES)).toBe(true);
  });
  it('bad input: horizon 0, NaN, wrong columns, predict before fit', async () => {
    const f = createForecaster('naive');
    await expect(f.predict(3)).rejects.toThrow(/call fit\(\)/);
    await f.fit(createSeries({ y: [1, 2, 3] }));
    await expect(f.predict(0)).rejects.toThrow(/horizon must be a positive integer, got 0/);
    await expect(createForecaster('naive').fit(createSeries({ y: [1, Number.NaN, 3] }))).rejects.toThrow(/column "y" row 1 is NaN/);
    await expect(f.predict(2, { history: createSeries({ z: [1, 2] }) })).rejects.toThrow(/history columns \(z\) differ from the fitted columns \(y\)/);
  });
  it('dates continue monthly, intervals come from calibration residuals', async () => {
    const f = await createForecaster('seasonal-naive', { season: 12 }).fit(sliceSeries(air, 0, 120), { calibration: { windows: 30, horizon: 24 } });
    const fc = await f.predict(24, { level: 0.8 });
    expect(fc.dates![0]).toBe('1959-01-01T00:00:00.000Z');
    expect(fc.dates![23]).toBe('1960-12-01T00:00:00.000Z');
    expect(fc.level).toBe(0.8);
    for (let h = 0; h < 24; h++) expect(fc.lower![0]![h]!).toBeLessThanOrEqual(fc.upper![0]![h]!);
    const rows = forecastPlotData(sliceSeries(air, 0, 120), fc, sliceSeries(air, 120), 36);
    expect(rows.filter((r) => r.series === 'history')).toHaveLength(36);
    expect(rows.filter((r) => r.series === 'actual')).toHaveLength(24);
    const fr = rows.find((r) => r.series === 'forecast')!;
    expect(fr.t).toBe('1959-01-01T00:00:00.000Z');
    expect(fr.lower).toBeDefined();
  });
  it('rolling-origin backtest with and without refit; coverage reported', async () => {
    const model = createForecaster('holt-winters', { season: 12 });
    const refit = await model.backtest(air, { horizon: 12, windows: 4, step: 6, refit: true });
    expect(refit.origins).toEqual([114, 120, 126, 132]);
    expect(refit.forecasts).toHaveLength(4);
    expect(refit.actual[3]![0]![11]).toBe(432);
    expect(refit.metrics.coverage).toBeGreaterThan(0.5);
    const once = await model.backtest(air, { horizon: 12, windows: 4, step: 6 });
    expect(once.metrics.mae).toBeGreaterThan(0);
    const snaive = await createForecaster('seasonal-naive', { season: 12 }).backtest(air, { horizon: 12, windows: 4, step: 6, refit: true });
    expect(refit.metrics.mae).toBeLessThan(snaive.metrics.mae);
    expect(model.fitted).toBe(false);
    await expect(model.backtest(air, { horizon: 12, windows: 30, step: 12 })).rejects.toThrow(/training rows before the first origin/);
  });
  it.each([
    ['naive', {}],
    ['seasonal-naive', { season: 12 }],
    ['drift', {}],
    ['moving-average', { window: 6 }],
    ['holt-winters', { season: 12 }],
    ['linear', { lookback: 24, horizon: 12 }],
    ['dlinear', { lookback: 24, horizon: 12 }],
  ] as const)('%s: save -> load gives identical forecasts', async (name, opts) => {
    const f: Forecaster = await createForecaster(name, opts).fit(sliceSeries(air, 0, 120));
    const dir = path.join(tmp, name);
    await f.save(dir);
    const g = await loadForecaster(dir);
    expect(g.name).toBe(name);
    const history = sliceSeries(air, 0, 132);
    expect(await g.predict(12, { history })).toEqual(await f.predict(12, { history }));
    expect(await g.predict(12)).toEqual(await f.predict(12));
  });
});

describe('loadForecaster errors', () => {
  it('names the missing file', async () => {
    await expect(loadForecaster(path.join(tmp, 'nothing-here'))).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/nothing-here\/forecaster\.json: file not found \(not a saved forecaster\)$/),
    });
  });
});

// Last in the file: it switches the linear models' big products to the TensorFlow.js backend.
describe('linear models on the TensorFlow.js backend', () => {
  it("lambda 'auto' skips penalties too small for collinear lags (noiseless sines) instead of failing", async () => {
    // The big products run on the TensorFlow.js backend in float32, where the smallest
    // penalties leave this system numerically singular.
    await initBackend();
    const sines = createSeries({
      a: Array.from({ length: 400 }, (_, t) => Math.sin((2 * Math.PI * t) / 16)),
      b: Array.from({ length: 400 }, (_, t) => 0.5 * Math.sin((2 * Math.PI * t) / 10 + 1)),
    });
    const lin = await new LinearForecaster({ lookback: 32, horizon: 12 }).fit(sines);
    const p = await lin.predict(12, { level: null });
    p.mean[0]!.forEach((v, h) => expect(v).toBeCloseTo(Math.sin((2 * Math.PI * (400 + h)) / 16), 2));
    p.mean[1]!.forEach((v, h) => expect(v).toBeCloseTo(0.5 * Math.sin((2 * Math.PI * (400 + h)) / 10 + 1), 2));
  });
});
