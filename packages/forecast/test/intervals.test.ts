import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createForecaster, ForecastPipeline, readCsvSeries, sliceSeries, type Forecaster, type TimeSeries } from '../src/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data');
const ett = readCsvSeries(path.join(DATA, 'ett/ETTh1.csv'), { targets: ['OT'] });
const air = readCsvSeries(path.join(DATA, 'classic_ts/airline-passengers.csv'));

/** Share of actual values inside 90% intervals forecast every `H` rows over `[from, to)`. */
async function coverage90(model: Forecaster, s: TimeSeries, from: number, to: number, H: number): Promise<number> {
  let inside = 0;
  let total = 0;
  for (let o = from; o + H <= to; o += H) {
    const f = await model.predict(H, { history: sliceSeries(s, 0, o), level: 0.9 });
    for (let h = 0; h < H; h++) {
      const a = s.values[0]![o + h]!;
      if (a >= f.lower![0]![h]! && a <= f.upper![0]![h]!) inside++;
      total++;
    }
  }
  return inside / total;
}

describe('conformal calibration without a validation series', () => {
  it('uses held-out windows, not in-sample residuals, and covers about what it promises', async () => {
    const train = sliceSeries(ett, 0, 1500);
    const options = { lookback: 96, horizon: 24 };
    const heldOut = await createForecaster('dlinear', options).fit(train);
    expect(heldOut.calibrationSource).toBe('held-out');
    // What calibration used to do: residuals on rows the model was fitted on.
    const inSample = await createForecaster('dlinear', options).fit(train, { validation: sliceSeries(train, 750) });
    const covHeld = await coverage90(heldOut, ett, 1500, 3000, 24);
    const covIn = await coverage90(inSample, ett, 1500, 3000, 24);
    expect(covHeld).toBeGreaterThan(0.85);
    expect(covHeld).toBeLessThan(0.95);
    expect(covHeld).toBeGreaterThan(covIn + 0.05);
  });
  it('cross-validates short series, and says when only in-sample residuals were possible', async () => {
    const short = await createForecaster('seasonal-naive', { season: 12 }).fit(sliceSeries(air, 0, 40));
    expect(short.calibrationSource).toBe('cross-validated');
    expect((await short.predict(6)).lower).toBeDefined();
    const tiny = sliceSeries(air, 0, 40);
    const r = await ForecastPipeline.create('linear').run(tiny, { horizon: 12, options: { lookback: 24 } });
    expect(r.warning).toMatch(/linear's intervals were calibrated in-sample \(too few rows to hold any out\); they are likely too narrow/);
    expect(r.main.lower).toBeDefined();
  });
});

describe('bounds', () => {
  it('clip forecasts and intervals to the limits a series cannot leave', async () => {
    const model = await createForecaster('naive', {}).fit(sliceSeries(air, 0, 120));
    const free = await model.predict(12, { level: 0.99 });
    const lower = Math.min(...free.lower![0]!) + 40;
    expect(Math.min(...free.lower![0]!)).toBeLessThan(lower);
    const bounded = await model.predict(12, { level: 0.99, bounds: { lower, upper: 500 } });
    expect(Math.min(...bounded.lower![0]!)).toBe(lower);
    expect(Math.max(...bounded.upper![0]!)).toBeLessThanOrEqual(500);
    bounded.mean[0]!.forEach((m, h) => expect(m).toBe(Math.min(500, Math.max(lower, free.mean[0]![h]!))));
    await expect(model.predict(3, { bounds: { lower: 1, upper: 0 } })).rejects.toThrow(/bounds must be finite with lower < upper, got lower 1, upper 0/);
    const viaTask = await ForecastPipeline.create('naive').run(sliceSeries(air, 0, 120), { horizon: 12, levels: [0.99], bounds: { lower } });
    expect(viaTask.main.lower![0]).toEqual(free.lower![0]!.map((v) => Math.max(v, lower)));
    expect(viaTask.main.upper![0]).toEqual(free.upper![0]);
  });
});
