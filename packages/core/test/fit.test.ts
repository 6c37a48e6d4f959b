import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CancelledError,
  EarlyStopping,
  fit,
  initBackend,
  LambdaCallback,
  LearningRateScheduler,
  ModelCheckpoint,
  ReduceLROnPlateau,
  SeededRandom,
  TimeBudget,
  type EpochLogs,
  type TrainingLoop,
} from '../src/index.js';
import { expectNoLeakedTensors } from '../src/testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/**
 * A real one-weight linear regression y = 3x (+ noise) trained by SGD, with a validation
 * score that can be made to get worse after a chosen epoch (to exercise early stopping).
 */
function regression(options: { lr?: number; worseAfter?: number } = {}) {
  const rng = new SeededRandom(1);
  const xs = Array.from({ length: 64 }, () => rng.next() * 2 - 1);
  const ys = xs.map((x) => 3 * x + (rng.next() - 0.5) * 0.1);
  const w = tf.variable(tf.scalar(0));
  const optimizer = tf.train.sgd(options.lr ?? 0.5);
  const loop: TrainingLoop<{ x: tf.Tensor1D; y: tf.Tensor1D }> = {
    *batches() {
      for (let s = 0; s < xs.length; s += 16) yield { x: tf.tensor1d(xs.slice(s, s + 16)), y: tf.tensor1d(ys.slice(s, s + 16)) };
    },
    batchesPerEpoch: 4,
    trainBatch: ({ x, y }) => {
      const loss = optimizer.minimize(() => tf.mean(tf.square(tf.sub(tf.mul(x, w), y))), true, [w])!;
      const value = loss.dataSync()[0]!;
      tf.dispose([loss, x, y]);
      return { loss: value, weight: 16, metrics: { close: { sum: Math.abs(w.dataSync()[0]! - 3) < 0.5 ? 1 : 0, count: 1 } } };
    },
    // Distance of w from 3, made to grow after `worseAfter` epochs by scoring against a moving target.
    validate: (epoch) => ({ val_loss: Math.abs(w.dataSync()[0]! - (options.worseAfter !== undefined && epoch >= options.worseAfter ? 0 : 3)) }),
    weights: { get: () => [w.clone()], set: ([v]) => void w.assign(v as tf.Scalar) },
    optimizer: optimizer as unknown as { learningRate: number },
  };
  return { loop, w, optimizer, dispose: () => tf.dispose([w, optimizer as unknown as tf.TensorContainer]) };
}

/** Runs `body` on a fresh {@link regression} and frees it afterwards, also when an expectation fails. */
async function withRegression(options: Parameters<typeof regression>[0], body: (r: ReturnType<typeof regression>) => Promise<void>): Promise<void> {
  const r = regression(options);
  try {
    await body(r);
  } finally {
    r.dispose();
  }
}

