/**
 * POST /v1/forecast with `panel`: a saved global model (es-hybrid) forecasts many series sent by
 * id, in the model workers, with the same numbers as the forecast task called directly (what
 * `seqlab forecast --load DIR --wide` runs), the service's size limits and error table.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { createGlobalForecaster, createSeries, ForecastPipeline, saveForecaster } from '@seqlab/forecast';
import { REPO_ROOT, type Services } from '../src/index.js';
import { startService, stopService, type TestService } from './service-helpers.js';

let dir: string;
let services: Services;
let app: TestService['app'];

// Eight real M4 Hourly series, their last 300 rows; the saved model was fitted on the first six.
const m4 = readFileSync(path.join(REPO_ROOT, 'data/m4/Hourly-train.csv'), 'utf8').trim().split('\n').slice(1, 9).map((line) => {
  const cells = line.split(',').map((c) => c.replace(/"/g, '')).filter((c) => c !== '');
  return { id: cells[0]!, values: cells.slice(1).slice(-300).map(Number) };
});
const start = Date.UTC(2021, 5, 1);
const hourly = (n: number) => Array.from({ length: n }, (_, t) => new Date(start + t * 3_600_000).toISOString());
const panelOf = (series: typeof m4) => Object.fromEntries(series.map((s) => [s.id, { values: s.values }]));

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-api-panel-'));
  await initBackend();
  const model = createGlobalForecaster('es-hybrid', { season: 24, horizon: 24, lookback: 48, hidden: 16, epochs: 3, windowsPerEpoch: 512 });
  await model.fit(m4.slice(0, 6).map((s) => ({ id: s.id, series: createSeries(s.values) })));
  await model.save(path.join(dir, 'm4-hourly'));
  model.dispose();
  (await saveForecaster(path.join(dir, 'local-naive'), 'naive', createSeries(m4[0]!.values), { horizon: 3 })).dispose();
  ({ services, app } = await startService({
    modelsDir: dir,
    sentimentModel: 'off',
    generatorModel: 'off',
    embeddings: false,
    workers: 1,
    rateLimitMax: 0,
    logLevel: 'silent',
    bodyLimit: '2mb',
    maxForecastSeries: 10,
    maxForecastPanelValues: 3000,
  }));
}, 120_000);

afterAll(() => stopService(services, dir));

describe('POST /v1/forecast with a panel', () => {
  it('forecasts every series sent with intervals, new ones with fresh smoothing, the same numbers as the forecast task', async () => {
    const panel = { ...panelOf(m4), [m4[1]!.id]: { values: m4[1]!.values, dates: hourly(300) } };
    const res = await request(app).post('/v1/forecast').send({ model: 'm4-hourly', panel, horizon: 24, level: 0.8 }).expect(200);
    expect(res.body).toMatchObject({ model: 'm4-hourly', kind: 'es-hybrid', horizon: 24, level: 0.8, newSeries: [m4[6]!.id, m4[7]!.id], notes: [] });
    expect(res.body.series.map((s: { id: string; seen: boolean }) => [s.id, s.seen])).toEqual(m4.map((s, i) => [s.id, i < 6]));
    for (const s of res.body.series as Array<{ mean: number[]; lower: number[]; upper: number[] }>) {
      expect(s.mean).toHaveLength(24);
      s.mean.forEach((m, h) => expect(s.lower[h]! <= m && m <= s.upper[h]!).toBe(true));
    }
    expect(res.body.series[1].dates).toEqual(hourly(324).slice(300));
    expect(res.body.series[0].dates).toBeUndefined();
    const direct = await ForecastPipeline.load(path.join(dir, 'm4-hourly'));
    const expected = await direct.runPanel(m4.map((s) => ({ id: s.id, series: createSeries(s.values) })), { horizon: 24, levels: [0.8] });
    direct.dispose();
    expected.series.forEach((e, i) => {
      e.mean.forEach((v, h) => expect(res.body.series[i].mean[h]).toBeCloseTo(v, 3));
      e.intervals[0]!.upper.forEach((v, h) => expect(res.body.series[i].upper[h]).toBeCloseTo(v, 3));
    });
  });

  it('runs in the model workers: no tensors left behind in them after many panel requests', async () => {
    const send = (k: number) => request(app).post('/v1/forecast').send({ model: 'm4-hourly', panel: panelOf(m4.slice(k % 3, (k % 3) + 5)), horizon: 12 }).expect(200);
    await send(0);
    const before = services.numTensors();
    // The model's weights live in the worker, not on the HTTP thread.
    expect(before).toBeGreaterThan(0);
    for (let k = 0; k < 12; k++) await send(k);
    expect(services.numTensors()).toBe(before);
  });

  it('400/404 with the field or series at fault: limits, shapes, values, new series refused, the wrong kind of model', async () => {
    const body = (extra: Record<string, unknown>) => ({ model: 'm4-hourly', panel: panelOf(m4.slice(0, 2)), horizon: 12, ...extra });
    const cases: Array<[Record<string, unknown>, 400 | 404, string | undefined, RegExp]> = [
      [body({ panel: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`s${i}`, { values: [1, 2, 3] }])) }), 400, 'panel', /has 11 series; at most 10 per request \(MAX_FORECAST_SERIES\)/],
      [body({ panel: Object.fromEntries(['a', 'b', 'c', 'd'].map((id) => [id, { values: Array.from({ length: 800 }, (_, t) => 100 + (t % 24)) }])) }), 400, 'panel', /has 3200 values over all series; at most 3000 per request \(MAX_FORECAST_PANEL_VALUES\)/],
      [body({ panel: { H1: { values: m4[0]!.values, dates: hourly(299) } } }), 400, 'panel.H1.dates', /has 299 entries for 300 values/],
      [body({ panel: { H1: { values: [1, 2, null, 4] } } }), 400, 'panel.H1.values.2', /./],
      [body({ series: [1, 2, 3] }), 400, 'panel', /give exactly one of series, columns or panel/],
      [body({ options: { season: 24 } }), 400, 'options', /do not apply to a saved global model/],
      [{ series: m4[0]!.values, horizon: 3, newSeries: 'error' }, 400, 'newSeries', /applies to panel requests only/],
      [body({ panel: panelOf(m4.slice(5, 8)), newSeries: 'error' }), 400, undefined, new RegExp(`series "${m4[6]!.id}", "${m4[7]!.id}" were not in the fitted panel; new series were refused`)],
      [body({ panel: { short: { values: m4[0]!.values.slice(0, 47) } } }), 400, undefined, /series "short" \(#1\) has 47 rows; this model needs at least 48/],
      [body({ horizon: 48 }), 400, undefined, /trained for horizon 24; got 48/],
      [body({ model: 'nope' }), 404, undefined, /no saved forecaster named "nope"/],
      [body({ model: 'es-hybrid' }), 400, undefined, /"es-hybrid" is a forecaster kind, not a saved model/],
      [body({ model: undefined }), 400, undefined, /"auto" is a forecaster kind, not a saved model/],
      [body({ model: 'local-naive' }), 400, undefined, /"local-naive" is a per-series forecaster \(naive\); a panel needs a saved global model/],
      [{ model: 'm4-hourly', series: m4[0]!.values, horizon: 3 }, 400, undefined, /"m4-hourly" is a global \(panel\) es-hybrid model: send the series as "panel"/],
    ];
    for (const [payload, status, field, message] of cases) {
      const res = await request(app).post('/v1/forecast').send(payload);
      expect([JSON.stringify(payload).slice(0, 80), res.status]).toEqual([JSON.stringify(payload).slice(0, 80), status]);
      expect(res.body.error.message).toMatch(message);
      if (field) expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });
});
