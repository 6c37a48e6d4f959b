import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forecastCommand } from '../src/commands/forecast.js';
import { evaluateForecasterCommand } from '../src/commands/evaluate-forecaster.js';
import { dataFile, pngSize, run } from './helpers.js';

const AIRLINE = dataFile('classic_ts', 'airline-passengers.csv');

describe('seqlab forecast', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqlab-forecast-'));

  it('forecasts airline passengers with intervals and held-out actuals, as JSON', async () => {
    const r = await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '12', '--model', 'holt-winters', '--holdout', '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toBe('holt-winters');
    expect(out.columns).toEqual(['Passengers']);
    expect(out.forecast).toHaveLength(12);
    expect(out.levels).toEqual([95, 80]);
    expect(out.season).toMatchObject({ period: 12, source: 'inferred', frequency: 'monthly', candidates: [{ period: 12, cycle: 'yearly' }] });
    const first = out.forecast[0];
    expect(first.date.slice(0, 7)).toBe('1960-01');
    expect(first.actual).toBe(417);
    const [lo95, hi95] = first.intervals['95'];
    const [lo80, hi80] = first.intervals['80'];
    expect(lo95).toBeLessThanOrEqual(lo80);
    expect(hi95).toBeGreaterThanOrEqual(hi80);
    expect(lo80).toBeLessThan(first.mean);
    // Holt-Winters on the classic airline series is good to within ~5% sMAPE a year ahead.
    expect(out.metrics.smape).toBeLessThan(10);
  });

  it('writes a PNG plot and a readable table', async () => {
    const png = join(dir, 'airline.png');
    const r = await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '24', '--plot', png]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('auto forecast of Passengers (24 steps, fitted on 144 rows)');
    // auto says which kind won its backtest on the 144 rows and by how much.
    expect(r.stderr).toMatch(/seqlab: note: auto: \S+\(season=12\) had the lowest RMSE, [\d.]+, over 3 rolling-origin windows of 18 steps on the training rows, [\d.]+% below the runner-up/);
    expect(r.stdout).toMatch(/1961-12/);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(pngSize(bytes).width).toBeGreaterThan(1000);
  });

  it.each([
    [['--csv', join(dir, 'nope.csv'), '--horizon', '3'], 3, /--csv: file not found: .*nope\.csv/],
    [['--csv', AIRLINE, '--horizon', '3', '--target', 'Sales'], 2, /column "Sales" not found; columns are Month, Passengers/],
    [['--csv', AIRLINE, '--horizon', 'soon'], 2, /--horizon: expected a positive integer, got "soon"/],
    [['--csv', AIRLINE, '--horizon', '3', '--model', 'prophet'], 2, /--model: expected a forecaster, one of auto, segrnn, .*; got "prophet"/],
    [['--csv', AIRLINE, '--horizon', '3', '--plot', join(dir, 'x.jpg')], 2, /--plot: the file name must end in .png or .svg/],
  ])('bad input %j -> exit %i', async (argv, code, message) => {
    const r = await run(forecastCommand(), argv);
    expect(r.exitCode).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('names the row and column of non-numeric data', async () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'date,y\n2020-01-01,1\n2020-01-02,two\n2020-01-03,3\n');
    const r = await run(forecastCommand(), ['--csv', csv, '--horizon', '1', '--model', 'naive']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/column "y" row 2 \(line 3\): "two" is not a number/);
  });

  it('prints the stack only with --verbose', async () => {
    const r = await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '3', '--target', 'Sales', '--verbose']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('seqlab forecast: short series', () => {
  it('holt-winters on fewer than two seasons falls back and says so (stderr and JSON notes)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'seqlab-short-')), 'short.csv');
    writeFileSync(file, readFileSync(AIRLINE, 'utf8').split('\n').slice(0, 21).join('\n') + '\n');
    const r = await run(forecastCommand(), ['--csv', file, '--horizon', '6', '--model', 'holt-winters', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.notes).toEqual(['holt-winters: 20 rows are fewer than two seasons (24 rows for season 12); fitted a damped-trend model without seasonality instead']);
    expect(r.stderr).toMatch(/seqlab: note: holt-winters: 20 rows are fewer than two seasons/);
    expect(out.forecast).toHaveLength(6);
  });
});

describe('seqlab forecast: bounds', () => {
  it('--bounds and --non-negative clip forecasts and intervals; bad bounds are named', async () => {
    const free = JSON.parse((await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '12', '--level', '99', '--json'])).stdout);
    expect(Math.max(...free.forecast.map((f: { intervals: Record<string, number[]> }) => f.intervals['99']![1]!))).toBeGreaterThan(500);
    const r = await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '12', '--level', '99', '--bounds', ':500', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    out.forecast.forEach((f: { mean: number; intervals: Record<string, number[]> }, i: number) => {
      expect(f.intervals['99']![1]).toBe(Math.min(500, free.forecast[i].intervals['99'][1]));
      expect(f.mean).toBe(Math.min(500, free.forecast[i].mean));
    });
    expect((await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '3', '--non-negative'])).exitCode).toBe(0);
    const bad = await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '3', '--bounds', '5:1']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--bounds: expected LOWER:UPPER with LOWER < UPPER/);
  });
});

