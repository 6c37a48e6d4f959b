import { RnnArgumentError } from '../errors.js';

/** Options that shape the next-token distribution. */
export interface SamplingOptions {
  /** Softmax temperature; 0 means greedy (arg-max). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability mass reaches p (nucleus). */
  topP?: number;
  /**
   * Divide positive logits (multiply negative ones) of tokens already in the context by this
   * factor (> 1 discourages repeats; Keskar et al. 2019). Default 1 (off).
   */
  repetitionPenalty?: number;
}

/** Checks sampling options and fills defaults. */
export function resolveSampling(o: SamplingOptions): Required<SamplingOptions> {
  const temperature = o.temperature ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new RnnArgumentError(`temperature must be >= 0, got ${String(o.temperature)}`);
  const topK = o.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw new RnnArgumentError(`topK must be a non-negative integer, got ${String(o.topK)}`);
  const topP = o.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new RnnArgumentError(`topP must be in (0, 1], got ${String(o.topP)}`);
  const repetitionPenalty = o.repetitionPenalty ?? 1;
  if (!(repetitionPenalty > 0) || !Number.isFinite(repetitionPenalty)) {
    throw new RnnArgumentError(`repetitionPenalty must be a positive number, got ${String(o.repetitionPenalty)}`);
  }
  return { temperature, topK, topP, repetitionPenalty };
}

/** Applies the repetition penalty in place to the logits of tokens seen in `context`. */
export function applyRepetitionPenalty(logits: Float32Array, context: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  const seen = new Set(context);
  for (const id of seen) {
    if (id < 0 || id >= logits.length) continue;
    const v = logits[id]!;
    logits[id] = v > 0 ? v / penalty : v * penalty;
  }
}

/**
 * The distribution actually sampled from: logits after temperature, top-k and top-p, as
 * probabilities (tokens cut away get exactly 0). With temperature 0 all mass is on the arg-max.
 */
export function samplingDistribution(logits: ArrayLike<number>, options: SamplingOptions): Float64Array {
  const { temperature, topK, topP } = resolveSampling(options);
  const n = logits.length;
  const probs = new Float64Array(n);
  if (n === 0) return probs;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i;
    probs[best] = 1;
    return probs;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.exp((logits[i]! - max) / temperature);
    probs[i] = p;
    sum += p;
  }
  for (let i = 0; i < n; i++) probs[i]! /= sum;
  if ((topK > 0 && topK < n) || topP < 1) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]! || a - b);
    let keep = topK > 0 ? Math.min(topK, n) : n;
    if (topP < 1) {
      let mass = 0;
      let count = 0;
      for (const id of order.slice(0, keep)) {
        mass += probs[id]!;
        count++;
        // Stop as soon as the kept mass reaches p (with float slack so p = exact mass counts).
        if (mass >= topP - 1e-12) break;
      }
      keep = count;
    }
    const kept = new Set(order.slice(0, keep));
    let keptMass = 0;
    for (let i = 0; i < n; i++) {
      if (kept.has(i)) keptMass += probs[i]!;
      else probs[i] = 0;
    }
    for (const i of kept) probs[i]! /= keptMass;
  }
  return probs;
}

/** Draws an index from a probability vector with a uniform number `u` in [0, 1). */
export function drawIndex(probs: ArrayLike<number>, u: number): number {
  let acc = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (p <= 0) continue;
    last = i;
    acc += p;
    if (u < acc) return i;
  }
  return last; // rounding left u just above the total mass
}
