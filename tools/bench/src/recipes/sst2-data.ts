import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@seqlab/core';
import type { SentenceEncoder } from '@seqlab/embeddings';
import { EMBEDDING_DIM } from '@seqlab/embeddings';
import { REPO_ROOT } from '../lib/report.js';

const CACHE_DIR = path.join(REPO_ROOT, 'results', 'tmp', 'sst2-use');

function digest(texts: string[]): string {
  const h = createHash('sha256');
  for (const t of texts) h.update(t).update('\n');
  return h.digest('hex');
}

/**
 * USE embeddings of a split, computed once and kept in `results/tmp/sst2-use/` (git-ignored):
 * a raw float32 matrix plus a JSON record of the sentences' digest, so a changed dataset or
 * model is recomputed rather than silently reused.
 */
export async function cachedEmbeddings(encoder: SentenceEncoder, name: string, sentences: string[], log: (msg: string) => void): Promise<Float32Array> {
  const bin = path.join(CACHE_DIR, `${name}.f32`);
  const meta = path.join(CACHE_DIR, `${name}.json`);
  const want = { count: sentences.length, dim: EMBEDDING_DIM, sentences: digest(sentences), model: encoder.source.verified ? 'use-lite-verified' : encoder.source.location };
  try {
    const got = JSON.parse(await fs.readFile(meta, 'utf8')) as typeof want;
    if (JSON.stringify(got) === JSON.stringify(want)) {
      const buf = await fs.readFile(bin);
      if (buf.byteLength === sentences.length * EMBEDDING_DIM * 4) {
        log(`${name}: ${sentences.length} embeddings from cache ${path.relative(REPO_ROOT, bin)}`);
        return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
      }
    }
  } catch {
    /* no cache yet */
  }
  const t0 = performance.now();
  let last = 0;
  const vecs = await encoder.embed(sentences, {
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - last > 15_000 || done === total) {
        last = now;
        const rate = done / ((now - t0) / 1000);
        log(`${name}: embedded ${done}/${total} (${rate.toFixed(0)} sentences/s)`);
      }
    },
  });
  const flat = new Float32Array(sentences.length * EMBEDDING_DIM);
  vecs.forEach((v, i) => flat.set(v, i * EMBEDDING_DIM));
  await writeFileAtomic(bin, new Uint8Array(flat.buffer));
  await writeJsonAtomic(meta, want);
  log(`${name}: ${sentences.length} embeddings in ${((performance.now() - t0) / 1000).toFixed(1)} s, cached`);
  return flat;
}