describe('seqlab forecast: CSV formats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqlab-formats-'));
  // The airline series rewritten as a European spreadsheet saves it: semicolons, DD/MM/YYYY
  // dates (the 13th of each month, so the order is certain), Latin-1 header, one repeated month.
  const lines = readFileSync(AIRLINE, 'utf8').trim().split('\n').slice(1);
  const rows = lines.map((l) => {
    const [month, value] = l.replace(/"/g, '').split(',');
    return `13/${month!.slice(5, 7)}/${month!.slice(0, 4)};${value}`;
  });
  const file = join(dir, 'passagers.csv');
  writeFileSync(file, Buffer.from(`Mois;Passagers (écart)\n${[...rows.slice(0, 10), rows[9]!.replace(/;.*/, ';999'), ...rows.slice(10)].join('\n')}\n`, 'latin1'));

  it('reads semicolons, DD/MM/YYYY and Latin-1, applies --duplicates, and reports how it read the file', async () => {
    const refused = await run(forecastCommand(), ['--csv', file, '--horizon', '12', '--json']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/duplicate timestamp: 1949-10-13T00:00:00.000Z at row 10 \(line 11\) and row 11 \(line 12\)/);
    const r = await run(forecastCommand(), ['--csv', file, '--horizon', '12', '--duplicates', 'first', '--holdout', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.columns).toEqual(['Passagers (écart)']);
    expect(out.read).toEqual({ encoding: 'latin1', delimiter: ';', delimiterDetected: true, dateFormat: 'DD/MM/YYYY', duplicateRows: 1 });
    expect(out.forecast[0].actual).toBe(417);
    // Same numbers as the original file: same rows once the duplicate is dropped.
    const ref = JSON.parse((await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '12', '--holdout', '--json'])).stdout);
    expect(out.forecast.map((f: { mean: number }) => f.mean)).toEqual(ref.forecast.map((f: { mean: number }) => f.mean));
    const forced = await run(forecastCommand(), ['--csv', file, '--horizon', '12', '--duplicates', 'first', '--date-format', 'MM/DD/YYYY', '--json']);
    expect(forced.stdout + forced.stderr).toMatch(/row 1 \(line 2\): "13\/01\/1949" is not a date in the format MM\/DD\/YYYY/);
  });
});

