import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, EarlyStopping, fit, initBackend, LoopCheckpoint, SeededRandom, type Callback, type TrainingLoop } from '../src/index.js';
import { expectNoLeakedTensors } from '../src/testing.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'seqlab-checkpoint-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/**
 * A real two-weight regression y = 3x - 1 trained by Adam on batches shuffled by a seeded stream,
 * checkpointed into `dir`; `stopAfter` aborts it once that many epochs have ended.
 */
async function train(dir: string, options: { resume?: boolean; stopAfter?: number; epochs?: number } = {}) {
  const data = new SeededRandom(7);
  const xs = Array.from({ length: 96 }, () => data.next() * 2 - 1);
  const ys = xs.map((x) => 3 * x - 1 + (data.next() - 0.5) * 0.2);
  const params = tf.tidy(() => ({ w: tf.variable(tf.scalar(0)), b: tf.variable(tf.scalar(0)) }));
  const optimizer = tf.train.adam(0.05);
  let rng = new SeededRandom(1);
  const checkpoint = new LoopCheckpoint({ dir, variables: () => params, optimizer, extra: () => ({ rng: rng.state() }) });
  const controller = new AbortController();
  try {
    const resumed = options.resume ? await checkpoint.restore() : undefined;
    if (resumed) rng = SeededRandom.fromState(resumed.state.extra.rng as never);
    const lossOf = (x: number[], y: number[]) => tf.mean(tf.square(tf.sub(tf.add(tf.mul(tf.tensor1d(x), params.w), params.b), tf.tensor1d(y)))) as tf.Scalar;
    const loop: TrainingLoop<number[]> = {
      *batches() {
        const order = Array.from(rng.permutation(xs.length));
        for (let s = 0; s < order.length; s += 16) yield order.slice(s, s + 16);
      },
      batchesPerEpoch: 6,
      trainBatch: (batch) => {
        const loss = optimizer.minimize(() => lossOf(batch.map((i) => xs[i]!), batch.map((i) => ys[i]!)), true, [params.w, params.b])!;
        const value = loss.dataSync()[0]!;
        loss.dispose();
        return { loss: value };
      },
      validate: () => {
        const loss = tf.tidy(() => lossOf(xs.slice(0, 32), ys.slice(0, 32)));
        const value = loss.dataSync()[0]!;
        loss.dispose();
        return { val_loss: value };
      },
      weights: { get: () => [params.w.clone(), params.b.clone()], set: (w) => [params.w, params.b].forEach((v, i) => v.assign(w[i] as tf.Scalar)) },
      optimizer: optimizer as unknown as { learningRate: number },
    };
    const stopping = new EarlyStopping({ patience: 50 });
    await checkpoint.track(stopping, resumed);
    const stopper: Callback = { onEpochEnd: (_l, ctx) => void (ctx.epoch + 1 === options.stopAfter && controller.abort()) };
    const result = await fit(loop, { epochs: options.epochs ?? 8, callbacks: [stopping, stopper, checkpoint], signal: controller.signal, ...resumed?.fit });
    return { result, w: params.w.dataSync()[0]!, b: params.b.dataSync()[0]!, resumedFrom: resumed?.state.epoch };
  } finally {
    checkpoint.dispose();
    optimizer.dispose();
    tf.dispose(Object.values(params));
  }
}

describe('LoopCheckpoint', () => {
  it('a run aborted after epoch 3 and resumed ends where the uninterrupted run ends (weights, Adam state, seed stream)', async () => {
    const whole = await train(path.join(tmp, 'whole'));
    const dir = path.join(tmp, 'cut');
    await expect(train(dir, { stopAfter: 3 })).rejects.toThrow(CancelledError);
    expect((await LoopCheckpoint.read(dir))?.epoch).toBe(3);
    const resumed = await expectNoLeakedTensors(() => train(dir, { resume: true }));
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.result.history.map((h) => h.epoch)).toEqual(whole.result.history.map((h) => h.epoch));
    expect(resumed.w).toBeCloseTo(whole.w, 5);
    expect(resumed.b).toBeCloseTo(whole.b, 5);
    // Adam's bias correction comes back as beta^(t+1), not the product of t float32 steps: equal to ~1e-6.
    expect(resumed.result.history.at(-1)!.loss).toBeCloseTo(whole.result.history.at(-1)!.loss as number, 5);
    expect(whole.result.history.at(-1)!.loss).toBeLessThan(whole.result.history[0]!.loss / 2);
  });

  it('resume without a checkpoint starts afresh; a finished run resumed trains no further', async () => {
    const dir = path.join(tmp, 'fresh');
    const first = await train(dir, { resume: true, epochs: 4 });
    expect(first.resumedFrom).toBeUndefined();
    expect(existsSync(path.join(dir, 'last', 'model.json'))).toBe(true);
    const again = await train(dir, { resume: true, epochs: 4 });
    expect(again.resumedFrom).toBe(4);
    expect(again.result.history).toHaveLength(4);
    expect(again.w).toBeCloseTo(first.w, 6);
  });

  it("refuses another model's checkpoint, naming the variable", async () => {
    const dir = path.join(tmp, 'other');
    await train(dir, { epochs: 1 });
    const v = tf.tidy(() => tf.variable(tf.zeros([2])));
    try {
      await expect(new LoopCheckpoint({ dir, variables: () => ({ w: v }) }).restore()).rejects.toThrow(/variable "w" has shape \[\], the model's is \[2\]/);
      await expect(new LoopCheckpoint({ dir, variables: () => ({ z: v }) }).restore()).rejects.toThrow(/no variable "z"/);
    } finally {
      v.dispose();
    }
  });

  it('SeededRandom continues from its state', () => {
    const a = new SeededRandom(3);
    a.next();
    const b = SeededRandom.fromState(a.state());
    expect([a.next(), a.int(100), Array.from(a.permutation(5))]).toEqual([b.next(), b.int(100), Array.from(b.permutation(5))]);
    expect(() => SeededRandom.fromState({ c: 1 } as never)).toThrow(/expected the \{ c, s0, s1, s2 \}/);
  });
});
