import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { REPO_ROOT, dataPath } from './report.js';

/** An `apps/api` child process started exactly like `npm start`. */
export interface ApiProcess {
  url: string;
  child: ChildProcess;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * How the service runs: from its TypeScript sources through tsx, as `npm start` does, or as the
 * compiled JavaScript that the Docker image runs (`node apps/api/dist/main.js`).
 */
export type ApiBuild = 'source' | 'built';

/**
 * Starts the API as a child process with `env` on a free loopback port and waits until /readyz
 * answers 200 (failing early with the server's reasons when a model is missing or broken).
 * `build: 'built'` runs the compiled service (build it first: `buildProject('@seqlab/api')`).
 */
export async function startApi(env: Record<string, string>, timeoutMs = 180_000, build: ApiBuild = 'source'): Promise<ApiProcess> {
  const port = await freePort();
  const args = build === 'built' ? ['apps/api/dist/main.js'] : ['--conditions=@seqlab/source', '--import', 'tsx', 'apps/api/src/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let reasons = 'no answer yet';
  for (;;) {
    if (child.exitCode !== null) throw new Error(`api server exited with code ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`api server did not become ready within ${timeoutMs / 1000} s (${reasons})`);
    }
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
      reasons = ((await res.json()) as { reasons: string[] }).reasons.join('; ');
      if (!reasons.includes('loading')) {
        child.kill('SIGTERM');
        throw new Error(`api server is not ready: ${reasons}`);
      }
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('api server')) throw err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    child,
    stop: () =>
      new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** Real single sentences (the first 200 of SST-2 dev) for requests to the API, so they are not all identical. */
export function sst2DevSentences(): string[] {
  return readFileSync(dataPath('sst2', 'dev.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1, 201)
    .map((l) => l.split('\t')[0]!.trim());
}
