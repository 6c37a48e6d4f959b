import path from 'node:path';
import { nameModelInError, readModelConfig, type Pipeline } from '@seqlab/core';
import { loadEncoder, type SentenceEncoder } from './encoder.js';
import { SemanticIndex } from './semantic-index.js';
import { cosine, type SearchHit } from './similarity.js';

/** Similarity of each candidate to a query, and the candidates ranked by it. */
export interface SimilarityResult {
  query: string;
  scores: Array<{ text: string; score: number }>;
  ranking: string[];
}

/**
 * The embedding task: sentence vectors from the Universal Sentence Encoder (kind `use-lite`),
 * cosine similarity, and a semantic index that can be built, searched, saved and loaded
 * (kind `semantic-index`).
 */
export class EmbeddingPipeline implements Pipeline {
  readonly task = 'embedding' as const;
  private disposed = false;

  constructor(
    readonly encoder: SentenceEncoder,
    /** The index searched by {@link search}; empty until {@link index} or a saved index is loaded. */
    public semanticIndex: SemanticIndex,
    readonly name: string,
    private readonly ownsEncoder: boolean,
  ) {}

  /** `semantic-index` when an index is loaded or built, else `use-lite`. */
  get kind(): 'use-lite' | 'semantic-index' {
    return this.semanticIndex.size > 0 ? 'semantic-index' : 'use-lite';
  }

  /** Unit-length 512-float vectors, one per text. */
  embed(texts: string[]): Promise<Float32Array[]> {
    return this.encoder.embed(texts);
  }

  /** Cosine similarity of each candidate to `query`, and the candidates ranked best first. */
  async similarity(query: string, candidates: string[]): Promise<SimilarityResult> {
    const [q, ...c] = await this.encoder.embed([query, ...candidates]);
    const scores = c.map((v, i) => ({ text: candidates[i]!, score: cosine(q!, v) }));
    return { query, scores, ranking: [...scores].sort((a, b) => b.score - a.score).map((s) => s.text) };
  }

  /** Replaces the index with `corpus`. */
  async index(corpus: string[]): Promise<this> {
    await this.semanticIndex.build(corpus);
    return this;
  }

  /** The `k` indexed texts most similar to `query`. */
  search(query: string, k = 5): Promise<SearchHit[]> {
    return this.semanticIndex.search(query, k);
  }

  /** Saves the semantic index (texts and vectors) so `pipeline('embedding', dir)` loads it back. */
  async save(dir: string): Promise<void> {
    await this.semanticIndex.save(dir);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsEncoder) this.encoder.dispose();
  }
}

/**
 * Loads the embedding task: the installed encoder, and the semantic index saved in `dir` when
 * one is given.
 */
export async function loadEmbeddingPipeline(dir?: string, options: { name?: string; encoder?: SentenceEncoder } = {}): Promise<EmbeddingPipeline> {
  const name = options.name ?? (dir ? path.basename(path.resolve(dir)) : 'use-lite');
  const encoder = options.encoder ?? (await loadEncoder());
  try {
    let index = new SemanticIndex(encoder);
    if (dir !== undefined) {
      await readModelConfig(dir);
      index = await SemanticIndex.load(dir, encoder);
    }
    return new EmbeddingPipeline(encoder, index, name, options.encoder === undefined);
  } catch (err) {
    if (options.encoder === undefined) encoder.dispose();
    throw dir ? nameModelInError(err, dir, name) : err;
  }
}
