import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';

/** What a command printed and the exit code it set. */
export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs a freshly built command in-process with `parseAsync(argv, { from: 'user' })`,
 * capturing stdout/stderr and `process.exitCode` (reset afterwards).
 */
export async function run(command: Command, argv: string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  command.exitOverride();
  command.configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  process.exitCode = 0;
  try {
    await command.parseAsync(argv, { from: 'user' });
  } catch (e) {
    // Commander parse errors (exitOverride) carry their own exit code; the CLI maps them to 2.
    if ((e as { code?: string }).code?.startsWith('commander.')) process.exitCode = 2;
    else throw e;
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { stdout, stderr, exitCode };
}

/** Absolute path of a file under the repository's data/ directory. */
export function dataFile(...parts: string[]): string {
  return new URL(`../../../data/${parts.join('/')}`, import.meta.url).pathname;
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** The first timestamp of {@link writeM4Panel}'s long file (ms since the epoch). */
export const M4_PANEL_START = Date.UTC(2020, 0, 1);

/** One M4 series as the panel fixtures hold it: its id and its last rows, as text. */
export interface M4Series {
  id: string;
  values: string[];
}

/**
 * The first `count` real M4 Hourly series, their last `rows` rows, written into `dir` as a wide
 * file (`wide.csv`: one row per series) and a long one (`long.csv`: `store,time,load` with hourly
 * dates from 2020-01-01).
 */
export function writeM4Panel(dir: string, count: number, rows: number): { m4: M4Series[]; wide: string; long: string } {
  const m4 = readFileSync(dataFile('m4', 'Hourly-train.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1, 1 + count)
    .map((line) => {
      const cells = line.split(',').map((c) => c.replace(/"/g, '')).filter((c) => c !== '');
      return { id: cells[0]!, values: cells.slice(1).slice(-rows) };
    });
  const wide = join(dir, 'wide.csv');
  writeFileSync(wide, `id,${m4[0]!.values.map((_, t) => `V${t + 1}`).join(',')}\n${m4.map((s) => `${s.id},${s.values.join(',')}`).join('\n')}\n`);
  const long = join(dir, 'long.csv');
  writeFileSync(long, `store,time,load\n${m4.flatMap((s) => s.values.map((v, t) => `${s.id},${new Date(M4_PANEL_START + t * 3_600_000).toISOString()},${v}`)).join('\n')}\n`);
  return { m4, wide, long };
}
