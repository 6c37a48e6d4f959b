import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ForecastPipeline, forecasterOptionsFor, inferSeason, inferSeasonality, readCsvSeries, seriesLength, type TimeSeries } from '../src/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data');
const ett = readCsvSeries(path.join(DATA, 'ett/ETTh1.csv'), { targets: ['OT'] });
const air = readCsvSeries(path.join(DATA, 'classic_ts/airline-passengers.csv'));

/** ETTh1's OT values (first `n`) re-dated every `minutes` minutes from 2016-07-01. */
function redated(minutes: number, n = 2000): TimeSeries {
  const t0 = Date.UTC(2016, 6, 1);
  return { columns: ['OT'], values: [ett.values[0]!.slice(0, n)], dates: Array.from({ length: n }, (_, i) => new Date(t0 + i * minutes * 60_000)), irregular: false };
}

/** A seeded daily series of `years` years: an annual cycle (amplitude `yearly`) and a weekday effect (amplitude `weekly`), plus noise. */
function daily(years: number, yearly: number, weekly: number): TimeSeries {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  const n = Math.round(years * 365);
  const values = Float64Array.from({ length: n }, (_, t) => 15 + yearly * Math.sin((2 * Math.PI * t) / 365.25) + weekly * (t % 7 < 5 ? 1 : -2) + rand());
  const t0 = Date.UTC(2015, 0, 1);
  return { columns: ['temp'], values: [values], dates: Array.from({ length: n }, (_, i) => new Date(t0 + i * 86_400_000)), irregular: false };
}

describe('season inference from the sampling frequency', () => {
  it('sub-daily data gets one day, with the week offered', () => {
    expect(inferSeasonality(redated(15))).toMatchObject({ period: 96, source: 'inferred', frequency: '15-minute', candidates: [{ period: 96, cycle: 'daily' }, { period: 672, cycle: 'weekly' }] });
    expect(inferSeasonality(redated(10)).period).toBe(144);
    const hourly = inferSeasonality(ett);
    expect(hourly).toMatchObject({ period: 24, frequency: 'hourly', candidates: [{ period: 24 }, { period: 168 }] });
    expect(hourly.reason).toBe('hourly data: one day is 24 steps (a week, 168, is offered)');
    expect(inferSeasonality(redated(7)).period).toBeUndefined();
  });
  it('monthly 12, yearly none, no dates none, and a given season wins but is reported as given', () => {
    expect(inferSeasonality(air)).toMatchObject({ period: 12, frequency: 'monthly' });
    expect(inferSeasonality({ values: air.values, dates: undefined }).reason).toMatch(/no dates/);
    const given = inferSeasonality(air, 6);
    expect(given).toMatchObject({ period: 6, source: 'given', reason: 'season 6 was given (the dates suggest 12)' });
  });
  it('daily data: 7, and 365 when there are two years and the last year validates better', () => {
    const temps = daily(3, 8, 0.3);
    const r = inferSeasonality(temps);
    expect(r).toMatchObject({ period: 365, frequency: 'daily', candidates: [{ period: 7 }, { period: 365 }] });
    expect(r.reason).toMatch(/repeating the last year forecast the final year better/);
    // The same temperatures over 1.5 years: too short for a yearly season.
    expect(inferSeasonality({ ...temps, values: [temps.values[0]!.subarray(0, 547)], dates: temps.dates!.slice(0, 547) })).toMatchObject({ period: 7 });
    // A weekday pattern without a yearly cycle keeps 7.
    expect(inferSeasonality(daily(3, 0, 3)).period).toBe(7);
  });
  it('business days get 5', () => {
    const t0 = Date.UTC(2020, 0, 6); // a Monday
    const dates: Date[] = [];
    for (let d = 0; dates.length < 200; d++) if (d % 7 < 5) dates.push(new Date(t0 + d * 86_400_000));
    expect(inferSeasonality({ values: [ett.values[0]!.slice(0, 200)], dates }).period).toBe(5);
  });
  it('the forecast task uses it and says so: 15-minute data gets a look-back of two days', async () => {
    const s = redated(15, 1000);
    expect(inferSeason(s)).toBe(96);
    expect(forecasterOptionsFor('linear', { horizon: 24 }, s)).toMatchObject({ lookback: 192, horizon: 24 });
    const r = await ForecastPipeline.create('seasonal-naive').run(s, { horizon: 4, levels: [] });
    expect(r.options.season).toBe(96);
    expect(r.season).toMatchObject({ period: 96, source: 'inferred', frequency: '15-minute' });
    expect(Array.from(r.main.mean[0]!)).toEqual(Array.from(s.values[0]!.subarray(seriesLength(s) - 96, seriesLength(s) - 92)));
  });
});
