import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AutoForecaster,
  createForecaster,
  createSeries,
  detectDateGaps,
  detectSeasons,
  loadForecaster,
  readCsvSeries,
  rmse,
  seriesLength,
  sliceSeries,
  type TimeSeries,
} from '../src/index.js';
import { scratchDir } from './fixtures.js';

const tmp = await scratchDir('seqlab-auto-');

const AIRLINE = path.resolve(import.meta.dirname, '../../../data/classic_ts/airline-passengers.csv');

/**
 * Counts with a cycle of `cycle` steps that is not a calendar period, a rising trend and
 * Gaussian noise (a fixed-seed generator), on monthly or daily dates.
 */
function cycleCounts(n: number, cycle: number, frequency: 'monthly' | 'daily', seed = 7): TimeSeries {
  let x = seed >>> 0;
  const rand = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const values = Array.from({ length: n }, (_, t) => Math.max(0, Math.round(6 + 0.08 * t + 10 * Math.sin((2 * Math.PI * t) / cycle) + 2.5 * gauss())));
  const dates = Array.from({ length: n }, (_, t) => (frequency === 'daily' ? new Date(Date.UTC(2015, 0, 1 + t)) : new Date(Date.UTC(2000, t, 1))));
  return createSeries({ count: values }, dates);
}

/** RMSE on the last `tail` rows of `model` fitted on the rows before them. */
async function tailRmse(name: string, options: Record<string, unknown>, series: TimeSeries, tail: number): Promise<number> {
  const n = seriesLength(series);
  const model = createForecaster(name, options);
  try {
    await model.fit(sliceSeries(series, 0, n - tail));
    const f = await model.predict(tail, { level: null });
    return rmse([Array.from(series.values[0]!.subarray(n - tail))], f.mean);
  } finally {
    model.dispose();
  }
}

describe('season detection from the data', () => {
  it('finds a cycle that is not a calendar period (11 steps on monthly dates, 27 on daily) beside the calendar season', () => {
    const monthly = detectSeasons(cycleCounts(240, 11, 'monthly'));
    expect(monthly.find((s) => s.source === 'calendar')?.period).toBe(12);
    expect(monthly.filter((s) => s.source === 'autocorrelation').map((s) => s.period)).toContain(11);
    const daily = detectSeasons(cycleCounts(600, 27, 'daily'));
    expect(daily.find((s) => s.source === 'calendar')?.period).toBe(7);
    expect(daily.filter((s) => s.source === 'autocorrelation')[0]?.period).toBe(27);
  });

  it('finds 12 in the airline series without dates (from the autocorrelation alone)', () => {
    const air = readCsvSeries(AIRLINE);
    const seasons = detectSeasons({ values: air.values });
    expect(seasons[0]).toMatchObject({ period: 12, source: 'autocorrelation' });
  });
});

