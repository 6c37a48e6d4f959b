import path from 'node:path';
import os from 'node:os';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createConfig, createModelServices, startServer, type Config, type Services } from '../src/index.js';

function longSeries(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 12) + i * 0.01);
}

// Models that do not exist: the service must start, say why it is not ready, and keep serving
// the endpoints that need no model.
describe('missing models', () => {
  let config: Config;
  let services: Services;

  beforeAll(async () => {
    const nowhere = path.join(os.tmpdir(), `seqlab-missing-${process.pid}`);
    config = createConfig({
      modelsDir: nowhere,
      sentimentModel: path.join(nowhere, 'sentiment'),
      generatorModel: path.join(nowhere, 'generator'),
      embeddings: false,
      workers: 1,
      logLevel: 'silent',
      bodyLimit: '2mb',
    });
    services = createModelServices(config);
    await services.whenReady();
  });
  afterAll(() => services.close(1000));

  it('/readyz is 503 and names each missing model; /healthz is still 200', async () => {
    const { app } = createApp(config, services);
    await request(app).get('/healthz').expect(200);
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body.ready).toBe(false);
    expect(res.body.reasons.join('\n')).toMatch(/sentiment: missing \(sentiment model directory .*sentiment does not exist\)/);
    expect(res.body.reasons.join('\n')).toMatch(/generator: missing/);
    expect(res.body.models.embeddings.state).toBe('disabled');
  });

  it('model endpoints answer 503 model_unavailable; forecasting still works', async () => {
    const { app } = createApp(config, services);
    const s = await request(app).post('/v1/sentiment').send({ texts: ['x'] }).expect(503);
    expect(s.body.error.code).toBe('model_unavailable');
    await request(app).post('/v1/generate').send({ prompt: 'x' }).expect(503);
    const e = await request(app).post('/v1/embed').send({ texts: ['x'] }).expect(503);
    expect(e.body.error.message).toMatch(/EMBEDDINGS=off/);
    await request(app).post('/v1/forecast').send({ series: longSeries(60), horizon: 4, model: 'naive' }).expect(200);
  });

  it('a disabled model (SENTIMENT_MODEL=off) does not block readiness', async () => {
    const off = createConfig({ ...config, sentimentModel: 'off', generatorModel: 'off', embeddings: false });
    const offServices = createModelServices(off);
    try {
      await offServices.whenReady();
      const { app } = createApp(off, offServices);
      await request(app).get('/readyz').expect(200);
      const res = await request(app).post('/v1/sentiment').send({ texts: ['x'] }).expect(503);
      expect(res.body.error.message).toMatch(/no sentiment model is configured/);
    } finally {
      await offServices.close(1000);
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests, then refuses new connections', async () => {
    const config = createConfig({
      port: 0,
      sentimentModel: 'off',
      generatorModel: 'off',
      embeddings: false,
      workers: 1,
      logLevel: 'silent',
      bodyLimit: '2mb',
    });
    const running = await startServer(config);
    await running.services.whenReady();
    const body = JSON.stringify({ series: longSeries(40_000), horizon: 12, model: 'holt-winters' });
    const inFlight = fetch(`${running.url}/v1/forecast`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    await new Promise((r) => setTimeout(r, 60));
    const closed = running.close();
    expect(running.services.readiness()).toMatchObject({ ready: false, reasons: ['shutting down'] });
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { mean: number[][] }).mean[0]).toHaveLength(12);
    await closed;
    await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
  });
});
