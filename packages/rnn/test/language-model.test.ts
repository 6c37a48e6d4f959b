import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { loadLayersModel, saveModel, setGlobalSeed } from '@seqlab/core';
import {
  CharVocabulary,
  RecurrentStepper,
  RnnArgumentError,
  TextGenerator,
  evaluate,
  languageModel,
  languageModelData,
  readTrainingState,
  train,
  type CellType,
} from '../src/index.js';
import { maxAbsDiff, setupBackend, tempDir } from './helpers.js';

beforeAll(setupBackend);

const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(20);

describe('languageModel', () => {
  it('maps [batch, time] ids to [batch, time, vocab] logits for every cell', () => {
    for (const cell of ['simple', 'lstm', 'gru'] as CellType[]) {
      const model = languageModel({ vocabSize: 11, cell, layers: 2, units: 8, embeddingDim: 4, dropout: 0.1 });
      const out = tf.tidy(() => (model.predict(tf.zeros([3, 7], 'int32')) as tf.Tensor).shape);
      expect(out).toEqual([3, 7, 11]);
      model.dispose();
    }
  });

  it('rejects bad options with the argument and value in the message', () => {
    expect(() => languageModel({ vocabSize: 0 })).toThrow(/vocabSize must be a positive integer, got 0/);
    expect(() => languageModel({ vocabSize: 5, cell: 'tree' as CellType })).toThrow(RnnArgumentError);
    expect(() => languageModel({ vocabSize: 5, dropout: 1 })).toThrow(/dropout must be a number in \[0, 1\)/);
  });

  it.each(['simple', 'lstm', 'gru'] as CellType[])('%s: the stateful inference copy reproduces the full-sequence logits', (cell) => {
    setGlobalSeed(11);
    const arch = { vocabSize: 7, cell, layers: 2, units: 6, embeddingDim: 3, dropout: 0 };
    const model = languageModel(arch);
    const stepper = new RecurrentStepper(model, arch);
    const ids = [1, 4, 2, 6, 0, 3];
    const full = tf.tidy(() => (model.predict(tf.tensor2d(ids, [1, ids.length], 'int32')) as tf.Tensor).dataSync());
    // Prompt of 3 tokens in one call, then one token per step.
    let state = stepper.initialState(1);
    let out = stepper.step([ids.slice(0, 3)], state);
    tf.dispose(state);
    state = out.state;
    for (let i = 3; i < ids.length; i++) {
      out.logits[0]!.forEach((v, k) => expect(v).toBeCloseTo(full[(i - 1) * 7 + k]!, 4));
      out = stepper.step([[ids[i]!]], state);
      tf.dispose(state);
      state = out.state;
    }
    out.logits[0]!.forEach((v, k) => expect(v).toBeCloseTo(full[(ids.length - 1) * 7 + k]!, 4));
    tf.dispose(state);
    stepper.dispose();
    model.dispose();
  });

  it('save -> load gives identical outputs', async () => {
    setGlobalSeed(3);
    const model = languageModel({ vocabSize: 9, cell: 'gru', units: 8, embeddingDim: 4 });
    const dir = await tempDir();
    await saveModel(model, dir);
    const loaded = await loadLayersModel(dir);
    const x = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32');
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });
});

