import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createForecaster,
  createGlobalForecaster,
  evaluatePanel,
  fitSmoothing,
  loadForecaster,
  loadGlobalForecaster,
  PooledConformal,
  positiveShift,
  readWideCsv,
  seasonalAt,
  seriesScale,
  smape,
  smoothSeries,
  type PanelSeries,
} from '../src/index.js';
import { DATA, scratchDir } from './fixtures.js';

const tmp = await scratchDir('seqlab-forecast-global-');
beforeAll(() => initBackend());

// Twelve real M4 Hourly series, cut to their last 400 rows to keep the tests quick.
const panel: PanelSeries[] = readWideCsv(path.join(DATA, 'm4/Hourly-train.csv'))
  .slice(0, 12)
  .map(({ id, series }) => ({ id, series: { ...series, values: [series.values[0]!.slice(-400)] } }));
// A small configuration: horizon 24 (one day), one week of look-back, a few epochs.
const small = { season: 24, horizon: 24, lookback: 72, hidden: 32, epochs: 12, windowsPerEpoch: 1024, batchSize: 128, learningRate: 3e-3 };

describe('per-series smoothing', () => {
  it('tracks an M4 series better than repeating the last day, and shifts non-positive series', () => {
    const y = panel[0]!.series.values[0]!;
    const s = fitSmoothing(y, 24);
    expect(s.shift).toBe(0);
    let naive = 0;
    for (let t = 24; t < y.length; t++) naive += Math.abs(Math.log(y[t]! / y[t - 24]!));
    expect(s.loss).toBeLessThan(naive / (y.length - 24));
    // Known factors only: beyond the next season the last known season repeats.
    expect(seasonalAt(s, 200, 200 + 23)).toBe(s.seasonal[223]);
    expect(seasonalAt(s, 200, 200 + 24)).toBe(s.seasonal[200]);
    expect(seasonalAt(s, 200, 200 + 47)).toBe(s.seasonal[223]);
    const withZeros = Float64Array.from(y, (v, t) => (t % 24 === 3 ? 0 : v - 400));
    const shift = positiveShift(withZeros);
    expect(Math.min(...withZeros) + shift).toBeGreaterThan(0);
    expect(() => smoothSeries(y.subarray(0, 30), 24, 0.1, 0.1, 0)).toThrow(/30 rows is too short .* season 24/);
  });
});

describe('pooled conformal', () => {
  it('takes the finite-sample quantile of every step over all series and scales by the MASE denominator', () => {
    // 19 series with residuals 1..19 at step 1 and twice that at step 2.
    const c = PooledConformal.fromResiduals(Array.from({ length: 19 }, (_, i) => [[i + 1, 2 * (i + 1)]]));
    expect(c.count).toBe(19);
    // ceil(20 * 0.9) = 18th smallest.
    expect(c.halfWidths(0.9, 2)).toEqual([18, 36]);
    // Beyond the calibrated steps: random-walk widening of the last one.
    expect(c.halfWidths(0.9, 3)[2]).toBeCloseTo(36 * Math.sqrt(3 / 2), 12);
    expect(() => c.halfWidths(1.2, 2)).toThrow(/level must be in \(0, 1\), got 1.2/);
    expect(seriesScale([1, 2, 3, 5, 6, 7], 3)).toBe(4);
    expect(seriesScale([2, 2, 2], 1)).toBe(2);
  });
});

