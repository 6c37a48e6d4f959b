import path from 'node:path';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createGlobalForecaster,
  createSeries,
  fitSmoothing,
  ForecastPipeline,
  loadGlobalForecaster,
  panelForecastCsv,
  panelForecastRows,
  readWideCsv,
  seasonalAt,
  smoothSeries,
  type PanelSeries,
} from '../src/index.js';
import { DATA, scratchDir } from './fixtures.js';

const tmp = await scratchDir('seqlab-forecast-panel-');

// Eight real M4 Hourly series, their last 400 rows; the model is fitted on the first six only.
const panel: PanelSeries[] = readWideCsv(path.join(DATA, 'm4/Hourly-train.csv'))
  .slice(0, 8)
  .map(({ id, series }) => ({ id, series: { ...series, values: [series.values[0]!.slice(-400)] } }));
const fittedOn = panel.slice(0, 6);
const unseen = panel.slice(6).map((p) => p.id);
const small = { season: 24, horizon: 24, lookback: 72, hidden: 32, epochs: 8, windowsPerEpoch: 1024, batchSize: 128, learningRate: 3e-3 };
const dir = path.join(tmp, 'es-hybrid');

beforeAll(async () => {
  await initBackend();
  const model = createGlobalForecaster('es-hybrid', small);
  await model.fit(fittedOn);
  await model.save(dir);
  model.dispose();
}, 120_000);

describe('double seasonal smoothing', () => {
  it('models a day x week pattern exactly, which one season cannot, and knows both factors ahead', () => {
    const day = Array.from({ length: 24 }, (_, h) => 1 + 0.5 * Math.sin((2 * Math.PI * h) / 24));
    const week = [1.2, 1.1, 1, 1, 0.9, 0.5, 0.4];
    const y = Array.from({ length: 24 * 7 * 4 }, (_, t) => 100 * day[t % 24]! * week[Math.floor(t / 24) % 7]!);
    const double = fitSmoothing(y, 24, 0, 168);
    const single = fitSmoothing(y, 24, 0);
    expect(double.loss).toBeLessThan(1e-9);
    expect(single.loss).toBeGreaterThan(0.01);
    expect(double).toMatchObject({ season: 24, season2: 168 });
    expect(double.seasonal2).toHaveLength(y.length + 168);
    // Forecast factors from origin 500: the daily ones repeat after a day, the weekly ones are known a week ahead.
    const o = 500;
    expect(seasonalAt(double, o, o + 30)).toBeCloseTo(double.seasonal[o + 30 - 24]! * double.seasonal2![o + 30]!, 12);
    expect(seasonalAt(double, o, o + 200)).toBeCloseTo(double.seasonal[o + 200 - 216]! * double.seasonal2![o + 200 - 168]!, 12);
    expect(seasonalAt(double, o, o + 5) * double.level[o - 1]!).toBeCloseTo(y[o + 5]!, 6);
    expect(() => smoothSeries(y, 24, 0.1, 0.1, 0, { season: 100, gamma: 0.1 })).toThrow(/must be a multiple of the first \(24\) and longer; got 100/);
    expect(() => smoothSeries(y.slice(0, 300), 24, 0.1, 0.1, 0, { season: 168, gamma: 0.1 })).toThrow(/300 rows is too short .* season 168 \(needs 336\)/);
  });

  it('es-hybrid with a second season fits, saves and loads to the same forecasts', () =>
    expectNoLeakedTensors(async () => {
      expect(() => createGlobalForecaster('es-hybrid', { secondSeason: 100 })).toThrow(/secondSeason must be a multiple of season \(24\) and longer, e.g. 168; got 100/);
      const model = createGlobalForecaster('es-hybrid', { ...small, secondSeason: 168 });
      expect(model.capabilities.minSeriesLength).toBe(336);
      await model.fit(fittedOn);
      const forecasts = await model.predict(24, { level: 0.9 });
      const weekly = path.join(tmp, 'weekly');
      await model.save(weekly);
      const loaded = await loadGlobalForecaster(weekly);
      const again = await loaded.predict(24, { level: 0.9 });
      again.forEach(({ forecast }, i) => forecast.mean[0]!.forEach((v, h) => expect(v).toBeCloseTo(forecasts[i]!.forecast.mean[0]![h]!, 4)));
      loaded.dispose();
      model.dispose();
    }), 120_000);
});

