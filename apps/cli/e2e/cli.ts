import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The built binary, as `npm install` would link it to `seqlab`. */
export const BIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Output of one run of the binary. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from spawn to each stdout chunk. */
  chunkTimes: number[];
  /** ms from spawn to exit. */
  ms: number;
}

/** Options of {@link seqlab}. */
export interface RunOptions {
  /** Text piped to stdin (stdin is closed either way). */
  input?: string;
  env?: Record<string, string>;
  /** Called with the child and each stderr chunk, to interrupt it mid-run. */
  onStderr?: (child: ChildProcess, chunk: string, all: string) => void;
}

/** Spawns `node apps/cli/dist/main.js ...args` from the repository root and collects its output. */
export function seqlab(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const chunkTimes: number[] = [];
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      stdout += c;
      chunkTimes.push(performance.now() - t0);
    });
    child.stderr.on('data', (c: string) => {
      stderr += c;
      options.onStderr?.(child, c, stderr);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, chunkTimes, ms: performance.now() - t0 }));
    child.stdin.end(options.input ?? '');
  });
}