describe('train', () => {
  const vocab = CharVocabulary.fromText(TEXT);
  const ids = vocab.encode(TEXT);
  const data = () => languageModelData(ids, { sequenceLength: 20, batchSize: 8, seed: 1 });
  const val = () => languageModelData(ids.subarray(0, 200), { sequenceLength: 20, batchSize: 8, shuffle: false });

  it('lowers the loss, reports progress with ETA, and leaks no tensors', async () => {
    setGlobalSeed(1);
    const model = languageModel({ vocabSize: vocab.size, units: 24, embeddingDim: 8 });
    const opt = tf.train.adam(0.02);
    const before = evaluate(model, val()).loss;
    const events: string[] = [];
    await train(model, data(), { epochs: 1, optimizer: opt, clipNorm: 5 });
    await expectNoLeakedTensors(async () => {
      await train(model, data(), {
        epochs: 3,
        optimizer: opt,
        clipNorm: 5,
        onProgress: (e) => {
          events.push(e.type);
          expect(e.etaSeconds).toBeGreaterThanOrEqual(0);
        },
      });
    }, { label: 'train' });
    const after = evaluate(model, val()).loss;
    expect(after).toBeLessThan(before - 0.5);
    expect(events.filter((e) => e === 'epoch')).toHaveLength(3);
    expect(events.filter((e) => e === 'batch').length).toBe(3 * data().batchesPerEpoch);
    expect(events.at(-1)).toBe('end');
    model.dispose();
    opt.dispose();
  });

  it('early stopping restores the best epoch weights', async () => {
    setGlobalSeed(2);
    const model = languageModel({ vocabSize: vocab.size, units: 16, embeddingDim: 8 });
    // A sane rate for two epochs, then one so large that validation loss gets worse.
    const result = await train(model, data(), {
      epochs: 6,
      learningRate: 0.02,
      learningRateSchedule: (epoch) => (epoch < 2 ? 0.02 : 3),
      validationData: val(),
      earlyStopping: { patience: 1 },
    });
    expect(result.stopReason).toBe('early-stopping');
    expect(result.restoredBest).toBe(true);
    const last = result.history.at(-1)!;
    expect(last.val_loss!).toBeGreaterThan(result.bestMetric);
    const now = evaluate(model, val()).loss;
    expect(now).toBeCloseTo(result.bestMetric, 4);
    model.dispose();
  });

  it('ema: validates, checkpoints and ends with the moving average of the weights, without leaking', async () => {
    const dir = await tempDir();
    setGlobalSeed(5);
    const model = languageModel({ vocabSize: vocab.size, units: 16, embeddingDim: 8 });
    const opt = tf.train.adam(0.01);
    // One warm-up epoch creates Adam's moment tensors, which live as long as the optimizer.
    await train(model, data(), { epochs: 1, optimizer: opt });
    let result: Awaited<ReturnType<typeof train>> | undefined;
    await expectNoLeakedTensors(async () => {
      result = await train(model, data(), { epochs: 2, optimizer: opt, validationData: val(), checkpointDir: dir, ema: { decay: 0.9 } });
    }, { label: 'train with ema' });
    expect(result!.averaged).toBe(true);
    // The model holds the average, and the last epoch's val_loss was measured on that average.
    expect(evaluate(model, val()).loss).toBeCloseTo(result!.history.at(-1)!.val_loss!, 5);
    // last/ keeps the raw weights for resuming; last-ema/ the average, which is what the model holds.
    const raw = await loadLayersModel(path.join(dir, 'last'));
    const avg = await loadLayersModel(path.join(dir, 'last-ema'));
    const diffRaw = Math.max(...model.getWeights().map((w, i) => maxAbsDiff(w, raw.getWeights()[i]!)));
    const diffAvg = Math.max(...model.getWeights().map((w, i) => maxAbsDiff(w, avg.getWeights()[i]!)));
    expect(diffRaw).toBeGreaterThan(1e-4);
    expect(diffAvg).toBe(0);
    await expect(train(model, data(), { epochs: 1, ema: { decay: 1 } })).rejects.toThrow(/ema.decay must be in \(0, 1\), got 1/);
    [model, raw, avg].forEach((m) => m.dispose());
    opt.dispose();
  });

  it('writes best/last checkpoints and resumes from the saved epoch with optimizer state', async () => {
    const dir = await tempDir();
    setGlobalSeed(4);
    const model = languageModel({ vocabSize: vocab.size, units: 16, embeddingDim: 8 });
    const first = await train(model, data(), { epochs: 2, learningRate: 0.01, validationData: val(), checkpointDir: dir, seed: 9 });
    const state = await readTrainingState(dir);
    expect(state?.epoch).toBe(2);
    expect(state?.step).toBe(first.steps);
    const savedWeights = model.getWeights().map((w) => w.clone());

    // A fresh process would build a new, differently initialised model.
    setGlobalSeed(99);
    const fresh = languageModel({ vocabSize: vocab.size, units: 16, embeddingDim: 8 });
    const seen: number[] = [];
    let checkedStart = false;
    const resumed = await train(fresh, data(), {
      epochs: 3,
      learningRate: 0.01,
      validationData: val(),
      checkpointDir: dir,
      resume: true,
      seed: 9,
      onProgress: (e) => {
        if (!checkedStart) {
          checkedStart = true;
          // Optimizer iterations continue from the checkpoint.
          expect(e.step).toBe(first.steps + 1);
        }
        if (e.type === 'epoch') seen.push(e.epoch);
      },
    });
    expect(seen).toEqual([2]);
    expect(resumed.history.map((h) => h.epoch)).toEqual([0, 1, 2]);
    expect(resumed.steps).toBe(first.steps + data().batchesPerEpoch);
    // Resuming with nothing left to do leaves the weights as saved.
    const again = languageModel({ vocabSize: vocab.size, units: 16, embeddingDim: 8 });
    await train(again, data(), { epochs: 3, checkpointDir: dir, resume: true });
    const last = await loadLayersModel(path.join(dir, 'last'));
    again.getWeights().forEach((w, i) => expect(maxAbsDiff(w, last.getWeights()[i]!)).toBe(0));
    tf.dispose(savedWeights);
    [model, fresh, again, last].forEach((m) => m.dispose());
  });
});

