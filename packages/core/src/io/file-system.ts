import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from '@tensorflow/tfjs-core';
import { writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { ModelFileError } from './errors.js';
import { UnsupportedError } from '../errors.js';

/** Name of the topology file inside a model directory (the TensorFlow.js convention). */
export const MODEL_JSON = 'model.json';

/** Integrity record seqlab adds to model.json; other TensorFlow.js loaders ignore it. */
interface SeqlabIntegrity {
  formatVersion: 1;
  files: Record<string, { bytes: number; sha256: string }>;
}

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest?: Array<{ paths: string[]; weights: io.WeightsManifestEntry[] }>;
  trainingConfig?: io.TrainingConfig;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: unknown;
  initializerSignature?: unknown;
  seqlab?: SeqlabIntegrity;
}

/**
 * Resolves a directory, a `model.json` path or a `file://` URL to the model's directory and
 * topology file.
 */
export function resolveModelPath(location: string): { dir: string; modelJson: string } {
  let p = location;
  if (p.startsWith('file://')) p = fileURLToPath(p);
  p = path.resolve(p);
  if (p.endsWith('.json')) return { dir: path.dirname(p), modelJson: p };
  return { dir: p, modelJson: path.join(p, MODEL_JSON) };
}

/** The parts back to back in one array (the part itself when there is one). */
function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let off = 0;
  for (const b of parts) {
    out.set(b, off);
    off += b.byteLength;
  }
  return out;
}

