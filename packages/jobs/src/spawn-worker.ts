import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Options of {@link spawnWorker}. */
export interface SpawnWorkerOptions {
  redisUrl: string;
  /** The model store the worker publishes to (shared with the service). */
  modelsDir: string;
  /** Queue key prefix (one per test or benchmark run keeps runs apart). */
  prefix?: string;
  /** More `seqlab worker` flags, e.g. `['--lock-duration-ms', '3000']`. */
  args?: readonly string[];
  /** Working directory of the child. Default: this process's. */
  cwd?: string;
}

/**
 * Starts a worker as a child process of this Node.js and resolves once it says it is ready, so callers never submit to a pool that is
 * still loading. Rejects with its stderr if it exits first. Kill it with `child.kill()`.
 */
export function spawnWorker(options: SpawnWorkerOptions): Promise<ChildProcess> {
  // From the sources in a checkout (tsx), from dist/ once built.
  const fromSource = import.meta.url.endsWith('.ts');
  const main = fileURLToPath(new URL(fromSource ? './worker-main.ts' : './worker-main.js', import.meta.url));
  const loader = fromSource ? ['--conditions=@seqlab/source', '--import', 'tsx'] : [];
  const args = [...loader, main, '--redis-url', options.redisUrl, '--models', options.modelsDir];
  if (options.prefix) args.push('--prefix', options.prefix);
  const child = spawn(process.execPath, [...args, ...(options.args ?? [])], { cwd: options.cwd ?? process.cwd(), stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes('seqlab worker: ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${stderr}`)));
  });
}