describe('the forecast task over a saved global model', () => {
  it('forecasts every fitted series from its stored state, or from given histories to the same numbers, with nested intervals', () =>
    expectNoLeakedTensors(async () => {
      const pipe = await ForecastPipeline.load(dir);
      expect(pipe).toMatchObject({ global: true, kind: 'es-hybrid', name: 'es-hybrid', neural: true });
      const stored = await pipe.runPanel(undefined, { horizon: 24, levels: [0.8, 0.95] });
      expect(stored).toMatchObject({ model: 'es-hybrid', kind: 'es-hybrid', horizon: 24, levels: [0.95, 0.8], newSeries: [] });
      expect(stored.series.map((s) => s.id)).toEqual(fittedOn.map((p) => p.id));
      // Six residuals per step support an 80% conformal quantile (ceil(7 x 0.8) = 6) but not a 95% one.
      expect(stored.notes).toEqual([expect.stringMatching(/^95% intervals: 6 held-out residuals per step .* too few for that level/)]);
      for (const s of stored.series) {
        expect(s).toMatchObject({ seen: true, historyRows: 0 });
        const [wide, narrow] = s.intervals;
        s.mean.forEach((m, h) => {
          expect(wide!.lower[h]).toBeLessThanOrEqual(narrow!.lower[h]!);
          expect(narrow!.lower[h]).toBeLessThanOrEqual(m);
          expect(m).toBeLessThanOrEqual(narrow!.upper[h]!);
          expect(narrow!.upper[h]).toBeLessThanOrEqual(wide!.upper[h]!);
        });
      }
      // The same rows given as the file's histories: the saved smoothing weights run over them again.
      const fromFile = await pipe.runPanel(fittedOn, { horizon: 24, levels: [0.8, 0.95] });
      fromFile.series.forEach((s, i) => {
        expect(s.historyRows).toBe(400);
        s.mean.forEach((v, h) => expect(v).toBeCloseTo(stored.series[i]!.mean[h]!, 3));
        s.intervals[0]!.upper.forEach((v, h) => expect(v).toBeCloseTo(stored.series[i]!.intervals[0]!.upper[h]!, 3));
      });
      pipe.dispose();
    }), 60_000);

  it('forecasts series it was not fitted on with fresh smoothing, or refuses them by name; selects and orders series', () =>
    expectNoLeakedTensors(async () => {
      const pipe = await ForecastPipeline.load(dir);
      const all = await pipe.runPanel(panel, { horizon: 12 });
      expect(all.newSeries).toEqual(unseen);
      expect(all.series.map((s) => [s.id, s.seen])).toEqual(panel.map((p, i) => [p.id, i < 6]));
      for (const s of all.series) {
        expect(s.mean).toHaveLength(12);
        expect(s.intervals.map((iv) => iv.level)).toEqual([0.9]);
      }
      // A new series' forecast follows its own level: within a factor of 3 of its last day's mean.
      const last = panel[7]!.series.values[0]!.slice(-24);
      const lastMean = last.reduce((a, b) => a + b, 0) / 24;
      const newMean = all.series[7]!.mean.reduce((a, b) => a + b, 0) / 12;
      expect(newMean / lastMean).toBeGreaterThan(1 / 3);
      expect(newMean / lastMean).toBeLessThan(3);

      const picked = await pipe.runPanel(panel, { horizon: 12, series: [unseen[1]!, 'H2'], levels: [] });
      expect(picked.series.map((s) => [s.id, s.seen, s.intervals.length])).toEqual([[unseen[1], false, 0], ['H2', true, 0]]);
      expect(picked.series[1]!.mean).toEqual(all.series[1]!.mean);

      await expect(pipe.runPanel(panel, { horizon: 12, newSeries: 'error' })).rejects.toThrow(new RegExp(`series "${unseen[0]}", "${unseen[1]}" were not in the fitted panel; new series were refused`));
      await expect(pipe.runPanel(panel, { horizon: 12, series: ['H1', 'nope'] })).rejects.toThrow(/series "nope" is not in the panel given \(8 series: "H1", "H2"/);
      await expect(pipe.runPanel(undefined, { horizon: 12, series: [unseen[0]!] })).rejects.toThrow(new RegExp(`series "${unseen[0]}" is not in the series es-hybrid was fitted on`));
      await expect(pipe.runPanel(undefined, { horizon: 48 })).rejects.toThrow(/trained for horizon 24; got 48/);
      await expect(pipe.runPanel(undefined, { horizon: 12, level: 0.9 } as never)).rejects.toThrow(/unknown option "level"; valid options: horizon, levels, series/);
      // Forecasting needs the look-back (72 rows here), not the training windows' look-back + horizon (120).
      const rows = (n: number) => ({ id: 'short', series: { ...panel[7]!.series, values: [panel[7]!.series.values[0]!.slice(-n)] } });
      await expect(pipe.runPanel([rows(71)], { horizon: 12 })).rejects.toThrow(/series "short" \(#1\) has 71 rows; this model needs at least 72/);
      const [fromWeek] = (await pipe.runPanel([rows(72)], { horizon: 12 })).series;
      expect(fromWeek).toMatchObject({ id: 'short', seen: false, historyRows: 72 });
      expect(fromWeek!.mean.every(Number.isFinite)).toBe(true);
      await expect(pipe.run(createSeries([1, 2, 3]), { horizon: 2 })).rejects.toThrow(/"es-hybrid" is a global \(panel\) es-hybrid model: it forecasts many series at once/);
      await expect(ForecastPipeline.create('naive').runPanel(panel, { horizon: 2 })).rejects.toThrow(/"naive" is a per-series forecaster \(naive\), not a global \(panel\) model/);
      pipe.dispose();
    }), 60_000);

  it('gives long-format rows and CSV, with timestamps when the histories have dates', async () => {
    const start = Date.UTC(2024, 0, 1);
    const dated = fittedOn.slice(0, 2).map(({ id, series }) => ({ id, series: createSeries(series.values[0]!, Array.from({ length: 400 }, (_, t) => new Date(start + t * 3_600_000))) }));
    const pipe = await ForecastPipeline.load(dir);
    const result = await pipe.runPanel(dated, { horizon: 3, levels: [0.8, 0.95] });
    pipe.dispose();
    expect(result.series[0]!.dates).toEqual([400, 401, 402].map((t) => new Date(start + t * 3_600_000).toISOString()));
    const rows = panelForecastRows(result);
    expect(rows).toHaveLength(6);
    expect(Object.keys(rows[0]!)).toEqual(['series', 'step', 'timestamp', 'forecast', 'lower_95', 'upper_95', 'lower_80', 'upper_80']);
    expect(rows[4]).toMatchObject({ series: 'H2', step: 2, forecast: result.series[1]!.mean[1], upper_80: result.series[1]!.intervals[1]!.upper[1] });
    const csv = panelForecastCsv(result).trim().split('\n');
    expect(csv[0]).toBe('series,step,timestamp,forecast,lower_95,upper_95,lower_80,upper_80');
    expect(csv).toHaveLength(7);
    expect(csv[1]!.split(',').slice(0, 4)).toEqual(['H1', '1', '2024-01-17T16:00:00.000Z', String(result.series[0]!.mean[0])]);
  }, 60_000);
});
