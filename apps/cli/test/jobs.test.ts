/**
 * `seqlab jobs submit|status|watch|cancel` against a real service (`npm start`'s entry in a child
 * process: real model workers, the in-process job engine, a keys file): a forecast job by data name and a TREC
 * classifier uploaded from a local file train and publish; watch prints progress and exits by the
 * final state; cancel stops a running text-generation job; errors exit with their codes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/program.js';
import { dataFile, run } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const KEY = 'cli-test-key-5e1d0c';
const READ_ONLY = 'cli-read-key-9a7f21';
const TINY_LM = { seed: 1, cell: 'gru', units: 16, embeddingDim: 8, seqLength: 24, batchSize: 16, windowsPerEpoch: 64, patience: 0, maxChars: 20_000 };

let tmp: string;
let service: ChildProcess | undefined;
let base: string;

const jobs = async (...argv: string[]) => run(await buildProgram(), ['jobs', ...argv]);
const withService = (...argv: string[]) => [...argv, '--url', base, '--key', KEY];

/** `npm start` in a child process (no default models, one worker, a keys file); resolves with its URL. */
function startService(env: Record<string, string>): Promise<string> {
  service = spawn(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', path.join(ROOT, 'apps/api/src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    service!.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const url = /seqlab api: listening on (\S+)/.exec(stderr)?.[1];
      if (url) resolve(url);
    });
    service!.on('exit', (code) => reject(new Error(`the service exited with ${code}: ${stderr}`)));
  });
}

beforeAll(async () => {
  delete process.env.SEQLAB_REDIS_URL;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'seqlab-cli-jobs-'));
  mkdirSync(path.join(tmp, 'models'));
  const sha = (k: string) => createHash('sha256').update(k).digest('hex');
  const keys = path.join(tmp, 'keys.json');
  writeFileSync(keys, JSON.stringify({ keys: [{ id: 'cli', sha256: sha(KEY), scopes: ['train'] }, { id: 'read', sha256: sha(READ_ONLY), scopes: ['predict'] }] }));
  base = await startService({
    PORT: '0',
    HOST: '127.0.0.1',
    SEQLAB_MODELS: path.join(tmp, 'models'),
    SEQLAB_UPLOADS: path.join(tmp, 'uploads'),
    SEQLAB_API_KEYS: keys,
    SENTIMENT_MODEL: 'off',
    GENERATOR_MODEL: 'off',
    EMBEDDINGS: 'off',
    WORKERS: '1',
    SPARE_WORKERS: '0',
    RATE_LIMIT_MAX: '0',
    DRAIN_MS: '0',
    LOG_LEVEL: 'warn',
  });
}, 120_000);