describe('fit', () => {
  it('trains, reports per batch and per epoch, and leaks nothing', () =>
    withRegression({}, async (r) => {
      const batches: number[] = [];
      const epochs: EpochLogs[] = [];
      const result = await expectNoLeakedTensors(() =>
        fit(r.loop, { epochs: 3, callbacks: [new LambdaCallback({ onBatchEnd: (l) => void batches.push(l.batch), onEpochEnd: (l) => void epochs.push(l) })] }),
      );
      expect(batches).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
      expect(epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
      expect(epochs[2]!.loss).toBeLessThan(epochs[0]!.loss);
      expect(epochs[2]!.close).toBe(1);
      expect(r.w.dataSync()[0]).toBeCloseTo(3, 1);
      expect(result).toMatchObject({ stopReason: 'epochs', steps: 12, monitor: 'val_loss', bestEpoch: 2 });
    }));

  it('early stopping stops after `patience` epochs without improvement and restores the best weights', () =>
    withRegression({ worseAfter: 2 }, async (r) => {
      const es = new EarlyStopping({ patience: 2 });
      let bestW = NaN;
      const track = new LambdaCallback({ onEpochEnd: (_l, ctx) => void (ctx.improved && (bestW = r.w.dataSync()[0]!)) });
      const result = await fit(r.loop, { epochs: 10, callbacks: [track, es] });
      expect(result.stopReason).toBe('early-stopping');
      expect(result.bestEpoch).toBe(1);
      expect(result.history).toHaveLength(4);
      expect(es.restored).toBe(true);
      expect(r.w.dataSync()[0]).toBe(bestW);
    }));

  it('a baseline the training never beats leaves the starting weights', () =>
    withRegression({ lr: 1e-6 }, async (r) => {
      const result = await fit(r.loop, { epochs: 3, callbacks: [new EarlyStopping({ patience: 5, baseline: 0 })] });
      expect(result.bestEpoch).toBe(-1);
      expect(r.w.dataSync()[0]).toBe(0);
    }));

  it('schedules and plateaus change the learning rate', () =>
    withRegression({ worseAfter: 1 }, async (r) => {
      const rates: number[] = [];
      await fit(r.loop, {
        epochs: 4,
        callbacks: [
          new LearningRateScheduler((epoch, lr) => (epoch === 0 ? 0.4 : lr)),
          new ReduceLROnPlateau({ factor: 0.5, patience: 1 }),
          new LambdaCallback({ onEpochBegin: (_e, ctx) => void rates.push(ctx.learningRate) }),
        ],
      });
      // Epoch 0 improves; 1, 2, 3 do not: the rate halves after each.
      expect(rates).toEqual([0.4, 0.4, 0.2, 0.1]);
    }));

  it('a time budget ends the epoch early, marks it partial and stops', () =>
    withRegression({}, async (r) => {
      const result = await fit(r.loop, { epochs: 5, callbacks: [new LambdaCallback({ onBatchEnd: () => void busyWait(30) }), new TimeBudget(0.05)] });
      expect(result.stopReason).toBe('time-budget');
      expect(result.history).toHaveLength(1);
      expect(result.history[0]!.partial).toBe(true);
      expect(result.steps).toBeLessThan(4);
    }));

  it('checkpoints best when improved, then last, then the state', () =>
    withRegression({ worseAfter: 1 }, async (r) => {
      const calls: string[] = [];
      await fit(r.loop, {
        epochs: 2,
        callbacks: [new ModelCheckpoint({ save: async (which, ctx) => void calls.push(`${which}@${ctx.epoch}`), saveState: async (ctx) => void calls.push(`state@${ctx.epoch}`) })],
      });
      expect(calls).toEqual(['best@0', 'last@0', 'state@0', 'last@1', 'state@1']);
    }));

  it('resumes from an epoch with its history, step and best', () =>
    withRegression({}, async (r) => {
      const history: EpochLogs[] = [{ epoch: 0, loss: 1, learningRate: 0.5, seconds: 0, val_loss: 0.001 }];
      const result = await fit(r.loop, { epochs: 3, initialEpoch: 1, initialStep: 4, history, best: { value: 0.001, epoch: 0 } });
      expect(result.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
      expect(result.steps).toBe(12);
      expect(result.bestEpoch).toBe(0);
    }));

  it('an aborted signal stops before the next batch is drawn: no checkpoint, nothing leaked; a signal that never fires changes nothing', async () => {
    const plain = regression();
    await fit(plain.loop, { epochs: 2 });
    const reference = plain.w.dataSync()[0]!;
    plain.dispose();
    const quiet = regression();
    await fit(quiet.loop, { epochs: 2, signal: new AbortController().signal });
    expect(quiet.w.dataSync()[0]).toBe(reference);
    quiet.dispose();

    const r = regression({ worseAfter: 1 });
    const controller = new AbortController();
    const batches: string[] = [];
    const saved: string[] = [];
    await expectNoLeakedTensors(async () => {
      await expect(
        fit(r.loop, {
          epochs: 5,
          signal: controller.signal,
          callbacks: [
            new EarlyStopping({ patience: 3 }),
            new ModelCheckpoint({ save: async (which, ctx) => void saved.push(`${which}@${ctx.epoch}`) }),
            new LambdaCallback({
              onBatchEnd: (l, ctx) => {
                batches.push(`${ctx.epoch}.${l.batch}`);
                if (ctx.epoch === 1 && l.batch === 1) controller.abort(new CancelledError('caller left'));
              },
            }),
          ],
        }),
      ).rejects.toThrow('caller left');
    });
    expect(batches).toEqual(['0.0', '0.1', '0.2', '0.3', '1.0', '1.1']);
    // The cancelled epoch was neither validated nor checkpointed.
    expect(saved).toEqual(['best@0', 'last@0']);
    r.dispose();
  });

  it('refuses a non-finite loss with an internal error', () =>
    withRegression({ lr: 1e6 }, async (r) => {
      await expect(fit(r.loop, { epochs: 50 })).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/training loss became/) });
    }));
});

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin: the budget is measured in wall time */
  }
}
