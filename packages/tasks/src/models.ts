import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadInputError, NotFoundError, TASK_NAMES, readModelConfig, type ModelConfig, type TaskName } from '@seqlab/core/base';
import { servedModelDir } from './store.js';

/** The environment variable that moves the models folder (read by the CLI and the API alike). */
export const MODELS_ENV = 'SEQLAB_MODELS';

let cachedRoot: string | null | undefined;

function isWorkspaceRoot(dir: string): boolean {
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg)) return false;
  try {
    const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown; workspaces?: unknown };
    return json.name === 'seqlab' && Array.isArray(json.workspaces);
  } catch {
    return false;
  }
}

/**
 * The seqlab repository root (where `models/` lives), found by walking up from this file and
 * then from the working directory; `undefined` outside a checkout.
 */
export function repoRoot(): string | undefined {
  if (cachedRoot !== undefined) return cachedRoot ?? undefined;
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    let dir = resolve(start);
    for (;;) {
      if (isWorkspaceRoot(dir)) {
        cachedRoot = dir;
        return dir;
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  cachedRoot = null;
  return undefined;
}

/** The models folder: `$SEQLAB_MODELS`, else `<repository>/models`, else `./models`. */
export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[MODELS_ENV];
  if (fromEnv) return resolve(fromEnv);
  const root = repoRoot();
  return root ? join(root, 'models') : resolve('models');
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Whether `spec` is a plain model name (a folder under the models folder) rather than a path. */
export function isModelName(spec: string): boolean {
  return MODEL_NAME.test(spec) && !spec.includes('..');
}

/** Options of {@link resolveModelDir}. */
export interface ResolveModelOptions {
  /** The models folder. Default {@link modelsDir}(). */
  modelsDir?: string;
  /** Accept directory paths as well as names (the CLI does; a service must not). Default true. */
  allowPaths?: boolean;
}

/**
 * Turns a model name (a folder under the models folder) or, when allowed, a directory path
 * into a directory, with messages that name the model, never the server's folders. A folder in
 * the model store's layout resolves to the version it serves (the pin, else the newest).
 *
 * @throws BadInputError for a malformed name or a path where only names are allowed.
 * @throws NotFoundError when no such model exists, listing the models that do.
 */
export function resolveModelDir(spec: string, options: ResolveModelOptions = {}): { dir: string; name: string } {
  const root = options.modelsDir ?? modelsDir();
  const allowPaths = options.allowPaths ?? true;
  if (typeof spec !== 'string' || spec.length === 0) throw new BadInputError('model: expected a model name');
  const looksLikePath = isAbsolute(spec) || spec.includes('/') || spec.includes('\\') || spec.startsWith('.');
  if (looksLikePath) {
    if (!allowPaths) throw new BadInputError(`model: "${spec}" is not a valid model name (letters, digits, '.', '_', '-'; no paths)`);
    const dir = resolve(spec);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NotFoundError(`model directory not found: ${spec}`);
    return { dir: servedModelDir(dirname(dir), basename(dir)) ?? dir, name: spec };
  }
  if (!isModelName(spec)) throw new BadInputError(`model: "${spec}" is not a valid model name (letters, digits, '.', '_', '-'; no paths)`);
  const dir = join(root, spec);
  // A versioned folder (`<name>/<version>/`, the model store's layout) serves its pinned or newest version.
  if (existsSync(dir) && statSync(dir).isDirectory()) return { dir: servedModelDir(root, spec) ?? dir, name: spec };
  // A directory of that name in the working directory (CLI convenience).
  if (allowPaths && existsSync(spec) && statSync(spec).isDirectory()) return { dir: resolve(spec), name: spec };
  const known = existsSync(root)
    ? readdirSync(root, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
    : [];
  throw new NotFoundError(`no model named "${spec}"${known.length ? `; available models: ${known.sort().join(', ')}` : ''}`, {
    details: { model: spec, available: known },
  });
}

/** Checks a task name, listing the valid ones on a miss. */
export function checkTask(task: unknown): TaskName {
  if (typeof task !== 'string' || !(TASK_NAMES as readonly string[]).includes(task)) {
    throw new BadInputError(`unknown task ${JSON.stringify(task)}; valid tasks: ${TASK_NAMES.join(', ')}`);
  }
  return task as TaskName;
}

/**
 * Reads what a model directory holds (task and kind) without loading it.
 *
 * @throws SeqlabError `not_found` / `model_file_corrupt` from the directory's config.json.
 */
export function describeModel(dir: string): Promise<ModelConfig> {
  return readModelConfig(dir);
}
