import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, createApp, createConfig, type Config, type Services } from '../src/index.js';
import { startService, stopService, type TestService } from './service-helpers.js';
import { trainTinyModels } from './tiny-models.js';

// One set of real model workers (1 thread) shared by several app instances with different limits.
let dir: string;
let config: Config;
let services: Services;
let app: TestService['app'];

function airline(): { dates: string[]; values: number[] } {
  const rows = readFileSync(path.join(REPO_ROOT, 'data/classic_ts/airline-passengers.csv'), 'utf8').trim().split('\n').slice(1);
  return { dates: rows.map((r) => r.split(',')[0]!.replace(/"/g, '')), values: rows.map((r) => Number(r.split(',')[1])) };
}

function longSeries(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 12) + i * 0.01 + ((i * 7919) % 13) / 13);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-api-'));
  const models = await trainTinyModels(dir);
  ({ config, services, app } = await startService({
    modelsDir: dir,
    sentimentModel: models.sentiment,
    generatorModel: models.generator,
    workers: 1,
    rateLimitMax: 0,
    logLevel: 'silent',
    batchWindowMs: 10,
    batchMaxSize: 16,
    maxTexts: 8,
    bodyLimit: '2mb',
  }));
}, 120_000);

afterAll(() => stopService(services, dir));

