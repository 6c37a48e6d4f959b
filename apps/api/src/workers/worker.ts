/**
 * Model worker thread: loads the models once, then answers tasks from the HTTP thread.
 * Everything that touches TensorFlow.js happens here, never on the request thread. Each task is
 * parse -> pipeline -> result: the models, their formats, options and errors belong to the
 * task pipelines of @seqlab/tasks, exactly as the CLI uses them. Every task carries an abort
 * signal (the caller's cancel message or its deadline) into the pipeline's loops, and a backend
 * fault marks the worker for replacement.
 */
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { BadInputError, CancelledError, initBackend, isSeqlabError, NotFoundError, recurrentRuntime, throwIfCancelled, type BackendName } from '@seqlab/core';
import type { WorkerErrorKind } from '../errors.js';
import type {
  ClassifyResult,
  ClassifyTask,
  ForecastResult,
  ForecastTask,
  FromWorker,
  GenerateResult,
  PanelForecastResult,
  PanelForecastTask,
  Task,
  ToWorker,
  WorkerInit,
  WorkerMemory,
  WorkerStatus,
} from './protocol.js';
import { VersionedPipelines, type ServedFolder } from './versions.js';

// Types only: the packages themselves are imported lazily below.
type TasksModule = typeof import('@seqlab/tasks');
type SentimentPipeline = import('@seqlab/tasks').SentimentPipeline;
type TextGenerationPipeline = import('@seqlab/tasks').TextGenerationPipeline;
type EmbeddingPipeline = import('@seqlab/tasks').EmbeddingPipeline;
type ForecastPipeline = import('@seqlab/tasks').ForecastPipeline;
type TextClassificationPipeline = import('@seqlab/tasks').TextClassificationPipeline;
type PipelineByTask = import('@seqlab/tasks').PipelineByTask;

/** A model the service was started without, or whose directory is missing: 503, not the caller's fault. */
class UnavailableError extends Error {}

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

// Kept in a variable: the package (and TensorFlow.js behind it) loads only in the worker.
const TASKS = '@seqlab/tasks';

const init = workerData as WorkerInit;
const port = parentPort!;
const controllers = new Map<number, AbortController>();
// Every named model follows the store's served version (hot reload without a restart).
const served = new VersionedPipelines<SentimentPipeline | TextGenerationPipeline | ForecastPipeline | TextClassificationPipeline>(init.modelPollMs ?? 1000);
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

type ServedTask = 'sentiment' | 'text-generation' | 'forecast' | 'text-classification';

async function loadPipeline<T extends ServedTask>(task: T, dir: string, name: string): Promise<PipelineByTask[T]> {
  const mod = await tasks();
  // Sentence-encoder kinds (USE sentiment, use and hybrid classifiers) share the worker's encoder.
  const encoder = task !== 'forecast' && init.embeddings ? (await sentenceEncoder().catch(() => undefined))?.encoder : undefined;
  const where = task === 'text-classification' ? { modelsDir: init.modelsDir } : {};
  return mod.pipeline(task, dir, { name, ...where, ...(encoder ? { encoder } : {}) });
}

/**
 * Runs `fn` with the pipeline of a model, loaded once per worker and version. `key` names the
 * model (a folder, or a name in the models folder); `resolveDir` gives the folder it serves now
 * (the store's pin, else newest version, else the folder itself). `name` is what callers called
 * it: messages name the model by it, never by its directory.
 */
function withModel<T extends ServedTask, R>(task: T, key: string, resolveDir: () => string, name: string, fn: (p: PipelineByTask[T], folder: ServedFolder) => Promise<R> | R): Promise<R> {
  return served.use(`${task}:${key}`, resolveDir, (dir) => loadPipeline(task, dir, name), fn as (p: unknown, folder: ServedFolder) => Promise<R> | R);
}

/** The folder a model folder serves: in the store's layout its pinned or newest version, else itself. */
async function servedDirOf(dir: string): Promise<() => string> {
  const mod = await tasks();
  return () => mod.servedModelDir(path.dirname(dir), path.basename(dir)) ?? dir;
}

