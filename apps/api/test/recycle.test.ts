/**
 * Memory recycling (WORKER_MAX_WASM_MB): a model worker whose WebAssembly memory has grown past
 * the limit is replaced after its task, without failing a request. Real service, real workers,
 * tiny real models; the limit is set just above what the loaded models take (about 20 MB), and a
 * real neural forecast (SegRNN, 256 hidden units) grows a worker's wasm memory past it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfig, startServer, type RunningServer } from '../src/index.js';
import { metricSum, tinyServiceSettings, trainTinyModels, type TinyModels } from './tiny-models.js';

const LIMIT_MB = 32;
let dir: string;
let models: TinyModels;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

const metric = (server: RunningServer, prefix: string): Promise<number> => metricSum(server.url, prefix);

const seasonal = (n: number) => Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 12) + (i % 7));
/** Trains a SegRNN of 256 hidden units per request: the worker's wasm memory grows to about 40 MB. */
const bigForecast = { series: seasonal(120), horizon: 6, model: 'segrnn', options: { lookback: 48, hidden: 256, epochs: 1, batchSize: 64 } };

async function start(spareWorkers: number): Promise<RunningServer> {
  const server = await startServer(
    createConfig({
      ...tinyServiceSettings(dir, models),
      workers: 1,
      spareWorkers,
      workerMaxWasmMb: LIMIT_MB,
      drainMs: 0,
    }),
  );
  await server.services.whenReady();
  return server;
}

/** Sentiment requests sent back to back until `stop` resolves; resolves with their statuses. */
async function sentimentLoad(server: RunningServer, stop: Promise<unknown>): Promise<number[]> {
  let done = false;
  void stop.finally(() => (done = true));
  const statuses: number[] = [];
  while (!done) statuses.push((await post(`${server.url}/v1/sentiment`, { texts: [`a fine film number ${statuses.length}`] })).status);
  return statuses;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-recycle-'));
  models = await trainTinyModels(dir);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a worker over WORKER_MAX_WASM_MB without a spare', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start(0);
  }, 60_000);
  afterAll(() => server?.close());

  it('keeps serving while its successor loads, then hands over: no request fails, no degraded readiness, the metric counts it', async () => {
    const wasm = () => server.services.workerMemory().find((m) => m.worker === '0')!.wasmBytes / 2 ** 20;
    expect(wasm()).toBeLessThan(LIMIT_MB);
    const forecast = post(`${server.url}/v1/forecast`, bigForecast);
    const load = sentimentLoad(server, forecast);
    expect((await forecast).status).toBe(200);
    // The worker that ran the forecast is over the limit now and a successor is loading beside it.
    expect(server.services.health()).toMatchObject({ workers: 1, ready: 1, recycling: 1, replacing: 0 });
    const overMb = wasm();
    expect(overMb).toBeGreaterThan(LIMIT_MB);
    // Meanwhile the old worker still answers everything, heavy work included.
    const during = await Promise.all([post(`${server.url}/v1/forecast`, { series: seasonal(60), horizon: 3, model: 'naive' }), post(`${server.url}/v1/generate`, { prompt: 'RO', maxTokens: 5 })]);
    expect(during.map((r) => r.status)).toEqual([200, 200]);
    expect(((await (await fetch(`${server.url}/readyz`)).json()) as { status: string }).status).toBe('ready');
    await waitFor('the successor to take over', async () => (await metric(server, 'seqlab_worker_replacements_total{reason="memory"}')) === 1, 30_000);
    const statuses = await load;
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(server.services.health()).toMatchObject({ workers: 1, ready: 1, recycling: 0, replacing: 0, replacements: 1 });
    // The successor starts from the models' footprint again, and serves.
    expect(wasm()).toBeLessThan(LIMIT_MB);
    expect((await post(`${server.url}/v1/sentiment`, { texts: ['still fine'] })).status).toBe(200);
    expect(await metric(server, 'seqlab_worker_memory_bytes{worker="0",kind="wasm"}')).toBeLessThan(LIMIT_MB * 2 ** 20);
  }, 60_000);
});

describe('a heavy-lane worker over WORKER_MAX_WASM_MB with a loaded spare', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start(1);
    await waitFor('the spare to load', () => server.services.health().sparesReady === 1, 30_000);
  }, 60_000);
  afterAll(() => server?.close());

  it('hands over to the spare as soon as its task has finished; the metric counts it', async () => {
    const forecast = post(`${server.url}/v1/forecast`, bigForecast);
    const load = sentimentLoad(server, forecast);
    expect((await forecast).status).toBe(200);
    // The spare took over at once: its memory is the loaded models', and a new spare loads.
    expect(await metric(server, 'seqlab_worker_replacements_total{reason="memory"}')).toBe(1);
    expect(server.services.health()).toMatchObject({ ready: 1, recycling: 0, replacements: 1 });
    expect(server.services.workerMemory().find((m) => m.worker === '0')!.wasmBytes / 2 ** 20).toBeLessThan(LIMIT_MB);
    expect((await load).every((s) => s === 200)).toBe(true);
    expect((await post(`${server.url}/v1/sentiment`, { texts: ['fine'] })).status).toBe(200);
  }, 60_000);
});
