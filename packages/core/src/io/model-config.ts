import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../errors.js';
import { writeJsonAtomic } from './atomic.js';
import { ModelFileError } from './errors.js';

/** Name of the file that says what a model directory holds. */
export const MODEL_CONFIG = 'config.json';

/** Version of the `config.json` header written by this build. */
export const MODEL_CONFIG_VERSION = 1;

/** The tasks a saved model directory can serve. */
export type TaskName = 'sentiment' | 'text-classification' | 'text-generation' | 'forecast' | 'embedding';

/** Every task name, in the order they are listed to users. */
export const TASK_NAMES: readonly TaskName[] = Object.freeze(['sentiment', 'text-classification', 'text-generation', 'forecast', 'embedding']);

/**
 * The header every model directory's `config.json` starts with: which task it serves and
 * which kind of model (loader) within that task. Task modules add their own fields.
 */
export interface ModelConfigHeader {
  /** Format version of this header ({@link MODEL_CONFIG_VERSION}). */
  version: number;
  task: TaskName;
  /**
   * The model kind within the task, e.g. `rnn`, `use-head` or `hybrid` for sentiment,
   * `char-lm` for text generation, a forecaster registry name for forecasting.
   */
  kind: string;
}

/** A model directory's `config.json`: the header plus the task's own fields. */
export type ModelConfig = ModelConfigHeader & Record<string, unknown>;

async function readJsonFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelFileError(file, 'file not found', 'not_found');
    throw new ModelFileError(file, `cannot be read (${code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(file, `is not valid JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelFileError(file, 'is not a JSON object');
  return json as Record<string, unknown>;
}

/**
 * Reads the `config.json` of a model directory and returns it with its header checked. Model
 * directories written before the header existed are read too: a `config.json` without
 * `version`/`kind` (recurrent sentiment, character language model), a USE head whose facts sit
 * in `model.json`'s metadata, and a forecaster directory (`forecaster.json` only).
 *
 * @throws ModelFileError `not_found` when the directory holds no model description at all,
 *   `model_file_corrupt` when the description cannot be read or names no known task.
 */
export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, MODEL_CONFIG);
  if (!existsSync(dir)) throw new ModelFileError(dir, 'model directory not found', 'not_found');
  if (existsSync(file)) return checkHeader(legacyHeader(await readJsonFile(file)), file);
  // Directories from before config.json named task and kind.
  const forecaster = path.join(dir, 'forecaster.json');
  if (existsSync(forecaster)) {
    const saved = await readJsonFile(forecaster);
    return { version: MODEL_CONFIG_VERSION, task: 'forecast', kind: String(saved.name ?? ''), file: 'forecaster.json' };
  }
  const modelJson = path.join(dir, 'model.json');
  if (existsSync(modelJson)) {
    const meta = ((await readJsonFile(modelJson)).userDefinedMetadata as { seqlab?: Record<string, unknown> } | undefined)?.seqlab;
    if (meta && (meta.kind === 'use-head' || meta.kind === 'hybrid')) {
      return { ...meta, version: MODEL_CONFIG_VERSION, task: 'sentiment', kind: meta.kind };
    }
  }
  throw new ModelFileError(file, 'file not found (not a seqlab model directory)', 'not_found');
}

/** Fills in the header of a pre-version `config.json` from the fields it always had. */
function legacyHeader(json: Record<string, unknown>): Record<string, unknown> {
  // A versioned header is complete by definition; only files from before it get filled in.
  if (json.version !== undefined) return json;
  if (json.task === 'sentiment' && json.kind === undefined) return { version: MODEL_CONFIG_VERSION, kind: 'rnn', ...json };
  if (json.task === 'text-generation' && json.kind === undefined) return { version: MODEL_CONFIG_VERSION, kind: 'char-lm', ...json };
  return { version: MODEL_CONFIG_VERSION, ...json };
}

function checkHeader(json: Record<string, unknown>, file: string): ModelConfig {
  if (typeof json.version !== 'number' || !Number.isInteger(json.version) || json.version < 1) {
    throw new ModelFileError(file, `"version" must be a positive integer, got ${JSON.stringify(json.version)}`);
  }
  if (json.version > MODEL_CONFIG_VERSION) {
    throw new ModelFileError(file, `was written by a newer seqlab (config version ${json.version}; this build reads up to ${MODEL_CONFIG_VERSION})`);
  }
  if (typeof json.task !== 'string' || !(TASK_NAMES as readonly string[]).includes(json.task)) {
    throw new ModelFileError(file, `"task" must be one of ${TASK_NAMES.join(', ')}, got ${JSON.stringify(json.task)}`);
  }
  if (typeof json.kind !== 'string' || json.kind.length === 0) throw new ModelFileError(file, `"kind" must be a non-empty string, got ${JSON.stringify(json.kind)}`);
  return json as ModelConfig;
}

/**
 * Writes a model directory's `config.json` atomically, header first. Savers call this last, so
 * a directory with a config.json is complete.
 */
export async function writeModelConfig(dir: string, header: Omit<ModelConfigHeader, 'version'>, fields: Record<string, unknown> = {}): Promise<ModelConfig> {
  if (!(TASK_NAMES as readonly string[]).includes(header.task)) throw new BadInputError(`writeModelConfig: unknown task ${JSON.stringify(header.task)}`);
  const config: ModelConfig = { version: MODEL_CONFIG_VERSION, task: header.task, kind: header.kind, ...withoutHeader(fields) };
  await fs.mkdir(dir, { recursive: true });
  await writeJsonAtomic(path.join(dir, MODEL_CONFIG), config);
  return config;
}

function withoutHeader(fields: Record<string, unknown>): Record<string, unknown> {
  const { version: _v, task: _t, kind: _k, ...rest } = fields;
  return rest;
}

/**
 * Replaces every occurrence of a model directory's absolute path in an error's message by the
 * model's name, so services can show the message without revealing their file layout.
 */
export function nameModelInError<E>(err: E, dir: string, name: string): E {
  if (err instanceof Error && dir) {
    const abs = path.resolve(dir);
    const msg = err.message.split(abs + path.sep).join(`${name}/`).split(abs).join(name);
    if (msg !== err.message) err.message = msg;
  }
  return err;
}