/** A saved model by name inside the models folder, as the store serves it; `missing` words the 404. */
async function namedModel(name: string, missing: () => Error): Promise<() => string> {
  const mod = await tasks();
  return () => {
    try {
      return mod.resolveModelDir(name, { modelsDir: init.modelsDir, allowPaths: false }).dir;
    } catch (err) {
      throw isSeqlabError(err) && err.code === 'not_found' ? missing() : err;
    }
  };
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

/**
 * This worker's own memory. In a worker thread `process.memoryUsage()` reports the isolate's heap
 * and external memory (the process's RSS aside). Two WebAssembly memories never shrink: the
 * TensorFlow.js wasm backend's (counted in external memory, so reported apart) and the recurrent
 * kernels' shared one (not counted there; it exists in every worker that runs a recurrent model).
 */
function memoryOf(): WorkerMemory {
  const { heapUsed, external } = process.memoryUsage();
  let backendBytes = 0;
  let kernelBytes = 0;
  let residentBytes = 0;
  try {
    backendBytes = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length ?? 0;
  } catch {
    // No backend yet, or a broken one: report the rest.
  }
  try {
    const runtime = recurrentRuntime();
    kernelBytes = runtime.memory.buffer.byteLength;
    residentBytes = runtime.residentBytes;
  } catch {
    // No WebAssembly SIMD or shared memory here: the kernels fall back to JavaScript.
  }
  return { wasmBytes: backendBytes + kernelBytes, residentBytes, heapBytes: heapUsed, externalBytes: Math.max(0, external - backendBytes) };
}

function currentStatus(): WorkerStatus {
  const m = tf.memory();
  return { backend: backend.name, backendReason: backend.reason, models: { ...status }, numTensors: m.numTensors, numBytes: m.numBytes, memory: memoryOf() };
}

async function forecast(task: ForecastTask, signal: AbortSignal): Promise<ForecastResult> {
  const mod = await tasks();
  const { FORECASTER_NAMES } = mod;
  if ((FORECASTER_NAMES as readonly string[]).includes(task.model)) {
    const fresh = await mod.pipeline('forecast', task.model);
    try {
      return await forecastWith(fresh, task, signal);
    } finally {
      fresh.dispose();
    }
  }
  const missing = () => new NotFoundError(`model: unknown forecaster "${task.model}"; valid names: ${FORECASTER_NAMES.join(', ')}, or the name of a saved forecaster`);
  return withModel('forecast', task.model, await namedModel(task.model, missing), task.model, async (pipeline, folder) => ({
    ...(await forecastWith(pipeline, task, signal)),
    version: folder.version,
  }));
}

async function forecastWith(pipeline: ForecastPipeline, task: ForecastTask, signal: AbortSignal): Promise<ForecastResult> {
  const { createSeries } = await tasks();
  if (pipeline.global) {
    throw new BadInputError(`model: "${task.model}" is a global (panel) ${pipeline.kind} model: send the series as "panel" ({ "<id>": { "values": [...] } })`);
  }
  if (pipeline.neural && !init.forecastNeural) {
    throw new BadInputError(`model: "${task.model}" trains a neural network per request, which this server does not allow (FORECAST_NEURAL=on enables it)`);
  }
  // auto tries SegRNN on long series unless told not to: only where neural training per request is allowed.
  const options = task.model === 'auto' && !init.forecastNeural ? { ...task.options, neural: false } : task.options;
  const series = createSeries(task.columns, task.dates);
  // The pipeline checks the signal inside fitting (every batch, every linear chunk) and refuses
  // a forecast that is not finite.
  const result = await pipeline.run(series, { horizon: task.horizon, levels: [task.level], options, signal });
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

/**
 * Many series through a saved global model (loaded once per worker, like every saved
 * forecaster): the forecast task's `runPanel`, the code `seqlab forecast --load DIR --wide` runs.
 */
async function forecastPanel(task: PanelForecastTask, signal: AbortSignal): Promise<PanelForecastResult> {
  const { FORECASTER_NAMES, GLOBAL_FORECASTER_NAMES } = await tasks();
  if ((FORECASTER_NAMES as readonly string[]).includes(task.model) || (GLOBAL_FORECASTER_NAMES as readonly string[]).includes(task.model)) {
    throw new BadInputError(`model: a panel is forecast by a saved global model named by model (train one with \`seqlab train forecaster --model es-hybrid --wide\`); "${task.model}" is a forecaster kind, not a saved model`);
  }
  const missing = () => new NotFoundError(`model: no saved forecaster named "${task.model}"`);
  return withModel('forecast', task.model, await namedModel(task.model, missing), task.model, (pipeline) => panelWith(pipeline, task, signal));
}

async function panelWith(pipeline: ForecastPipeline, task: PanelForecastTask, signal: AbortSignal): Promise<PanelForecastResult> {
  const { createSeries } = await tasks();
  if (!pipeline.global) {
    throw new BadInputError(`model: "${task.model}" is a per-series forecaster (${pipeline.kind}); a panel needs a saved global model - send one series with "series" or "columns" instead`);
  }
  // Rows name their series: a bad value or date is reported with the series' id.
  const panel = task.panel.map((s) => {
    try {
      return { id: s.id, series: createSeries(s.values, s.dates) };
    } catch (err) {
      throw new BadInputError(`panel.${s.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const result = await pipeline.runPanel(panel, { horizon: task.horizon, levels: [task.level], signal, ...(task.newSeries ? { newSeries: task.newSeries } : {}) });
  return {
    model: task.model,
    kind: result.kind,
    horizon: result.horizon,
    level: result.levels[0] ?? task.level,
    series: result.series.map((s) => ({
      id: s.id,
      seen: s.seen,
      mean: s.mean,
      ...(s.intervals[0] ? { lower: s.intervals[0].lower, upper: s.intervals[0].upper } : {}),
      ...(s.dates ? { dates: s.dates } : {}),
    })),
    newSeries: result.newSeries,
    notes: result.notes,
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

/** Probabilities of a model whose weights are intact are finite; anything else is a corrupt heap. */
function checkFiniteSentiment(results: Array<{ score: number; probabilities: Record<string, number> | number[] }>): void {
  for (const r of results) {
    if (!Number.isFinite(r.score) || !Object.values(r.probabilities).every(Number.isFinite)) {
      throw new BackendFault('the sentiment model produced non-finite probabilities: its weights in this worker are corrupt');
    }
  }
}

function modelOf(task: { model: string; name?: string }, defaultDir: string | undefined, what: string): { dir: string; name: string } {
  if (task.model === defaultDir) checkDefault(task.model, what);
  return { dir: task.model, name: task.name ?? path.basename(task.model) };
}

/** Names in the models folder whose served folder holds a text classifier (sentiment models count: they classify as binary). */
function textClassifierNames(mod: TasksModule): string[] {
  let names: string[];
  try {
    names = readdirSync(init.modelsDir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
  return names
    .filter((name) => {
      const task = mod.servedModelTask(init.modelsDir, name);
      return task === 'text-classification' || task === 'sentiment';
    })
    .sort();
}

/** Any text classifier by name (names only, resolved inside the models folder), loaded once per worker and version. */
async function classify(task: ClassifyTask): Promise<ClassifyResult> {
  const mod = await tasks();
  const name = task.model ?? mod.DEFAULT_MODELS['text-classification']!;
  const missing = () => {
    const available = textClassifierNames(mod);
    return new NotFoundError(`no text classifier named "${name}"${available.length ? `; text classifiers: ${available.join(', ')}` : ''}`, { details: { model: name, available } });
  };
  return withModel('text-classification', name, await namedModel(name, missing), name, async (model, folder) => {
    const predictions = await model.predict(task.texts, task.longTexts ? { longTexts: task.longTexts } : {});
    for (const r of predictions) {
      if (!Number.isFinite(r.score)) throw new BackendFault(`classifier ${name} produced a non-finite score: its weights in this worker are corrupt`);
    }
    return {
      model: model.name,
      kind: model.kind,
      problem: model.problem,
      classes: [...model.classes],
      ...(model.thresholds ? { thresholds: [...model.thresholds] } : {}),
      version: folder.version,
      predictions: predictions.map((r) => ({ label: r.label, score: r.score, labels: r.labels, predicted: r.predicted, truncated: r.truncated, ...(r.tokens ? { tokens: r.tokens } : {}), ...(r.labelTokens ? { labelTokens: r.labelTokens } : {}) })),
    };
  });
}

/** A generation (whole, or streamed piece by piece to the HTTP thread) with the served generator. */
async function generate(id: number, task: Extract<Task, { kind: 'generate' | 'stream' }>, signal: AbortSignal): Promise<GenerateResult> {
  const { dir, name } = modelOf(task, init.generatorModel, 'generator');
  return withModel('text-generation', dir, await servedDirOf(dir), name, async (gen) => {
    markLoaded('generator', dir);
    if (task.kind === 'generate') {
      const out = await gen.generate(task.prompt, { ...task.options, signal });
      return { text: out.text, tokens: out.tokens, finishReason: out.finishReason } satisfies GenerateResult;
    }
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
  });
}

async function run(id: number, task: Task, signal: AbortSignal): Promise<unknown> {
  if (poisoned) wasmTrap();
  switch (task.kind) {
    case 'sentiment': {
      const { dir, name } = modelOf(task, init.sentimentModel, 'sentiment');
      return withModel('sentiment', dir, await servedDirOf(dir), name, async (model) => {
        markLoaded('sentiment', dir);
        const results = await model.predict(task.texts);
        checkFiniteSentiment(results);
        return results;
      });
    }
    case 'generate':
    case 'stream':
      return generate(id, task, signal);
    case 'embed': {
      const enc = await sentenceEncoder();
      markLoaded('embeddings');
      return enc.embed(task.texts);
    }
    case 'classify':
      return classify(task);
    case 'forecast':
      return forecast(task, signal);
    case 'forecast-panel':
      return forecastPanel(task, signal);
    case 'status':
      return currentStatus();
    case 'fault':
      if (!init.faultInjection) throw new BadInputError('fault injection is disabled (FAULT_INJECTION=on enables it for tests)');
      poisoned = true;
      return wasmTrap();
  }
}

/**
 * The code the HTTP thread maps to a status: a backend fault retires the worker; SeqlabErrors
 * carry their code; a missing model is unavailable; anything else is an internal fault.
 */
function kindOf(err: unknown): WorkerErrorKind {
  if (isBackendFault(err)) return 'worker_fault';
  if (err instanceof UnavailableError) return 'model_unavailable';
  return isSeqlabError(err) ? err.code : 'internal';
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
  const expire = () => controller.abort(new CancelledError('the request deadline passed before the task finished'));
  const timer = msg.deadline === undefined ? undefined : setTimeout(expire, Math.max(0, msg.deadline - Date.now()));
  void (async () => {
    try {
      // A task whose deadline passed while it waited in the queue does not start.
      if (msg.deadline !== undefined && Date.now() >= msg.deadline) expire();
      throwIfCancelled(controller.signal, 'request');
      const value = await run(id, task, controller.signal);
      send({ type: 'result', id, value, numTensors: tf.memory().numTensors, memory: memoryOf() });
    } catch (err) {
      const kind = kindOf(err);
      const fault = kind === 'worker_fault';
      const details = isSeqlabError(err) ? err.details : undefined;
      let numTensors: number | undefined;
      try {
        numTensors = tf.memory().numTensors;
      } catch {
        // A broken backend may not even report its memory.
      }
      send({ type: 'error', id, kind, message: fault ? `backend fault: ${message(err)}` : message(err), details, fault, numTensors, memory: memoryOf() });
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
  init.sentimentModel
    ? track('sentiment', async () => {
        const dir = init.sentimentModel!;
        checkDefault(dir, 'sentiment');
        await withModel('sentiment', dir, await servedDirOf(dir), path.basename(dir), () => undefined);
      })
    : undefined,
  init.generatorModel
    ? track('generator', async () => {
        const dir = init.generatorModel!;
        checkDefault(dir, 'generator');
        await withModel('text-generation', dir, await servedDirOf(dir), path.basename(dir), () => undefined);
      })
    : undefined,
  init.embeddings ? track('embeddings', () => sentenceEncoder()) : undefined,
]);
send({ type: 'ready', status: currentStatus() });
