/** Messages between the HTTP thread and model worker threads (structured-clone safe). */

import type { WorkerErrorKind } from '../errors.js';

/** Sampling options for generation (mirrors the text-generation pipeline's options). */
export interface GenerateOptions {
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  beam?: number;
  repetitionPenalty?: number;
  stop?: string[];
  seed?: number;
}

/** One token's attention weight inside a sentiment result. */
export interface TokenWeight {
  text: string;
  start: number;
  end: number;
  weight: number;
}

/** Sentiment of one text. */
export interface SentimentResult {
  label: string;
  score: number;
  probabilities: Record<string, number> | number[];
  tokens: TokenWeight[];
}

/** Forecast input as sent to a worker. */
export interface ForecastTask {
  kind: 'forecast';
  model: string;
  options: Record<string, unknown>;
  columns: Record<string, number[]>;
  dates?: string[];
  target?: string;
  horizon: number;
  level: number;
}

/** Many series for a saved global (panel) model, as sent to a worker. */
export interface PanelForecastTask {
  kind: 'forecast-panel';
  /** Name of a saved global forecaster under the models folder. */
  model: string;
  panel: Array<{ id: string; values: number[]; dates?: string[] }>;
  horizon: number;
  level: number;
  newSeries?: 'fit' | 'error';
}

/**
 * The work a worker can do. `model` is an absolute model directory, `name` what the caller
 * called it (messages name models by it). A forecast's `model` is a forecaster registry name or
 * the name of a saved forecaster under the models folder.
 */
export type Task =
  | { kind: 'sentiment'; model: string; name?: string; texts: string[] }
  | { kind: 'generate'; model: string; name?: string; prompt: string; options: GenerateOptions }
  | { kind: 'stream'; model: string; name?: string; prompt: string; options: GenerateOptions }
  | { kind: 'embed'; texts: string[] }
  | ClassifyTask
  | ForecastTask
  | PanelForecastTask
  | { kind: 'status' }
  /** Hits a real wasm trap (only when the worker was started with `faultInjection`). */
  | { kind: 'fault' };

/**
 * Texts for any text classifier under the models folder. `model` is a model name (or undefined
 * for the task's default model), resolved inside the models folder by the worker.
 */
export interface ClassifyTask {
  kind: 'classify';
  model?: string;
  texts: string[];
  longTexts?: 'truncate' | 'chunks';
}

/** One text's classification as a worker returns it (the pipeline's prediction). */
export interface ClassifyPrediction {
  label: string;
  score: number;
  labels: Array<{ label: string; score: number }>;
  predicted: string[];
  truncated: boolean;
  tokens?: TokenWeight[];
  /** Multi-label recurrent models: per predicted class, each token's share of its logit. */
  labelTokens?: Array<{ label: string; tokens: Array<{ text: string; start: number; end: number; contribution: number }> }>;
}

/** Classifier output: which model answered, and one prediction per text. */
export interface ClassifyResult {
  model: string;
  kind: string;
  problem: string;
  classes: string[];
  /** Multi-label models that keep them: the decision threshold of each class, in class order. */
  thresholds?: number[];
  /** The model-store version that answered (`null` for an unversioned folder). */
  version?: number | null;
  predictions: ClassifyPrediction[];
}

/** Forecast output. */
export interface ForecastResult {
  model: string;
  columns: string[];
  horizon: number;
  level: number;
  mean: number[][];
  lower?: number[][];
  upper?: number[][];
  dates?: string[];
  fitMs: number;
  /** A saved forecaster's model-store version (`null` for an unversioned folder; absent for forecaster kinds). */
  version?: number | null;
  /** Set when part of the answer (the intervals) could not be computed. */
  warning?: string;
}

/** One series' forecast from a global model. */
export interface SeriesForecastResult {
  id: string;
  /** Whether the model was fitted on this series (false: its smoothing was fitted on the values sent). */
  seen: boolean;
  mean: number[];
  lower?: number[];
  upper?: number[];
  /** Timestamps of the forecast steps, when the series came with regular dates. */
  dates?: string[];
}

/** Panel forecast output: one entry per series, in the order of the request's `panel` keys. */
export interface PanelForecastResult {
  model: string;
  kind: string;
  horizon: number;
  level: number;
  series: SeriesForecastResult[];
  /** Ids the model was not fitted on. */
  newSeries: string[];
  notes: string[];
  warning?: string;
}

/** Generation output. */
export interface GenerateResult {
  text: string;
  tokens: number;
  /** Why generation ended: `length` (maxTokens reached) or `stop` (a stop sequence appeared). */
  finishReason?: string;
}

/** State of one model inside a worker. */
export interface ModelStatus {
  state: 'loading' | 'ready' | 'missing' | 'failed' | 'disabled';
  /** Why it is not ready. */
  reason?: string;
  dir?: string;
}

/**
 * A worker's own memory (its isolate, not the process), sent with every answer so the pool can
 * recycle a worker that grew past `WORKER_MAX_MEMORY_MB`.
 */
export interface WorkerMemory {
  /**
   * WebAssembly memory (the TensorFlow.js backend's and the recurrent kernels'): it grows to the
   * largest working set the worker has seen and never shrinks.
   */
  wasmBytes: number;
  /**
   * The part of {@link wasmBytes} that holds the recurrent kernels' resident tables (projected
   * embeddings of the loaded models, kept on purpose and bounded), not a request's high-water mark.
   */
  residentBytes: number;
  /** The worker's V8 heap in use. */
  heapBytes: number;
  /** Other memory held by the worker's JavaScript objects (typed arrays, buffers), wasm memory excluded. */
  externalBytes: number;
}

/** A worker's report of itself. */
export interface WorkerStatus {
  backend: string;
  backendReason: string;
  models: Record<'sentiment' | 'generator' | 'embeddings', ModelStatus>;
  numTensors: number;
  numBytes: number;
  memory: WorkerMemory;
}

/** Data the worker starts with. */
export interface WorkerInit {
  sentimentModel?: string;
  generatorModel?: string;
  embeddings: boolean;
  backend?: string;
  /** Allow neural forecasters (they train a network per request). */
  forecastNeural?: boolean;
  /** Folder model paths are shown relative to in messages. */
  root?: string;
  /** Accept `fault` tasks (tests and bench:abuse only). */
  faultInjection?: boolean;
  /** Nice value the worker gives its own thread at start (Linux; 0 leaves it alone). */
  nice?: number;
  /** The models folder (saved forecasters are looked up by name inside it). */
  modelsDir: string;
  /** How often a served model's folder is checked for a new version or pin (MODEL_POLL_MS). Default 1000. */
  modelPollMs?: number;
}

export type ToWorker =
  /** `deadline` (epoch ms): the worker cancels the task itself when it passes. */
  | { type: 'task'; id: number; task: Task; deadline?: number }
  | { type: 'cancel'; id: number; reason: string };

export type FromWorker =
  | { type: 'ready'; status: WorkerStatus }
  | { type: 'result'; id: number; value: unknown; numTensors: number; memory: WorkerMemory }
  | { type: 'chunk'; id: number; text: string }
  | {
      type: 'error';
      id: number;
      kind: WorkerErrorKind;
      message: string;
      details?: Record<string, unknown>;
      /** The backend itself failed (wasm trap, out of memory, non-finite weights): the worker must be replaced. */
      fault?: boolean;
      numTensors?: number;
      memory?: WorkerMemory;
    };
