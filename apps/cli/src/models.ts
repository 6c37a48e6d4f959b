import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { NotFoundError } from './errors.js';
import { modelsRoot, repoRoot } from './paths.js';

/** What kind of saved model a directory holds, judged from its files. */
export type ModelKind = 'generator' | 'sentiment' | 'classifier' | 'lm' | 'forecaster' | 'encoder' | 'unknown';

/** A model found on disk. */
export interface ModelEntry {
  /** Name to pass to `--model`. */
  name: string;
  path: string;
  kind: ModelKind;
  /** Whether it is one of the packages' default models. */
  isDefault: boolean;
  /** Role of a default model (`generator`, `sentiment`). */
  role?: string;
  exists: boolean;
  /** Total size of the files in bytes. */
  bytes: number;
  /** Free-form details read from the model's metadata (task, vocabulary size, metrics). */
  details?: Record<string, unknown>;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** Metadata files seqlab packages write next to their weights, most specific first. */
const META_FILES = ['seqlab.json', 'metadata.json', 'config.json', 'forecaster.json'];

/** Reads the kind and a few details of a saved model directory. */
export function describeModelDir(dir: string): { kind: ModelKind; details?: Record<string, unknown> } {
  if (existsSync(join(dir, 'forecaster.json'))) {
    const f = readJson(join(dir, 'forecaster.json'));
    return { kind: 'forecaster', details: f ? { model: f.name, columns: f.columns } : undefined };
  }
  const modelJson = readJson(join(dir, 'model.json'));
  const seqlabMeta = (modelJson?.userDefinedMetadata as { seqlab?: Record<string, unknown> } | undefined)?.seqlab;
  if (seqlabMeta && (seqlabMeta.kind === 'use-head' || seqlabMeta.kind === 'hybrid') && !existsSync(join(dir, 'config.json'))) {
    return { kind: 'sentiment', details: { ...seqlabMeta } };
  }
  for (const file of META_FILES) {
    const meta = readJson(join(dir, file));
    if (!meta) continue;
    const task = String(meta.task ?? meta.kind ?? meta.type ?? '').toLowerCase();
    const kind: ModelKind =
      /sentiment/.test(task) ? 'sentiment' : /classif/.test(task) ? 'classifier' : /(language|lm|generat|char)/.test(task) ? 'lm' : 'unknown';
    const details: Record<string, unknown> = {};
    for (const key of ['task', 'labels', 'vocabSize', 'metrics', 'trainedAt', 'epochs', 'description']) {
      if (meta[key] !== undefined) details[key] = meta[key];
    }
    return { kind, details: Object.keys(details).length ? details : undefined };
  }
  return { kind: 'unknown' };
}

function entry(name: string, path: string, isDefault: boolean, role?: string): ModelEntry {
  const exists = existsSync(path) && statSync(path).isDirectory();
  const described = exists ? describeModelDir(path) : { kind: 'unknown' as ModelKind };
  let kind = described.kind;
  if (role === 'generator' && kind === 'unknown') kind = 'lm';
  if (role === 'sentiment' && (kind === 'unknown' || kind === 'classifier')) kind = 'sentiment';
  return { name, path, kind, isDefault, role, exists, bytes: exists ? dirBytes(path) : 0, details: described.details };
}

/** Resolves a default model path (given relative to the repository root) to an absolute path. */
export function defaultModelPath(relative: string): string {
  if (isAbsolute(relative)) return relative;
  // Defaults are named relative to the repository root ("models/sentiment"); $SEQLAB_MODELS
  // moves the whole models directory.
  const rel = relative.replace(/^models[\\/]/, '');
  if (process.env.SEQLAB_MODELS || rel !== relative) return join(modelsRoot(), rel);
  return resolve(repoRoot() ?? process.cwd(), relative);
}

/**
 * Every model the CLI can see: the defaults (present or not) and each directory under the
 * models root, plus any extra directories given.
 */
export function listModels(defaults: Record<string, string>, extraDirs: string[] = []): ModelEntry[] {
  const out: ModelEntry[] = [];
  const seen = new Set<string>();
  for (const [role, rel] of Object.entries(defaults)) {
    const path = defaultModelPath(rel);
    out.push(entry(basename(path), path, true, role));
    seen.add(path);
  }
  for (const root of [modelsRoot(), ...extraDirs.map((d) => resolve(d))]) {
    if (!existsSync(root)) continue;
    for (const e of readdirSync(root, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const path = join(root, e.name);
      if (seen.has(path)) continue;
      seen.add(path);
      out.push(entry(e.name, path, false));
    }
  }
  return out;
}

/**
 * Turns `--model NAME|DIR` into a model directory: an existing directory path wins; otherwise
 * a default role (`generator`, `sentiment`) or a directory name under the models root.
 * Unknown names fail with the list of names that would work.
 */
export function resolveModel(spec: string | undefined, role: string, defaults: Record<string, string>, requiredFile?: string): string {
  const dir = findModel(spec, role, defaults);
  if (requiredFile && !existsSync(join(dir, requiredFile))) {
    throw new NotFoundError(`${dir} is not a saved ${role} model: it has no ${requiredFile}`);
  }
  return dir;
}

/** How to produce each default model. */
const RECIPES: Record<string, string> = {
  generator: 'npm run recipe:shakespeare',
  sentiment: 'npm run recipe:sst2',
};

function findModel(spec: string | undefined, role: string, defaults: Record<string, string>): string {
  const wanted = spec ?? role;
  const asPath = resolve(wanted);
  if ((spec?.includes('/') || spec?.includes('\\') || spec?.startsWith('.')) && !existsSync(asPath)) {
    throw new NotFoundError(`--model: model directory not found: ${spec}`);
  }
  if (spec && existsSync(asPath) && statSync(asPath).isDirectory() && !(spec in defaults)) return asPath;
  const fromDefault = defaults[wanted];
  if (fromDefault) {
    const path = defaultModelPath(fromDefault);
    if (!existsSync(path)) {
      throw new NotFoundError(
        `the default ${wanted} model is not at ${path}; create it with \`${RECIPES[wanted] ?? 'seqlab train'}\` or pass --model DIR`,
      );
    }
    return path;
  }
  const named = join(modelsRoot(), wanted);
  if (existsSync(named) && statSync(named).isDirectory()) return named;
  const known = listModels(defaults)
    .filter((m) => m.exists)
    .map((m) => m.name);
  const roles = Object.keys(defaults);
  throw new NotFoundError(
    `unknown model "${wanted}": not a directory, not a default (${roles.join(', ')}) and not under ${modelsRoot()}${known.length ? `; available: ${known.join(', ')}` : ''}`,
  );
}
