/**
 * Model worker thread: loads the models once, then answers tasks from the HTTP thread.
 * Everything that touches TensorFlow.js happens here, never on the request thread.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@seqlab/core';
import type { WorkerErrorKind } from '../errors.js';
import type {
  ForecastResult,
  ForecastTask,
  FromWorker,
  GenerateResult,
  Task,
  ToWorker,
  WorkerInit,
  WorkerStatus,
} from './protocol.js';

// Types only: the packages themselves are imported lazily below.
type RnnModule = typeof import('@seqlab/rnn');
type SentimentModel = Awaited<ReturnType<RnnModule['loadSentimentModel']>>;
type TextGenerator = Awaited<ReturnType<RnnModule['loadTextGenerator']>>;
type EmbeddingsModule = typeof import('@seqlab/embeddings');
type Encoder = Awaited<ReturnType<EmbeddingsModule['loadEncoder']>>;
type ForecastModule = typeof import('@seqlab/forecast');
type Forecaster = ReturnType<ForecastModule['createForecaster']>;

/** An error whose kind tells the HTTP thread which status to answer with. */
class TaskError extends Error {
  constructor(
    readonly kind: WorkerErrorKind,
    message: string,
  ) {
    super(message);
  }
}

// Specifiers kept in variables: each package is loaded only when its feature is configured, and a
// package that fails to load disables its endpoints (with the reason in /readyz) instead of the worker.
const RNN = '@seqlab/rnn';
const EMBEDDINGS = '@seqlab/embeddings';
const FORECAST = '@seqlab/forecast';

const init = workerData as WorkerInit;
const port = parentPort!;
const cancelled = new Set<number>();
const sentimentModels = new Map<string, Promise<SentimentModel>>();
const generators = new Map<string, Promise<TextGenerator>>();
let encoder: Promise<Encoder> | undefined;
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

function checkDir(dir: string, what: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    // Paths are shown relative to the repository so answers do not reveal the server's layout.
    const shown = init.root ? path.relative(init.root, dir) : dir;
    throw new TaskError('model_unavailable', `${what} model directory ${shown} does not exist`);
  }
}

// Models are cached per directory: the configured default plus any named model a request asks for.
function sentimentModel(dir: string): Promise<SentimentModel> {
  let p = sentimentModels.get(dir);
  if (!p) {
    p = (async () => {
      checkDir(dir, 'sentiment');
      const rnn = (await import(RNN)) as RnnModule;
      return rnn.loadSentimentModel(dir);
    })();
    sentimentModels.set(dir, p);
    // A failed load is not cached, so a model trained later is picked up by the next request.
    p.catch(() => sentimentModels.delete(dir));
  }
  return p;
}

function textGenerator(dir: string): Promise<TextGenerator> {
  let p = generators.get(dir);
  if (!p) {
    p = (async () => {
      checkDir(dir, 'generator');
      const rnn = (await import(RNN)) as RnnModule;
      return rnn.loadTextGenerator(dir);
    })();
    generators.set(dir, p);
    p.catch(() => generators.delete(dir));
  }
  return p;
}

function sentenceEncoder(): Promise<Encoder> {
  if (!init.embeddings) return Promise.reject(new TaskError('model_unavailable', 'embeddings are disabled (EMBEDDINGS=off)'));
  if (!encoder) {
    encoder = (async () => {
      const mod = (await import(EMBEDDINGS)) as EmbeddingsModule;
      return mod.loadEncoder();
    })();
    encoder.catch(() => (encoder = undefined));
  }
  return encoder;
}

async function track(key: keyof WorkerStatus['models'], load: () => Promise<unknown>): Promise<void> {
  try {
    await load();
    status[key] = { ...status[key], state: 'ready', reason: undefined };
  } catch (err) {
    const missing = err instanceof TaskError && err.kind === 'model_unavailable';
    status[key] = { ...status[key], state: missing ? 'missing' : 'failed', reason: message(err) };
  }
}

function currentStatus(): WorkerStatus {
  const m = tf.memory();
  return { backend: backend.name, backendReason: backend.reason, models: { ...status }, numTensors: m.numTensors, numBytes: m.numBytes };
}