describe('health, readiness, metrics, docs', () => {
  it('GET /healthz answers ok', async () => {
    const res = await request(app).get('/healthz').expect(200);
    expect(res.body.status).toBe('ok');
  });

  it('gives every request an id: the caller\'s X-Request-Id when well-formed, else a fresh one, with and without request logs', async () => {
    const { pino } = await import('pino');
    const { Writable } = await import('node:stream');
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logged = createApp(createConfig({ ...config, logLevel: 'info' }), services, { logger: pino({ level: 'info' }, sink) }).app;
    for (const a of [app, logged]) {
      const given = await request(a).get('/healthz').set('X-Request-Id', 'abc-123').expect(200);
      expect(given.headers['x-request-id']).toBe('abc-123');
      const bad = await request(a).get('/healthz').set('X-Request-Id', 'no spaces allowed').expect(200);
      expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const fresh = await request(a).get('/v1/info').expect(200);
      expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    // At info level each request is one log line carrying its id; the silent app wrote none.
    expect(lines.some((l) => l.includes('"url":"/v1/info"'))).toBe(true);
  });

  it('GET /readyz is 200 once every configured model loaded', async () => {
    const res = await request(app).get('/readyz').expect(200);
    expect(res.body).toMatchObject({ ready: true, reasons: [] });
    expect(res.body.models.sentiment.state).toBe('ready');
    expect(res.body.models.generator.state).toBe('ready');
    expect(res.body.models.embeddings.state).toBe('ready');
    expect(['wasm', 'cpu', 'tensorflow']).toContain(res.body.backend);
  });

  it('serves the OpenAPI document built from the request schemas, and a docs page', async () => {
    const res = await request(app).get('/openapi.json').expect(200);
    expect(res.body.openapi).toBe('3.1.0');
    const sentiment = res.body.paths['/v1/sentiment'].post.requestBody.content['application/json'].schema;
    expect(sentiment.required).toEqual(['texts']);
    expect(sentiment.properties.texts.maxItems).toBe(8);
    for (const p of ['/v1/generate', '/v1/forecast', '/v1/embed', '/v1/similarity', '/healthz', '/readyz', '/metrics']) expect(res.body.paths).toHaveProperty([p]);
    const docs = await request(app).get('/docs').expect(200);
    expect(docs.text).toContain('docs.js');
  });

  it('serves the demo page with security headers and no outside assets', async () => {
    const res = await request(app).get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(res.headers['x-powered-by']).toBeUndefined();
    for (const file of ['/', '/demo.js', '/demo.css', '/docs.js']) {
      const body = (await request(app).get(file).expect(200)).text;
      expect(body).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    }
  });

  it('GET /metrics exposes per-route counts and latencies, batch sizes and tensors in memory', async () => {
    await request(app).post('/v1/sentiment').send({ texts: ['fine'] }).expect(200);
    await request(app).post('/v1/sentiment').send({ texts: [] }).expect(400);
    const res = await request(app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toMatch(/seqlab_http_requests_total\{method="POST",route="\/v1\/sentiment",status="200"\} [1-9]/);
    expect(res.text).toMatch(/seqlab_http_requests_total\{method="POST",route="\/v1\/sentiment",status="400"\} [1-9]/);
    expect(res.text).toMatch(/seqlab_http_request_duration_seconds_bucket\{le="0.5",method="POST",route="\/v1\/sentiment",status="200"\}/);
    expect(res.text).toMatch(/seqlab_batch_size_count\{kind="sentiment"\} [1-9]/);
    const tensors = Number(/^seqlab_tensors_in_memory (\d+)/m.exec(res.text)?.[1]);
    expect(tensors).toBeGreaterThan(0);
  });
});

describe('POST /v1/sentiment', () => {
  it('labels texts with scores and per-token attention weights', async () => {
    const texts = ['a wonderful , moving film', 'dull and lifeless'];
    const res = await request(app).post('/v1/sentiment').send({ texts }).expect(200);
    expect(res.body.results).toHaveLength(2);
    res.body.results.forEach((r: { label: string; score: number; tokens: Array<{ text: string; start: number; end: number; weight: number }> }, i: number) => {
      expect(['positive', 'negative']).toContain(r.label);
      expect(r.score).toBeGreaterThanOrEqual(0.5);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(r.tokens.length).toBeGreaterThan(0);
      const sum = r.tokens.reduce((a, t) => a + t.weight, 0);
      expect(sum).toBeCloseTo(1, 3);
      for (const t of r.tokens) expect(texts[i]!.slice(t.start, t.end).toLowerCase()).toBe(t.text.toLowerCase());
    });
  });

  it('gives the same answer batched with other requests as alone', async () => {
    const alone = (await request(app).post('/v1/sentiment').send({ texts: ['not good at all'] }).expect(200)).body.results[0];
    const many = await Promise.all(
      ['great', 'not good at all', 'terrible', 'fine work'].map((t) => request(app).post('/v1/sentiment').send({ texts: [t] })),
    );
    const batched = many[1]!.body.results[0];
    expect(batched.label).toBe(alone.label);
    expect(batched.score).toBeCloseTo(alone.score, 5);
  });

  it('400 names the failing field', async () => {
    let res = await request(app).post('/v1/sentiment').send({ texts: ['ok', 42] }).expect(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details[0].field).toBe('texts.1');
    res = await request(app).post('/v1/sentiment').send({ text: 'ok' }).expect(400);
    expect(res.body.error.message).toMatch(/^texts:/);
    res = await request(app).post('/v1/sentiment').send({ texts: Array(9).fill('x') }).expect(400);
    expect(res.body.error.message).toMatch(/texts: at most 8 texts/);
  });

  it('400 for malformed JSON, 415 for a non-JSON body', async () => {
    const bad = await request(app).post('/v1/sentiment').set('Content-Type', 'application/json').send('{"texts": [').expect(400);
    expect(bad.body.error.code).toBe('invalid_json');
    const plain = await request(app).post('/v1/sentiment').set('Content-Type', 'text/plain').send('hello').expect(415);
    expect(plain.body.error.code).toBe('unsupported_media_type');
  });

  it('checks model names: no path traversal, unknown names 404', async () => {
    for (const model of ['../sentiment', '/etc/passwd', 'a/b', '..', '.hidden']) {
      const res = await request(app).post('/v1/sentiment').send({ texts: ['x'], model }).expect(400);
      expect(res.body.error.message).toMatch(/^model: /);
    }
    const res = await request(app).post('/v1/sentiment').send({ texts: ['x'], model: 'nope' }).expect(404);
    expect(res.body.error.code).toBe('not_found');
    // A real model folder under SEQLAB_MODELS can be named.
    await request(app).post('/v1/sentiment').send({ texts: ['x'], model: 'sentiment' }).expect(200);
  });
});

describe('POST /v1/generate', () => {
  it('returns JSON text, reproducible with a seed', async () => {
    const body = { prompt: 'ROMEO:', maxTokens: 20, temperature: 0.8, topK: 10, seed: 7 };
    const a = await request(app).post('/v1/generate').send(body).expect(200);
    const b = await request(app).post('/v1/generate').send(body).expect(200);
    expect(a.body.tokens).toBe(20);
    expect(a.body.text.length).toBeGreaterThan(0);
    expect(a.body.text).toBe(b.body.text);
  });

  it('streams Server-Sent Events: token events then done', async () => {
    const res = await request(app)
      .post('/v1/generate')
      .set('Accept', 'text/event-stream')
      .send({ prompt: 'ROMEO:', maxTokens: 15, seed: 3 })
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => cb(null, text));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/text\/event-stream/);
    const events = String(res.body)
      .trim()
      .split('\n\n')
      .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) }));
    const tokens = events.filter((e) => e.event === 'token');
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(tokens.length).toBe(15);
    expect(tokens.map((t) => t.data.text).join('')).toBe(done.data.text);
    expect(done.data.tokensPerSecond).toBeGreaterThan(0);
  });

  it('400 names bad sampling options', async () => {
    const res = await request(app).post('/v1/generate').send({ prompt: 'x', temperature: -1, topP: 2 }).expect(400);
    const fields = res.body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['temperature', 'topP']));
    await request(app).post('/v1/generate').send({ prompt: 'x', maxTokens: 100_000 }).expect(400);
  });
});

