import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModelConfig, writeJsonAtomic, type TaskName } from '@seqlab/core';

/** Repository root, found from this file's location (tools/bench/src/lib). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Path of a file under the repository's `data/` folder. */
export function dataPath(...parts: string[]): string {
  return path.join(REPO_ROOT, 'data', ...parts);
}

/** The value after `--name` on the command line, or `fallback` when it is absent. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Formats rows of objects as a fixed-width text table (columns in the order of the first row). */
export function formatTable(rows: ReadonlyArray<Record<string, unknown>>): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v === undefined || v === null ? '' : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

/** Facts about the machine and commit that every result file carries. */
export function environment(): Record<string, unknown> {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    /* not a checkout */
  }
  return {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    platform: `${os.platform()}-${os.arch()}`,
  };
}

/**
 * Writes `results/NAME.json` atomically with the environment, the command that reproduces the
 * run, and the figures.
 */
export async function writeResults(name: string, command: string, payload: Record<string, unknown>): Promise<string> {
  const file = path.join(REPO_ROOT, 'results', `${name}.json`);
  await writeJsonAtomic(file, { name, command, environment: environment(), ...payload });
  return file;
}

/**
 * Whether `dir` holds a saved model of `task`, as @seqlab/core's model-directory reader sees it
 * (the benches never look for the files themselves).
 */
export async function hasModel(dir: string, task: TaskName): Promise<boolean> {
  try {
    return (await readModelConfig(dir)).task === task;
  } catch {
    return false;
  }
}