async function forecast(task: ForecastTask): Promise<ForecastResult> {
  let mod: ForecastModule;
  try {
    mod = (await import(FORECAST)) as ForecastModule;
  } catch (err) {
    throw new TaskError('model_unavailable', `forecasting is unavailable: ${message(err)}`);
  }
  let model: Forecaster;
  try {
    model = mod.createForecaster(task.model, task.options);
  } catch (err) {
    throw new TaskError('bad_input', `model: ${message(err)}`);
  }
  if (model.capabilities.neural && !init.forecastNeural) {
    model.dispose();
    throw new TaskError(
      'bad_input',
      `model: "${task.model}" trains a neural network per request, which this server does not allow (FORECAST_NEURAL=on enables it)`,
    );
  }
  try {
    const t0 = performance.now();
    const series = mod.createSeries(task.columns, task.dates);
    await model.fit(series);
    const fitMs = performance.now() - t0;
    let out: Awaited<ReturnType<Forecaster['predict']>>;
    let warning: string | undefined;
    try {
      out = await model.predict(task.horizon, { level: task.level });
    } catch (err) {
      // Too short a series to calibrate intervals: still answer with the point forecast.
      if (!/calibrat/i.test(message(err))) throw err;
      out = await model.predict(task.horizon, { level: null });
      warning = `no prediction intervals: ${message(err)}`;
    }
    return {
      model: task.model,
      columns: out.columns,
      horizon: task.horizon,
      level: out.level ?? task.level,
      mean: out.mean,
      lower: out.lower,
      upper: out.upper,
      dates: out.dates,
      fitMs,
      ...(warning ? { warning } : {}),
    };
  } catch (err) {
    // Input problems (too short, non-finite, bad options) come back as the package's input errors.
    if (err instanceof Error && /InputError$/.test(err.name)) throw new TaskError('bad_input', err.message);
    throw err;
  } finally {
    model.dispose();
  }
}

// A default model that was missing at start (e.g. still being trained) and loads later flips
// readiness without a restart.
function markLoaded(key: keyof WorkerStatus['models'], dir?: string): void {
  if (status[key].state === 'ready') return;
  if (dir !== undefined && status[key].dir !== dir) return;
  status[key] = { ...status[key], state: 'ready', reason: undefined };
  send({ type: 'ready', status: currentStatus() });
}

async function run(id: number, task: Task): Promise<unknown> {
  switch (task.kind) {
    case 'sentiment': {
      const model = await sentimentModel(task.model);
      markLoaded('sentiment', task.model);
      return model.predict(task.texts);
    }
    case 'generate': {
      const gen = await textGenerator(task.model);
      markLoaded('generator', task.model);
      const out = await gen.generate(task.prompt, task.options);
      return { text: out.text, tokens: out.tokens, finishReason: out.finishReason } satisfies GenerateResult;
    }
    case 'stream': {
      const gen = await textGenerator(task.model);
      markLoaded('generator', task.model);
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

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'cancel') {
    cancelled.add(msg.id);
    return;
  }
  const { id, task } = msg;
  void (async () => {
    try {
      if (cancelled.has(id)) throw new TaskError('cancelled', 'request was cancelled before it ran');
      const value = await run(id, task);
      send({ type: 'result', id, value, numTensors: tf.memory().numTensors });
    } catch (err) {
      // The packages' own argument errors (RnnArgumentError, ForecastInputError, ...) are the
      // caller's fault, so they become 400s; anything else is ours.
      const kind: WorkerErrorKind =
        err instanceof TaskError ? err.kind : err instanceof Error && /(Argument|Input)Error$/.test(err.name) ? 'bad_input' : 'internal';
      send({ type: 'error', id, kind, message: message(err), numTensors: tf.memory().numTensors });
    } finally {
      cancelled.delete(id);
    }
  })();
});

const info = await initBackend({ backend: init.backend as BackendName | undefined });
backend = { name: info.name, reason: info.reason };
await Promise.all([
  init.sentimentModel ? track('sentiment', () => sentimentModel(init.sentimentModel!)) : undefined,
  init.generatorModel ? track('generator', () => textGenerator(init.generatorModel!)) : undefined,
  init.embeddings ? track('embeddings', () => sentenceEncoder()) : undefined,
]);
send({ type: 'ready', status: currentStatus() });
