/**
 * Model worker thread: loads the models once, then answers tasks from the HTTP thread.
 * Everything that touches TensorFlow.js happens here, never on the request thread. Each task is
 * parse -> pipeline -> result: the models, their formats, options and errors belong to the
 * task pipelines of @seqlab/tasks, exactly as the CLI uses them.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { BadInputError, initBackend, isSeqlabError, NotFoundError, SeqlabError, type BackendName } from '@seqlab/core';
import type { WorkerErrorKind } from '../errors.js';
import type { ForecastResult, ForecastTask, FromWorker, GenerateResult, Task, ToWorker, WorkerInit, WorkerStatus } from './protocol.js';

// Types only: the packages themselves are imported lazily below.
type TasksModule = typeof import('@seqlab/tasks');
type SentimentPipeline = import('@seqlab/tasks').SentimentPipeline;
type TextGenerationPipeline = import('@seqlab/tasks').TextGenerationPipeline;
type EmbeddingPipeline = import('@seqlab/tasks').EmbeddingPipeline;
type ForecastPipeline = import('@seqlab/tasks').ForecastPipeline;

/** A model the service was started without, or whose directory is missing: 503, not the caller's fault. */
class UnavailableError extends Error {}

// Kept in a variable: the package (and TensorFlow.js behind it) loads only in the worker.
const TASKS = '@seqlab/tasks';

const init = workerData as WorkerInit;
const port = parentPort!;
const cancelled = new Set<number>();
const pipelines = new Map<string, Promise<SentimentPipeline | TextGenerationPipeline | ForecastPipeline>>();
let embedding: Promise<EmbeddingPipeline> | undefined;
let backend = { name: 'unknown', reason: '' };

const status: WorkerStatus['models'] = {
  sentiment: init.sentimentModel ? { state: 'loading', dir: init.sentimentModel } : { state: 'disabled', reason: 'not configured' },
  generator: init.generatorModel ? { state: 'loading', dir: init.generatorModel } : { state: 'disabled', reason: 'not configured' },
  embeddings: init.embeddings ? { state: 'loading' } : { state: 'disabled', reason: 'EMBEDDINGS=off' },
};

function send(msg: FromWorker): void {
  port.postMessage(msg);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function tasks(): Promise<TasksModule> {
  return import(TASKS) as Promise<TasksModule>;
}

function checkDefault(dir: string, what: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    // Paths are shown relative to the repository so answers do not reveal the server's layout.
    const shown = init.root ? path.relative(init.root, dir) : dir;
    throw new UnavailableError(`${what} model directory ${shown} does not exist`);
  }
}

function sentenceEncoder(): Promise<EmbeddingPipeline> {
  if (!init.embeddings) return Promise.reject(new UnavailableError('embeddings are disabled (EMBEDDINGS=off)'));
  if (!embedding) {
    embedding = (async () => (await tasks()).pipeline('embedding'))();
    embedding.catch(() => (embedding = undefined));
  }
  return embedding;
}

/**
 * The pipeline for a model directory, loaded once per worker. `name` is what callers called it;
 * messages name the model by it, never by its directory.
 */
function cached<T extends 'sentiment' | 'text-generation' | 'forecast'>(task: T, dir: string, name: string): Promise<import('@seqlab/tasks').PipelineByTask[T]> {
  const key = `${task}:${dir}`;
  let p = pipelines.get(key);
  if (!p) {
    p = (async () => {
      const mod = await tasks();
      // USE sentiment kinds share the worker's encoder when embeddings are on.
      const encoder = task === 'sentiment' && init.embeddings ? (await sentenceEncoder().catch(() => undefined))?.encoder : undefined;
      return mod.pipeline(task, dir, { name, ...(encoder ? { encoder } : {}) });
    })();
    pipelines.set(key, p);
    // A failed load is not cached, so a model trained later is picked up by the next request.
    p.catch(() => pipelines.delete(key));
  }
  return p as Promise<import('@seqlab/tasks').PipelineByTask[T]>;
}

async function track(key: keyof WorkerStatus['models'], load: () => Promise<unknown>): Promise<void> {
  try {
    await load();
    status[key] = { ...status[key], state: 'ready', reason: undefined };
  } catch (err) {
    const missing = err instanceof UnavailableError || (isSeqlabError(err) && err.code === 'not_found');
    status[key] = { ...status[key], state: missing ? 'missing' : 'failed', reason: message(err) };
  }
}

function currentStatus(): WorkerStatus {
  const m = tf.memory();
  return { backend: backend.name, backendReason: backend.reason, models: { ...status }, numTensors: m.numTensors, numBytes: m.numBytes };
}

