/**
 * The error table: every error code has one HTTP status, and no answer (JSON or SSE) carries
 * the server's paths. Model failures are produced for real, on broken copies of a tiny model.
 */
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeqlabErrorCode } from '@seqlab/core';
import { HTTP_BY_CODE, REPO_ROOT, WorkerError, toHttpError, type Services } from '../src/index.js';
import { startService, stopService, type TestService } from './service-helpers.js';
import { trainTinyModels } from './tiny-models.js';

/** The documented status of each code (README "Errors"). */
const EXPECTED: Record<SeqlabErrorCode, [number, string]> = {
  bad_input: [400, 'invalid_request'],
  not_found: [404, 'not_found'],
  unsupported: [422, 'unsupported'],
  limit_exceeded: [422, 'limit_exceeded'],
  model_file_corrupt: [500, 'model_file_corrupt'],
  cancelled: [503, 'timeout'],
  internal: [500, 'internal'],
};

describe('the code -> HTTP status table', () => {
  it.each(Object.entries(EXPECTED))('%s -> %j', (code, [status, apiCode]) => {
    expect(HTTP_BY_CODE[code as SeqlabErrorCode]).toEqual({ status, code: apiCode });
    const e = toHttpError(new WorkerError(code as SeqlabErrorCode, `model at ${REPO_ROOT}/models/x/model.json failed`));
    expect(e.status).toBe(status);
    expect(e.code).toBe(apiCode);
    expect(e.message).not.toContain(REPO_ROOT);
  });

  it('hides the message of internal faults', () => {
    expect(toHttpError(new WorkerError('internal', 'wasm trap at /srv/x.js')).message).toBe('internal error');
    expect(toHttpError(new Error('/etc/secret')).message).toBe('internal error');
  });
});

let dir: string;
let services: Services;
let app: TestService['app'];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-api-errors-'));
  const models = await trainTinyModels(path.join(dir, 'trained'));
  const root = path.join(dir, 'models');
  await mkdir(root, { recursive: true });
  await cp(models.sentiment, path.join(root, 'sentiment'), { recursive: true });
  await cp(models.generator, path.join(root, 'generator'), { recursive: true });
  // No config.json: not a model directory.
  await cp(models.sentiment, path.join(root, 'no-config'), { recursive: true });
  await rm(path.join(root, 'no-config', 'config.json'));
  // A weights file the manifest lists is gone: a corrupt model.
  for (const [from, name] of [[models.sentiment, 'no-weights'], [models.generator, 'lm-no-weights']] as const) {
    await cp(from, path.join(root, name), { recursive: true });
    const weights = (await readdir(path.join(root, name))).find((f) => f.endsWith('.bin'))!;
    await rm(path.join(root, name, weights));
  }
  // A forecaster saved by the forecast task's saver, served by its name.
  const { createSeries, saveForecaster } = await import('@seqlab/forecast');
  const fitted = await saveForecaster(path.join(root, 'my-forecaster'), 'holt-winters', createSeries({ value: SEASONAL }), { horizon: 6, options: { season: 12 } });
  fitted.dispose();
  ({ services, app } = await startService({
    modelsDir: root,
    sentimentModel: 'sentiment',
    generatorModel: 'generator',
    workers: 1,
    embeddings: false,
    rateLimitMax: 0,
    logLevel: 'silent',
    batchWindowMs: 0,
  }));
}, 120_000);

afterAll(() => stopService(services, dir));

const SEASONAL = Array.from({ length: 60 }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 12) + i);

function expectNoPaths(text: string): void {
  expect(text).not.toContain(dir);
  expect(text).not.toContain(REPO_ROOT);
  expect(text).not.toMatch(/\/(tmp|home|srv|work|usr)\//);
}

describe('answers name models by name, never by server path', () => {
  it.each([
    ['/v1/sentiment', { texts: ['x'], model: 'no-config' }, 404, 'not_found', /^no-config\/config\.json: file not found/],
    ['/v1/sentiment', { texts: ['x'], model: 'no-weights' }, 500, 'model_file_corrupt', /^no-weights\/weights\.[0-9a-f]+\.bin: weights file listed in model\.json is missing/],
    ['/v1/sentiment', { texts: ['x'], model: 'generator' }, 400, 'invalid_request', /^model "generator" is a text-generation model, not a sentiment model/],
    ['/v1/sentiment', { texts: ['x'], model: 'nope' }, 404, 'not_found', /^model: no model named "nope"/],
    ['/v1/generate', { prompt: 'x', model: 'lm-no-weights' }, 500, 'model_file_corrupt', /^lm-no-weights\/weights/],
    ['/v1/forecast', { series: [1, 2, 3, 4, 5, 6], horizon: 2, model: 'naive', options: { seasn: 4 } }, 400, 'invalid_request', /unknown option "seasn"; valid options: scaler/],
    ['/v1/forecast', { series: [1, 2, 3, 4, 5, 6], horizon: 2, model: 'no-config' }, 404, 'not_found', /^no-config\/config\.json: file not found/],
  ])('%s %j -> %i %s', async (route, body, status, code, message) => {
    const res = await request(app).post(route).send(body).expect(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toMatch(message);
    expectNoPaths(res.text);
  });

  it('a streamed generation reports the error with the same code, without paths', async () => {
    const res = await request(app).post('/v1/generate').send({ prompt: 'x', model: 'lm-no-weights', stream: true }).expect(200);
    const event = /event: error\ndata: (.*)\n/.exec(res.text);
    expect(event).not.toBeNull();
    expect(JSON.parse(event![1]!)).toMatchObject({ code: 'model_file_corrupt', status: 500 });
    expectNoPaths(res.text);
  });

  it('serves a saved forecaster by name, forecasting from the series it is sent', async () => {
    const res = await request(app).post('/v1/forecast').send({ series: SEASONAL, horizon: 6, model: 'my-forecaster' }).expect(200);
    expect(res.body.mean[0]).toHaveLength(6);
    const fresh = await request(app).post('/v1/forecast').send({ series: SEASONAL, horizon: 6, model: 'holt-winters', options: { season: 12 } }).expect(200);
    res.body.mean[0].forEach((v: number, h: number) => expect(v).toBeCloseTo(fresh.body.mean[0][h], 6));
  });

  it('a 100-row series with linear and horizon 6 forecasts (the window follows the horizon)', async () => {
    const series = Array.from({ length: 100 }, (_, i) => 10 + Math.sin(i / 2) + 0.1 * i);
    const res = await request(app).post('/v1/forecast').send({ series, horizon: 6, model: 'linear' }).expect(200);
    expect(res.body.mean[0]).toHaveLength(6);
  });
});
