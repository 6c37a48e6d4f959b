import { execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadInputError, readModelConfig, writeJsonAtomic, type TaskName } from '@seqlab/core';
import { DEFAULT_MODELS } from '@seqlab/tasks';

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
 * One results file per benchmark or recipe script, `results/SCRIPT.json`: the run under the
 * script's own name (its default settings) at the top level, so readers of the headline figures
 * need not know about variants, and every other named run (`--results-name`, `BENCH_ETT_NAME`)
 * as a row of `variants`, keyed by its `name`.
 */
export interface ResultsFile {
  /** The default run's name (usually the script's), or the script's when only variants exist. */
  name: string;
  /** The command that reproduces the default run. */
  command?: string;
  /** Runs of the same script with other settings, one row each, keyed by `name`. */
  variants?: ResultsRun[];
  [field: string]: unknown;
}

/** One run inside a {@link ResultsFile}: its name, reproducing command, environment and figures. */
export interface ResultsRun {
  name: string;
  command: string;
  environment: Record<string, unknown>;
  [field: string]: unknown;
}

// Scripts whose default run has always been published under another name (recipe:sst2-linear
// writes models/sentiment-fasttext, so its run is `sst2-fasttext`).
const DEFAULT_RUN_OF: Readonly<Record<string, string>> = { 'sst2-linear': 'sst2-fasttext' };

/**
 * The results file (without `.json`) a run belongs to: the name of the bench or recipe script
 * being run (`tools/bench/src/ett.ts` -> `ett`, `tools/recipes/src/trec.ts` -> `trec`), or the
 * run's own name outside those scripts.
 */
export function resultsFileOf(runName: string, script: string | undefined = process.argv[1]): string {
  // Benchmarks live in tools/bench/src, recipes in their own project, tools/recipes/src.
  const scriptDirs = [path.join(REPO_ROOT, 'tools', 'bench', 'src'), path.join(REPO_ROOT, 'tools', 'recipes', 'src')].map((d) => d + path.sep);
  if (script && scriptDirs.some((d) => path.resolve(script).startsWith(d)) && /\.[cm]?[jt]s$/.test(script)) {
    return path.basename(script).replace(/\.[cm]?[jt]s$/, '');
  }
  return runName;
}

/** Whether `runName` is the default run of results file `file` (stored at its top level). */
export function isDefaultRun(file: string, runName: string): boolean {
  return runName === file || DEFAULT_RUN_OF[file] === runName;
}

/** Path of `results/FILE.json`. */
export function resultsPath(file: string): string {
  return path.join(REPO_ROOT, 'results', `${file}.json`);
}

/** Reads `results/FILE.json`, or `undefined` when the file does not exist. */
export function readResultsFile(file: string): ResultsFile | undefined {
  const p = resultsPath(file);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ResultsFile;
  } catch (err) {
    throw new BadInputError(`${p}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * One run of a results file: the default run (top level, without `variants`) when `runName` is
 * omitted or names it, else the `variants` row of that name; `undefined` when absent.
 */
export function readResultsRun(file: string, runName?: string): ResultsRun | undefined {
  const all = readResultsFile(file);
  if (!all) return undefined;
  if (runName === undefined || isDefaultRun(file, runName)) {
    if (all.command === undefined) return undefined;
    const run: ResultsFile = { ...all };
    delete run.variants;
    return run as ResultsRun;
  }
  return all.variants?.find((v) => v.name === runName);
}

/** `file`'s contents with `run` stored in its place: at the top level or as a `variants` row. */
function withRun(file: string, existing: ResultsFile | undefined, run: ResultsRun): ResultsFile {
  const variants = existing?.variants ?? [];
  if (isDefaultRun(file, run.name)) return variants.length ? { ...run, variants } : { ...run };
  const rows = variants.some((v) => v.name === run.name)
    ? variants.map((v) => (v.name === run.name ? run : v))
    : [...variants, run];
  return { ...(existing ?? { name: file }), variants: rows };
}

/**
 * Records a run in its script's results file (see {@link ResultsFile}), atomically, with the
 * environment, the command that reproduces it and the figures; a run of the same name is
 * replaced, other runs are kept. Returns the file's path.
 */
export async function writeResults(
  name: string,
  command: string,
  payload: Record<string, unknown>,
  options: { file?: string } = {},
): Promise<string> {
  const file = options.file ?? resultsFileOf(name);
  // The run's name is its key in the file, so a payload field of the same name cannot replace it.
  const run: ResultsRun = { name, command, environment: environment(), ...payload };
  run.name = name;
  const target = resultsPath(file);
  await writeJsonAtomic(target, withRun(file, readResultsFile(file), run));
  return target;
}

/**
 * Whether `dir` holds a saved model of `task`, as @seqlab/core's model-directory reader sees it
 * (the benches never look for the files themselves).
 */
export async function hasModel(dir: string, task: TaskName): Promise<boolean> {
  try {
    const saved = (await readModelConfig(dir)).task;
    // The sentiment task serves binary text classifiers too, so either format counts for it.
    return saved === task || (task === 'sentiment' && saved === 'text-classification');
  } catch {
    return false;
  }
}

/** The directory of `task`'s default model (the name from @seqlab/tasks' registry). */
export function defaultModelDir(task: 'sentiment' | 'text-classification' | 'text-generation'): string {
  return path.join(REPO_ROOT, 'models', DEFAULT_MODELS[task]!);
}