async function forecast(task: ForecastTask): Promise<ForecastResult> {
  const mod = await tasks();
  const { FORECASTER_NAMES, createSeries } = await import('@seqlab/forecast');
  const named = (FORECASTER_NAMES as readonly string[]).includes(task.model);
  let saved: string | undefined;
  if (!named) {
    try {
      saved = mod.resolveModelDir(task.model, { modelsDir: init.modelsDir, allowPaths: false }).dir;
    } catch (err) {
      if (!(isSeqlabError(err) && err.code === 'not_found')) throw err;
      throw new NotFoundError(`model: unknown forecaster "${task.model}"; valid names: ${FORECASTER_NAMES.join(', ')}, or the name of a saved forecaster`);
    }
  }
  const pipeline = saved ? await cached('forecast', saved, task.model) : await mod.pipeline('forecast', task.model);
  if (pipeline.neural && !init.forecastNeural) {
    throw new BadInputError(`model: "${task.model}" trains a neural network per request, which this server does not allow (FORECAST_NEURAL=on enables it)`);
  }
  const series = createSeries(task.columns, task.dates);
  const result = await pipeline.run(series, { horizon: task.horizon, levels: [task.level], options: task.options });
  const out = result.main;
  return {
    model: task.model,
    columns: out.columns,
    horizon: task.horizon,
    level: out.level ?? task.level,
    mean: out.mean,
    lower: out.lower,
    upper: out.upper,
    dates: out.dates,
    fitMs: result.fitSeconds * 1000,
    ...(result.warning ? { warning: `no prediction intervals: ${result.warning}` } : {}),
  };
}

// A default model that was missing at start (e.g. still being trained) and loads later flips
// readiness without a restart.
function markLoaded(key: keyof WorkerStatus['models'], dir?: string): void {
  if (status[key].state === 'ready') return;
  if (dir !== undefined && status[key].dir !== dir) return;
  status[key] = { ...status[key], state: 'ready', reason: undefined };
  send({ type: 'ready', status: currentStatus() });
}

function modelOf(task: { model: string; name?: string }, defaultDir: string | undefined, what: string): { dir: string; name: string } {
  if (task.model === defaultDir) checkDefault(task.model, what);
  return { dir: task.model, name: task.name ?? path.basename(task.model) };
}

async function run(id: number, task: Task): Promise<unknown> {
  switch (task.kind) {
    case 'sentiment': {
      const { dir, name } = modelOf(task, init.sentimentModel, 'sentiment');
      const model = await cached('sentiment', dir, name);
      markLoaded('sentiment', dir);
      return model.predict(task.texts);
    }
    case 'generate': {
      const { dir, name } = modelOf(task, init.generatorModel, 'generator');
      const gen = await cached('text-generation', dir, name);
      markLoaded('generator', dir);
      const out = await gen.generate(task.prompt, task.options);
      return { text: out.text, tokens: out.tokens, finishReason: out.finishReason } satisfies GenerateResult;
    }
    case 'stream': {
      const { dir, name } = modelOf(task, init.generatorModel, 'generator');
      const gen = await cached('text-generation', dir, name);
      markLoaded('generator', dir);
      let text = '';
      let tokens = 0;
      for await (const piece of gen.stream(task.prompt, task.options)) {
        // A cancelled stream stops at the next token; the generator's own cleanup runs on return.
        if (cancelled.has(id)) break;
        text += piece;
        tokens++;
        send({ type: 'chunk', id, text: piece });
      }
      return { text, tokens } satisfies GenerateResult;
    }
    case 'embed': {
      const enc = await sentenceEncoder();
      markLoaded('embeddings');
      return enc.embed(task.texts);
    }
    case 'forecast':
      return forecast(task);
    case 'status':
      return currentStatus();
  }
}

/** The code the HTTP thread maps to a status (errors without a code are internal faults). */
function kindOf(err: unknown): WorkerErrorKind {
  if (err instanceof UnavailableError) return 'model_unavailable';
  return isSeqlabError(err) ? (err as SeqlabError).code : 'internal';
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'cancel') {
    cancelled.add(msg.id);
    return;
  }
  const { id, task } = msg;
  void (async () => {
    try {
      if (cancelled.has(id)) throw new SeqlabError('cancelled', 'request was cancelled before it ran');
      const value = await run(id, task);
      send({ type: 'result', id, value, numTensors: tf.memory().numTensors });
    } catch (err) {
      send({ type: 'error', id, kind: kindOf(err), message: message(err), numTensors: tf.memory().numTensors });
    } finally {
      cancelled.delete(id);
    }
  })();
});

const info = await initBackend({ backend: init.backend as BackendName | undefined });
backend = { name: info.name, reason: info.reason };
await Promise.all([
  init.sentimentModel
    ? track('sentiment', async () => {
        checkDefault(init.sentimentModel!, 'sentiment');
        await cached('sentiment', init.sentimentModel!, path.basename(init.sentimentModel!));
      })
    : undefined,
  init.generatorModel
    ? track('generator', async () => {
        checkDefault(init.generatorModel!, 'generator');
        await cached('text-generation', init.generatorModel!, path.basename(init.generatorModel!));
      })
    : undefined,
  init.embeddings ? track('embeddings', () => sentenceEncoder()) : undefined,
]);
send({ type: 'ready', status: currentStatus() });