describe("model 'auto'", () => {
  it('beats seasonal naive at the calendar season on the airline series\' held-out last 10%', async () => {
    const air = readCsvSeries(AIRLINE);
    const tail = Math.round(seriesLength(air) * 0.1);
    const auto = await tailRmse('auto', { horizon: tail }, air, tail);
    const naive = await tailRmse('seasonal-naive', { season: 12 }, air, tail);
    expect(auto).toBeLessThan(0.6 * naive);
  });

  it.each([
    [11, 'monthly', 240, 12],
    [27, 'daily', 600, 7],
  ] as const)('beats seasonal naive (calendar and true cycle) on %i-step cycle counts on %s dates', async (cycle, frequency, n, calendar) => {
    const series = cycleCounts(n, cycle, frequency);
    const tail = Math.round(n * 0.1);
    const auto = await tailRmse('auto', { horizon: tail }, series, tail);
    expect(auto).toBeLessThan(await tailRmse('seasonal-naive', { season: calendar }, series, tail));
    expect(auto).toBeLessThan(await tailRmse('seasonal-naive', { season: cycle }, series, tail));
  });

  it('reports every candidate backtested on the training rows, the winner, its margin and the detected season', async () => {
    const series = cycleCounts(240, 11, 'monthly');
    const model = new AutoForecaster({ horizon: 12 });
    await model.fit(sliceSeries(series, 0, 216));
    const c = model.choice!;
    // Every backtest origin lies inside the training rows.
    expect(Math.max(...c.origins) + c.horizon).toBeLessThanOrEqual(216);
    const labels = c.candidates.map((x) => x.label);
    expect(labels).toEqual(expect.arrayContaining(['seasonal-naive(season=12)', 'seasonal-naive(season=11)', 'holt-winters(season=11)']));
    const ranked = c.candidates.filter((x) => !x.skipped).sort((a, b) => a.rmse - b.rmse);
    expect(c.winner.label).toBe(ranked[0]!.label);
    expect(c.margin).toBeCloseTo(1 - ranked[0]!.rmse / ranked[1]!.rmse, 9);
    expect(c.reason).toContain(ranked[0]!.label);
    expect(model.notes.join(' ')).toContain('lowest RMSE');
    model.dispose();
  });

  it('forecasts a falling count series no lower than 0, intervals included, where the linear kinds alone go negative', async () => {
    const values = Array.from({ length: 120 }, (_, t) => Math.max(0, Math.round(60 - 0.55 * t + 4 * Math.sin((2 * Math.PI * t) / 6))));
    const series = createSeries({ count: values });
    const plain = createForecaster('dlinear', { lookback: 24, horizon: 36 });
    await plain.fit(series);
    expect(Math.min(...(await plain.predict(36, { level: null })).mean[0]!)).toBeLessThan(0);
    plain.dispose();
    const model = new AutoForecaster({ horizon: 12, kinds: ['linear', 'dlinear', 'drift'] });
    await model.fit(series);
    expect(model.choice!.nonNegative).toEqual([true]);
    const f = await model.predict(36, { level: 0.9 });
    expect(Math.min(...f.mean[0]!, ...f.lower![0]!)).toBeGreaterThanOrEqual(0);
    expect(Math.min(...f.mean[0]!)).toBe(0);
    model.dispose();
  });

  it('reports gaps in the dates (the first one named) instead of bridging them silently', async () => {
    const full = cycleCounts(200, 9, 'daily');
    const keep = Array.from({ length: 200 }, (_, i) => i).filter((i) => i !== 50 && i !== 51 && i !== 120);
    const gappy = createSeries({ count: keep.map((i) => full.values[0]![i]!) }, keep.map((i) => full.dates![i]!));
    expect(detectDateGaps(gappy.dates)).toEqual({ gaps: 2, missingSteps: 3, step: '1 day', first: { after: full.dates![49]!.toISOString(), before: full.dates![52]!.toISOString() } });
    expect(detectDateGaps(full.dates)).toBeUndefined();
    const model = new AutoForecaster({ horizon: 7 });
    await model.fit(gappy);
    expect(model.choice!.gaps?.gaps).toBe(2);
    expect(model.notes.join(' ')).toContain(`the first between ${full.dates![49]!.toISOString().slice(0, 10)} and ${full.dates![52]!.toISOString().slice(0, 10)}`);
    model.dispose();
  });

  it('saves and loads with its choice and the same forecasts and intervals', async () => {
    const series = cycleCounts(240, 11, 'monthly');
    const model = createForecaster('auto', { horizon: 12 }) as AutoForecaster;
    await model.fit(series);
    const before = await model.predict(12, { level: 0.8 });
    const dir = path.join(tmp, 'auto');
    await model.save(dir);
    const loaded = (await loadForecaster(dir)) as AutoForecaster;
    expect(loaded.choice).toEqual(model.choice);
    const after = await loaded.predict(12, { level: 0.8 });
    expect(after.mean).toEqual(before.mean);
    expect(after.lower).toEqual(before.lower);
    model.dispose();
    loaded.dispose();
  });

  it('refuses unknown options, naming the valid ones', () => {
    expect(() => createForecaster('auto', { horizn: 3 })).toThrow(/unknown option "horizn"; valid options: .*horizon/);
  });
});