describe('POST /v1/forecast', () => {
  it('forecasts the airline series with intervals and dates', async () => {
    const { dates, values } = airline();
    const res = await request(app).post('/v1/forecast').send({ series: values, dates, horizon: 12, model: 'holt-winters', level: 0.9 }).expect(200);
    expect(res.body.columns).toEqual(['value']);
    expect(res.body.mean[0]).toHaveLength(12);
    expect(res.body.dates[0]).toMatch(/^1961-01/);
    for (let h = 0; h < 12; h++) {
      expect(res.body.lower[0][h]).toBeLessThanOrEqual(res.body.mean[0][h]);
      expect(res.body.upper[0][h]).toBeGreaterThanOrEqual(res.body.mean[0][h]);
    }
    // Passenger numbers in 1961 stay in the range of the late 1950s, not wildly off.
    expect(Math.max(...res.body.mean[0])).toBeLessThan(800);
    expect(Math.min(...res.body.mean[0])).toBeGreaterThan(350);
  });

  it('accepts named columns', async () => {
    const { values } = airline();
    const res = await request(app)
      .post('/v1/forecast')
      .send({ columns: { a: values, b: values.map((v) => v / 2) }, horizon: 3, model: 'seasonal-naive', options: { season: 12 } })
      .expect(200);
    expect(res.body.columns).toEqual(['a', 'b']);
    expect(res.body.mean[1][0]).toBeCloseTo(values[values.length - 12]! / 2, 6);
  });

  it('404 for unknown models; 400 for neural models, bad shapes and non-finite values', async () => {
    const { values } = airline();
    let res = await request(app).post('/v1/forecast').send({ series: values, horizon: 3, model: 'prophet' }).expect(404);
    expect(res.body.error.message).toMatch(/^model: unknown forecaster "prophet"; valid names: /);
    res = await request(app).post('/v1/forecast').send({ series: values, horizon: 3, model: 'segrnn' }).expect(400);
    expect(res.body.error.message).toMatch(/FORECAST_NEURAL/);
    res = await request(app).post('/v1/forecast').send({ series: values, columns: { a: values }, horizon: 3 }).expect(400);
    expect(res.body.error.details[0].field).toBe('series');
    res = await request(app).post('/v1/forecast').send({ columns: { a: [1, 2, 3], b: [1, 2, 3, 4] }, horizon: 3 }).expect(400);
    expect(res.body.error.details[0].field).toBe('columns.b');
    res = await request(app).post('/v1/forecast').send({ series: [1, 2, null], horizon: 3 }).expect(400);
    expect(res.body.error.details[0].field).toBe('series.2');
    // Shorter than two seasons falls back to a damped trend; shorter than 4 rows is refused.
    res = await request(app).post('/v1/forecast').send({ series: values.slice(0, 3), horizon: 3, model: 'holt-winters' }).expect(400);
    expect(res.body.error.message).toMatch(/holt-winters.*3 rows; at least 4/);
  });
});