afterAll(async () => {
  if (service && service.exitCode === null) {
    const exited = new Promise((r) => service!.once('exit', r));
    service.kill('SIGTERM');
    await exited;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('seqlab jobs', () => {
  it('submit --data-name queues a forecast job and prints its id; watch follows it to completed (exit 0); status --json shows the outcome', async () => {
    const submitted = await jobs(...withService('submit', '--task', 'forecast', '--data-name', 'classic_ts/airline-passengers.csv', '--model', 'airline', '--options', '{"model":"linear","horizon":12}'));
    expect(submitted.stderr).toBe('');
    expect(submitted.exitCode).toBe(0);
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const watched = await jobs(...withService('watch', id));
    expect(watched.exitCode).toBe(0);
    expect(watched.stdout).toContain(`job ${id} completed -> airline version 1`);
    const status = await jobs(...withService('status', id, '--json'));
    expect(JSON.parse(status.stdout)).toMatchObject({ id, type: 'train', task: 'forecast', state: 'completed', result: { name: 'airline', version: 1 } });
  });

  it('submit --data uploads a local file and --watch prints the training stages until the model is published', async () => {
    const lines = readFileSync(dataFile('trec', 'train_5500.label'), 'latin1').trim().split('\n').slice(0, 300);
    const tsv = path.join(tmp, 'questions.tsv');
    writeFileSync(tsv, ['text\tlabel', ...lines.map((l) => `${l.slice(l.indexOf(' ') + 1)}\t${l.slice(0, l.indexOf(':'))}`)].join('\n'));
    const r = await jobs(...withService('submit', '--task', 'text-classification', '--data', tsv, '--model', 'questions', '--options', '{"model":"tfidf-lr"}', '--watch'));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\[read\] /m);
    expect(r.stdout).toMatch(/completed -> questions version 1$/m);
    expect(r.stderr).toMatch(/^job [0-9a-f-]{36} queued$/m);
  });

  it('cancel stops a running text-generation job; watch then exits 130 with the cancelled state', async () => {
    const submitted = await jobs(...withService('submit', '--task', 'text-generation', '--data-name', 'tiny_shakespeare/input.txt', '--model', 'lm', '--options', JSON.stringify({ ...TINY_LM, epochs: 40 })));
    const id = submitted.stdout.trim();
    // Cancel once it is really training (in its batches).
    for (let i = 0; i < 200; i++) {
      const s = JSON.parse((await jobs(...withService('status', id, '--json'))).stdout) as { state: string; progress: { type: string } | null };
      if (s.state === 'active' && (s.progress?.type === 'epoch' || s.progress?.type === 'batch')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const cancelled = await jobs(...withService('cancel', id));
    expect([cancelled.exitCode, cancelled.stdout.trim()]).toEqual([0, `job ${id} cancelling`]);
    const watched = await jobs(...withService('watch', id));
    expect(watched.exitCode).toBe(130);
    expect(watched.stdout).toMatch(new RegExp(`job ${id} cancelled \\(cancelled: `));
  });

  it('errors exit by kind: 401/403 and bad options 2, an unknown job 3, an unreachable service 1', async () => {
    const anonymous = await jobs('status', 'abc', '--url', base);
    expect([anonymous.exitCode, anonymous.stderr]).toEqual([2, expect.stringContaining('401 unauthorized')]);
    const readOnly = await jobs('submit', '--task', 'forecast', '--data-name', 'x.csv', '--model', 'm', '--url', base, '--key', READ_ONLY);
    expect([readOnly.exitCode, readOnly.stderr]).toEqual([2, expect.stringContaining('403 forbidden')]);
    const unknown = await jobs(...withService('status', 'no-such-job'));
    expect([unknown.exitCode, unknown.stderr]).toEqual([3, expect.stringContaining('404 not_found')]);
    const badJson = await jobs(...withService('submit', '--task', 'forecast', '--data-name', 'x.csv', '--options', '{nope'));
    expect([badJson.exitCode, badJson.stderr]).toEqual([2, expect.stringContaining('--options: not valid JSON')]);
    const badSpec = await jobs(...withService('submit', '--task', 'forecast', '--data-name', 'no/such.csv', '--model', 'm'));
    expect([badSpec.exitCode, badSpec.stderr]).toEqual([2, expect.stringContaining('422 bad_input: data: no file "no/such.csv"')]);
    const both = await jobs(...withService('submit', '--task', 'forecast', '--model', 'm'));
    expect([both.exitCode, both.stderr]).toEqual([2, expect.stringContaining('exactly one of --data')]);
    const down = await jobs('status', 'abc', '--url', 'http://127.0.0.1:9', '--key', KEY);
    expect([down.exitCode, down.stderr]).toEqual([1, expect.stringContaining('cannot reach the service at http://127.0.0.1:9')]);
  });
});

describe('seqlab worker', () => {
  it('without a Redis URL says how to give one (exit 2)', async () => {
    const r = await run(await buildProgram(), ['worker']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--redis-url or set SEQLAB_REDIS_URL/);
  });

  it('documents its flags', async () => {
    const r = await run(await buildProgram(), ['worker', '--help']);
    for (const flag of ['--redis-url', '--models', '--concurrency', '--queue', '--prefix', '--lock-duration-ms', '--stalled-interval-ms']) expect(r.stdout).toContain(flag);
  });
});
