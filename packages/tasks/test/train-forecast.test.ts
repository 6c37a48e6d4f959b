import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate, pipeline, train, type TrainEvent } from '../src/index.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'seqlab-train-forecast-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

const AIRLINE = path.resolve(import.meta.dirname, '../../../data/classic_ts/airline-passengers.csv');

/** Monthly counts with an 11-step cycle (not a calendar period), a trend and fixed-seed noise. */
function elevenStepCounts(n: number): number[] {
  let x = 11;
  const rand = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: n }, (_, t) => Math.max(0, Math.round(6 + 0.08 * t + 10 * Math.sin((2 * Math.PI * t) / 11) + 2.5 * gauss())));
}

describe("train('forecast')", () => {
  it('defaults to auto on a series in memory: reports every backtested candidate, the winner and why; the saved model forecasts through pipeline()', async () => {
    const events: TrainEvent[] = [];
    const out = path.join(tmp, 'series');
    const { dir, report } = await train('forecast', elevenStepCounts(240), { out, horizon: 12, seed: 1, onProgress: (e) => events.push(e) });
    expect(dir).toBe(out);
    expect(report.details.model).toBe('auto');
    expect(report.candidates.map((c) => c.kind)).toEqual(expect.arrayContaining(['naive', 'seasonal-naive(season=11)', 'holt-winters(season=11)']));
    const ranked = report.candidates.filter((c) => c.metrics.rmse !== undefined).sort((a, b) => a.metrics.rmse! - b.metrics.rmse!);
    expect(report.kind).toBe(ranked[0]!.settings!.kind);
    expect(report.reason).toContain(ranked[0]!.kind);
    expect(report.reason).toMatch(/% below the runner-up/);
    expect(report.details.nonNegative).toEqual([true]);
    expect(events.some((e) => e.type === 'stage' && e.stage === 'save')).toBe(true);
    expect(JSON.parse(await readFile(path.join(dir, 'training.json'), 'utf8')).kind).toBe(report.kind);
    const p = await pipeline('forecast', dir);
    try {
      const r = await p.run(undefined, { horizon: 12, levels: [0.9] });
      expect(r.model).toBe('auto');
      expect(r.main.mean[0]).toHaveLength(12);
      expect(Math.min(...r.main.lower![0]!)).toBeGreaterThanOrEqual(0);
    } finally {
      p.dispose();
    }
  });

  it('trains on the airline CSV with a test range: the test range is never seen and auto beats seasonal naive there', async () => {
    const { report } = await train('forecast', AIRLINE, { out: path.join(tmp, 'airline'), horizon: 12, testSplit: 0.1 });
    expect(report.details.ranges?.test?.rows).toEqual([130, 144]);
    const naive = await train('forecast', AIRLINE, { out: path.join(tmp, 'airline-naive'), model: 'seasonal-naive', horizon: 12, testSplit: 0.1, valSplit: 0.1 });
    expect(report.details.test!.rmse).toBeLessThan(naive.report.details.test!.rmse);
  });

  it('refuses unknown options, listing the valid ones, and a global kind on one series', async () => {
    await expect(train('forecast', AIRLINE, { out: path.join(tmp, 'x'), horizon: 12, horizn: 3 } as never)).rejects.toThrow(/unknown option "horizn"; valid options: .*horizon/);
    await expect(train('forecast', AIRLINE, { out: path.join(tmp, 'x'), horizon: 12, model: 'es-hybrid' })).rejects.toThrow(/global model/);
  });

  it('reports gaps in the dates as a typed warning naming the first gap', async () => {
    const lines = ['date,count'];
    elevenStepCounts(200).forEach((v, t) => {
      if (t !== 100) lines.push(`${new Date(Date.UTC(2020, 0, 1 + t)).toISOString().slice(0, 10)},${v}`);
    });
    const csv = path.join(tmp, 'gappy.csv');
    await writeFile(csv, `${lines.join('\n')}\n`);
    const { report } = await train('forecast', csv, { out: path.join(tmp, 'gappy'), horizon: 7 });
    const warning = report.details.warnings.find((w) => w.type === 'date-gaps');
    expect(warning?.gaps).toMatchObject({ gaps: 1, missingSteps: 1, first: { after: '2020-04-09T00:00:00.000Z', before: '2020-04-11T00:00:00.000Z' } });
    expect(warning?.message).toContain('between 2020-04-09 and 2020-04-11');
  });
});

describe("evaluate('forecast')", () => {
  it('backtests a kind, and a saved model by its configuration (refitted before the first origin, so the same as the kind)', async () => {
    const naive = await evaluate('forecast', 'naive', AIRLINE, { horizon: 12, windows: 3 });
    expect(naive.mode).toBe('backtest');
    expect(naive.backtest!.origins).toEqual([108, 120, 132]);
    const byKind = await evaluate('forecast', 'auto', AIRLINE, { horizon: 12, windows: 3 });
    const { dir } = await train('forecast', AIRLINE, { out: path.join(tmp, 'eval-auto'), horizon: 12 });
    const saved = await evaluate('forecast', dir, AIRLINE, { horizon: 12, windows: 3 });
    expect(saved.model).toBe('auto');
    expect(saved.backtest!.origins).toEqual([108, 120, 132]);
    expect(saved.backtest!.metrics.rmse).toBeCloseTo(byKind.backtest!.metrics.rmse, 9);
    expect(saved.backtest!.metrics.rmse).toBeLessThan(naive.backtest!.metrics.rmse);
  });

  it('refuses unknown options', async () => {
    await expect(evaluate('forecast', 'naive', AIRLINE, { horizon: 3, windowz: 2 } as never)).rejects.toThrow(/unknown option "windowz"/);
  });
});

describe("train('forecast') on a panel", () => {
  it('auto scores the one-member global model against a seeds x look-backs ensemble on the last training window, names per-series naive as reference, and saves the better', async () => {
    const panel = Array.from({ length: 6 }, (_, i) => ({
      id: `S${i + 1}`,
      values: Array.from({ length: 84 }, (_, t) => 50 + 10 * i + 8 * Math.sin((2 * Math.PI * t) / 7) + 0.2 * t),
      dates: Array.from({ length: 84 }, (_, t) => new Date(Date.UTC(2021, 0, 1 + t)).toISOString().slice(0, 10)),
    }));
    const { dir, report } = await train('forecast', panel, { out: path.join(tmp, 'panel'), horizon: 7, epochs: 2, seeds: [1, 2], seed: 1 });
    expect(report.details.global).toBe(true);
    expect(report.kind).toBe('es-hybrid');
    const [single, ensemble, naive] = report.candidates;
    expect(single!.kind).toBe('es-hybrid(1 member)');
    expect(ensemble!.kind).toBe('es-hybrid(seeds 1,2 x look-backs 7, 2 epochs)');
    expect(naive!.kind).toBe('naive (per series, reference)');
    const best = single!.metrics.smape! <= ensemble!.metrics.smape! ? single! : ensemble!;
    expect(report.reason.startsWith(best.kind)).toBe(true);
    expect(report.details.options).toEqual(best.settings);
    const p = await pipeline('forecast', dir);
    try {
      expect(p.global).toBe(true);
    } finally {
      p.dispose();
    }
  });
});
