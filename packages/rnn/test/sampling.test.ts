import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { TextGenerator, applyRepetitionPenalty, drawIndex, samplingDistribution, type Stepper, type TokenCodec } from '../src/index.js';
import { setupBackend } from './helpers.js';

beforeAll(setupBackend);

describe('sampling distribution', () => {
  const logits = Float32Array.from([2.0, 1.0, 0.5, 3.0, -1.0, 0.0]);

  it('top-k never samples outside the k most likely tokens', () => {
    const probs = samplingDistribution(logits, { topK: 2 });
    expect(Array.from(probs, (p) => p > 0)).toEqual([true, false, false, true, false, false]);
    const rng = new SeededRandom(1);
    for (let i = 0; i < 2000; i++) expect([0, 3]).toContain(drawIndex(probs, rng.next()));
  });

  it('top-p keeps the smallest most-likely set whose mass reaches p, renormalised', () => {
    const full = samplingDistribution(logits, {});
    const order = Array.from(full.keys()).sort((a, b) => full[b]! - full[a]!);
    for (const p of [0.3, 0.6, 0.8, 0.95, 0.999]) {
      const probs = samplingDistribution(logits, { topP: p });
      const kept = order.filter((i) => probs[i]! > 0);
      // The kept set is a prefix of the sorted order ...
      expect(kept).toEqual(order.slice(0, kept.length));
      // ... whose original mass reaches p while the prefix one shorter does not.
      const mass = (n: number) => order.slice(0, n).reduce((s, i) => s + full[i]!, 0);
      expect(mass(kept.length)).toBeGreaterThanOrEqual(p - 1e-9);
      expect(mass(kept.length - 1)).toBeLessThan(p);
      expect(probs.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 10);
    }
  });

  it('sampled frequencies follow the temperature-scaled softmax', () => {
    const probs = samplingDistribution(logits, { temperature: 0.7 });
    const rng = new SeededRandom(2);
    const counts = new Array<number>(logits.length).fill(0);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[drawIndex(probs, rng.next())]!++;
    counts.forEach((c, i) => expect(Math.abs(c / n - probs[i]!)).toBeLessThan(0.015));
  });

  it('temperature 0 is greedy; repetition penalty pushes seen tokens down', () => {
    expect(Array.from(samplingDistribution(logits, { temperature: 0 }))).toEqual([0, 0, 0, 1, 0, 0]);
    const l = Float32Array.from(logits);
    applyRepetitionPenalty(l, [3, 4], 2);
    expect(l[3]).toBeCloseTo(1.5);
    expect(l[4]).toBeCloseTo(-2);
    expect(l[0]).toBe(2);
  });
});

/**
 * A hand-built model over tokens {0: 'a', 1: 'b', 2: 'c'}: next-token log-probabilities depend
 * only on the previous token (a first-order Markov chain); the state is unused.
 */
const TABLE = [
  [Math.log(0.1), Math.log(0.5), Math.log(0.4)], // after a
  [Math.log(0.34), Math.log(0.33), Math.log(0.33)], // after b: flat, so greedy's first pick leads nowhere good
  [Math.log(0.05), Math.log(0.05), Math.log(0.9)], // after c: c is very likely
];
class MarkovStepper implements Stepper {
  readonly vocabSize = 3;
  initialState(rows: number): tf.Tensor[] {
    return [tf.zeros([rows, 1])];
  }
  step(tokens: number[][], state: tf.Tensor[]) {
    return {
      logits: tokens.map((row) => Float32Array.from(TABLE[row[row.length - 1]!]!)),
      state: state.map((s) => tf.clone(s)),
    };
  }
  dispose(): void {}
}
const codec: TokenCodec = {
  encode: (t) => Array.from(t, (ch) => 'abc'.indexOf(ch)),
  decode: (ids) => Array.from(ids, (i) => 'abc'[i]).join(''),
};

describe('beam search', () => {
  it('finds the most likely sequence of a hand-built model where greedy does not', async () => {
    const gen = new TextGenerator(new MarkovStepper(), codec);
    const len = 4;
    // Brute force over all 3^4 continuations of 'a'.
    let best = '';
    let bestLogp = -Infinity;
    for (let n = 0; n < 3 ** len; n++) {
      let prev = 0;
      let logp = 0;
      let s = '';
      for (let k = 0, m = n; k < len; k++, m = Math.floor(m / 3)) {
        const t = m % 3;
        logp += TABLE[prev]![t]!;
        prev = t;
        s += 'abc'[t];
      }
      if (logp > bestLogp) {
        bestLogp = logp;
        best = s;
      }
    }
    const greedy = await gen.generate('a', { maxTokens: len, temperature: 0 });
    const beam = await gen.generate('a', { maxTokens: len, beam: 3 });
    expect(best).toBe('cccc');
    expect(greedy.text).not.toBe(best);
    expect(beam.text).toBe(best);
    expect(beam.tokens).toBe(len);
  });

  it('honours stop sequences and leaks no tensors', async () => {
    const gen = new TextGenerator(new MarkovStepper(), codec);
    await expectNoLeakedTensors(async () => {
      const r = await gen.generate('a', { maxTokens: 10, beam: 2, stop: ['cc'] });
      expect(r.finishReason).toBe('stop');
      expect(r.text).not.toContain('cc');
      const s = await gen.generate('a', { maxTokens: 30, temperature: 1, seed: 3, stop: ['ba'] });
      expect(s.text).not.toContain('ba');
    });
  });
});
