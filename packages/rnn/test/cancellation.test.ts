import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { CancelledError, LimitExceededError, MAX_PROMPT_LENGTH, setGlobalSeed } from '@seqlab/core';
import {
  CharVocabulary,
  RecurrentStepper,
  TextGenerator,
  checkPromptLength,
  generationSteps,
  languageModel,
  languageModelData,
  train,
} from '../src/index.js';
import { setupBackend } from './helpers.js';

const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(20);
const vocab = CharVocabulary.fromText(TEXT);
const arch = { vocabSize: vocab.size, cell: 'gru', layers: 1, units: 16, embeddingDim: 8, dropout: 0 } as const;
let model: ReturnType<typeof languageModel>;
let gen: TextGenerator;

beforeAll(async () => {
  await setupBackend();
  setGlobalSeed(9);
  model = languageModel(arch);
  gen = new TextGenerator(new RecurrentStepper(model, arch), vocab);
});
afterAll(() => {
  gen.dispose();
  model.dispose();
});

describe('cancellable generation', () => {
  // Longer than one prefill piece, so a cancellable run reads the prompt in several calls.
  const prompt = TEXT.slice(0, 700);

  it('a signal that never fires changes nothing: same text for sampling, greedy and beam search', async () => {
    const signal = new AbortController().signal;
    for (const options of [{ temperature: 1, seed: 4 }, { temperature: 0 }, { beam: 3 }]) {
      const plain = await gen.generate(prompt, { maxTokens: 30, ...options });
      const cancellable = await gen.generate(prompt, { maxTokens: 30, ...options, signal });
      expect(cancellable).toEqual(plain);
    }
  });

  it('an abort stops sampling, streaming and beam search with CancelledError and frees their state', async () => {
    await expectNoLeakedTensors(async () => {
      const early = new AbortController();
      early.abort(new CancelledError('caller left'));
      await expect(gen.generate(prompt, { maxTokens: 10, signal: early.signal })).rejects.toThrow('caller left');

      const late = new AbortController();
      let pieces = 0;
      const streamed = (async () => {
        for await (const _ of gen.stream('the ', { maxTokens: 100_000, signal: late.signal })) if (++pieces === 5) late.abort();
      })();
      await expect(streamed).rejects.toBeInstanceOf(CancelledError);
      expect(pieces).toBe(5);

      const beam = new AbortController();
      const t0 = performance.now();
      setTimeout(() => beam.abort(), 50);
      await expect(gen.generate('the ', { maxTokens: 100_000, beam: 4, signal: beam.signal })).rejects.toThrow(/beam search was cancelled/);
      expect(performance.now() - t0).toBeLessThan(2000);
    }, { label: 'cancelled generation' });
  });

  it('counts generation steps and refuses prompts over the shared cap with the limit in the message', () => {
    expect(generationSteps({ promptLength: 2000, maxTokens: 500, beam: 8 })).toBe(6000);
    expect(() => checkPromptLength('x'.repeat(MAX_PROMPT_LENGTH))).not.toThrow();
    let error: unknown;
    try {
      checkPromptLength('x'.repeat(120_000));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as LimitExceededError).details).toEqual({ limit: 'maxPromptLength', value: 120_000, max: MAX_PROMPT_LENGTH });
  });
});

describe('cancellable training', () => {
  it('stops before the next batch once aborted, leaking nothing beyond the model it trained', async () => {
    await expectNoLeakedTensors(async () => {
      // The optimizer state train() creates belongs to the model, so the model is disposed inside.
      const lm = languageModel(arch);
      try {
        const controller = new AbortController();
        let batches = 0;
        const data = languageModelData(vocab.encode(TEXT), { sequenceLength: 16, batchSize: 4, seed: 1 });
        await expect(
          train(lm, data, {
            epochs: 50,
            signal: controller.signal,
            onProgress: (e) => {
              if (e.type === 'batch' && ++batches === 3) controller.abort(new CancelledError('deadline passed'));
            },
          }),
        ).rejects.toThrow('deadline passed');
        expect(batches).toBe(3);
      } finally {
        lm.dispose();
      }
    }, { label: 'cancelled training' });
  });
});