function toBuffer(data: io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (Array.isArray(data)) return concatBytes(data.map((b) => new Uint8Array(b)));
  return new Uint8Array(data as ArrayBuffer);
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

/** Bytes the weights in a manifest occupy, or undefined when it holds strings (variable size). */
function expectedBytes(specs: io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const s of specs) {
    const dtype = s.quantization?.dtype ?? s.dtype;
    if (dtype === 'string') return undefined;
    const per = BYTES[dtype];
    if (per === undefined) return undefined;
    total += s.shape.reduce((a, b) => a * b, 1) * per;
  }
  return total;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Where large weights of a save go when models saved side by side hold identical ones: a
 * frozen pre-trained embedding is the same matrix in every member of an ensemble.
 */
export interface SharedWeightsOptions {
  /**
   * Weights of at least this many bytes (as stored) are written to the model directory's parent
   * as content-addressed `shared.<sha256-prefix>.bin` files, once for every model that holds the
   * same bytes. Default 1 MiB.
   */
  minBytes?: number;
  /**
   * Largest shared file: a larger weight is stored as consecutive parts of at most this many
   * bytes (each content-addressed, listed in order in its manifest group), so a large frozen
   * embedding stays within the size limits of hosts and repositories. Default 8 MiB.
   */
  maxFileBytes?: number;
}

/** Writes `bytes` as a content-addressed shared file beside `dir` (reusing an identical one) and returns its model.json path. */
async function writeSharedPart(dir: string, bytes: Uint8Array, files: SeqlabIntegrity['files']): Promise<string> {
  const digest = sha256(bytes);
  const name = `shared.${digest.slice(0, 16)}.bin`;
  const file = path.join(path.dirname(dir), name);
  // Content-addressed: a sibling may have written these bytes already (checked, not trusted).
  const existing = await fs.readFile(file).catch(() => undefined);
  if (!existing || existing.byteLength !== bytes.byteLength || sha256(existing) !== digest) await writeFileAtomic(file, bytes);
  files[`../${name}`] = { bytes: bytes.byteLength, sha256: digest };
  return `../${name}`;
}

/** File names of weights stored in the parent directory and shared between sibling models. */
export const SHARED_WEIGHTS_FILE = /^shared\.[0-9a-f]{16}\.bin$/;

/** A model.json path that names a shared weights file in the model directory's parent. */
function sharedPath(rel: string): string | undefined {
  const m = /^\.\.\/(shared\.[0-9a-f]{16}\.bin)$/.exec(rel);
  return m ? m[1] : undefined;
}

/**
 * The `shared.*.bin` files that the models in `parent`'s subdirectories `children` reference
 * (read from their model.json files).
 */
export async function sharedWeightsInUse(parent: string, children: readonly string[]): Promise<Set<string>> {
  const used = new Set<string>();
  for (const child of children) {
    let json: ModelJson;
    try {
      json = JSON.parse(await fs.readFile(path.join(parent, child, MODEL_JSON), 'utf8')) as ModelJson;
    } catch {
      continue;
    }
    for (const group of json.weightsManifest ?? []) for (const rel of group.paths) {
      const name = sharedPath(rel);
      if (name) used.add(name);
    }
  }
  return used;
}

async function saveArtifacts(location: string, artifacts: io.ModelArtifacts, shared?: SharedWeightsOptions): Promise<io.SaveResult> {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new UnsupportedError('seqlab file IO: binary model topologies are not supported; save a LayersModel');
  }
  const { dir, modelJson } = resolveModelPath(location);
  await fs.mkdir(dir, { recursive: true });
  const all = toBuffer(artifacts.weightData);
  const specs = artifacts.weightSpecs ?? [];
  // Split out the weights stored once beside sibling models (each its own manifest group).
  const groups: Array<{ paths: string[]; weights: io.WeightsManifestEntry[] }> = [];
  const files: SeqlabIntegrity['files'] = {};
  const ownSpecs: io.WeightsManifestEntry[] = [];
  const ownParts: Uint8Array[] = [];
  const minBytes = shared?.minBytes ?? 1 << 20;
  const maxFileBytes = shared?.maxFileBytes ?? 8 << 20;
  if (!(Number.isInteger(maxFileBytes) && maxFileBytes > 0)) throw new UnsupportedError(`seqlab file IO: sharedWeights.maxFileBytes must be a positive integer, got ${maxFileBytes}`);
  let offset = 0;
  for (const [i, spec] of specs.entries()) {
    const size = shared ? expectedBytes([spec]) : undefined;
    if (size === undefined) {
      // Strings (or no sharing): everything else stays in the model's own file, in order.
      ownSpecs.push(...specs.slice(i));
      break;
    }
    const bytes = all.subarray(offset, offset + size);
    offset += size;
    if (size >= minBytes) {
      const paths: string[] = [];
      for (let at = 0; at < size; at += maxFileBytes) paths.push(await writeSharedPart(dir, bytes.subarray(at, Math.min(size, at + maxFileBytes)), files));
      groups.push({ paths, weights: [spec] });
    } else {
      ownSpecs.push(spec);
      ownParts.push(bytes);
    }
  }
  if (offset < all.byteLength) ownParts.push(all.subarray(offset));
  const weights = concatBytes(ownParts);
  const digest = sha256(weights);
  // Content-addressed weights file: the old model.json keeps pointing at the old weights until
  // the new model.json is renamed into place, so a crash at any point leaves a loadable model.
  const weightsName = `weights.${digest.slice(0, 16)}.bin`;
  await writeFileAtomic(path.join(dir, weightsName), weights);
  files[weightsName] = { bytes: weights.byteLength, sha256: digest };
  let previous: ModelJson | undefined;
  try {
    previous = JSON.parse(await fs.readFile(modelJson, 'utf8')) as ModelJson;
  } catch {
    previous = undefined;
  }
  const json: ModelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [weightsName], weights: shared ? ownSpecs : specs }, ...groups],
    seqlab: { formatVersion: 1, files },
  };
  if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.signature) json.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.modelInitializer) json.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature) json.initializerSignature = artifacts.initializerSignature;
  await writeJsonAtomic(modelJson, json);
  // Only after the switch-over: remove weights the previous model.json used and this one does not.
  for (const group of previous?.weightsManifest ?? []) {
    for (const p of group.paths) {
      if (p !== weightsName && /^weights\.[0-9a-f]{16}\.bin$/.test(p)) await fs.rm(path.join(dir, p), { force: true });
    }
  }
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: 'JSON',
      modelTopologyBytes: JSON.stringify(artifacts.modelTopology ?? null).length,
      weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
      weightDataBytes: all.byteLength,
    },
  };
}

