import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@seqlab/core';
import { loadGlobalForecaster, smape } from '@seqlab/forecast';
import { describe, expect, it } from 'vitest';
import { evaluateForecasterCommand } from '../src/commands/evaluate-forecaster.js';
import { trainForecasterCommand } from '../src/commands/train-forecaster.js';
import { dataFile, run, writeM4Panel } from './helpers.js';

// Six real M4 Hourly series, their last 300 rows, as a wide file and as a long file with hourly dates.
const dir = mkdtempSync(join(tmpdir(), 'seqlab-global-cli-'));
const { m4, wide: WIDE, long: LONG } = writeM4Panel(dir, 6, 300);
// What followed those series: the first rows of the M4 test file (the same six ids).
const TEST = join(dir, 'test.csv');
writeFileSync(TEST, readFileSync(dataFile('m4', 'Hourly-test.csv'), 'utf8').trim().split('\n').slice(0, 7).join('\n') + '\n');
const small = ['--horizon', '24', '--lookback', '48', '--epochs', '3'];

describe('global forecasters on the command line', () => {
  it('evaluate forecaster --wide --model es-hybrid backtests one global model beside a local one, per series and averaged', async () => {
    const r = await run(evaluateForecasterCommand(), ['--data', WIDE, '--wide', '--season', '24', ...small, '--seeds', '1,2', '--model', 'es-hybrid', '--model', 'seasonal-naive', '--json', '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ layout: 'wide', series: 6, horizon: 24, windows: 1, maseSeason: 24 });
    const [global, snaive] = out.results;
    expect(global.model).toBe('es-hybrid');
    expect(global.series.map((s: { id: string }) => s.id)).toEqual(m4.map((s) => s.id));
    expect(global.series.every((s: { origins: number[]; coverage?: number }) => s.origins[0] === 276 && s.coverage !== undefined)).toBe(true);
    expect(global.aggregate.smape).toBeCloseTo(global.series.reduce((a: number, s: { smape: number }) => a + s.smape, 0) / 6, 9);
    expect(snaive.series).toHaveLength(6);
  }, 120_000);

  it('train forecaster --id-col --model es-hybrid infers the season from the dates, saves a model that loads and forecasts every series', async () => {
    const out = join(dir, 'es-hybrid');
    const r = await run(trainForecasterCommand(), ['--data', LONG, '--id-col', 'store', '--model', 'es-hybrid', ...small, '--hidden', '16', '--out', out, '--json', '--no-progress']);
    expect(r.exitCode).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ model: 'es-hybrid', global: true, layout: 'long', series: 6, options: { season: 24, horizon: 24, lookback: 48, seeds: [42] } });
    expect(summary.validation.rows).toBe(24);
    // Hourly dates: one day is the season, the week is offered as a second one (not used unless asked).
    expect(summary.season).toMatchObject({ period: 24, source: 'inferred', frequency: 'hourly', candidates: [{ period: 24, cycle: 'daily' }, { period: 168, cycle: 'weekly' }] });
    expect(summary.secondSeason).toBeNull();
    expect(Number.isFinite(summary.validation.smape)).toBe(true);
    expect(existsSync(join(out, 'training.json'))).toBe(true);
    await initBackend();
    const model = await loadGlobalForecaster(out);
    const forecasts = await model.predict(24);
    expect(forecasts.map((f) => f.id)).toEqual(m4.map((s) => s.id));
    expect(forecasts[0]!.forecast.lower![0]).toHaveLength(24);
    model.dispose();
    // The train-file / test-file protocol of M4: the saved model scored on the rows that followed.
    const scored = await run(evaluateForecasterCommand(), ['--data', TEST, '--wide', '--load', out, '--horizon', '24', '--json']);
    expect(scored.exitCode).toBe(0);
    const result = JSON.parse(scored.stdout);
    expect(result).toMatchObject({ series: 6, horizon: 24, maseSeason: 24 });
    const h1 = result.results[0].series[0];
    const actual = readFileSync(TEST, 'utf8').split('\n')[1]!.split(',').slice(1, 25).map((c) => Number(c.replace(/"/g, '')));
    expect(h1.id).toBe(m4[0]!.id);
    expect(h1.smape).toBeCloseTo(smape(actual, forecasts[0]!.forecast.mean[0]!), 6);
    expect(h1.coverage).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it('refuses a global model without a panel, a panel for a local model, and a wide file without a season', async () => {
    const noPanel = await run(evaluateForecasterCommand(), ['--data', WIDE, '--model', 'es-hybrid', '--horizon', '24']);
    expect(noPanel.exitCode).toBe(2);
    expect(noPanel.stderr).toMatch(/es-hybrid is a global model fitted across many series: give a panel with --id-col/);
    const local = await run(trainForecasterCommand(), ['--data', WIDE, '--wide', '--model', 'linear', '--horizon', '24', '--out', join(dir, 'x')]);
    expect(local.exitCode).toBe(2);
    expect(local.stderr).toMatch(/--id-col\/--wide train one global model across the series: choose --model es-hybrid/);
    const noSeason = await run(trainForecasterCommand(), ['--data', WIDE, '--wide', '--model', 'es-hybrid', '--horizon', '24', '--out', join(dir, 'y')]);
    expect(noSeason.exitCode).toBe(2);
    expect(noSeason.stderr).toMatch(/es-hybrid needs --season: the series have no dates to infer it from/);
    // The summary says which season was used and which longer cycle could be added.
    const human = await run(trainForecasterCommand(), ['--data', LONG, '--id-col', 'store', '--model', 'es-hybrid', ...small, '--hidden', '8', '--out', join(dir, 'h'), '--no-progress']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/^season: 24 \(hourly data: one day is 24 steps \(a week, 168, is offered\)\); --second-season 168 adds the weekly cycle$/m);
    // A weekly second season needs two weeks of smoothing before the held-out day: 300 rows are too few.
    const weekly = await run(trainForecasterCommand(), ['--data', LONG, '--id-col', 'store', '--model', 'es-hybrid', ...small, '--second-season', '168', '--out', join(dir, 'w')]);
    expect(weekly.exitCode).toBe(2);
    expect(weekly.stderr).toMatch(/series "H1" \(#1\) has 300 rows; this model needs at least 360/);
    const notMultiple = await run(trainForecasterCommand(), ['--data', LONG, '--id-col', 'store', '--model', 'es-hybrid', ...small, '--second-season', '100', '--out', join(dir, 'w')]);
    expect(notMultiple.exitCode).toBe(2);
    expect(notMultiple.stderr).toMatch(/secondSeason must be a multiple of season \(24\) and longer, e\.g\. 168; got 100/);
    const badSeeds = await run(evaluateForecasterCommand(), ['--data', WIDE, '--wide', '--season', '24', '--model', 'es-hybrid', '--horizon', '24', '--seeds', '1,x']);
    expect(badSeeds.exitCode).toBe(2);
    expect(badSeeds.stderr).toMatch(/seeds.*comma-separated non-negative integers, got "x"/);
  });
});
