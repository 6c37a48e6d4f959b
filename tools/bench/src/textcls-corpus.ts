/**
 * A seeded generator of a labelled two-class corpus shaped like movie reviews, for timing the
 * linear text classifiers on "people's data" sizes without shipping 25,000 reviews:
 *
 * - lengths lognormal with median about 190 words and 10% past about 500 (IMDB's shape: median 191
 *   tokens, p90 504), never under 8 words;
 * - a Zipfian vocabulary (exponent 1.05) of 50,000 made-up words, plus a few hundred stock
 *   phrases of 2-4 words so that bigrams repeat as they do in real text;
 * - the label is carried by 300 class-leaning words per class, drawn from the mid-frequency
 *   band, that a document of its class uses a little more often than the other class does;
 *   both classes use both lists, and 4% of labels are flipped, so TF-IDF logistic regression
 *   lands near 90% rather than 100%.
 *
 *   npx tsx --conditions=@seqlab/source tools/bench/src/textcls-corpus.ts -- --out FILE [--docs 25000] [--seed 1]
 *
 * writes a TSV with a `text\tlabel` header (labels `pos` / `neg`).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '@seqlab/core';

/** Options of {@link generateTextClassificationCorpus}. */
export interface TextClassificationCorpusOptions {
  /** Number of documents. Default 25,000. */
  docs?: number;
  /** Default 1. */
  seed?: number;
  /** Vocabulary size. Default 50,000. */
  vocabulary?: number;
  /** Class-leaning words per class. Default 300. */
  leaningWords?: number;
}

const SYLLABLES = ['ka', 'ro', 'mi', 'ten', 'sa', 'lu', 'ver', 'no', 'di', 'pra', 'el', 'ous', 'ing', 'ta', 'be', 'chi', 'mon', 'za', 'qui', 'ly', 'sto', 'ne', 'ar', 'fi'];

/** Distinct made-up words, short ones first (frequent words are short in real text). */
function makeWords(n: number, rng: SeededRandom): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  while (words.length < n) {
    const syllables = 1 + Math.min(4, Math.floor(Math.log2(2 + words.length) / 4) + rng.int(2));
    let w = '';
    for (let s = 0; s < syllables; s++) w += SYLLABLES[rng.int(SYLLABLES.length)];
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return words;
}

/** Cumulative Zipf(s) weights of ranks 1..n. */
function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) cdf[r] = total += 1 / Math.pow(r + 1, s);
  for (let r = 0; r < n; r++) cdf[r]! /= total;
  return cdf;
}

function draw(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Generates the corpus one document at a time (`{ text, label }`), deterministic in `seed`.
 */
export function* generateTextClassificationCorpus(options: TextClassificationCorpusOptions = {}): Generator<{ text: string; label: 'pos' | 'neg' }> {
  const docs = options.docs ?? 25_000;
  const rng = new SeededRandom(`textcls-corpus:${options.seed ?? 1}`);
  const words = makeWords(options.vocabulary ?? 50_000, rng);
  const cdf = zipfCdf(words.length, 1.05);
  const leaning = options.leaningWords ?? 300;
  // Each class leans on its own mid-frequency words (ranks 150 to 6,000), Zipfian among themselves.
  const band = rng.permutation(6_000 - 150).map((i) => i + 150);
  const lean = [Array.from(band.subarray(0, leaning)), Array.from(band.subarray(leaning, 2 * leaning))];
  const leanCdf = zipfCdf(leaning, 0.8);
  const phrases = Array.from({ length: 400 }, () => Array.from({ length: 2 + rng.int(3) }, () => words[draw(cdf, rng.next() * 0.6)]!).join(' '));
  for (let d = 0; d < docs; d++) {
    const y = rng.int(2);
    const length = Math.max(8, Math.round(178 * Math.exp(0.76 * rng.normal())));
    // How strongly this document leans varies (some reviews are lukewarm).
    const strength = 0.025 + 0.04 * rng.next();
    const out: string[] = [];
    while (out.length < length) {
      const u = rng.next();
      if (u < strength) out.push(words[lean[y]![draw(leanCdf, rng.next())]!]!);
      else if (u < strength + 0.01) out.push(words[lean[1 - y]![draw(leanCdf, rng.next())]!]!);
      else if (u < strength + 0.05) out.push(phrases[rng.int(phrases.length)]!);
      else out.push(words[draw(cdf, rng.next())]!);
    }
    const flipped = rng.next() < 0.04 ? 1 - y : y;
    yield { text: out.join(' '), label: flipped === 1 ? 'pos' : 'neg' };
  }
}

/** Writes the corpus as a `text\tlabel` TSV. */
export async function writeTextClassificationCorpus(file: string, options: TextClassificationCorpusOptions = {}): Promise<void> {
  const stream = createWriteStream(file);
  stream.write('text\tlabel\n');
  for (const { text, label } of generateTextClassificationCorpus(options)) {
    if (!stream.write(`${text}\t${label}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const out = value('out');
  if (!out) throw new Error('textcls-corpus: --out FILE is required');
  await writeTextClassificationCorpus(out, { docs: Number(value('docs') ?? 25_000), seed: Number(value('seed') ?? 1) });
  console.log(`wrote ${out}`);
}
