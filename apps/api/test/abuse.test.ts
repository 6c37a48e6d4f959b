/**
 * The service under abuse: one test group per finding of the hostile-input probe (issue 14).
 * Each reproduces the finding with real workers and tiny real models.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, createApp, createConfig, createModelServices, startServer, type Config, type RunningServer, type Services } from '../src/index.js';
import { metricSum, tinyServiceSettings, trainTinyModels, type TinyModels } from './tiny-models.js';

let dir: string;
let models: TinyModels;
let config: Config;
let services: Services;
let running: RunningServer;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function seasonal(n: number, scale = 1): number[] {
  return Array.from({ length: n }, (_, i) => scale * (100 + 10 * Math.sin((2 * Math.PI * i) / 12) + ((i * 7919) % 13) / 13));
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
  return performance.now() - t0;
}

function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal });
}

const metric = (name: string): Promise<number> => metricSum(running.url, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-abuse-'));
  models = await trainTinyModels(dir);
  // Two workers (one may run heavy work), generous generation limits so that an abandoned request
  // has seconds of work left, and the fault hook.
  config = createConfig({
    ...tinyServiceSettings(dir, models),
    workers: 2,
    bodyLimit: '2mb',
    maxGenerateTokens: 20_000,
    maxGenerateSteps: 200_000,
    cancelGraceMs: 1000,
    faultInjection: true,
    drainMs: 0,
  });
  services = createModelServices(config);
  await services.whenReady();
  running = await startServer(config, services);
}, 120_000);

afterAll(async () => {
  await running?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('finding 1: an expensive forecast is refused up front, and a timed-out one stops', () => {
  it('the probe request (12,000 rows, linear, lookback 4000, horizon 1000) gets 422 naming the limit at once', async () => {
    const strict = createApp({ ...config, requestTimeoutMs: 3000 }, services).app;
    const t0 = performance.now();
    const res = await request(strict)
      .post('/v1/forecast')
      .send({ series: seasonal(12_000), model: 'linear', horizon: 1000, options: { lookback: 4000 } })
      .expect(422);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(res.body.error.code).toBe('limit_exceeded');
    expect(res.body.error.message).toMatch(/MAX_FORECAST_WORK/);
    expect(res.body.error.details).toMatchObject({ limit: 'MAX_FORECAST_WORK', max: config.maxForecastWork });
    expect(services.inFlight()).toBe(0);
  });
});

// A single worker whose limits let expensive work through, to show what a timeout does to it.
let lax: RunningServer | undefined;

describe('finding 1 (continued): timeouts stop work that is already running', () => {
  beforeAll(async () => {
    lax = await startServer(
      createConfig({
        ...config,
        workers: 1,
        requestTimeoutMs: 400,
        maxForecastWork: 1e14,
        maxForecastMemoryMb: 4096,
        maxForecastParameters: 1e8,
      }),
    );
    await lax.services.whenReady();
  }, 60_000);
  afterAll(() => lax?.close());

  it('a timed-out neural fit stops at its next batch and frees its tensors (no worker replaced)', async () => {
    const tensors = lax!.services.numTensors();
    const t0 = performance.now();
    const res = await post(`${lax!.url}/v1/forecast`, {
      series: seasonal(3000),
      model: 'segrnn',
      horizon: 12,
      options: { lookback: 48, horizon: 12, segmentLength: 12, hidden: 16, epochs: 10_000, batchSize: 32 },
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('timeout');
    const stopMs = await waitFor('the fit to stop', () => lax!.services.inFlight() === 0, 2000);
    expect(performance.now() - t0).toBeLessThan(400 + stopMs + 500);
    expect(lax!.services.health().replacements).toBe(0);
    await waitFor('tensors to be freed', () => lax!.services.numTensors() === tensors, 1000);
    // The worker answers the next request at once.
    const next = await post(`${lax!.url}/v1/sentiment`, { texts: ['a fine film'] });
    expect(next.status).toBe(200);
  });

  it('work that cannot check (a huge closed-form fit) gets its worker replaced after the grace period', async () => {
    // A lookback of 3000 over 11 windows: accumulating them is quick, but the ridge solve is one
    // uninterruptible factorisation of a 3001 x 3001 matrix (about 1e10 operations).
    const res = await post(`${lax!.url}/v1/forecast`, { series: seasonal(3034), model: 'linear', horizon: 24, options: { lookback: 3000, lambda: 0.1 } });
    expect(res.status).toBe(503);
    // 400 ms timeout + 1000 ms grace, then the replacement loads its models.
    await waitFor('the stuck worker to be replaced', () => lax!.services.inFlight() === 0, 3000);
    expect(lax!.services.health().replacements).toBe(1);
    await waitFor('the replacement to be ready', () => lax!.services.health().ready === 1, 10_000);
    const next = await post(`${lax!.url}/v1/sentiment`, { texts: ['a fine film'] });
    expect(next.status).toBe(200);
  });
});

describe('finding 2: a caller that goes away stops its generation', () => {
  it('an abandoned non-streamed beam search stops within a second and frees its tensors', async () => {
    const tensors = services.numTensors();
    const controller = new AbortController();
    const pending = post(`${running.url}/v1/generate`, { prompt: 'ROMEO: '.repeat(280), beam: 8, maxTokens: 20_000 }, controller.signal).catch(
      (err: unknown) => err,
    );
    await waitFor('the generation to start', () => services.health().running === 1, 2000);
    await sleep(150);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    const stopMs = await waitFor('the abandoned generation to stop', () => services.inFlight() === 0, 3000);
    expect(stopMs).toBeLessThan(1000);
    expect(services.health().replacements).toBe(0);
    await waitFor('tensors to be freed', () => services.numTensors() === tensors, 1000);
  });

  it('the probe request (2,000-character prompt, beam 8, 500 tokens) is over the default step limit: 422', async () => {
    const strictConfig = createConfig({ ...config, workers: 1, sentimentModel: 'off', maxGenerateTokens: 500, maxGenerateSteps: undefined });
    const strict = createModelServices(strictConfig);
    try {
      const app = createApp(strictConfig, strict).app;
      const t0 = performance.now();
      const res = await request(app).post('/v1/generate').send({ prompt: 'x'.repeat(2000), beam: 8, maxTokens: 500 }).expect(422);
      expect(performance.now() - t0).toBeLessThan(500);
      expect(res.body.error).toMatchObject({ code: 'limit_exceeded', details: { limit: 'MAX_GENERATE_STEPS', value: 6000, max: 4000 } });
    } finally {
      await strict.close(1000);
    }
  });
});

describe('finding 3: option ranges, finite outputs, and broken workers replaced', () => {
  const forecast = (model: string, options: Record<string, unknown>, series = seasonal(200)) =>
    request(running.server).post('/v1/forecast').send({ series, model, horizon: 6, options });

  it('out-of-range options are 400 naming the option; an oversized network is 422; none reaches a worker', async () => {
    for (const [model, options, field] of [
      ['segrnn', { hidden: 1e9 }, 'options.hidden'],
      ['segrnn', { learningRate: 1e308 }, 'options.learningRate'],
      ['holt-winters', { phi: 1e308 }, 'options.phi'],
      ['seq2seq', { epochs: 0.5 }, 'options.epochs'],
    ] as const) {
      const res = await forecast(model, options);
      expect(res.status, `${model} ${JSON.stringify(options)}`).toBe(400);
      expect(res.body.error.message).toContain(field);
    }
    // Names that are neither a kind nor a saved model are answered before any queue.
    const unknown = await forecast('prophet', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/^model: unknown forecaster "prophet"; valid names: .*holt-winters/);
    const panel = await request(running.server).post('/v1/forecast').send({ model: 'no-such-panel-model', horizon: 2, panel: { a: { values: seasonal(60) } } });
    expect(panel.status).toBe(404);
    expect(panel.body.error.message).toBe('model: no saved forecaster named "no-such-panel-model"');
    const big = await forecast('segrnn', { hidden: 4096 });
    expect(big.status).toBe(422);
    expect(big.body.error.details.limit).toBe('MAX_FORECAST_PARAMETERS');
    expect(services.health().replacements).toBe(0);
  });

  it('a series whose forecast overflows (1e308 values) is 400, not 200 with nulls', async () => {
    const res = await forecast('holt-winters', {}, seasonal(48, 1e306));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/forecast of column "value" is (NaN|-?Infinity)/);
  });

  it('a wasm trap retires the worker; a loaded spare takes over at once; /metrics counts it; queued work is served', async () => {
    const before = await metric('seqlab_worker_replacements_total{reason="fault"}');
    const queued = Array.from({ length: 6 }, (_, i) => post(`${running.url}/v1/sentiment`, { texts: [`text number ${i}`] }));
    const fault = await post(`${running.url}/debug/fault`, {});
    expect(fault.status).toBe(200);
    expect(((await fault.json()) as { fault: string }).fault).toMatch(/memory access out of bounds/);
    for (const r of await Promise.all(queued)) expect(r.status).toBe(200);
    const replaceMs = await waitFor('the replacement to be ready', () => services.health().ready === 2, 5000);
    expect(replaceMs).toBeLessThan(1000);
    expect(await metric('seqlab_worker_replacements_total{reason="fault"}')).toBe(before + 1);
    expect(await metric('seqlab_worker_replacement_seconds_count')).toBeGreaterThanOrEqual(1);
    // Every task kind works on both workers afterwards (the poisoned one is gone).
    for (let i = 0; i < 4; i++) {
      expect((await post(`${running.url}/v1/sentiment`, { texts: ['good'] })).status).toBe(200);
      expect((await post(`${running.url}/v1/generate`, { prompt: 'RO', maxTokens: 5 })).status).toBe(200);
      expect((await post(`${running.url}/v1/forecast`, { series: seasonal(60), horizon: 3, model: 'naive' })).status).toBe(200);
    }
    // A spare loads at the heavy lane's lowered priority: on a busy machine that takes a while.
    await waitFor('a new spare to load', () => services.health().sparesReady === 1, 30_000);
    expect(((await (await fetch(`${running.url}/readyz`)).json()) as { status: string }).status).toBe('ready');
  });

  it('without a spare, /readyz says degraded (still 200) until the new worker has loaded', async () => {
    const noSpare = await startServer(createConfig({ ...config, spareWorkers: 0 }));
    try {
      await noSpare.services.whenReady();
      await post(`${noSpare.url}/debug/fault`, {});
      const res = await fetch(`${noSpare.url}/readyz`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { status: string; reasons: string[]; capacity: { ready: number; replacing: number } };
      expect(body).toMatchObject({ status: 'degraded', capacity: { ready: 1, replacing: 1 } });
      expect(body.reasons.join('\n')).toMatch(/degraded: 1 of 2 model workers ready, 1 being replaced/);
      // Cheap work goes on meanwhile.
      expect((await post(`${noSpare.url}/v1/sentiment`, { texts: ['fine'] })).status).toBe(200);
      await waitFor('the replacement to load', () => noSpare.services.health().ready === 2, 30_000);
      expect(((await (await fetch(`${noSpare.url}/readyz`)).json()) as { status: string }).status).toBe('ready');
    } finally {
      await noSpare.close();
    }
  });
});

describe('finding 4: shutdown drains, then answers what cannot finish', () => {
  it('/readyz is 503 during the drain window while requests are still served; leftovers get 503 shutting_down, not a reset', async () => {
    const small = await startServer(
      createConfig({ ...config, workers: 1, drainMs: 400, shutdownTimeoutMs: 300, requestTimeoutMs: 30_000, faultInjection: false }),
    );
    await small.services.whenReady();
    // One long generation, and requests queued behind it on the only worker.
    const long = post(`${small.url}/v1/generate`, { prompt: 'ROMEO:', maxTokens: 20_000 });
    await waitFor('the generation to start', () => small.services.health().running === 1, 2000);
    const queued = [post(`${small.url}/v1/sentiment`, { texts: ['queued'] }), post(`${small.url}/v1/forecast`, { series: seasonal(60), horizon: 3, model: 'naive' })];
    await sleep(50);
    const closing = small.close();
    // Drain window: not ready, but new connections are still accepted and answered.
    const ready = await fetch(`${small.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons: string[] }).reasons[0]).toBe('shutting down');
    expect((await fetch(`${small.url}/healthz`)).status).toBe(200);
    const answers = await Promise.all([long, ...queued]);
    for (const r of answers) {
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
    }
    const report = await closing;
    expect(report.abandoned).toBe(3);
    await expect(fetch(`${small.url}/healthz`)).rejects.toThrow();
  });
});

/** Runs `npm start`'s entry with `env`; resolves with its URL once it listens, and its exit code. */
function startMain(env: Record<string, string>): { url: Promise<string>; exit: Promise<number | null>; signal: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', 'apps/api/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', SENTIMENT_MODEL: 'off', GENERATOR_MODEL: 'off', EMBEDDINGS: 'off', WORKERS: '1', SPARE_WORKERS: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"url":"(http:[^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { url, exit, signal: (s) => child.kill(s) };
}

