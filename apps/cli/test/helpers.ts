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
