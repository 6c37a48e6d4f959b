import { RnnArgumentError } from '../errors.js';

/** Which tokens a model keeps from a text longer than its length. */
export type TruncationStrategy = 'head' | 'tail' | 'head+tail';

/** Every {@link TruncationStrategy}. */
export const TRUNCATION_STRATEGIES: readonly TruncationStrategy[] = Object.freeze(['head', 'tail', 'head+tail']);

/** How a classifier reads texts longer than its length. */
export type LongTextMode = 'truncate' | 'chunks';

/** Every {@link LongTextMode}. */
export const LONG_TEXT_MODES: readonly LongTextMode[] = Object.freeze(['truncate', 'chunks']);

/** Token-length statistics of a set of texts (stored in a classifier's config.json). */
export interface LengthStats {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** Statistics of token counts (one per text). */
export function lengthStats(lengths: ArrayLike<number>): LengthStats {
  const n = lengths.length;
  if (n === 0) throw new RnnArgumentError('lengthStats: no texts');
  const sorted = Float64Array.from(lengths).sort();
  // Nearest-rank percentile: a length that some text really has.
  const pct = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return { count: n, mean: sum / n, p50: pct(50), p90: pct(90), p95: pct(95), p99: pct(99), max: sorted[n - 1]! };
}

/**
 * The model length to use when none is given: the 90th percentile of the training texts' token
 * counts (so nine texts in ten are read whole), at least `min` and at most `max` (recurrent
 * training time grows linearly with it; longer texts are cut head+tail or read in chunks).
 */
export function defaultMaxLength(stats: LengthStats, options: { min?: number; max?: number } = {}): number {
  const min = options.min ?? 16;
  const max = options.max ?? 256;
  return Math.max(min, Math.min(max, Math.ceil(stats.p90)));
}

/**
 * The positions of a `length`-token text that a model of length `maxLength` keeps. `head+tail`
 * keeps the first quarter and the last three quarters of the budget: conclusions ("... a waste of
 * time.") sit at the end of reviews and the topic at the start, and Sun et al. (2019) found a
 * tail-heavy split best for long documents.
 */
export function keptPositions(length: number, maxLength: number, strategy: TruncationStrategy): number[] {
  const out: number[] = [];
  for (const [from, to] of keptRanges(length, maxLength, strategy)) for (let p = from; p < to; p++) out.push(p);
  return out;
}

/** {@link keptPositions} as at most two `[from, to)` ranges, for copying rows in blocks. */
export function keptRanges(length: number, maxLength: number, strategy: TruncationStrategy): Array<[number, number]> {
  if (length <= maxLength) return [[0, length]];
  if (strategy === 'head') return [[0, maxLength]];
  if (strategy === 'tail') return [[length - maxLength, length]];
  const head = Math.floor(maxLength / 4);
  return [
    [0, head],
    [length - (maxLength - head), length],
  ];
}

/**
 * Start offsets of the windows that cover a `length`-token text in windows of `maxLength`
 * tokens: back to back, the last one aligned to the end (so every window is full).
 */
export function chunkStarts(length: number, maxLength: number): number[] {
  if (length <= maxLength) return [0];
  const starts: number[] = [];
  for (let s = 0; s + maxLength < length; s += maxLength) starts.push(s);
  starts.push(length - maxLength);
  return starts;
}