async function loadArtifacts(location: string): Promise<io.ModelArtifacts> {
  const { dir, modelJson } = resolveModelPath(location);
  let text: string;
  try {
    text = await fs.readFile(modelJson, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelFileError(modelJson, 'file not found', 'not_found');
    throw new ModelFileError(modelJson, `cannot be read (${code ?? String(err)})`);
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (err) {
    throw new ModelFileError(modelJson, `is not valid JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || json.modelTopology === undefined) {
    throw new ModelFileError(modelJson, 'has no "modelTopology": not a TensorFlow.js model file');
  }
  const specs: io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    const groupParts: Uint8Array[] = [];
    for (const rel of group.paths) {
      const file = path.resolve(dir, rel);
      const sharedName = sharedPath(rel);
      // The one way out of the directory: a content-addressed shared file in its parent, whose
      // integrity record must be present (checked below).
      if (sharedName && !json.seqlab?.files?.[rel]) throw new ModelFileError(modelJson, `shared weights "${rel}" have no integrity record`);
      if (!sharedName && path.relative(dir, file).startsWith('..')) {
        throw new ModelFileError(modelJson, `weights path "${rel}" points outside the model directory`);
      }
      let data: Uint8Array;
      try {
        data = new Uint8Array(await fs.readFile(file));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new ModelFileError(file, code === 'ENOENT' ? `weights file listed in ${MODEL_JSON} is missing` : `cannot be read (${code})`);
      }
      const record = json.seqlab?.files?.[rel];
      if (record) {
        if (data.byteLength !== record.bytes) {
          throw new ModelFileError(file, `is ${data.byteLength} bytes but ${MODEL_JSON} expects ${record.bytes} (truncated or replaced)`);
        }
        if (sha256(data) !== record.sha256) {
          throw new ModelFileError(file, `SHA-256 does not match ${MODEL_JSON} (corrupted or from another model)`);
        }
      }
      groupParts.push(data);
    }
    const groupBytes = groupParts.reduce((n, b) => n + b.byteLength, 0);
    const want = expectedBytes(group.weights);
    if (want !== undefined && groupBytes !== want) {
      throw new ModelFileError(
        path.resolve(dir, group.paths[group.paths.length - 1] ?? ''),
        `weights hold ${groupBytes} bytes but the manifest's ${group.weights.length} tensors need ${want} (truncated or mismatched)`,
      );
    }
    specs.push(...group.weights);
    parts.push(...groupParts);
  }
  const weightData = concatBytes(parts.length === 1 ? [parts[0]!.slice()] : parts);
  const artifacts: io.ModelArtifacts = {
    modelTopology: json.modelTopology as io.ModelArtifacts['modelTopology'],
    weightSpecs: specs,
    weightData: weightData.buffer as ArrayBuffer,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
  };
  if (json.trainingConfig) artifacts.trainingConfig = json.trainingConfig;
  if (json.signature) artifacts.signature = json.signature as object;
  if (json.userDefinedMetadata) artifacts.userDefinedMetadata = json.userDefinedMetadata as Record<string, object>;
  if (json.modelInitializer) artifacts.modelInitializer = json.modelInitializer as object;
  if (json.initializerSignature) artifacts.initializerSignature = json.initializerSignature as object;
  return artifacts;
}

/**
 * An IOHandler that saves and loads TensorFlow.js models in a directory (or at a `file://` URL)
 * without tfjs-node. Layout: `model.json` plus one content-addressed weights file (and, with
 * `sharedWeights`, large weights in `../shared.*.bin` files that sibling models reuse); loading
 * also reads the usual multi-shard layout written by the converter.
 */
export function fileSystem(location: string, options: { sharedWeights?: SharedWeightsOptions } = {}): io.IOHandler {
  return {
    save: (artifacts) => saveArtifacts(location, artifacts, options.sharedWeights),
    load: () => loadArtifacts(location),
  };
}

let routerRegistered = false;

/**
 * Lets `model.save('file://dir')` and `tf.loadLayersModel('file://dir/model.json')` work without
 * tfjs-node. Does nothing when another `file://` handler (tfjs-node's) is already registered.
 */
export function registerFileRouter(): void {
  if (routerRegistered) return;
  routerRegistered = true;
  const probe = 'file:///seqlab-probe';
  const taken = io.getSaveHandlers(probe).length > 0 || io.getLoadHandlers(probe).length > 0;
  if (taken) return;
  // Routers signal "not mine" with null, which the published IORouter type does not admit.
  const router = ((url: string | string[]) =>
    typeof url === 'string' && url.startsWith('file://') ? fileSystem(url) : null) as Parameters<typeof io.registerSaveRouter>[0];
  io.registerSaveRouter(router);
  io.registerLoadRouter(router);
}
