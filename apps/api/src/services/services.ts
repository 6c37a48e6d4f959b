import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FORECASTER_NAMES, GLOBAL_FORECASTER_NAMES } from '@seqlab/tasks';
import { REPO_ROOT, type Config } from '../config.js';
import { HttpError } from '../errors.js';
import { admitTask } from '../limits.js';
import { WorkerPool, type CloseReport, type PoolHealth, type ReplacementEvent, type WorkerMemoryReport } from '../workers/pool.js';
import type {
  ClassifyResult,
  ClassifyTask,
  ForecastResult,
  ForecastTask,
  PanelForecastResult,
  PanelForecastTask,
  GenerateOptions,
  GenerateResult,
  ModelStatus,
  SentimentResult,
  WorkerStatus,
} from '../workers/protocol.js';
import { MicroBatcher } from './batcher.js';

/** Per-call options shared by service methods. */
export interface CallOptions {
  /** Aborted when the request times out or the client goes away. */
  signal?: AbortSignal;
  /** Model name under SEQLAB_MODELS; default: the configured model. */
  model?: string;
}

/** Whether the service can answer model requests, and why not. */
export interface Readiness {
  ready: boolean;
  /** One line per problem, e.g. "sentiment: model directory ... does not exist". */
  reasons: string[];
  backend?: string;
  models: Record<string, ModelStatus>;
  /** Serving capacity: workers ready out of those configured, and replacements under way. */
  capacity?: PoolHealth;
  /** True while fewer workers than configured serve (a replacement is loading). */
  degraded?: boolean;
}

