import type { Command } from 'commander';
import { defineAction } from '../cli.js';
import { newCommand } from '../command-help.js';

/**
 * `seqlab worker`: takes training, evaluation and prediction jobs from the Redis queue the service
 * submits to (SEQLAB_REDIS_URL) and runs them until SIGINT/SIGTERM, then finishes the running
 * job and exits. Run as many as you like, on any machines sharing the Redis and the models folder.
 */
export function workerCommand(): Command {
  const cmd = newCommand('worker')
    .option('--redis-url <url>', 'the Redis the service queues jobs in (default $SEQLAB_REDIS_URL)')
    .option('--models <dir>', 'the shared models folder trained models are published to (default $SEQLAB_MODELS or <repo>/models)')
    .option('--concurrency <n>', 'jobs run at once (default 1: training takes the whole CPU)')
    .option('--queue <name>', 'the queue name (default seqlab-jobs)')
    .option('--prefix <prefix>', "the BullMQ key prefix; the service's SEQLAB_QUEUE_PREFIX (default seqlab)")
    .option('--lock-duration-ms <ms>', "how long a job's lock lasts without renewal; a worker that dies loses its jobs after it")
    .option('--stalled-interval-ms <ms>', 'how often stalled jobs (of dead workers) are taken over')
    .addHelpText('after', '\nA job whose worker dies is taken over by another and resumes from its checkpoints (text generation); a training publishes its model version once.');
  return defineAction(cmd, async ({ opts }) => {
    const argv: string[] = [];
    for (const flag of ['redisUrl', 'models', 'concurrency', 'queue', 'prefix', 'lockDurationMs', 'stalledIntervalMs']) {
      const value = opts[flag];
      if (typeof value === 'string') argv.push(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, value);
    }
    // Loaded here: BullMQ and the task layer are only needed when the command runs.
    const { workerMain } = await import('@seqlab/jobs');
    await workerMain(argv);
  });
}
