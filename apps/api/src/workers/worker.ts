/**
 * Model worker thread: loads the models once, then answers tasks from the HTTP thread.
 * Everything that touches TensorFlow.js happens here, never on the request thread.
 */
import { existsSync, readlinkSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { CancelledError, initBackend, isSeqlabError, type BackendName, type SeqlabErrorCode } from '@seqlab/core';
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

/** The runtime under the models is broken (not the input): this worker must not serve again. */
class BackendFault extends Error {
  override readonly name = 'BackendFault';
}

// The WebAssembly global exists in Node, but only the DOM lib (not used here) types it.
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object) => { exports: Record<string, unknown> };
      RuntimeError: new (message?: string) => Error;
    };
  }
).WebAssembly;

// Out-of-memory failures surface as RangeErrors from typed-array and buffer allocation, or as
// emscripten aborts inside the wasm backend; wasm traps are WebAssembly.RuntimeErrors.
const OUT_OF_MEMORY = /allocation failed|out of memory|Cannot enlarge memory|Aborted\(OOM\)|Invalid typed array length|Invalid array buffer length/i;

/** Whether `err` means the backend's state can no longer be trusted (wasm trap, OOM, corrupt weights). */
function isBackendFault(err: unknown): boolean {
  if (err instanceof BackendFault || err instanceof Wasm.RuntimeError) return true;
  if (err instanceof RangeError && OUT_OF_MEMORY.test(err.message)) return true;
  // tfjs-backend-wasm rethrows some traps as plain Errors carrying the trap's text.
  return err instanceof Error && /memory access out of bounds|Aborted\(/.test(err.message);
}

const SEQLAB_CODE_KIND: Record<SeqlabErrorCode, WorkerErrorKind> = {
  bad_input: 'bad_input',
  not_found: 'bad_input',
  unsupported: 'bad_input',
  model_file_corrupt: 'model_unavailable',
  limit_exceeded: 'limit_exceeded',
  cancelled: 'cancelled',
  internal: 'internal',
};

// `(module (memory 1) (func (export "f") (result i32) (i32.load (i32.const 0x7fffffff))))`:
// a load far outside its one-page memory, i.e. the same trap a corrupted wasm heap produces.
const OUT_OF_BOUNDS_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00,
  0x01, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x07, 0x28, 0x02, 0x00, 0x0b,
]);

// Set by an injected fault: like a really corrupted heap, every later task on this worker traps.
let poisoned = false;

function wasmTrap(): never {
  const instance = new Wasm.Instance(new Wasm.Module(OUT_OF_BOUNDS_MODULE));
  (instance.exports.f as () => number)();
  throw new BackendFault('injected fault did not trap');
}

// Specifiers kept in variables: each package is loaded only when its feature is configured, and a
// package that fails to load disables its endpoints (with the reason in /readyz) instead of the worker.
const RNN = '@seqlab/rnn';
const EMBEDDINGS = '@seqlab/embeddings';
const FORECAST = '@seqlab/forecast';

const init = workerData as WorkerInit;
const port = parentPort!;
const controllers = new Map<number, AbortController>();
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

async function forecast(task: ForecastTask, signal: AbortSignal): Promise<ForecastResult> {
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
    await model.fit(series, { signal });
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
    mod.assertFiniteForecast(out, task.model);
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
    if (err instanceof Error && /InputError$/.test(err.name) && !isSeqlabError(err)) throw new TaskError('bad_input', err.message);
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

/** Probabilities of a model whose weights are intact are finite; anything else is a corrupt heap. */
function checkFiniteSentiment(results: Array<{ score: number; probabilities: Record<string, number> | number[] }>): void {
  for (const r of results) {
    if (!Number.isFinite(r.score) || !Object.values(r.probabilities).every(Number.isFinite)) {
      throw new BackendFault('the sentiment model produced non-finite probabilities: its weights in this worker are corrupt');
    }
  }
}

async function run(id: number, task: Task, signal: AbortSignal): Promise<unknown> {
  if (poisoned) wasmTrap();
  switch (task.kind) {
    case 'sentiment': {
      const model = await sentimentModel(task.model);
      markLoaded('sentiment', task.model);
      const results = await model.predict(task.texts);
      checkFiniteSentiment(results);
      return results;
    }
    case 'generate': {
      const gen = await textGenerator(task.model);
      markLoaded('generator', task.model);
      const out = await gen.generate(task.prompt, { ...task.options, signal });
      return { text: out.text, tokens: out.tokens, finishReason: out.finishReason } satisfies GenerateResult;
    }
    case 'stream': {
      const gen = await textGenerator(task.model);
      markLoaded('generator', task.model);
      let text = '';
      let tokens = 0;
      for await (const piece of gen.stream(task.prompt, { ...task.options, signal })) {
        // A cancelled stream stops at the next token; the generator's own cleanup runs on return.
        if (signal.aborted) break;
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
      return forecast(task, signal);
    case 'status':
      return currentStatus();
    case 'fault':
      if (!init.faultInjection) throw new TaskError('bad_input', 'fault injection is disabled (FAULT_INJECTION=on enables it for tests)');
      poisoned = true;
      return wasmTrap();
  }
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'cancel') {
    controllers.get(msg.id)?.abort(new CancelledError(msg.reason));
    return;
  }
  const { id, task } = msg;
  const controller = new AbortController();
  controllers.set(id, controller);
  // The deadline travels with the task, so work stops on time even if the cancel message is late.
  const timer =
    msg.deadline === undefined
      ? undefined
      : setTimeout(() => controller.abort(new CancelledError('the request deadline passed before the task finished')), Math.max(0, msg.deadline - Date.now()));
  void (async () => {
    try {
      const value = await run(id, task, controller.signal);
      send({ type: 'result', id, value, numTensors: tf.memory().numTensors });
    } catch (err) {
      const fault = isBackendFault(err);
      // SeqlabErrors carry their code; the packages' older argument errors (RnnArgumentError,
      // ForecastInputError, ...) are the caller's fault too; anything else is ours.
      const kind: WorkerErrorKind = fault
        ? 'worker_fault'
        : err instanceof TaskError
          ? err.kind
          : isSeqlabError(err)
            ? SEQLAB_CODE_KIND[err.code]
            : err instanceof Error && /(Argument|Input)Error$/.test(err.name)
              ? 'bad_input'
              : 'internal';
      const details = isSeqlabError(err) ? err.details : undefined;
      let numTensors: number | undefined;
      try {
        numTensors = tf.memory().numTensors;
      } catch {
        // A broken backend may not even report its memory.
      }
      send({ type: 'error', id, kind, message: fault ? `backend fault: ${message(err)}` : message(err), details, fault, numTensors });
    } finally {
      clearTimeout(timer);
      controllers.delete(id);
    }
  })();
});

// Linux gives each thread its own nice value; /proc/thread-self names this worker's thread id.
// Threads the backend starts later inherit it. Elsewhere the worker just runs at normal priority.
if (init.nice && process.platform === 'linux') {
  try {
    os.setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), init.nice);
  } catch {
    // Not permitted or not available: priority is an optimisation, not a requirement.
  }
}

const info = await initBackend({ backend: init.backend as BackendName | undefined });
backend = { name: info.name, reason: info.reason };
await Promise.all([
  init.sentimentModel ? track('sentiment', () => sentimentModel(init.sentimentModel!)) : undefined,
  init.generatorModel ? track('generator', () => textGenerator(init.generatorModel!)) : undefined,
  init.embeddings ? track('embeddings', () => sentenceEncoder()) : undefined,
]);
send({ type: 'ready', status: currentStatus() });
