/**
 * bench: wall time of one `auto` text-classification training job on the Redis engine (a BullMQ
 * flow: one child job per candidate kind) with 1 and with 2 `seqlab worker` processes: TREC
 * coarse classes, 2,000 questions (stratified `limit`), default auto kinds, rnn epochs 2.
 * Needs a Redis at $SEQLAB_REDIS_URL (default redis://127.0.0.1:6379); uses its own key prefix.
 *
 *   node --conditions=@seqlab/source --import tsx tools/bench/src/auto-training-flow.ts [--repeats 3]
 *
 * Prints JSON: the seconds of each run and the medians, with the load average before and after.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { BullMqJobEngine, spawnWorker, type JobSpec } from '@seqlab/jobs';
import { REPO_ROOT } from './lib/report.js';

const REDIS_URL = process.env.SEQLAB_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The auto training measured (also what bench:fleet submits for its autoTraining figure). */
export const AUTO_TEXT_CLASSIFICATION_OPTIONS = { limit: 2000, epochs: 2, seed: 1 };

/** TREC's training questions with their coarse class, as JSON lines (the `.label` format is not a table). */
export function writeTrecJsonl(file: string): void {
  const lines = readFileSync(path.join(REPO_ROOT, 'data/trec/train_5500.label'), 'latin1')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.stringify({ text: l.slice(l.indexOf(' ') + 1).trim(), label: l.slice(0, l.indexOf(':')) }));
  writeFileSync(file, lines.join('\n') + '\n');
}

function startWorker(modelsDir: string, prefix: string): Promise<ChildProcess> {
  return spawnWorker({ redisUrl: REDIS_URL, modelsDir, prefix, cwd: REPO_ROOT });
}

/** One run: fresh workers and key prefix, submit, wait for the final state. */
async function run(data: string, dir: string, workers: number, tag: string): Promise<{ seconds: number; workersUsed: number; kind: string; stages: Record<string, number> }> {
  const prefix = `seqlab-bench-flow-${randomUUID().slice(0, 8)}`;
  const modelsDir = path.join(dir, `models-${tag}`);
  const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(modelsDir, prefix)));
  const engine = new BullMqJobEngine({ redisUrl: REDIS_URL, prefix });
  try {
    const spec: JobSpec = { type: 'train', task: 'text-classification', data, model: 'trec', options: AUTO_TEXT_CLASSIFICATION_OPTIONS };
    const t0 = performance.now();
    const id = await engine.submit(spec);
    let last;
    for await (const e of engine.events(id)) if (e.type === 'state') last = e.state;
    const seconds = (performance.now() - t0) / 1000;
    if (last?.status !== 'completed') throw new Error(`job ended ${last?.status}: ${last?.error?.message ?? ''}`);
    const report = last.report as { kind: string; candidates: { kind: string }[]; stages: Record<string, number> };
    const redis = new Redis(REDIS_URL);
    const names = await Promise.all(report.candidates.filter((c) => c.kind !== 'ensemble').map((c) => redis.hget(`${prefix}:seqlab-jobs:${id}.${c.kind}`, 'pb')));
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    const stages = Object.fromEntries(Object.entries(report.stages).map(([k, v]) => [k, Number(v.toFixed(1))]));
    return { seconds: Number(seconds.toFixed(1)), workersUsed: new Set(names.filter((n) => n !== null)).size, kind: report.kind, stages };
  } finally {
    await engine.close();
    for (const p of procs) p.kill('SIGTERM');
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1] ?? 3) || 3;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seqlab-bench-flow-'));
  const data = path.join(dir, 'trec.jsonl');
  writeTrecJsonl(data);
  const loadBefore = os.loadavg();
  const runs: Record<string, Awaited<ReturnType<typeof run>>[]> = { one: [], two: [] };
  try {
    // Interleaved, so a change in the machine's load falls on both settings alike.
    for (let r = 0; r < repeats; r++) {
      runs.one!.push(await run(data, dir, 1, `1-${r}`));
      runs.two!.push(await run(data, dir, 2, `2-${r}`));
      console.error(`repeat ${r + 1}: 1 worker ${runs.one!.at(-1)!.seconds} s, 2 workers ${runs.two!.at(-1)!.seconds} s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = { options: AUTO_TEXT_CLASSIFICATION_OPTIONS, runs, oneWorkerSeconds: median(runs.one!.map((x) => x.seconds)), twoWorkersSeconds: median(runs.two!.map((x) => x.seconds)), loadAverage: { before: loadBefore, after: os.loadavg() } };
  console.log(JSON.stringify(out, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
