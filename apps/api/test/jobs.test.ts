/**
 * Jobs, model versions and keys on a real listening service with real model workers: keys gate
 * the job and admin routes (off without a keys file), a multipart upload trains a real TREC
 * classifier whose events stream over SSE, each published version is served by /v1/classify
 * without a restart and a pin rolls it back; a forecast job publishes a saved forecaster that
 * /v1/forecast serves; DELETE cancels a text-generation job in its training loop; keys never
 * reach the logs; every known path answers 405 for other methods and the OpenAPI document lists
 * the statuses the routes answer.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createApp, createConfig, createModelServices, loadKeyRing, type App, type Config, type Services } from '../src/index.js';
import { NO_MODELS, closeServer, listen } from './service-helpers.js';
import { KEYS, airlineValues, call, eventually, readSse, trecTsv, writeKeysFile, type SseEvent } from './job-helpers.js';

let tmp: string;
let services: Services;
let config: Config;
let built: App;
let server: Server;
let base: string;
const logLines: string[] = [];

/** A char-level LM small enough that an epoch takes about a second. */
const TINY_LM = { seed: 1, cell: 'gru', units: 16, embeddingDim: 8, seqLength: 24, batchSize: 16, windowsPerEpoch: 64, patience: 0, maxChars: 20_000 };

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-api-jobs-'));
  mkdirSync(path.join(tmp, 'models'));
  const common = {
    ...NO_MODELS,
    modelsDir: path.join(tmp, 'models'),
    modelPollMs: 100,
  };
  services = createModelServices(createConfig(common));
  await services.whenReady();
  config = createConfig({ ...common, apiKeys: writeKeysFile(tmp), uploadsDir: path.join(tmp, 'uploads'), maxUploadMb: 0.1, rateLimitMax: 0, logLevel: 'info' });
  const sink = new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) });
  built = createApp(config, services, { logger: pino({ level: 'info' }, sink) });
  ({ server, base } = await listen(built.app));
}, 120_000);