describe('POST /v1/embed and /v1/similarity', () => {
  it('embeds texts into unit vectors', async () => {
    const res = await request(app).post('/v1/embed').send({ texts: ['hello world', 'good morning'] }).expect(200);
    expect(res.body.dimensions).toBe(512);
    expect(res.body.embeddings).toHaveLength(2);
    const norm = Math.hypot(...(res.body.embeddings[0] as number[]));
    expect(norm).toBeCloseTo(1, 3);
  });

  it('ranks a paraphrase above an unrelated sentence', async () => {
    const res = await request(app)
      .post('/v1/similarity')
      .send({ query: 'How old are you?', candidates: ['The weather is sunny today', 'What is your age?'] })
      .expect(200);
    expect(res.body.ranking[0]).toBe('What is your age?');
    expect(res.body.scores[1].score).toBeGreaterThan(0.6);
    expect(res.body.scores[1].score).toBeGreaterThan(res.body.scores[0].score);
  });

  it('400 names the failing field', async () => {
    const res = await request(app).post('/v1/similarity').send({ query: '', candidates: ['x'] }).expect(400);
    expect(res.body.error.details[0].field).toBe('query');
  });
});

describe('limits and protection', () => {
  it('413 when the body exceeds BODY_LIMIT', async () => {
    const small = createApp({ ...config, bodyLimit: '1kb' }, services).app;
    const res = await request(small).post('/v1/sentiment').send({ texts: ['x'.repeat(2000)] }).expect(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('429 past the per-IP rate limit, while health checks stay unlimited', async () => {
    const limited = createApp({ ...config, rateLimitMax: 3, rateLimitWindowMs: 60_000 }, services).app;
    for (let i = 0; i < 3; i++) await request(limited).get('/v1/info').expect(200);
    const res = await request(limited).post('/v1/sentiment').send({ texts: ['x'] }).expect(429);
    expect(res.body.error.code).toBe('rate_limited');
    expect(res.headers['ratelimit-policy']).toBeDefined();
    await request(limited).get('/healthz').expect(200);
  });

  it('503 with Retry-After when a request exceeds the timeout', async () => {
    const hasty = createApp({ ...config, requestTimeoutMs: 15 }, services).app;
    const res = await request(hasty).post('/v1/forecast').send({ series: longSeries(30_000), horizon: 12, model: 'holt-winters' }).expect(503);
    expect(res.body.error.code).toBe('timeout');
    expect(res.headers['retry-after']).toBe('1');
  });

  it('CORS answers only configured origins', async () => {
    const withCors = createApp({ ...config, corsOrigins: ['https://good.example'] }, services).app;
    const ok = await request(withCors).options('/v1/sentiment').set('Origin', 'https://good.example').set('Access-Control-Request-Method', 'POST');
    expect(ok.headers['access-control-allow-origin']).toBe('https://good.example');
    const bad = await request(withCors).options('/v1/sentiment').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
    const none = await request(app).get('/healthz').set('Origin', 'https://good.example');
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('404 for unknown paths, 405 for a wrong method', async () => {
    const res = await request(app).get('/v1/nothing').expect(404);
    expect(res.body.error.code).toBe('not_found');
    const wrong = await request(app).get('/v1/sentiment').expect(405);
    expect(wrong.headers.allow).toBe('POST');
  });

  it('/healthz answers quickly while the model worker is saturated', async () => {
    const busy = Array.from({ length: 6 }, () =>
      request(app).post('/v1/forecast').send({ series: longSeries(20_000), horizon: 12, model: 'holt-winters' }),
    );
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await request(app).get('/healthz').expect(200);
    const healthMs = performance.now() - t0;
    const done = await Promise.all(busy);
    expect(done.every((r) => r.status === 200)).toBe(true);
    expect(healthMs).toBeLessThan(250);
  });
});