describe('seqlab evaluate forecaster', () => {
  it('backtests and compares models on rolling origins', async () => {
    const r = await run(evaluateForecasterCommand(), [
      '--data', AIRLINE, '--horizon', '12', '--windows', '3', '--model', 'naive', '--model', 'seasonal-naive', '--model', 'holt-winters', '--json',
    ]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    const byName = Object.fromEntries(out.results.map((x: { model: string; metrics: { mae: number } }) => [x.model, x.metrics.mae]));
    expect(Object.keys(byName)).toEqual(['naive', 'seasonal-naive', 'holt-winters']);
    // On a trending seasonal series, modelling the season beats repeating the last value.
    expect(byName['holt-winters']).toBeLessThan(byName['naive']);
    expect(out.results[0].origins).toEqual([108, 120, 132]);
    expect(out.season).toMatchObject({ period: 12, source: 'inferred', frequency: 'monthly' });
  });
  it('--split ett reproduces bench:ett\'s ridge figures (results/ett.json) on ETTh1 at H = 96', async () => {
    const bench = JSON.parse(readFileSync(new URL('../../../results/ett.json', import.meta.url), 'utf8')) as {
      details: Array<{ data: string; H: number; results: Record<string, { mse: number; mae: number }> }>;
    };
    const ridge = bench.details.find((d) => d.data === 'ETTh1' && d.H === 96)!.results['linear (ridge)']!;
    const r = await run(evaluateForecasterCommand(), [
      '--data', dataFile('ett', 'ETTh1.csv'), '--split', 'ett', '--model', 'linear', '--model', 'seasonal-naive', '--lookback', '96', '--horizon', '96', '--json',
    ]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.bounds).toEqual({ trainEnd: 8640, valEnd: 11520, testEnd: 14400, lookback: 96 });
    const [linear, snaive] = out.results;
    expect(linear.windows).toBe(2785);
    expect(Math.abs(linear.normalised.mse - ridge.mse)).toBeLessThan(0.001);
    expect(Math.abs(linear.normalised.mae - ridge.mae)).toBeLessThan(0.001);
    expect(linear.original.mse).toBeGreaterThan(linear.normalised.mse); // OT etc. in their own units
    expect(linear.maseSeason).toEqual({ period: 24, source: 'inferred' });
    expect(linear.original.coverage).toBeGreaterThan(0.85);
    expect(snaive.normalised.mse).toBeGreaterThan(linear.normalised.mse);
    expect(out.season).toMatchObject({ period: 24, frequency: 'hourly' });
    expect(r.stderr).toMatch(/split ett: train rows \[0, 8640\), validation \[8640, 11520\), test \[11520, 14400\)/);
    expect(r.stderr).toMatch(/linear: scored 2785\/2785 windows/);
  });

  it('--wide and --id-col backtest every series of a panel in one call, per series and averaged', async () => {
    const wide = await run(evaluateForecasterCommand(), ['--data', dataFile('m4', 'Hourly-train.csv'), '--wide', '--horizon', '48', '--season', '24', '--model', 'naive', '--model', 'seasonal-naive', '--json', '--no-progress']);
    expect(wide.exitCode).toBe(0);
    const out = JSON.parse(wide.stdout);
    expect(out).toMatchObject({ layout: 'wide', series: 414, horizon: 48, windows: 1, maseSeason: 24 });
    const [naive, snaive] = out.results;
    expect(naive.series).toHaveLength(414);
    expect(snaive.aggregate.smape).toBeCloseTo(snaive.series.reduce((a: number, s: { smape: number }) => a + s.smape, 0) / 414, 9);
    // Hourly loads repeat daily: the seasonal baseline beats repeating the last value.
    expect(snaive.aggregate.smape).toBeLessThan(naive.aggregate.smape);
    // The same two series as a long file: OT and HUFL of ETTh1, by id column.
    const rows = readFileSync(dataFile('ett', 'ETTh1.csv'), 'utf8').trim().split('\n').slice(1, 1001).map((l) => l.split(','));
    const file = join(mkdtempSync(join(tmpdir(), 'seqlab-panel-')), 'long.csv');
    writeFileSync(file, `series,date,value\n${rows.flatMap((c) => [`OT,${c[0]},${c[7]}`, `HUFL,${c[0]},${c[1]}`]).join('\n')}\n`);
    const long = await run(evaluateForecasterCommand(), ['--data', file, '--id-col', 'series', '--horizon', '24', '--windows', '3', '--model', 'seasonal-naive']);
    expect(long.exitCode).toBe(0);
    expect(long.stdout).toMatch(/2 series \(by series\): 3 windows of 24 steps each; means over series, MASE season 24/);
    expect(long.stderr).toMatch(/seasonal-naive: 2\/2 series/);
  });

  it('--split prints normalised and original-unit errors, and refuses backtest flags', async () => {
    const r = await run(evaluateForecasterCommand(), ['--data', AIRLINE, '--split', '0.6:0.2:0.2', '--model', 'seasonal-naive', '--horizon', '6', '--stride', '3', '--no-progress']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Passengers: split 0.6:0.2:0.2 \(train \[0, 86\), validation \[86, 115\), test \[115, 144\)\), 8 windows of 6 steps, stride 3/);
    expect(r.stdout).toMatch(/MASE season 12 \(monthly data: one year is 12 steps\)/);
    expect(r.stdout).toMatch(/model\s+MSE \(standard\)\s+MAE \(standard\)\s+MSE\s+MAE\s+RMSE\s+sMAPE\s+MASE\s+coverage 90%/);
    const bad = await run(evaluateForecasterCommand(), ['--data', AIRLINE, '--split', '0.6:0.2:0.2', '--horizon', '6', '--windows', '3']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--windows belongs to the rolling backtest/);
  });
});

describe('seqlab train forecaster', () => {
  it('trains segrnn for a few epochs, saves it, plots the curve, and forecast --load uses it', async () => {
    const { trainForecasterCommand } = await import('../src/commands/train-forecaster.js');
    const out = join(mkdtempSync(join(tmpdir(), 'seqlab-trainfc-')), 'segrnn');
    // Horizon 13 gives a default look-back of 26, no multiple of the default segment (24): reconciled, not refused.
    const r = await run(trainForecasterCommand(), ['--data', AIRLINE, '--model', 'segrnn', '--horizon', '13', '--epochs', '3', '--hidden', '8', '--time-budget', '60', '--out', out, '--json']);
    expect(r.exitCode).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ task: 'forecaster', model: 'segrnn', trainRows: 115, validationRows: 29, testRows: 0, testMetrics: null, epochs: 3 });
    expect(summary.options).toMatchObject({ lookback: 48, segmentLength: 24, hidden: 8, timeBudgetSeconds: 60, horizon: 13 });
    // Progress reaches stderr with --json too.
    expect(r.stderr).toMatch(/epoch 3/);
    expect(Number.isFinite(summary.validationMetrics.mae)).toBe(true);
    expect(readFileSync(join(out, 'training-curve.png')).subarray(1, 4).toString()).toBe('PNG');
    const f = await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '6', '--load', out, '--json']);
    expect(f.exitCode).toBe(0);
    const forecast = JSON.parse(f.stdout);
    expect(forecast.model).toBe('segrnn');
    expect(forecast.forecast).toHaveLength(6);
    expect(forecast.forecast.every((row: { mean: number }) => Number.isFinite(row.mean))).toBe(true);
  });

  it('keeps a test range apart from validation, and forecast --load --holdout warns when the holdout was seen', async () => {
    const { trainForecasterCommand } = await import('../src/commands/train-forecaster.js');
    const dir = mkdtempSync(join(tmpdir(), 'seqlab-trainfc-'));
    const r = await run(trainForecasterCommand(), ['--data', AIRLINE, '--model', 'linear', '--horizon', '12', '--val-split', '0.2', '--test-split', '0.25', '--out', join(dir, 'held'), '--json']);
    expect(r.exitCode).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ trainRows: 79, validationRows: 29, testRows: 36 });
    expect(summary.season).toMatchObject({ period: 12, source: 'inferred', reason: 'monthly data: one year is 12 steps' });
    expect(summary.ranges.test).toEqual({ rows: [108, 144], from: '1958-01-01T00:00:00.000Z', to: '1960-12-01T00:00:00.000Z' });
    expect(summary.seenUntil).toBe('1957-12-01T00:00:00.000Z');
    expect(summary.testMetrics).toMatchObject({ rows: 36, windows: 3 });
    expect(summary.testMetrics.coverage90).toBeGreaterThan(0);
    const clean = await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '12', '--load', join(dir, 'held'), '--holdout', '--json']);
    expect(JSON.parse(clean.stdout).warnings).toEqual([]);
    expect(clean.stderr).toBe('');
    // Trained the old way (validation = the last 20% of the file), the holdout is validation data.
    expect((await run(trainForecasterCommand(), ['--data', AIRLINE, '--model', 'linear', '--horizon', '12', '--out', join(dir, 'seen'), '--json'])).exitCode).toBe(0);
    const seen = await run(forecastCommand(), ['--csv', AIRLINE, '--horizon', '12', '--load', join(dir, 'seen'), '--holdout', '--json']);
    expect(seen.exitCode).toBe(0);
    expect(JSON.parse(seen.stdout).warnings[0]).toMatch(/held-out rows from 1960-01-01T00:00:00.000Z overlap the data linear was fitted or calibrated on \(up to 1960-12-01T00:00:00.000Z\)/);
    expect(seen.stderr).toMatch(/seqlab: warning: the held-out rows/);
    const both = await run(trainForecasterCommand(), ['--data', AIRLINE, '--model', 'linear', '--horizon', '12', '--split', 'ett', '--test-split', '0.1', '--out', join(dir, 'x')]);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toMatch(/use either --split or --val-split\/--test-split, not both/);
  });
});