afterAll(async () => {
  closeServer(server);
  await built?.close();
  await services?.close(2000);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Follows a job's events to their end (the key in the query, as EventSource must send it). */
function events(id: string, onEvent?: (e: SseEvent) => void) {
  return readSse(`${base}/v1/jobs/${id}/events?key=${KEYS.trainer}`, onEvent);
}

async function finished(id: string): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return eventually(async () => {
    const r = await call(base, 'GET', `/v1/jobs/${id}`, { key: KEYS.trainer });
    return ['completed', 'failed', 'cancelled'].includes(r.body.state) ? r.body : undefined;
  }, 60_000, `job ${id} to finish`);
}

describe('keys', () => {
  it('without a keys file, job and admin routes are off (404) and reads stay open', async () => {
    const off = createApp(createConfig({ modelsDir: config.modelsDir, logLevel: 'silent', rateLimitMax: 0 }), services);
    const { server: s, base: b } = await listen(off.app);
    try {
      const submit = await call(b, 'POST', '/v1/jobs', { key: KEYS.admin, json: { type: 'train', task: 'forecast', data: 'classic_ts/airline-passengers.csv', model: 'x' } });
      expect(submit.status).toBe(404);
      expect(submit.body.error.code).toBe('jobs_disabled');
      expect((await call(b, 'GET', '/v1/jobs/abc')).body.error.code).toBe('jobs_disabled');
      const pin = await call(b, 'PUT', '/v1/models/x/pin', { key: KEYS.admin, json: { version: 1 } });
      expect([pin.status, pin.body.error.code]).toEqual([404, 'admin_disabled']);
      expect((await call(b, 'GET', '/v1/models')).status).toBe(200);
      expect(off.jobs).toBeUndefined();
    } finally {
      s.close();
    }
  });

  it('no or an unknown key is 401 with WWW-Authenticate, a key without the scope 403, and a bad spec 422 naming the field', async () => {
    const spec = { type: 'train', task: 'forecast', data: 'classic_ts/airline-passengers.csv', model: 'airline', options: { model: 'linear', horizon: 12 } };
    const anonymous = await call(base, 'POST', '/v1/jobs', { json: spec });
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'unauthorized']);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await call(base, 'POST', '/v1/jobs', { key: 'not-a-key', json: spec })).status).toBe(401);
    const reader = await call(base, 'POST', '/v1/jobs', { key: KEYS.reader, json: spec });
    expect([reader.status, reader.body.error.code]).toEqual([403, 'forbidden']);
    expect(reader.body.error.message).toContain('"reader"');
    const badType = await call(base, 'POST', '/v1/jobs', { key: KEYS.trainer, json: { ...spec, type: 'fit' } });
    expect([badType.status, badType.body.error.code, badType.body.error.details[0].field]).toEqual([422, 'bad_input', 'type']);
    const outside = await call(base, 'POST', '/v1/jobs', { key: KEYS.trainer, json: { ...spec, data: '../package.json' } });
    expect([outside.status, outside.body.error.details[0].field]).toEqual([422, 'data']);
    const noModel = await call(base, 'POST', '/v1/jobs', { headers: { 'x-api-key': KEYS.trainer }, json: { ...spec, model: undefined } });
    expect([noModel.status, noModel.body.error.details[0].field]).toEqual([422, 'model']);
    const text = await call(base, 'POST', '/v1/jobs', { key: KEYS.trainer, headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    // ?key= is for the events stream only (EventSource cannot send headers).
    expect((await call(base, 'GET', `/v1/jobs/some-id?key=${KEYS.trainer}`)).status).toBe(401);
    expect((await call(base, 'GET', `/v1/jobs/some-id/events?key=${KEYS.trainer}`)).status).toBe(404);
  });

  it('an upload over SEQLAB_MAX_UPLOAD_MB is 413 and leaves no file behind', async () => {
    const form = new FormData();
    form.append('spec', JSON.stringify({ type: 'train', task: 'text-classification', model: 'big', options: { model: 'tfidf-lr' } }));
    form.append('file', new Blob([trecTsv(3000)]), 'trec.tsv');
    const r = await call(base, 'POST', '/v1/jobs', { key: KEYS.trainer, form });
    expect([r.status, r.body.error.code]).toEqual([413, 'payload_too_large']);
    expect(existsSync(config.uploadsDir) ? readdirSync(config.uploadsDir) : []).toEqual([]);
  });

  it('a keys file is checked at start-up, naming the file and the entry at fault', () => {
    const file = path.join(tmp, 'bad-keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'ok', sha256: 'a'.repeat(64), scopes: ['train'] }, { id: 'leaky', key: 'plain', sha256: 'zz', scopes: ['train'] }] }));
    expect(() => loadKeyRing(file)).toThrow(ConfigError);
    expect(() => loadKeyRing(file)).toThrow(/bad-keys\.json.*keys\[1\]: unknown field key/);
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'ok', sha256: 'zz', scopes: ['train'] }] }));
    expect(() => loadKeyRing(file)).toThrow(/keys\[0\]\.sha256 \(key "ok"\)/);
    expect(() => createConfig({ requireKeys: true })).toThrow(/SEQLAB_REQUIRE_KEYS/);
  });

  it('rate limits count per key where one is sent, and SEQLAB_REQUIRE_KEYS closes prediction routes to callers without scope predict', async () => {
    const limited = createApp(createConfig({ modelsDir: config.modelsDir, apiKeys: config.apiKeys, requireKeys: true, rateLimitMax: 2, logLevel: 'silent' }), services, { jobs: built.jobs });
    const { server: s, base: b } = await listen(limited.app);
    try {
      expect((await call(b, 'GET', '/v1/models', { key: KEYS.reader })).status).toBe(200);
      expect((await call(b, 'GET', '/v1/models', { key: KEYS.reader })).status).toBe(200);
      const third = await call(b, 'GET', '/v1/models', { key: KEYS.reader });
      expect([third.status, third.body.error.message]).toEqual([429, expect.stringContaining('from this key')]);
      // Another key has its own budget.
      expect((await call(b, 'GET', '/v1/models', { key: KEYS.admin })).status).toBe(200);
      const noScope = await call(b, 'POST', '/v1/classify', { key: KEYS.trainer, json: { texts: ['hi'], model: 'nothing' } });
      expect([noScope.status, noScope.body.error.code]).toEqual([403, 'forbidden']);
      const anonymous = await call(b, 'POST', '/v1/classify', { json: { texts: ['hi'], model: 'nothing' } });
      expect(anonymous.status).toBe(401);
    } finally {
      s.close();
    }
  });
});