/** What the routes call. `createModelServices` is the real implementation. */
export interface Services {
  sentiment(texts: string[], options?: CallOptions): Promise<SentimentResult[]>;
  generate(prompt: string, options: GenerateOptions, call?: CallOptions): Promise<GenerateResult>;
  /** Streams generated text pieces to `onChunk`; resolves with the whole text at the end. */
  stream(prompt: string, options: GenerateOptions, onChunk: (text: string) => void, call?: CallOptions): Promise<GenerateResult>;
  embed(texts: string[], options?: CallOptions): Promise<Float32Array[]>;
  forecast(task: Omit<ForecastTask, 'kind'>, options?: CallOptions): Promise<ForecastResult>;
  /** Many series forecast by a saved global model (off the HTTP thread, like every forecast). */
  forecastPanel(task: Omit<PanelForecastTask, 'kind'>, options?: CallOptions): Promise<PanelForecastResult>;
  /** Any text classifier under the models folder (`options.model`, default: the task's default model). */
  classify(texts: string[], options?: CallOptions & { longTexts?: ClassifyTask['longTexts'] }): Promise<ClassifyResult>;
  readiness(): Readiness;
  /** Live tensors in all model workers. */
  numTensors(): number;
  /** Model tasks running or queued. */
  inFlight(): number;
  /** Registers a listener for micro-batch sizes (metrics). */
  onBatch(listener: (kind: 'sentiment' | 'embed', size: number) => void): void;
  /** Marks the service as shutting down: readiness turns false, requests are still served. */
  drain(): void;
  /** Registers a listener for replaced workers (metrics). */
  onWorkerReplaced(listener: (event: ReplacementEvent) => void): void;
  /** Worker capacity and queue lengths. */
  health(): PoolHealth;
  /** Each model worker's own memory (wasm, V8 heap, buffers) as of its last answer. */
  workerMemory(): WorkerMemoryReport[];
  /** Makes one worker hit a real wasm trap (only with `faultInjection`); resolves with the fault. */
  injectFault(): Promise<string>;
  /** Resolves once the workers have tried to load their models. */
  whenReady(): Promise<void>;
  /** Waits up to `timeoutMs` for model work, answers the rest with 503, stops the workers. */
  close(timeoutMs?: number): Promise<CloseReport>;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Resolves a model name from a request to a directory inside `modelsDir`. Names are plain
 * folder names: anything with a slash, `..` or a leading dot is refused before touching the disk.
 *
 * @throws HttpError 400 for a malformed name, 404 when no such model exists.
 */
export function resolveModelName(modelsDir: string, name: string, field = 'model'): string {
  if (!MODEL_NAME.test(name) || name.includes('..')) {
    throw new HttpError(400, 'invalid_request', `${field}: "${name}" is not a valid model name (letters, digits, '.', '_', '-'; no paths)`, [
      { field, message: 'invalid model name' },
    ]);
  }
  const dir = path.resolve(modelsDir, name);
  if (path.dirname(dir) !== path.resolve(modelsDir)) throw new HttpError(400, 'invalid_request', `${field}: "${name}" escapes the models folder`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new HttpError(404, 'not_found', `${field}: no model named "${name}"`);
  }
  return dir;
}

/**
 * The real services: a {@link WorkerPool} running the models and {@link MicroBatcher}s in front
 * of sentiment and embedding calls.
 */
export function createModelServices(config: Config): Services {
  const replacedListeners: Array<(event: ReplacementEvent) => void> = [];
  const pool = new WorkerPool(
    {
      sentimentModel: config.sentimentModel,
      generatorModel: config.generatorModel,
      embeddings: config.embeddings,
      backend: config.backend,
      root: REPO_ROOT,
      modelsDir: config.modelsDir,
      modelPollMs: config.modelPollMs,
      forecastNeural: config.forecastNeural,
      faultInjection: config.faultInjection,
    },
    {
      size: config.workers,
      maxQueue: config.maxQueue,
      heavyWorkers: config.heavyWorkers,
      heavyNice: config.heavyNice,
      spares: config.spareWorkers,
      maxWasmMb: config.workerMaxWasmMb,
      cancelGraceMs: config.cancelGraceMs,
      admit: (task) => admitTask(task, config),
      onReplaced: (event) => replacedListeners.forEach((l) => l(event)),
    },
  );
  // Every task carries the request deadline into its worker.
  const deadline = () => Date.now() + config.requestTimeoutMs;
  const listeners: Array<(kind: 'sentiment' | 'embed', size: number) => void> = [];
  const batchOptions = <K>(kind: 'sentiment' | 'embed') => ({
    windowMs: config.batchWindowMs,
    maxBatchSize: config.batchMaxSize,
    // At most one batch per worker, and never on every core: on a small machine the HTTP thread
    // (and whatever sends the requests) needs a core too, or every answer waits behind model
    // work. Later arrivals gather into the next batches meanwhile.
    maxInFlight: config.batchMaxInFlight ?? Math.min(config.workers, Math.max(1, os.availableParallelism() - 1)),
    strictInFlight: true,
    immediateWhenIdle: true,
    onBatch: (size: number, _key: K) => listeners.forEach((l) => l(kind, size)),
  });
  const sentimentBatcher = new MicroBatcher<string, SentimentResult, string>(
    (texts, model) => pool.run<SentimentResult[]>({ kind: 'sentiment', model, name: nameOf(model), texts }, { deadline: deadline() }),
    batchOptions('sentiment'),
  );
  const embedBatcher = new MicroBatcher<string, Float32Array, string>(
    (texts) => pool.run<Float32Array[]>({ kind: 'embed', texts }, { deadline: deadline() }),
    batchOptions('embed'),
  );

  // Named models are called by their folder name; a configured default by its folder's name.
  const nameOf = (dir: string) => path.basename(dir);

  function modelDir(kind: 'sentiment' | 'generator', name: string | undefined): string {
    if (name !== undefined) return resolveModelName(config.modelsDir, name);
    const dir = kind === 'sentiment' ? config.sentimentModel : config.generatorModel;
    if (!dir) throw new HttpError(503, 'model_unavailable', `no ${kind} model is configured (${kind === 'sentiment' ? 'SENTIMENT_MODEL' : 'GENERATOR_MODEL'})`);
    return dir;
  }

  // A forecast names a kind or a saved forecaster. A name that is neither is answered here, at
  // once: in a worker's queue it would wait behind heavy work (and time out under load) only to
  // be refused there, with the same message.
  function checkSavedForecaster(name: string, missing: string): void {
    try {
      resolveModelName(config.modelsDir, name);
    } catch (err) {
      throw err instanceof HttpError && err.status === 404 ? new HttpError(404, 'not_found', missing) : err;
    }
  }

  let draining = false;
  return {
    drain: () => void (draining = true),
    sentiment: (texts, options = {}) => sentimentBatcher.add(modelDir('sentiment', options.model), texts, options.signal),
    generate: (prompt, options, call = {}) =>
      pool.run<GenerateResult>(
        { kind: 'generate', model: modelDir('generator', call.model), name: call.model, prompt, options },
        { signal: call.signal, deadline: deadline() },
      ),
    // A stream is bounded by maxTokens, not by the request timeout; its signal follows the client.
    stream: (prompt, options, onChunk, call = {}) =>
      pool.run<GenerateResult>(
        { kind: 'stream', model: modelDir('generator', call.model), name: call.model, prompt, options },
        { signal: call.signal, onChunk },
      ),
    embed: (texts, options = {}) => embedBatcher.add('default', texts, options.signal),
    forecast: async (task, options = {}) => {
      if (!FORECASTER_NAMES.includes(task.model)) {
        checkSavedForecaster(task.model, `model: unknown forecaster "${task.model}"; valid names: ${FORECASTER_NAMES.join(', ')}, or the name of a saved forecaster`);
      }
      return pool.run<ForecastResult>({ kind: 'forecast', ...task }, { signal: options.signal, deadline: deadline() });
    },
    forecastPanel: async (task, options = {}) => {
      // A kind is refused with its own explanation by the worker (400): only names are checked here.
      if (!FORECASTER_NAMES.includes(task.model) && !GLOBAL_FORECASTER_NAMES.includes(task.model)) checkSavedForecaster(task.model, `model: no saved forecaster named "${task.model}"`);
      return pool.run<PanelForecastResult>({ kind: 'forecast-panel', ...task }, { signal: options.signal, deadline: deadline() });
    },
    classify: (texts, options = {}) =>
      pool.run<ClassifyResult>(
        { kind: 'classify', texts, ...(options.model !== undefined ? { model: options.model } : {}), ...(options.longTexts ? { longTexts: options.longTexts } : {}) },
        { signal: options.signal, deadline: deadline() },
      ),
    readiness: () => {
      const capacity = pool.health();
      const r: Readiness = { ...readinessOf(pool.statuses()), capacity, degraded: capacity.ready < capacity.workers };
      if (capacity.replacing > 0) r.reasons.push(`degraded: ${capacity.ready} of ${capacity.workers} model workers ready, ${capacity.replacing} being replaced`);
      if (capacity.ready === 0 && capacity.replacing > 0) r.ready = false;
      return draining || pool.isClosing ? { ...r, ready: false, reasons: ['shutting down', ...r.reasons] } : r;
    },
    health: () => pool.health(),
    workerMemory: () => pool.memory(),
    onWorkerReplaced: (listener) => void replacedListeners.push(listener),
    injectFault: () => pool.injectFault(),
    numTensors: () => pool.numTensors(),
    inFlight: () => pool.inFlight(),
    onBatch: (listener) => void listeners.push(listener),
    whenReady: () => pool.whenReady(),
    close: async (timeoutMs) => {
      sentimentBatcher.flushAll();
      embedBatcher.flushAll();
      return pool.close(timeoutMs);
    },
  };
}

/** Combines worker reports: ready only when every worker has loaded every configured model. */
export function readinessOf(statuses: Array<WorkerStatus | undefined>): Readiness {
  const reasons: string[] = [];
  const pending = statuses.filter((s) => !s).length;
  if (pending > 0) reasons.push(`${pending} model worker(s) still loading`);
  const reported = statuses.filter((s): s is WorkerStatus => s !== undefined);
  const models: Record<string, ModelStatus> = {};
  for (const s of reported) {
    for (const [name, m] of Object.entries(s.models)) {
      const prev = models[name];
      // The least ready worker speaks for the model.
      if (!prev || prev.state === 'ready' || prev.state === 'disabled') models[name] = { ...m, dir: m.dir && path.relative(REPO_ROOT, m.dir) };
    }
  }
  for (const [name, m] of Object.entries(models)) {
    if (m.state !== 'ready' && m.state !== 'disabled') reasons.push(`${name}: ${m.state}${m.reason ? ` (${m.reason})` : ''}`);
  }
  return { ready: reasons.length === 0, reasons, backend: reported[0]?.backend, models };
}
