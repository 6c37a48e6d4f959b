/**
 * The same request through the `seqlab` command and through the HTTP service gives the same
 * numbers: both are parse -> the same task pipeline -> print/respond. The CLI runs as a child
 * process from source (apps never import each other), the service in-process on the shipped models.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { createGlobalForecaster, createSeries } from '@seqlab/forecast';
import { DEFAULT_MODELS, MODEL_REGISTRY } from '@seqlab/tasks';
import { REPO_ROOT, createApp, createConfig, createModelServices, type Services } from '../src/index.js';
import { startService, stopService, type TestService } from './service-helpers.js';

const run = promisify(execFile);

/** Runs the CLI from source with `--json` and parses its output. */
async function seqlab(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args, '--json'], {
    cwd: REPO_ROOT,
    env: { ...process.env, SEQLAB_MODELS: path.join(REPO_ROOT, 'models') },
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

let services: Services;
let app: TestService['app'];
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'seqlab-parity-'));
  ({ services, app } = await startService({ modelsDir: path.join(REPO_ROOT, 'models'), workers: 1, embeddings: false, rateLimitMax: 0, logLevel: 'silent', batchWindowMs: 0 }));
}, 120_000);

afterAll(() => stopService(services, tmp));

describe('CLI and API agree', () => {
  it('sentiment: the same labels and probabilities from the shipped model', async () => {
    const texts = ['a gorgeous, witty film', 'tedious and overlong', 'it was fine, i guess'];
    const [cli, api] = await Promise.all([seqlab(['sentiment', ...texts]), request(app).post('/v1/sentiment').send({ texts }).expect(200)]);
    const fromCli = cli.results as Array<{ label: string; probabilities: number[] }>;
    const fromApi = api.body.results as Array<{ label: string; probabilities: number[] }>;
    expect(fromCli.map((r) => r.label)).toEqual(fromApi.map((r) => r.label));
    fromCli.forEach((r, i) => r.probabilities.forEach((p, j) => expect(p).toBeCloseTo(fromApi[i]!.probabilities[j]!, 6)));
    // Both serve the registry's default, and keep its token explanations.
    expect(cli.model).toBe(DEFAULT_MODELS.sentiment);
    const explained = await seqlab(['sentiment', '--explain', '--top', '2', texts[0]!]);
    const words = (explained.results as Array<{ explanation: Array<{ word: string }> }>)[0]!.explanation.map((w) => w.word);
    expect(words).toHaveLength(2);
    words.forEach((w) => expect(texts[0]).toContain(w));
    const apiTokens = (api.body.results as Array<{ tokens?: Array<{ text: string; start: number; end: number }> }>)[0]!.tokens;
    if (apiTokens) apiTokens.forEach((t) => expect(texts[0]!.slice(t.start, t.end)).toBe(t.text));
  });

  it('serves every shipped model by name, whatever its kind', async () => {
    const texts = ['a gorgeous, witty film', 'tedious and overlong'];
    for (const model of MODEL_REGISTRY.filter((m) => m.shipped && m.task === 'sentiment').map((m) => m.name)) {
      const res = await request(app).post('/v1/sentiment').send({ texts, model }).expect(200);
      expect(res.body.results.map((r: { label: string }) => r.label)).toEqual(['positive', 'negative']);
    }
    const gen = await request(app).post('/v1/generate').send({ prompt: 'ROMEO:', maxTokens: 5, seed: 1, model: 'shakespeare-char' }).expect(200);
    expect(gen.body.tokens).toBe(5);
  });

  it('generation: the same text for the same prompt, seed and sampling settings', async () => {
    const req = { prompt: 'ROMEO:', maxTokens: 60, seed: 7, temperature: 0.8 };
    const [cli, api] = await Promise.all([
      seqlab(['generate', '--prompt', req.prompt, '--max-tokens', String(req.maxTokens), '--seed', String(req.seed), '--temperature', String(req.temperature)]),
      request(app).post('/v1/generate').send(req).expect(200),
    ]);
    expect(cli.text).toBe(api.body.text);
    expect(cli.tokens).toBe(api.body.tokens);
    expect((cli.text as string).length).toBeGreaterThan(0);
  });

  it('forecast: a 100-row series, model linear, horizon 6 (the horizon sets the window in both)', async () => {
    const values = Array.from({ length: 100 }, (_, i) => 50 + 5 * Math.sin((2 * Math.PI * i) / 12) + 0.3 * i + ((i * 37) % 7) / 7);
    const csv = path.join(tmp, 'series.csv');
    await writeFile(csv, `value\n${values.join('\n')}\n`);
    const [cli, api] = await Promise.all([
      seqlab(['forecast', '--csv', csv, '--model', 'linear', '--horizon', '6', '--level', '90']),
      request(app).post('/v1/forecast').send({ series: values, model: 'linear', horizon: 6, level: 0.9 }).expect(200),
    ]);
    const rows = cli.forecast as Array<{ mean: number; intervals: Record<string, [number, number]> }>;
    expect(rows).toHaveLength(6);
    rows.forEach((r, h) => {
      expect(r.mean).toBeCloseTo(api.body.mean[0][h], 8);
      expect(r.intervals['90']![0]).toBeCloseTo(api.body.lower[0][h], 8);
      expect(r.intervals['90']![1]).toBeCloseTo(api.body.upper[0][h], 8);
    });
  });

  it('forecast of a panel: a saved global model on five M4 series (one it was not fitted on), the same per-series forecasts and intervals', async () => {
    const m4 = readFileSync(path.join(REPO_ROOT, 'data/m4/Hourly-train.csv'), 'utf8').trim().split('\n').slice(1, 6).map((line) => {
      const cells = line.split(',').map((c) => c.replace(/"/g, '')).filter((c) => c !== '');
      return { id: cells[0]!, values: cells.slice(1).slice(-200).map(Number) };
    });
    const models = path.join(tmp, 'models');
    await initBackend();
    const model = createGlobalForecaster('es-hybrid', { season: 24, horizon: 12, lookback: 48, hidden: 16, epochs: 2, windowsPerEpoch: 256 });
    await model.fit(m4.slice(0, 4).map((s) => ({ id: s.id, series: createSeries(s.values) })));
    await model.save(path.join(models, 'panel-model'));
    model.dispose();
    const csv = path.join(tmp, 'wide.csv');
    await writeFile(csv, `id,${m4[0]!.values.map((_, t) => `V${t + 1}`).join(',')}\n${m4.map((s) => `${s.id},${s.values.join(',')}`).join('\n')}\n`);
    const config = createConfig({ modelsDir: models, sentimentModel: 'off', generatorModel: 'off', workers: 1, embeddings: false, rateLimitMax: 0, logLevel: 'silent' });
    const panelServices = createModelServices(config);
    try {
      await panelServices.whenReady();
      const panel = Object.fromEntries(m4.map((s) => [s.id, { values: s.values }]));
      const [cli, api] = await Promise.all([
        seqlab(['forecast', '--csv', csv, '--wide', '--load', path.join(models, 'panel-model'), '--horizon', '6', '--level', '90']),
        request(createApp(config, panelServices).app).post('/v1/forecast').send({ model: 'panel-model', panel, horizon: 6, level: 0.9 }).expect(200),
      ]);
      const fromCli = cli.series as Array<{ id: string; seen: boolean; mean: number[]; intervals: Array<{ lower: number[]; upper: number[] }> }>;
      const fromApi = api.body.series as Array<{ id: string; seen: boolean; mean: number[]; lower: number[]; upper: number[] }>;
      expect(fromCli.map((s) => [s.id, s.seen])).toEqual(fromApi.map((s) => [s.id, s.seen]));
      expect(fromApi.map((s) => s.seen)).toEqual([true, true, true, true, false]);
      fromCli.forEach((s, i) =>
        s.mean.forEach((m, h) => {
          expect(m).toBeCloseTo(fromApi[i]!.mean[h]!, 6);
          expect(s.intervals[0]!.lower[h]).toBeCloseTo(fromApi[i]!.lower[h]!, 6);
          expect(s.intervals[0]!.upper[h]).toBeCloseTo(fromApi[i]!.upper[h]!, 6);
        }),
      );
    } finally {
      await panelServices.close(2000);
    }
  }, 180_000);
});