describe('training jobs publish versions the service serves without a restart', () => {
  let uploadId: string;

  it('a multipart upload trains a TREC classifier; its events stream over SSE; /v1/models and /v1/classify show version 1', async () => {
    const form = new FormData();
    form.append('spec', JSON.stringify({ type: 'train', task: 'text-classification', model: 'questions', options: { model: 'tfidf-lr', seed: 1 } }));
    form.append('file', new Blob([trecTsv(300)]), 'trec300.tsv');
    const submitted = await call(base, 'POST', '/v1/jobs', { key: KEYS.trainer, form });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ state: 'queued', upload: expect.stringMatching(/^[0-9a-f-]{36}\.tsv$/) });
    expect(submitted.headers.get('location')).toBe(`/v1/jobs/${submitted.body.id}`);
    uploadId = submitted.body.upload;

    const stream = await events(submitted.body.id);
    expect(stream.status).toBe(200);
    const kinds = stream.events.map((e) => e.event);
    expect(kinds[0]).toBe('state');
    expect(kinds).toContain('stage');
    const last = stream.events[stream.events.length - 1]!;
    expect(last.event).toBe('state');
    expect(last.data).toMatchObject({ state: 'completed', result: { name: 'questions', version: 1 }, error: null });

    const job = await call(base, 'GET', `/v1/jobs/${submitted.body.id}`, { key: KEYS.trainer });
    expect(job.body).toMatchObject({ id: submitted.body.id, type: 'train', task: 'text-classification', state: 'completed', report: { kind: 'tfidf-lr' } });
    expect(JSON.stringify(job.body)).not.toContain(tmp);
    const models = await call(base, 'GET', '/v1/models');
    expect(models.body.models).toContainEqual({ name: 'questions', task: 'text-classification', kind: 'tfidf-lr', versions: [1], served: 1, pinned: null, unversioned: false });
    const classified = await call(base, 'POST', '/v1/classify', { json: { model: 'questions', texts: ['How many people live in Tokyo ?'] } });
    expect(classified.status).toBe(200);
    expect(classified.body).toMatchObject({ model: 'questions', version: 1, kind: 'tfidf-lr' });
    expect(classified.body.classes).toEqual(expect.arrayContaining(['NUM', 'LOC', 'HUM']));
  });

  it('a second job on the same upload (by id) publishes version 2, served at once; a pin rolls back to 1 and unpinning serves 2 again', async () => {
    const second = await call(base, 'POST', '/v1/jobs', { key: KEYS.trainer, json: { type: 'train', task: 'text-classification', data: uploadId, model: 'questions', options: { model: 'tfidf-lr', seed: 2 } } });
    expect(second.status).toBe(202);
    expect((await finished(second.body.id)).result).toEqual({ name: 'questions', version: 2 });
    const servedVersion = async () => (await call(base, 'POST', '/v1/classify', { json: { model: 'questions', texts: ['Who wrote Hamlet ?'] } })).body.version as number;
    await eventually(async () => ((await servedVersion()) === 2 ? true : undefined), 10_000, 'version 2 to be served');

    expect((await call(base, 'PUT', '/v1/models/questions/pin', { key: KEYS.trainer, json: { version: 1 } })).status).toBe(403);
    const pinned = await call(base, 'PUT', '/v1/models/questions/pin', { key: KEYS.admin, json: { version: 1 } });
    expect([pinned.status, pinned.body.served, pinned.body.pinned]).toEqual([200, 1, 1]);
    await eventually(async () => ((await servedVersion()) === 1 ? true : undefined), 10_000, 'the pinned version 1 to be served');
    const missing = await call(base, 'PUT', '/v1/models/questions/pin', { key: KEYS.admin, json: { version: 7 } });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    expect((await call(base, 'PUT', '/v1/models/questions/pin', { key: KEYS.admin, json: { version: null } })).body).toMatchObject({ served: 2, pinned: null });
    await eventually(async () => ((await servedVersion()) === 2 ? true : undefined), 10_000, 'version 2 after unpinning');
  });

  it('a forecast job on a file in the data folder publishes a saved forecaster that /v1/forecast serves', async () => {
    const submitted = await call(base, 'POST', '/v1/jobs', {
      key: KEYS.trainer,
      json: { type: 'train', task: 'forecast', data: 'classic_ts/airline-passengers.csv', model: 'airline', options: { model: 'linear', horizon: 12 } },
    });
    expect(submitted.status).toBe(202);
    const job = await finished(submitted.body.id);
    expect(job).toMatchObject({ state: 'completed', result: { name: 'airline', version: 1 } });
    const forecast = await call(base, 'POST', '/v1/forecast', { json: { model: 'airline', columns: { Passengers: airlineValues() }, horizon: 12 } });
    expect([forecast.status, forecast.body.error]).toEqual([200, undefined]);
    expect(forecast.body.version).toBe(1);
    expect(forecast.body.mean[0]).toHaveLength(12);
    expect(forecast.body.mean[0].every((v: number) => Number.isFinite(v) && v > 100)).toBe(true);
  });

  it('the /v1/classify 404 lists only text classifiers (not the forecaster beside them)', async () => {
    const r = await call(base, 'POST', '/v1/classify', { json: { model: 'no-such-model', texts: ['hello'] } });
    expect(r.status).toBe(404);
    expect(r.body.error.message).toContain('questions');
    expect(r.body.error.message).not.toContain('airline');
  });

  it('DELETE cancels a running text-generation job in its training loop; nothing is published', async () => {
    const submitted = await call(base, 'POST', '/v1/jobs', {
      key: KEYS.trainer,
      json: { type: 'train', task: 'text-generation', data: 'tiny_shakespeare/input.txt', model: 'lm-cancelled', options: { ...TINY_LM, epochs: 40 } },
    });
    expect(submitted.status).toBe(202);
    const id = submitted.body.id as string;
    let deleted: Promise<unknown> | undefined;
    const stream = await events(id, (e) => {
      if (e.event === 'epoch' && deleted === undefined) deleted = call(base, 'DELETE', `/v1/jobs/${id}`, { key: KEYS.trainer });
    });
    expect(await deleted).toMatchObject({ status: 202, body: { id, state: 'cancelling' } });
    const last = stream.events[stream.events.length - 1]!;
    expect(last.data).toMatchObject({ state: 'cancelled', error: { code: 'cancelled' } });
    expect(stream.events.filter((e) => e.event === 'epoch').length).toBeLessThan(5);
    expect((await call(base, 'DELETE', `/v1/jobs/${id}`, { key: KEYS.trainer })).body).toEqual({ id, state: 'cancelled' });
    expect((await call(base, 'GET', '/v1/models')).body.models.map((m: { name: string }) => m.name)).not.toContain('lm-cancelled');
    expect((await call(base, 'GET', '/v1/jobs/no-such-job', { key: KEYS.trainer })).status).toBe(404);
  });

  it('keys never appear in the logs, not even from ?key= on the events stream', () => {
    const all = logLines.join('');
    expect(all).toContain('/events?key=[redacted]');
    for (const key of Object.values(KEYS)) expect(all).not.toContain(key);
  });
});

