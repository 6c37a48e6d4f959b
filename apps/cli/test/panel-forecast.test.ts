import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@seqlab/core';
import { createGlobalForecaster, loadGlobalForecaster, readWideCsv } from '@seqlab/forecast';
import { beforeAll, describe, expect, it } from 'vitest';
import { forecastCommand } from '../src/commands/forecast.js';
import { dataFile, M4_PANEL_START, pngSize, run, writeM4Panel } from './helpers.js';

// Eight real M4 Hourly series, their last 300 rows. The model is fitted on the first six; the
// files hold all eight, so two are series it never saw.
const dir = mkdtempSync(join(tmpdir(), 'seqlab-panel-forecast-'));
const { m4, wide: WIDE, long: LONG } = writeM4Panel(dir, 8, 300);
const MODEL = join(dir, 'es-hybrid');
const seen = m4.slice(0, 6).map((s) => s.id);
const unseen = m4.slice(6).map((s) => s.id);

beforeAll(async () => {
  await initBackend();
  const model = createGlobalForecaster('es-hybrid', { season: 24, horizon: 24, lookback: 48, hidden: 16, epochs: 3, windowsPerEpoch: 512 });
  await model.fit(readWideCsv(WIDE).slice(0, 6));
  await model.save(MODEL);
  model.dispose();
}, 120_000);

interface SeriesOut {
  id: string;
  seen: boolean;
  historyRows: number;
  dates?: string[];
  mean: number[];
  intervals: Array<{ level: number; lower: number[]; upper: number[] }>;
}

