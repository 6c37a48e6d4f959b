import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../errors.js';
import { MODEL_CONFIG } from './model-config.js';

/** The prefix of every model content digest. */
export const DIGEST_PREFIX = 'sha256:';

// Files named after their own SHA-256 and listed with it in a model.json: hashing the
// model.json covers them, so a digest does not read megabytes of weights twice.
const CONTENT_ADDRESSED = /^(weights|shared)\.[0-9a-f]{16}\.bin$/;

async function digestFiles(root: string, rel: string, out: string[]): Promise<void> {
  const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) await digestFiles(root, child, out);
    else if (e.isFile() && e.name !== 'README.md' && !CONTENT_ADDRESSED.test(e.name) && !e.name.startsWith('.')) out.push(child);
  }
}

/**
 * The content digest of a saved model directory: SHA-256 over its config.json, weights
 * manifests (model.json, which record the SHA-256 of every content-addressed weights file) and
 * every other file except the model card, in path order. Equal for two copies of one model,
 * different once any file the model loads changes. Models refer to each other by it, so a
 * renamed model is still found and a changed one is noticed.
 *
 * @throws BadInputError when `dir` holds no config.json.
 */
export async function modelDigest(dir: string): Promise<string> {
  const files: string[] = [];
  await digestFiles(dir, '', files);
  if (!files.includes(MODEL_CONFIG)) throw new BadInputError(`modelDigest: ${dir} has no ${MODEL_CONFIG}`);
  const hash = createHash('sha256');
  for (const rel of files) {
    const bytes = await fs.readFile(path.join(dir, rel));
    hash.update(`${rel}\0${bytes.byteLength}\0`);
    hash.update(bytes);
  }
  return DIGEST_PREFIX + hash.digest('hex');
}

/**
 * The model directory directly under `root` whose {@link modelDigest} is `digest` (skipping
 * the folder named `skip`), or undefined when none has it.
 */
export async function findModelByDigest(root: string, digest: string, skip?: string): Promise<string | undefined> {
  if (!existsSync(root)) return undefined;
  for (const e of await fs.readdir(root, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.') || e.name === skip) continue;
    const dir = path.join(root, e.name);
    if (existsSync(path.join(dir, MODEL_CONFIG)) && (await modelDigest(dir)) === digest) return dir;
  }
  return undefined;
}