describe('forecasting defaults: auto', () => {
  const dir = mkdtempSync(join(tmpdir(), 'seqlab-auto-cli-'));
  /** Monthly counts with an 11-step cycle (not a calendar period), a trend and fixed-seed noise, as a CSV file. */
  const cycleCsv = (): string => {
    let x = 3;
    const rand = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    const rows = Array.from({ length: 240 }, (_, t) => `${new Date(Date.UTC(2000, t, 1)).toISOString().slice(0, 10)},${Math.max(0, Math.round(6 + 0.08 * t + 10 * Math.sin((2 * Math.PI * t) / 11) + 2.5 * gauss()))}`);
    const file = join(dir, 'cycle-11.csv');
    writeFileSync(file, `month,count\n${rows.join('\n')}\n`);
    return file;
  };

  it('forecast --help shows auto as the default model', async () => {
    const r = await run(forecastCommand(), ['--help']);
    expect(r.stdout).toMatch(/--model <name>[\s\S]*?\(default: "auto"\)/);
  });

  it.each([
    ['the airline series', AIRLINE],
    ['11-step cycle counts on monthly dates', 'cycle'],
  ])('the default beats seasonal naive on the held-out tail of %s', async (_what, file) => {
    const csv = file === 'cycle' ? cycleCsv() : file;
    const args = ['--csv', csv, '--horizon', '24', '--holdout', '--json'];
    const auto = JSON.parse((await run(forecastCommand(), args)).stdout);
    const naive = JSON.parse((await run(forecastCommand(), [...args, '--model', 'seasonal-naive'])).stdout);
    expect(auto.model).toBe('auto');
    expect(auto.metrics.rmse).toBeLessThan(naive.metrics.rmse);
    // Counts: no forecast and no interval bound below 0.
    expect(Math.min(...auto.forecast.flatMap((r: { mean: number; intervals: Record<string, number[]> }) => [r.mean, ...Object.values(r.intervals).flat()]))).toBeGreaterThanOrEqual(0);
  });

  it('train forecaster defaults to auto and prints the candidates, the winner and why', async () => {
    const { trainForecasterCommand } = await import('../src/commands/train-forecaster.js');
    const r = await run(trainForecasterCommand(), ['--data', AIRLINE, '--horizon', '12', '--out', join(dir, 'air'), '--no-progress']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/trained auto \(chose [a-z-]+\) on 144 rows/);
    expect(r.stdout).toMatch(/why: .* had the lowest RMSE/);
    expect(r.stdout).toMatch(/seasonal-naive\(season=12\)/);
  });

  it('forecast and train forecaster say a binary file looks like one', async () => {
    const { trainForecasterCommand } = await import('../src/commands/train-forecaster.js');
    const bin = join(dir, 'model.bin');
    writeFileSync(bin, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01, 0x02, 0x00, 0xff]));
    const f = await run(forecastCommand(), ['--csv', bin, '--horizon', '3']);
    expect(f.exitCode).not.toBe(0);
    expect(f.stderr).toMatch(/model\.bin: looks like a binary file/);
    const t = await run(trainForecasterCommand(), ['--data', bin, '--horizon', '3', '--out', join(dir, 'x')]);
    expect(t.exitCode).not.toBe(0);
    expect(t.stderr).toMatch(/model\.bin: looks like a binary file/);
  });
});