describe('es-hybrid (global ES-RNN-style model)', () => {
  it('fits one model on a panel, forecasts every series with intervals, and beats seasonal naive on held-out days without leaking tensors', async () => {
    const evaluation = await expectNoLeakedTensors(() => createGlobalForecaster('es-hybrid', { ...small, seeds: [1, 2] }).backtest(panel, { horizon: 24 }));
    expect(evaluation.series.map((s) => s.id)).toEqual(panel.map((p) => p.id));
    expect(evaluation.series.every((s) => s.origins[0] === 376 && Number.isFinite(s.smape) && s.coverage !== undefined)).toBe(true);
    expect(evaluation.aggregate.smape).toBeCloseTo(evaluation.series.reduce((a, s) => a + s.smape, 0) / 12, 9);
    const naive = await evaluatePanel(panel, () => createForecaster('seasonal-naive', { season: 24 }), { horizon: 24, season: 24, level: null });
    expect(evaluation.aggregate.smape).toBeLessThan(naive.aggregate.smape);
    expect(evaluation.aggregate.mase).toBeLessThan(naive.aggregate.mase);
  }, 120_000);

  it('predicts from the end of every series (or given histories), saves and loads to the same forecasts', () => expectNoLeakedTensors(async () => {
    const model = createGlobalForecaster('es-hybrid', small);
    await model.fit(panel);
    expect(model.calibrated).toBe(true);
    const forecasts = await model.predict(24, { level: 0.8, bounds: { lower: 0 } });
    expect(forecasts.map((f) => f.id)).toEqual(panel.map((p) => p.id));
    for (const { forecast } of forecasts) {
      expect(forecast.mean[0]).toHaveLength(24);
      forecast.mean[0]!.forEach((v, h) => {
        expect(v).toBeGreaterThanOrEqual(forecast.lower![0]![h]!);
        expect(v).toBeLessThanOrEqual(forecast.upper![0]![h]!);
        expect(forecast.lower![0]![h]!).toBeGreaterThanOrEqual(0);
      });
    }
    // Histories given explicitly: the two last series only, in another order.
    const some = await model.predict(24, { panel: [panel[11]!, panel[10]!], level: null });
    expect(some.map((f) => f.id)).toEqual([panel[11]!.id, panel[10]!.id]);
    for (let h = 0; h < 24; h++) expect(some[0]!.forecast.mean[0]![h]).toBeCloseTo(forecasts[11]!.forecast.mean[0]![h]!, 6);

    const dir = path.join(tmp, 'es-hybrid');
    await model.save(dir);
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ task: 'forecast', kind: 'es-hybrid', global: true, series: 12 });
    await expect(loadForecaster(dir)).rejects.toThrow(/holds a global \(panel\) model; load it with loadGlobalForecaster/);
    const loaded = await loadGlobalForecaster(dir);
    const again = await loaded.predict(24, { level: 0.8, bounds: { lower: 0 } });
    again.forEach(({ forecast }, i) => {
      for (let h = 0; h < 24; h++) {
        expect(forecast.mean[0]![h]).toBeCloseTo(forecasts[i]!.forecast.mean[0]![h]!, 4);
        expect(forecast.upper![0]![h]).toBeCloseTo(forecasts[i]!.forecast.upper![0]![h]!, 4);
      }
    });
    await expect(loaded.predict(48)).rejects.toThrow(/trained for horizon 24; got 48/);
    // A series it was not fitted on: refused when asked to, else forecast with smoothing fitted on its history.
    await expect(loaded.predict(24, { panel: [{ id: 'H999', series: panel[0]!.series }], newSeries: 'error' })).rejects.toThrow(/series "H999" was not in the fitted panel; new series were refused/);
    const [fresh] = await loaded.predict(24, { panel: [{ id: 'H999', series: panel[0]!.series }], level: 0.8 });
    expect(fresh).toMatchObject({ id: 'H999', seen: false });
    expect(fresh!.forecast.lower![0]).toHaveLength(24);
    loaded.dispose();
    model.dispose();
  }), 120_000);

  it('scores its forecasts against the rows that followed (a train file and a test file, as M4)', async () => {
    const cut = (from: number, to?: number) => panel.map(({ id, series }) => ({ id, series: { ...series, values: [series.values[0]!.slice(from, to)] } }));
    const model = createGlobalForecaster('es-hybrid', small);
    await model.fit(cut(0, 376));
    const future = cut(376);
    const r = await model.scoreFuture(future);
    const forecasts = await model.predict(24);
    const actual = Array.from(future[3]!.series.values[0]!);
    const train = panel[3]!.series.values[0]!.subarray(0, 376);
    const mae = actual.reduce((a, y, h) => a + Math.abs(y - forecasts[3]!.forecast.mean[0]![h]!), 0) / 24;
    expect(r.series[3]!.smape).toBeCloseTo(smape(actual, forecasts[3]!.forecast.mean[0]!), 9);
    expect(r.series[3]!.mase).toBeCloseTo(mae / seriesScale(train, 24), 9);
    expect(r.aggregate.coverage).toBeGreaterThan(0);
    await expect(model.scoreFuture([{ id: 'nope', series: future[0]!.series }])).rejects.toThrow(/series "nope" was not in the fitted panel/);
    model.dispose();
  }, 60_000);

  it('stops when cancelled, freeing the members already trained', async () => {
    const controller = new AbortController();
    const model = createGlobalForecaster('es-hybrid', { ...small, seeds: [1, 2] });
    await expectNoLeakedTensors(() =>
      expect(model.fit(panel, { signal: controller.signal, onEpoch: (log) => log.member === 1 && controller.abort() })).rejects.toThrow(/es-hybrid training was cancelled/),
    );
    expect(model.fitted).toBe(false);
  }, 60_000);

  it('gives clear errors for bad panels and options', async () => {
    const model = createGlobalForecaster('es-hybrid', small);
    await expect(model.fit([])).rejects.toThrow(/the panel has no series/);
    await expect(model.fit([panel[0]!, panel[0]!])).rejects.toThrow(/id "H1" appears twice/);
    const short = { id: 'short', series: { ...panel[1]!.series, values: [panel[1]!.series.values[0]!.slice(0, 100)] } };
    await expect(model.fit([panel[0]!, short])).rejects.toThrow(/series "short" \(#2\) has 100 rows; this model needs at least 144/);
    const two = { id: 'two', series: { columns: ['a', 'b'], values: [panel[0]!.series.values[0]!, panel[0]!.series.values[0]!], irregular: false } };
    await expect(model.fit([two])).rejects.toThrow(/series "two" \(#1\) has 2 columns \(a, b\); global models forecast one target/);
    const nan = { id: 'nan', series: { ...panel[0]!.series, values: [Float64Array.from(panel[0]!.series.values[0]!, (v, t) => (t === 7 ? Number.NaN : v))] } };
    await expect(model.fit([nan])).rejects.toThrow(/series "nan" \(#1\) row 8: NaN is not a finite number/);
    await expect(model.predict(24)).rejects.toThrow(/call fit\(\)/);
    expect(() => createGlobalForecaster('es-hybrid', { hiden: 3 })).toThrow(/unknown option "hiden"; valid options: season, horizon/);
    expect(() => createGlobalForecaster('es-hybrid', { core: 'gru', lookback: 50 })).toThrow(/lookback 50 is not a multiple of it/);
    expect(() => createGlobalForecaster('es-rnn')).toThrow(/unknown global forecaster "es-rnn"; valid names: es-hybrid/);
    expect(() => createForecaster('es-hybrid')).toThrow(/"es-hybrid" is a global \(panel\) model: use createGlobalForecaster/);
    await expect(loadGlobalForecaster(tmp)).rejects.toThrow(/not a saved global forecaster/);
  });
});