describe('seqlab forecast --load <global model> on a panel', () => {
  it('--id-col: forecasts every series of a long file with timestamps and intervals, the same numbers as the model itself', async () => {
    const r = await run(forecastCommand(), ['--csv', LONG, '--id-col', 'store', '--load', MODEL, '--horizon', '24', '--level', '80,95', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { kind: string; layout: string; levels: number[]; newSeries: string[]; series: SeriesOut[] };
    expect(out).toMatchObject({ kind: 'es-hybrid', layout: 'long', levels: [95, 80], newSeries: unseen });
    expect(out.series.map((s) => [s.id, s.seen, s.historyRows])).toEqual(m4.map((s, i) => [s.id, i < 6, 300]));
    expect(out.series[0]!.dates).toEqual(Array.from({ length: 24 }, (_, h) => new Date(M4_PANEL_START + (300 + h) * 3_600_000).toISOString()));
    for (const s of out.series) {
      expect(s.mean).toHaveLength(24);
      expect(s.intervals.map((iv) => iv.level)).toEqual([0.95, 0.8]);
      s.mean.forEach((m, h) => expect(s.intervals[1]!.lower[h]! <= m && m <= s.intervals[1]!.upper[h]!).toBe(true));
    }
    // The new series are announced on stderr with what was done for them.
    expect(r.stderr).toMatch(new RegExp(`2 series the model was not fitted on \\(${unseen.join(', ')}\\): smoothing fitted on their history here`));
    const model = await loadGlobalForecaster(MODEL);
    const direct = await model.predict(24, { level: null });
    model.dispose();
    direct.forEach((f, i) => f.forecast.mean[0]!.forEach((v, h) => expect(out.series[i]!.mean[h]).toBeCloseTo(v, 3)));
  }, 60_000);

  it('--wide --series --out: long-format CSV of the chosen series, one plot per series', async () => {
    const csv = join(dir, 'forecasts.csv');
    const plot = join(dir, 'plots', 'panel.png');
    const r = await run(forecastCommand(), ['--csv', WIDE, '--wide', '--load', MODEL, '--horizon', '12', '--series', `${unseen[0]},${seen[1]}`, '--out', csv, '--plot', plot]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/forecast of 2 series, 12 steps each \(1 not seen in training\)/);
    expect(r.stdout).toContain(`forecasts written to ${csv} (24 rows)`);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('series,step,forecast,lower_95,upper_95,lower_80,upper_80');
    expect(lines).toHaveLength(25);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual([...Array(12).fill(unseen[0]), ...Array(12).fill(seen[1])]);
    expect(lines.slice(1, 13).map((l) => Number(l.split(',')[1]))).toEqual(Array.from({ length: 12 }, (_, h) => h + 1));
    for (const id of [unseen[0]!, seen[1]!]) {
      const file = join(dir, 'plots', `panel-${id}.png`);
      expect(existsSync(file)).toBe(true);
      expect(pngSize(readFileSync(file)).width).toBeGreaterThan(400);
    }
    const json = join(dir, 'forecasts.json');
    const j = await run(forecastCommand(), ['--csv', WIDE, '--wide', '--load', MODEL, '--horizon', '2', '--series', seen[0]!, '--level', '90', '--out', json]);
    expect(j.exitCode).toBe(0);
    const saved = JSON.parse(readFileSync(json, 'utf8'));
    expect(saved.rows).toEqual([
      { series: seen[0], step: 1, forecast: saved.series[0].mean[0], lower_90: saved.series[0].intervals[0].lower[0], upper_90: saved.series[0].intervals[0].upper[0] },
      { series: seen[0], step: 2, forecast: saved.series[0].mean[1], lower_90: saved.series[0].intervals[0].lower[1], upper_90: saved.series[0].intervals[0].upper[1] },
    ]);
  }, 60_000);

  it('refuses new series when told to, unknown ids, and options that do not apply, each with a clear message', async () => {
    const strict = await run(forecastCommand(), ['--csv', WIDE, '--wide', '--load', MODEL, '--horizon', '12', '--new-series', 'error']);
    expect(strict.exitCode).toBe(2);
    expect(strict.stderr).toMatch(new RegExp(`series "${unseen[0]}", "${unseen[1]}" were not in the fitted panel; new series were refused`));
    const unknown = await run(forecastCommand(), ['--csv', WIDE, '--wide', '--load', MODEL, '--horizon', '12', '--series', 'H1,H999']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/series "H999" is not in the panel given \(8 series/);
    const tooFar = await run(forecastCommand(), ['--csv', WIDE, '--wide', '--load', MODEL, '--horizon', '48']);
    expect(tooFar.exitCode).toBe(2);
    expect(tooFar.stderr).toMatch(/trained for horizon 24; got 48/);
    const noLoad = await run(forecastCommand(), ['--csv', WIDE, '--wide', '--horizon', '12']);
    expect(noLoad.exitCode).toBe(2);
    expect(noLoad.stderr).toMatch(/forecast many series with a saved global model: give --load DIR/);
    const holdout = await run(forecastCommand(), ['--csv', WIDE, '--wide', '--load', MODEL, '--horizon', '12', '--holdout']);
    expect(holdout.exitCode).toBe(2);
    expect(holdout.stderr).toMatch(/--holdout does not apply .* evaluate forecaster --load DIR/);
    const badOut = await run(forecastCommand(), ['--csv', WIDE, '--wide', '--load', MODEL, '--horizon', '12', '--out', join(dir, 'x.txt')]);
    expect(badOut.exitCode).toBe(2);
    expect(badOut.stderr).toMatch(/--out.*must end in \.csv or \.json/);
    const noPanel = await run(forecastCommand(), ['--csv', dataFile('classic_ts', 'airline-passengers.csv'), '--horizon', '12', '--series', 'a']);
    expect(noPanel.exitCode).toBe(2);
    expect(noPanel.stderr).toMatch(/--series belongs to panel forecasts: give the series with --id-col/);
    // A per-series model cannot forecast a panel; a global one cannot forecast one series.
    const local = join(dir, 'naive');
    expect((await run(forecastCommand(), ['--csv', dataFile('classic_ts', 'airline-passengers.csv'), '--horizon', '3', '--model', 'naive', '--save', local])).exitCode).toBe(0);
    const wrongKind = await run(forecastCommand(), ['--csv', WIDE, '--wide', '--load', local, '--horizon', '12']);
    expect(wrongKind.exitCode).toBe(2);
    expect(wrongKind.stderr).toMatch(/holds a per-series forecaster \(naive\); --id-col\/--wide need a global model/);
    const single = await run(forecastCommand(), ['--csv', dataFile('classic_ts', 'airline-passengers.csv'), '--horizon', '3', '--load', MODEL]);
    expect(single.exitCode).toBe(2);
    expect(single.stderr).toMatch(/is a global \(panel\) es-hybrid model: it forecasts many series at once \(runPanel; CLI --id-col or --wide/);
  }, 60_000);
});
