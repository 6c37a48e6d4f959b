import seedrandom from 'seedrandom';
import { BadInputError } from './errors.js';

const originalRandom = Math.random;

/**
 * Makes TensorFlow.js reproducible: initializers, dropout masks and random ops that are not
 * given a seed draw their seed from `Math.random`, so seeding it seeds them all. Pass
 * `undefined` to restore the unseeded generator.
 */
export function setGlobalSeed(seed: number | string | undefined): void {
  if (seed === undefined) {
    Math.random = originalRandom;
    return;
  }
  const rng = seedrandom.alea(String(seed));
  Math.random = () => rng();
}

/** Where a {@link SeededRandom} is in its stream (the alea generator's four numbers). */
export interface SeededRandomState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

/**
 * A small seeded generator for data work (shuffling, sampling) that must not depend on, or
 * disturb, the global stream.
 */
export class SeededRandom {
  private rng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;

  constructor(seed: number | string) {
    // `state: true` only adds state(): the stream is the same as without it.
    this.rng = seedrandom.alea(String(seed), { state: true });
  }

  /**
   * The generator's position in its stream, as plain JSON: a checkpoint stores it so that a
   * resumed training draws what the uninterrupted one would have drawn.
   */
  state(): SeededRandomState {
    return { ...this.rng.state() };
  }

  /**
   * A generator that continues from a {@link state}.
   *
   * @throws BadInputError when `state` is not one `state()` returned.
   */
  static fromState(state: SeededRandomState): SeededRandom {
    const s = state as Partial<Record<'c' | 's0' | 's1' | 's2', unknown>> | null;
    if (s === null || typeof s !== 'object' || !(['c', 's0', 's1', 's2'] as const).every((k) => typeof s[k] === 'number')) {
      throw new BadInputError(`SeededRandom.fromState: expected the { c, s0, s1, s2 } that state() returns, got ${JSON.stringify(state)}`);
    }
    const random = new SeededRandom(0);
    random.rng = seedrandom.alea('', { state: { ...state } });
    return random;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.rng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new BadInputError(`SeededRandom.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.rng() * n);
  }

  /** Standard normal draw (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.rng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng());
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }

  /** A shuffled permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
