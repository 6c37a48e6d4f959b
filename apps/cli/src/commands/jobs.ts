import { openAsBlob, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { SeqlabError } from '@seqlab/core/base';
import { commandGroup, defineAction, emit, note, println } from '../cli.js';
import { EXIT, NotFoundError, UsageError } from '../errors.js';
import { DEFAULT_URL, jobEvents, request, serviceOf, type JobView, type Service } from '../jobs-client.js';
import { COMMAND_HELP } from '../command-help.js';

function parseOptionsJson(text: unknown): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch (err) {
    throw new UsageError(`--options: not valid JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--options: expected a JSON object, e.g. \'{"model":"tfidf-lr"}\'');
  return value as Record<string, unknown>;
}

/** The job to submit, and the local file to upload with it (multipart) when `--data` names one. */
async function submission(opts: Record<string, unknown>): Promise<{ json?: unknown; form?: FormData }> {
  const spec = {
    type: String(opts.type ?? 'train'),
    task: opts.task,
    ...(opts.options !== undefined ? { options: parseOptionsJson(opts.options) } : {}),
    ...(opts.model !== undefined ? { model: opts.model } : {}),
  };
  if ((opts.data === undefined) === (opts.dataName === undefined)) throw new UsageError('give exactly one of --data <local file> (uploaded) or --data-name <file in the service\'s data folder>');
  if (opts.dataName !== undefined) return { json: { ...spec, data: opts.dataName } };
  const file = path.resolve(String(opts.data));
  if (!existsSync(file) || !statSync(file).isFile()) throw new NotFoundError(`--data: no file ${String(opts.data)}`);
  const form = new FormData();
  form.append('spec', JSON.stringify(spec));
  // Streamed from disk by fetch, not read into memory.
  form.append('file', await openAsBlob(file), path.basename(file));
  return { form };
}

/** One line for a training event (batches are shown at most once a second by the caller). */
export function progressLine(event: string, data: Record<string, any>): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const who = data.candidate ? `${data.candidate} ` : '';
  const eta = typeof data.etaSeconds === 'number' ? `, ETA ${Math.round(data.etaSeconds)} s` : '';
  const metrics = Object.entries((data.metrics ?? {}) as Record<string, number>)
    .map(([k, v]) => `${k} ${Number(v).toFixed(4)}`)
    .join(', ');
  if (event === 'stage') return `[${data.stage}] ${data.message}`;
  if (event === 'epoch') return `${who}epoch ${data.epoch}/${data.epochs} (${Number(data.seconds).toFixed(1)} s${eta})${metrics ? `: ${metrics}` : ''}`;
  if (event === 'batch') return `${who}epoch ${data.epoch}/${data.epochs} batch ${data.batch}/${data.batches}${eta}${metrics ? `: ${metrics}` : ''}`;
  if (event === 'items') return `${who}${data.stage} ${data.done}/${data.total}${eta}`;
  return `${event}: ${JSON.stringify(data)}`;
}

function stateLine(job: JobView): string {
  const result = job.result ? ` -> ${job.result.name} version ${job.result.version}` : '';
  const error = job.error ? ` (${job.error.code}: ${job.error.message})` : '';
  return `job ${job.id} ${job.state}${result}${error}`;
}

/** The exit code a final job state stands for: 0 completed, 130 cancelled, 1 failed. */
function exitFor(job: JobView): number {
  return job.state === 'completed' ? EXIT.ok : job.state === 'cancelled' ? EXIT.interrupted : EXIT.runtime;
}

/** Reads the job's SSE stream, printing each event, until its final state; returns that state. */
async function watch(service: Service, id: string, json: boolean): Promise<JobView> {
  let last: JobView | undefined;
  let lastBatchAt = 0;
  for await (const { event, data } of jobEvents(service, id)) {
    if (event === 'state') last = data as JobView;
    if (json) println(JSON.stringify({ event, data }));
    else if (event === 'state') println(stateLine(data as JobView));
    else if (event !== 'batch' || Date.now() - lastBatchAt >= 1000) {
      if (event === 'batch') lastBatchAt = Date.now();
      println(progressLine(event, data));
    }
  }
  if (last === undefined || !['completed', 'failed', 'cancelled'].includes(last.state)) throw new SeqlabError('internal', `watch ${id}: the event stream ended before the job finished`);
  return last;
}

function serviceOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', `the service (default $SEQLAB_URL or ${DEFAULT_URL})`)
    .option('--key <key>', 'API key with scope train (default $SEQLAB_API_KEY)');
}

function submitCommand(): Command {
  const cmd = serviceOptions(new Command('submit'))
    .description('submit a training (or evaluation, batch prediction) job to a seqlab service; prints its id')
    .requiredOption('--task <task>', 'text-classification, text-generation or forecast')
    .option('--type <type>', 'train, evaluate or predict', 'train')
    .option('--data <file>', 'a local data file, uploaded with the job (size-limited by the service)')
    .option('--data-name <name>', "a file in the service's data folder, e.g. classic_ts/airline-passengers.csv, or an earlier upload's id")
    .option('--options <json>', 'the task\'s training options as JSON, e.g. \'{"model":"tfidf-lr"}\'')
    .option('--model <name>', 'train: the name to publish the model as (a new version each time); evaluate/predict: the model to use')
    .option('--watch', 'then follow the job until it finishes (exit 0 completed, 1 failed, 130 cancelled)');
  return defineAction(cmd, async ({ opts }) => {
    const service = serviceOf(opts);
    const answer = (await request(service, 'POST', '/v1/jobs', await submission(opts))) as { id: string; state: string; upload?: string };
    if (!opts.watch) {
      emit(opts.json === true, answer, () => println(answer.id));
      if (answer.upload && opts.json !== true) note(`uploaded as ${answer.upload} (later jobs may name it with --data-name)`);
      return;
    }
    note(`job ${answer.id} queued`);
    process.exitCode = exitFor(await watch(service, answer.id, opts.json === true));
  });
}

function statusCommand(): Command {
  const cmd = serviceOptions(new Command('status')).description("show a job's state, last progress and outcome").argument('<id>', 'the job id');
  return defineAction(cmd, async ({ args, opts }) => {
    const job = (await request(serviceOf(opts), 'GET', `/v1/jobs/${encodeURIComponent(String(args[0]))}`)) as JobView;
    emit(opts.json === true, job, () => {
      println(stateLine(job));
      if (job.progress && job.state === 'active') println(`  last: ${progressLine(String(job.progress.type), job.progress)}`);
    });
  });
}

function watchCommand(): Command {
  const cmd = serviceOptions(new Command('watch'))
    .description('follow a job\'s progress until it finishes (exit 0 completed, 1 failed, 130 cancelled)')
    .argument('<id>', 'the job id');
  return defineAction(cmd, async ({ args, opts }) => {
    process.exitCode = exitFor(await watch(serviceOf(opts), String(args[0]), opts.json === true));
  });
}

function cancelCommand(): Command {
  const cmd = serviceOptions(new Command('cancel')).description('cancel a queued or running job (the cancellation reaches its training loop)').argument('<id>', 'the job id');
  return defineAction(cmd, async ({ args, opts }) => {
    const answer = (await request(serviceOf(opts), 'DELETE', `/v1/jobs/${encodeURIComponent(String(args[0]))}`)) as { id: string; state: string };
    emit(opts.json === true, answer, () => println(`job ${answer.id} ${answer.state}`));
  });
}

/** `seqlab jobs submit|status|watch|cancel`: a client of a seqlab service's job routes. */
export function jobsCommand(): Command {
  return commandGroup('jobs', COMMAND_HELP.jobs.description, [submitCommand(), statusCommand(), watchCommand(), cancelCommand()]);
}
