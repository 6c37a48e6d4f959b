/**
 * `seqlab worker`: takes jobs from the Redis queue until SIGINT/SIGTERM, then finishes the
 * running job and exits. Run directly with
 * `node --conditions=@seqlab/source --import tsx packages/jobs/src/worker-main.ts --redis-url redis://...`.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BadInputError, initBackend } from '@seqlab/core';
import { REDIS_URL_ENV } from './redis.js';
import { runWorker, type WorkerOptions } from './worker.js';

/** The usage line of `seqlab worker`. */
export const WORKER_USAGE =
  'seqlab worker [--redis-url URL] [--models DIR] [--concurrency N] [--queue NAME] [--prefix P] [--lock-duration-ms MS] [--stalled-interval-ms MS]';

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new BadInputError(`worker: --${name} must be a positive integer, got "${value}"`);
  return n;
}

/**
 * Parses `seqlab worker` arguments into {@link WorkerOptions}.
 *
 * @throws BadInputError for unknown flags, bad numbers or no Redis URL.
 */
export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        'redis-url': { type: 'string' },
        models: { type: 'string' },
        concurrency: { type: 'string' },
        queue: { type: 'string' },
        prefix: { type: 'string' },
        'lock-duration-ms': { type: 'string' },
        'stalled-interval-ms': { type: 'string' },
      },
      strict: true,
    }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new BadInputError(`worker: ${(err as Error).message}\nusage: ${WORKER_USAGE}`);
  }
  const redisUrl = values['redis-url'] ?? env[REDIS_URL_ENV];
  if (!redisUrl) throw new BadInputError(`worker: no Redis to take jobs from: pass --redis-url or set ${REDIS_URL_ENV}`);
  return {
    redisUrl,
    ...(values.models ? { modelsDir: values.models } : {}),
    ...(values.queue ? { queueName: values.queue } : {}),
    ...(values.prefix ? { prefix: values.prefix } : {}),
    concurrency: positiveInt('concurrency', values.concurrency),
    lockDurationMs: positiveInt('lock-duration-ms', values['lock-duration-ms']),
    stalledIntervalMs: positiveInt('stalled-interval-ms', values['stalled-interval-ms']),
  };
}

/** Runs a worker until SIGINT or SIGTERM; resolves when it has shut down. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const options = parseWorkerArgs(argv);
  await initBackend();
  const running = await runWorker(options);
  console.error(`seqlab worker: ready (pid ${process.pid}, concurrency ${options.concurrency ?? 1})`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      console.error('seqlab worker: stopping after the running job');
      void running.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(`seqlab worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