describe('finding 4: the exit code says whether shutdown cut work off', () => {
  it('SIGTERM with nothing in flight exits 0; with work outliving the timeout, it answers 503 and exits 3', async () => {
    const idle = startMain({ DRAIN_MS: '50' });
    await fetch(`${await idle.url}/healthz`);
    idle.signal('SIGTERM');
    expect(await idle.exit).toBe(0);

    const busy = startMain({ DRAIN_MS: '50', SHUTDOWN_TIMEOUT_MS: '300', MAX_FORECAST_WORK: '1e14', MAX_FORECAST_MEMORY_MB: '4096' });
    const url = await busy.url;
    await waitFor('the worker to load', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
    // One uninterruptible solve of a 3001 x 3001 system: seconds of work.
    const slow = post(`${url}/v1/forecast`, { series: seasonal(3034), model: 'linear', horizon: 24, options: { lookback: 3000, lambda: 0.1 } });
    await sleep(300);
    busy.signal('SIGTERM');
    const res = await slow;
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
    expect(await busy.exit).toBe(3);
  });
});

describe('finding 5: the rate limit keys on the socket address', () => {
  it('X-Forwarded-For from a loopback client does not buy a fresh bucket', async () => {
    const limited = createApp({ ...config, rateLimitMax: 2, rateLimitWindowMs: 60_000 }, services).app;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(limited).get('/v1/info').set('X-Forwarded-For', `203.0.113.${i}`)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
  });

  it('behind a configured proxy (TRUST_PROXY=loopback) the forwarded address is the key', async () => {
    const proxied = createApp({ ...createConfig({ ...config, trustProxy: 'loopback' }), rateLimitMax: 1, rateLimitWindowMs: 60_000 }, services).app;
    for (let i = 0; i < 3; i++) await request(proxied).get('/v1/info').set('X-Forwarded-For', `203.0.113.${i}`).expect(200);
    await request(proxied).get('/v1/info').set('X-Forwarded-For', '203.0.113.0').expect(429);
  });

  it('TRUST_PROXY=true is refused: it would let any client choose its address', () => {
    expect(() => createConfig({ trustProxy: 'true' })).toThrow(/trustProxy/);
  });
});
