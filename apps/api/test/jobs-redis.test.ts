/**
 * The service on the Redis engine (SEQLAB_REDIS_URL, a queue prefix of its own) with a
 * `seqlab worker` process (the CLI's command) taking the jobs: a job submitted over HTTP runs on
 * the worker, its events reach the SSE stream, and the version it publishes into the shared
 * models folder is served by /v1/forecast. Needs Redis on 127.0.0.1:6379.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, createApp, createConfig, createModelServices, type App, type Services } from '../src/index.js';
import { NO_MODELS, closeServer, listen } from './service-helpers.js';
import { KEYS, airlineValues, call, readSse, writeKeysFile } from './job-helpers.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const PREFIX = `seqlab-api-test-${randomUUID().slice(0, 8)}`;

let tmp: string;
let services: Services;
let built: App;
let server: Server;
let base: string;
let worker: ChildProcess | undefined;

/** `seqlab worker` in a child process; resolves once it says it is ready. */
function startWorker(modelsDir: string): Promise<void> {
  const cli = path.join(REPO_ROOT, 'apps/cli/src/main.ts');
  worker = spawn(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', cli, 'worker', '--redis-url', REDIS_URL, '--models', modelsDir, '--prefix', PREFIX], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    worker!.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes('seqlab worker: ready')) resolve();
    });
    worker!.on('exit', (code) => reject(new Error(`seqlab worker exited with ${code}: ${stderr}`)));
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-api-redis-'));
  const modelsDir = path.join(tmp, 'models');
  mkdirSync(modelsDir);
  const config = createConfig({
    modelsDir,
    ...NO_MODELS,
    uploadsDir: path.join(tmp, 'uploads'),
    modelPollMs: 100,
    apiKeys: writeKeysFile(tmp),
    redisUrl: REDIS_URL,
    queuePrefix: PREFIX,
    rateLimitMax: 0,
    logLevel: 'silent',
  });
  services = createModelServices(config);
  built = createApp(config, services);
  await Promise.all([services.whenReady(), startWorker(modelsDir)]);
  ({ server, base } = await listen(built.app));
}, 120_000);

afterAll(async () => {
  closeServer(server);
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  }
  await built?.close();
  await services?.close(2000);
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${PREFIX}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('jobs on Redis with a seqlab worker process', () => {
  it('a job submitted over HTTP runs on the worker, streams its events and publishes a version the service serves', async () => {
    expect(built.jobs?.constructor.name).toBe('BullMqJobEngine');
    const submitted = await call(base, 'POST', '/v1/jobs', {
      key: KEYS.trainer,
      json: { type: 'train', task: 'forecast', data: 'classic_ts/airline-passengers.csv', model: 'airline', options: { model: 'linear', horizon: 12 } },
    });
    expect(submitted.status).toBe(202);
    const stream = await readSse(`${base}/v1/jobs/${submitted.body.id}/events?key=${KEYS.trainer}`);
    expect(stream.events[0]!.event).toBe('state');
    const last = stream.events[stream.events.length - 1]!;
    expect(last.data).toMatchObject({ id: submitted.body.id, state: 'completed', result: { name: 'airline', version: 1 }, attempts: 1 });
    expect((await call(base, 'GET', '/v1/models')).body.models).toContainEqual(expect.objectContaining({ name: 'airline', versions: [1], served: 1, task: 'forecast' }));
    const forecast = await call(base, 'POST', '/v1/forecast', { json: { model: 'airline', columns: { Passengers: airlineValues() }, horizon: 12 } });
    expect([forecast.status, forecast.body.version, forecast.body.mean[0].length]).toEqual([200, 1, 12]);
  });
});
