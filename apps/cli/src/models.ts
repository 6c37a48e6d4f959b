import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TaskName } from '@seqlab/core';
import { DEFAULT_MODELS, defaultRecipe, describeModel, modelsDir, resolveModelDir } from '@seqlab/tasks/catalog';
import { NotFoundError } from './errors.js';

/** A model found on disk. */
export interface ModelEntry {
  /** Name to pass to `--model`. */
  name: string;
  path: string;
  /** The task it serves (from its config.json), or `unknown`. */
  task: string;
  /** The model kind within the task. */
  kind: string;
  /** The tasks it is the default model of. */
  defaultFor: TaskName[];
  /** Total size of the files in bytes. */
  bytes: number;
  /** A few facts from its config.json (labels, metrics, ...). */
  details?: Record<string, unknown>;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** Every model under the models folder (and under any extra directories given), described by its config.json. */
export async function listModels(extraDirs: string[] = []): Promise<ModelEntry[]> {
  const out: ModelEntry[] = [];
  for (const root of [modelsDir(), ...extraDirs.map((d) => resolve(d))]) {
    if (!existsSync(root)) continue;
    for (const e of readdirSync(root, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const path = join(root, e.name);
      let task = 'unknown';
      let kind = 'unknown';
      let details: Record<string, unknown> | undefined;
      try {
        const config = await describeModel(path);
        task = config.task;
        kind = config.kind;
        details = Object.fromEntries(['labels', 'metrics', 'devAccuracy', 'columns'].filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));
      } catch {
        /* not a seqlab model directory: listed as unknown */
      }
      const defaultFor = root === modelsDir() ? (Object.entries(DEFAULT_MODELS).filter(([, n]) => n === e.name).map(([t]) => t) as TaskName[]) : [];
      out.push({ name: e.name, path, task, kind, defaultFor, bytes: dirBytes(path), ...(details && Object.keys(details).length ? { details } : {}) });
    }
  }
  return out;
}

/**
 * What `--model` names for `task`: the value given, or the task's default model, which must
 * exist (the error says how to create it).
 */
export function modelSpec(spec: string | undefined, task: TaskName): string {
  if (spec !== undefined) return spec;
  const name = DEFAULT_MODELS[task];
  if (!name) throw new NotFoundError(`${task} has no default model; pass --model`);
  const dir = join(modelsDir(), name);
  if (!existsSync(dir)) throw new NotFoundError(`the default ${task} model is not at ${dir}; create it with \`${defaultRecipe(task) ?? 'seqlab train'}\` or pass --model DIR`);
  return name;
}

/**
 * Turns `--model NAME|DIR` into a model directory for `task`: a name under the models folder
 * (`$SEQLAB_MODELS`), a directory path, or the task's default model.
 */
export function resolveModel(spec: string | undefined, task: TaskName): { dir: string; name: string } {
  return resolveModelDir(modelSpec(spec, task));
}
