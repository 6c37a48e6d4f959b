import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ForecastPipeline, HoltWintersForecaster, loadForecaster, readCsvSeries, sliceSeries } from '../src/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data');
const air = readCsvSeries(path.join(DATA, 'classic_ts/airline-passengers.csv'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-hw-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Holt-Winters on series shorter than two seasons', () => {
  it('falls back to a damped trend and says so, instead of refusing', async () => {
    const short = sliceSeries(air, 0, 18);
    const model = await new HoltWintersForecaster({ season: 12 }).fit(short);
    expect(model.mode).toBe('damped-trend');
    expect(model.notes).toEqual(['holt-winters: 18 rows are fewer than two seasons (24 rows for season 12); fitted a damped-trend model without seasonality instead']);
    const f = await model.predict(24, { level: null });
    const step = f.mean[0]!.map((v, i, a) => (i === 0 ? 0 : v - a[i - 1]!)).slice(1);
    // A damped trend: no seasonal wiggle, and the steps shrink geometrically.
    for (let i = 1; i < step.length; i++) expect(Math.abs(step[i]!)).toBeLessThanOrEqual(Math.abs(step[i - 1]!) + 1e-9);
    expect(f.mean[0]!.every(Number.isFinite)).toBe(true);
    await model.save(path.join(tmp, 'hw'));
    const loaded = (await loadForecaster(path.join(tmp, 'hw'))) as HoltWintersForecaster;
    expect(loaded.mode).toBe('damped-trend');
    expect((await loaded.predict(24, { level: null })).mean).toEqual(f.mean);
  });
  it('two seasons or more keep the seasonal model; the forecast task passes the note on; too few rows are still refused', async () => {
    const full = await new HoltWintersForecaster({ season: 12 }).fit(sliceSeries(air, 0, 24));
    expect(full.mode).toBe('seasonal');
    expect(full.notes).toEqual([]);
    const r = await ForecastPipeline.create('holt-winters').run(sliceSeries(air, 0, 20), { horizon: 6 });
    expect(r.options.season).toBe(12);
    expect(r.notes?.[0]).toMatch(/fitted a damped-trend model without seasonality/);
    await expect(new HoltWintersForecaster({ season: 12 }).fit(sliceSeries(air, 0, 3))).rejects.toThrow(/series has 3 rows; at least 4 are needed/);
  });
});