describe("the service's face", () => {
  it('answers 405 with Allow for other methods on every known path, 404 only for unknown paths', async () => {
    const cases: Array<[string, string, string]> = [
      ['POST', '/healthz', 'GET, HEAD'],
      ['DELETE', '/v1/info', 'GET, HEAD'],
      ['GET', '/v1/sentiment', 'POST'],
      ['GET', '/v1/jobs', 'POST'],
      ['PUT', '/v1/jobs/abc', 'GET, DELETE, HEAD'],
      ['POST', '/v1/models', 'GET, HEAD'],
      ['GET', '/v1/models/questions/pin', 'PUT'],
      ['POST', '/openapi.json', 'GET, HEAD'],
      ['POST', '/index.html', 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const r = await call(base, method, url);
      expect([url, r.status, r.body.error.code, r.headers.get('allow')]).toEqual([url, 405, 'method_not_allowed', allow]);
    }
    expect((await call(base, 'GET', '/no/such/path')).status).toBe(404);
  });

  it('a /readyz 503 while the model workers start is logged as a warning without a stack trace', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const starting = createModelServices(createConfig({ modelsDir: config.modelsDir, sentimentModel: 'off', generatorModel: 'off', embeddings: false, workers: 1, spareWorkers: 0 }));
    try {
      const { server: s, base: b } = await listen(createApp(config, starting, { logger: pino({ level: 'info' }, sink), jobs: built.jobs }).app);
      try {
        expect((await call(b, 'GET', '/readyz')).status).toBe(503);
      } finally {
        s.close();
      }
      const line = JSON.parse(lines.find((l) => l.includes('"/readyz"'))!) as { level: number; err?: { stack?: string } };
      expect(line.level).toBe(40);
      expect(line.err?.stack).toBeUndefined();
    } finally {
      await starting.close(1000);
    }
  });

  it('the OpenAPI document lists 404, 415 and 422 where routes answer them, the job and model routes, and the key schemes', async () => {
    const doc = (await call(base, 'GET', '/openapi.json')).body;
    for (const route of ['/v1/classify', '/v1/forecast', '/v1/generate']) expect(Object.keys(doc.paths[route].post.responses)).toEqual(expect.arrayContaining(['404', '415', '422']));
    expect(Object.keys(doc.paths['/v1/sentiment'].post.responses)).toEqual(expect.arrayContaining(['404', '415']));
    expect(Object.keys(doc.paths['/v1/jobs'].post.responses)).toEqual(expect.arrayContaining(['202', '401', '403', '404', '413', '415', '422']));
    expect(Object.keys(doc.paths['/v1/jobs'].post.requestBody.content)).toEqual(['application/json', 'multipart/form-data']);
    expect(Object.keys(doc.paths['/v1/jobs/{id}'])).toEqual(['get', 'delete']);
    expect(doc.paths['/v1/jobs/{id}/events'].get).toBeDefined();
    expect(doc.paths['/v1/models'].get).toBeDefined();
    expect(Object.keys(doc.paths['/v1/models/{name}/pin'].put.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404', '422']));
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.paths['/v1/jobs'].post.security).toContainEqual({ bearer: ['train'] });
  });
});
