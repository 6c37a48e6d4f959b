import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BadInputError, writeFileAtomic, writeJsonAtomic } from '@seqlab/core';
import type { EmbedOptions, SentenceEncoder } from './encoder.js';
import { EMBEDDING_DIM } from './similarity.js';

/** What a cache entry records beside its vectors: a changed text set or model is embedded again, never reused. */
interface CacheRecord {
  count: number;
  dim: number;
  texts: string;
  model: string;
}

function digestOf(texts: readonly string[]): string {
  const h = createHash('sha256');
  for (const t of texts) h.update(t).update('\n');
  return h.digest('hex');
}

/**
 * Sentence vectors of a text set, kept in `dir` across runs and processes: one raw float32 file
 * per text set (`<digest>.f32`) and a record of its texts' digest and the model, so a changed set
 * or model is embedded again rather than silently reused. A hit reads the file and also fills the
 * encoder's in-memory cache ({@link SentenceEncoder.remember}), so the fits that follow embed
 * nothing; a miss embeds through the encoder and writes the files atomically.
 *
 * Embedding tens of thousands of texts with USE-lite on wasm takes most of an hour; this is what
 * lets several `use`/`hybrid` settings, or a rerun, pay for it once.
 */
export async function embedWithFileCache(encoder: SentenceEncoder, texts: readonly string[], dir: string, options: EmbedOptions = {}): Promise<{ vectors: Float32Array[]; cached: boolean; file: string }> {
  if (typeof dir !== 'string' || dir === '') throw new BadInputError(`embedWithFileCache: dir must be a folder path, got ${JSON.stringify(dir)}`);
  const digest = digestOf(texts);
  const want: CacheRecord = { count: texts.length, dim: EMBEDDING_DIM, texts: digest, model: encoder.source.verified ? 'use-lite-verified' : encoder.source.location };
  const base = path.join(dir, digest.slice(0, 24));
  const file = `${base}.f32`;
  const hit = await readEntry(base, want);
  if (hit) {
    encoder.remember(texts, hit);
    return { vectors: hit, cached: true, file };
  }
  const vectors = await encoder.embed([...texts], options);
  const flat = new Float32Array(texts.length * EMBEDDING_DIM);
  vectors.forEach((v, i) => flat.set(v, i * EMBEDDING_DIM));
  await fs.mkdir(dir, { recursive: true });
  // Vectors first, record last: a crash between them leaves an entry that is not trusted.
  await writeFileAtomic(file, new Uint8Array(flat.buffer));
  await writeJsonAtomic(`${base}.json`, want);
  return { vectors, cached: false, file };
}

async function readEntry(base: string, want: CacheRecord): Promise<Float32Array[] | undefined> {
  let record: unknown;
  try {
    record = JSON.parse(await fs.readFile(`${base}.json`, 'utf8'));
  } catch {
    return undefined;
  }
  if (JSON.stringify(record) !== JSON.stringify(want)) return undefined;
  const buf = await fs.readFile(`${base}.f32`).catch(() => undefined);
  if (!buf || buf.byteLength !== want.count * want.dim * 4) return undefined;
  const flat = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return Array.from({ length: want.count }, (_, i) => flat.slice(i * want.dim, (i + 1) * want.dim));
}
