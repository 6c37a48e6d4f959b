import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BadInputError, ModelFileError, readModelConfig, writeFileAtomic, writeJsonAtomic, writeModelConfig } from '@seqlab/core';
import { EMBEDDING_DIM, topK, type SearchHit } from './similarity.js';

const TEXTS_FILE = 'texts.json';
const VECTORS_FILE = 'vectors.f32';

/** What a {@link SemanticIndex} needs from an encoder: unit-length vectors for texts. */
export interface TextEmbedder {
  /** Embeds texts into unit-length vectors of {@link EMBEDDING_DIM} floats. */
  embed(texts: string[]): Promise<Float32Array[]>;
}

/**
 * A brute-force cosine-similarity index over a corpus of sentences. Vectors live in one
 * contiguous JavaScript array, not in tensors, so an index holds no TensorFlow.js memory and
 * needs no disposal; a query is one dot product per corpus row (about 5 ms per 10,000
 * sentences), which is exact and fast enough below a few hundred thousand rows.
 *
 * @example
 * ```ts
 * const index = await new SemanticIndex(encoder).build(['The cat sat.', 'Stocks fell.']);
 * const [best] = await index.search('A kitten was sitting', 1);
 * ```
 */
export class SemanticIndex {
  private vectors = new Float32Array(0);
  private corpus: string[] = [];

  constructor(private readonly encoder: TextEmbedder) {}

  /** Number of indexed texts. */
  get size(): number {
    return this.corpus.length;
  }

  /** The indexed texts, in index order. */
  get texts(): readonly string[] {
    return this.corpus;
  }

  /** Replaces the index contents with `corpus` (embedded in batches). Returns `this`. */
  async build(corpus: string[]): Promise<this> {
    checkCorpus(corpus);
    this.corpus = [];
    this.vectors = new Float32Array(0);
    return this.add(corpus);
  }

  /** Appends texts to the index. Returns `this`. */
  async add(texts: string[]): Promise<this> {
    checkCorpus(texts);
    const vecs = await this.encoder.embed(texts);
    const grown = new Float32Array((this.corpus.length + texts.length) * EMBEDDING_DIM);
    grown.set(this.vectors);
    vecs.forEach((v, i) => grown.set(v, (this.corpus.length + i) * EMBEDDING_DIM));
    this.vectors = grown;
    this.corpus = [...this.corpus, ...texts];
    return this;
  }

  /** The `k` corpus texts most similar to `query`, highest cosine similarity first. */
  async search(query: string, k = 5): Promise<SearchHit[]> {
    if (typeof query !== 'string') throw new BadInputError(`search: query must be a string, got ${typeof query}`);
    const [q] = await this.encoder.embed([query]);
    return this.searchVector(q!, k);
  }

  /** Like {@link search} for a query that is already a unit-length vector. */
  searchVector(query: Float32Array, k = 5): SearchHit[] {
    if (!Number.isInteger(k) || k < 1) throw new BadInputError(`search: k must be a positive integer, got ${k}`);
    if (query.length !== EMBEDDING_DIM) throw new BadInputError(`search: query vector has ${query.length} values, expected ${EMBEDDING_DIM}`);
    if (this.corpus.length === 0) throw new BadInputError('search: the index is empty; call build(corpus) first');
    const n = this.corpus.length;
    const scores = new Float32Array(n);
    const m = this.vectors;
    for (let r = 0; r < n; r++) {
      let dot = 0;
      const off = r * EMBEDDING_DIM;
      for (let j = 0; j < EMBEDDING_DIM; j++) dot += m[off + j]! * query[j]!;
      scores[r] = dot;
    }
    return topK(scores, k).map(({ index, score }) => ({ index, text: this.corpus[index]!, score }));
  }

  /**
   * Saves the index to `dir`: the texts, their vectors (float32, little-endian, row after row)
   * and a config.json (task `embedding`, kind `semantic-index`) written last.
   */
  async save(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    const bytes = new Uint8Array(this.vectors.buffer, this.vectors.byteOffset, this.vectors.byteLength);
    await writeFileAtomic(path.join(dir, VECTORS_FILE), bytes);
    await writeJsonAtomic(path.join(dir, TEXTS_FILE), this.corpus);
    await writeModelConfig(dir, { task: 'embedding', kind: 'semantic-index' }, { encoder: 'use-lite', dim: EMBEDDING_DIM, size: this.corpus.length, texts: TEXTS_FILE, vectors: VECTORS_FILE });
  }

  /** Loads an index saved by {@link save}; queries are embedded with `encoder`. */
  static async load(dir: string, encoder: TextEmbedder): Promise<SemanticIndex> {
    const config = await readModelConfig(dir);
    const configFile = path.join(dir, 'config.json');
    if (config.task !== 'embedding' || config.kind !== 'semantic-index') throw new ModelFileError(configFile, `is a ${config.task}/${config.kind} model, not a semantic index`);
    if (config.dim !== EMBEDDING_DIM) throw new ModelFileError(configFile, `vectors have ${String(config.dim)} dimensions, expected ${EMBEDDING_DIM}`);
    const textsFile = path.join(dir, TEXTS_FILE);
    let texts: unknown;
    try {
      texts = JSON.parse(await fs.readFile(textsFile, 'utf8'));
    } catch (err) {
      throw new ModelFileError(textsFile, `cannot be read (${(err as Error).message})`);
    }
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new ModelFileError(textsFile, 'must be a JSON array of strings');
    const vectorsFile = path.join(dir, VECTORS_FILE);
    let raw: Buffer;
    try {
      raw = await fs.readFile(vectorsFile);
    } catch (err) {
      throw new ModelFileError(vectorsFile, `cannot be read (${(err as Error).message})`);
    }
    if (raw.byteLength !== texts.length * EMBEDDING_DIM * 4) {
      throw new ModelFileError(vectorsFile, `holds ${raw.byteLength} bytes, expected ${texts.length} x ${EMBEDDING_DIM} float32 = ${texts.length * EMBEDDING_DIM * 4}`);
    }
    const index = new SemanticIndex(encoder);
    index.corpus = texts as string[];
    const vectors = new Float32Array(texts.length * EMBEDDING_DIM);
    new Uint8Array(vectors.buffer).set(raw);
    index.vectors = vectors;
    return index;
  }

  /** The stored vector of corpus entry `i` (a copy). */
  vector(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.corpus.length) throw new BadInputError(`vector: index ${i} is outside 0..${this.corpus.length - 1}`);
    return this.vectors.slice(i * EMBEDDING_DIM, (i + 1) * EMBEDDING_DIM);
  }
}

function checkCorpus(corpus: unknown): asserts corpus is string[] {
  if (!Array.isArray(corpus)) throw new BadInputError(`corpus must be an array of strings, got ${typeof corpus}`);
  corpus.forEach((t, i) => {
    if (typeof t !== 'string') throw new BadInputError(`corpus[${i}] must be a string, got ${typeof t}`);
  });
}