describe('generation', () => {
  const vocab = CharVocabulary.fromText(TEXT);
  let gen: TextGenerator;
  let model: ReturnType<typeof languageModel>;

  beforeAll(async () => {
    setGlobalSeed(5);
    const arch = { vocabSize: vocab.size, cell: 'lstm', layers: 2, units: 32, embeddingDim: 8, dropout: 0 } as const;
    model = languageModel(arch);
    await train(model, languageModelData(vocab.encode(TEXT), { sequenceLength: 48, batchSize: 8, seed: 2 }), { epochs: 20, learningRate: 0.02, clipNorm: 5 });
    gen = new TextGenerator(new RecurrentStepper(model, arch), vocab);
  });

  it('carries the state: step-by-step logits equal the full-sequence logits', () => {
    const prompt = Array.from(vocab.encode('the dog sat'));
    const full = tf.tidy(() => {
      const out = model.predict(tf.tensor2d(prompt, [1, prompt.length], 'int32')) as tf.Tensor;
      return tf.slice(out, [0, prompt.length - 1, 0], [1, 1, vocab.size]).dataSync();
    });
    const stepper = gen.stepper;
    let state = stepper.initialState(1);
    let logits: Float32Array | undefined;
    for (const id of prompt) {
      const r = stepper.step([[id]], state);
      tf.dispose(state);
      state = r.state;
      logits = r.logits[0];
    }
    tf.dispose(state);
    for (let i = 0; i < vocab.size; i++) expect(logits![i]).toBeCloseTo(full[i]!, 4);
  });

  it('greedy decoding continues the learned pattern; a seed makes sampling reproducible', async () => {
    const greedy = await gen.generate('the cat sat on the m', { maxTokens: 3, temperature: 0 });
    expect(greedy.text).toBe('at.');
    expect(greedy.tokens).toBe(3);
    const a = await gen.generate('the ', { maxTokens: 40, temperature: 1, seed: 11 });
    const b = await gen.generate('the ', { maxTokens: 40, temperature: 1, seed: 11 });
    expect(a.text).toBe(b.text);
  });

  it('stops at stop sequences and streams the same text it returns whole, leaking nothing', async () => {
    await expectNoLeakedTensors(async () => {
      const whole = await gen.generate('the cat ', { maxTokens: 60, temperature: 0, stop: ['mat.', 'log.'] });
      expect(whole.finishReason).toBe('stop');
      expect(whole.text).toBe('sat on the ');
      let streamed = '';
      let pieces = 0;
      for await (const piece of gen.stream('the cat ', { maxTokens: 60, temperature: 0, stop: ['mat.', 'log.'] })) {
        streamed += piece;
        pieces++;
      }
      expect(streamed).toBe(whole.text);
      expect(pieces).toBeGreaterThan(1);
      await gen.generate('the ', { maxTokens: 10, beam: 3, repetitionPenalty: 1.3 });
    }, { label: 'generate' });
  });

  it('rejects bad options', async () => {
    await expect(gen.generate('x', { topP: 0 })).rejects.toThrow(/topP must be in \(0, 1\]/);
    await expect(gen.generate('x', { maxTokens: -1 })).rejects.toThrow(/maxTokens/);
    await expect(gen.generate('x', { stop: [''] })).rejects.toThrow(/stop must be/);
  });
});
