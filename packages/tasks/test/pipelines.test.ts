/**
 * One table per task over every shipped model and every model kind: load through
 * `pipeline(task, model)`, run, save with the task's saver, load the saved directory through
 * `pipeline` again and get the same output.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, readModelConfig, saveModel, setGlobalSeed, writeModelConfig, type SentimentResult } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { createGlobalForecaster, createSeries, FORECASTER_NAMES, GLOBAL_FORECASTER_NAMES, type TimeSeries } from '@seqlab/forecast';
import { loadEncoder, trainSentimentHead, useSentimentHead, type SentenceEncoder } from '@seqlab/embeddings';
import { resolveTextClassifierOptions, saveRecurrentTextClassifier, textClassifier } from '@seqlab/rnn';
import { TextVectorizer } from '@seqlab/tokenize';
import { DEFAULT_MODELS, pipeline, modelsDir, TextClassifierEnsemble } from '../src/index.js';

/** A BiLSTM folder the removed sentiment saver wrote (task `sentiment`, kind `rnn`), committed as a fixture of @seqlab/rnn. */
const OLD_FORMAT_RNN = path.resolve(import.meta.dirname, '../../rnn/test/fixtures/sentiment-rnn-v1');

const TEXTS = ['a gorgeous , witty film', 'tedious , overlong and dull', 'an utterly charming story', 'the worst script i have seen'];

let tmp: string;
let encoder: SentenceEncoder;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-tasks-'));
  // The USE graph is slow to load: once per file, shared by every pipeline that needs it.
  encoder = await loadEncoder();
});

afterAll(async () => {
  encoder?.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

function probabilities(results: SentimentResult[]): number[] {
  return results.flatMap((r) => r.probabilities);
}

/** A small single-model (not ensemble) binary negative/positive recurrent classifier, saved by the text-classification saver. */
async function singleRnnModel(): Promise<string> {
  const dir = path.join(tmp, 'rnn-single');
  setGlobalSeed(5);
  const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(TEXTS);
  const architecture = resolveTextClassifierOptions({ vocabSize: vectorizer.vocabSize, embeddingDim: 8, units: 6, attentionUnits: 4 });
  const model = textClassifier(architecture);
  await saveRecurrentTextClassifier(dir, model, vectorizer, { architecture, classes: ['negative', 'positive'], maxLength: 16 });
  model.dispose();
  return dir;
}

/**
 * An ensemble of a recurrent member (attention) and a USE head (none), both in the older
 * sentiment format, saved as members/ subfolders.
 */
async function sentimentEnsembleModel(): Promise<string> {
  const dir = path.join(tmp, 'sentiment-ensemble');
  const rnn = await pipeline('text-classification', await singleRnnModel());
  const head = await pipeline('text-classification', await useHeadModel(), { encoder });
  const ensemble = new TextClassifierEnsemble([{ model: head, weight: 0.5 }, { model: rnn, weight: 0.5 }], 'sentiment-ensemble');
  await ensemble.save(dir);
  ensemble.dispose();
  return dir;
}

/**
 * A USE head trained for a few epochs on the four texts, written in the older sentiment format
 * (task `sentiment`, kind `use-head`) as its removed saver did: such directories still load.
 */
async function useHeadModel(): Promise<string> {
  const dir = path.join(tmp, 'use-head');
  setGlobalSeed(6);
  const vectors = await encoder.embed(TEXTS);
  const x = new Float32Array(TEXTS.length * 512);
  vectors.forEach((v, i) => x.set(v, i * 512));
  const head = useSentimentHead({ hidden: 8 });
  await trainSentimentHead(head, { x, y: [1, 0, 1, 0] }, { x, y: [1, 0, 1, 0] }, { epochs: 3, batchSize: 4 });
  await saveModel(head, dir);
  await writeModelConfig(dir, { task: 'sentiment', kind: 'use-head' }, { labels: ['negative', 'positive'], encoder: 'use-lite' });
  head.dispose();
  return dir;
}

describe("pipeline('sentiment')", () => {
  const cases: Array<{ model: () => Promise<string | undefined>; kind: string; explains: boolean; savedAs: string; savedKind?: string }> = [
    // The default (models/sentiment-glove, a BiLSTM ensemble in the older sentiment format).
    { model: async () => undefined, kind: 'rnn', explains: true, savedAs: 'text-classification' },
    { model: singleRnnModel, kind: 'rnn', explains: true, savedAs: 'text-classification' },
    // An older sentiment-format folder still loads, and is saved again as a text classifier.
    { model: async () => OLD_FORMAT_RNN, kind: 'rnn', explains: true, savedAs: 'text-classification' },
    // An older-format USE head is saved as the text classifier it is (kind use).
    { model: useHeadModel, kind: 'use-head', explains: false, savedAs: 'text-classification', savedKind: 'use' },
    { model: sentimentEnsembleModel, kind: 'ensemble', explains: true, savedAs: 'text-classification' },
  ];

  it.each(cases.map((c, i) => [i, c.kind, c] as const))('case %i (%s): loads, predicts, saves, reloads with the same output', async (_i, kind, c) => {
    const spec = await c.model();
    const first = await pipeline('sentiment', spec, { encoder });
    const saved = path.join(tmp, `sentiment-${_i}`);
    let before: SentimentResult[];
    try {
      expect(first.task).toBe('sentiment');
      expect(first.kind).toBe(kind);
      expect(first.explains).toBe(c.explains);
      before = await expectNoLeakedTensors(() => first.predict(TEXTS));
      for (const r of before) {
        expect(r.probabilities).toHaveLength(2);
        expect(r.probabilities[0]! + r.probabilities[1]!).toBeCloseTo(1, 5);
        expect(r.score).toBeCloseTo(r.label === 'positive' ? r.probabilities[1]! : r.probabilities[0]!, 6);
        expect(r.tokens !== undefined).toBe(c.explains);
      }
      await first.save(saved);
    } finally {
      first.dispose();
    }
    const config = await readModelConfig(saved);
    // One saver for the family: the text-classification format, which the sentiment task serves.
    expect(config).toMatchObject({ version: 1, task: c.savedAs, kind: c.savedKind ?? kind });
    const again = await pipeline('sentiment', saved, { encoder });
    try {
      const after = await again.predict(TEXTS);
      expect(after.map((r) => r.label)).toEqual(before.map((r) => r.label));
      probabilities(after).forEach((p, j) => expect(p).toBeCloseTo(probabilities(before)[j]!, 5));
    } finally {
      again.dispose();
    }
  });

  it('the shipped default labels clear cases correctly and explains them with attention over the words', async () => {
    const p = await pipeline('sentiment');
    try {
      expect(p.name).toBe(DEFAULT_MODELS.sentiment);
      const results = await p.predict(TEXTS);
      expect(results.map((r) => r.label)).toEqual(['positive', 'negative', 'positive', 'negative']);
      for (const [i, r] of results.entries()) {
        const tokens = r.tokens!;
        expect(tokens.map((t) => TEXTS[i]!.slice(t.start, t.end))).toEqual(tokens.map((t) => t.text));
        expect(tokens.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 4);
      }
      // The word that carries the sentiment draws more attention than the article beside it.
      const weight = (r: SentimentResult, w: string) => r.tokens!.find((t) => t.text === w)!.weight;
      expect(weight(results[0]!, 'gorgeous')).toBeGreaterThan(weight(results[0]!, 'a'));
    } finally {
      p.dispose();
    }
  });

  it('refuses a classifier that is not binary negative/positive', async () => {
    await expect(pipeline('sentiment', 'question-type')).rejects.toMatchObject({
      code: 'bad_input',
      message: expect.stringMatching(/^model "question-type" is a multi-class classifier of ABBR, .*; sentiment needs a binary classifier of negative and positive$/),
    });
  });
});

describe("pipeline('text-generation')", () => {
  it('shakespeare-char (kind char-lm): generates, saves, reloads and generates the same text', async () => {
    const first = await pipeline('text-generation');
    const saved = path.join(tmp, 'lm');
    let text: string;
    try {
      expect(first).toMatchObject({ task: 'text-generation', kind: 'char-lm', name: 'shakespeare-char' });
      const out = await expectNoLeakedTensors(() => first.generate('ROMEO:', { maxTokens: 40, seed: 3, temperature: 0.8 }));
      expect(out.tokens).toBe(40);
      text = out.text;
      let streamed = '';
      for await (const piece of first.stream('ROMEO:', { maxTokens: 40, seed: 3, temperature: 0.8 })) streamed += piece;
      expect(streamed).toBe(text);
      await expect(first.generate('x', { maxTokns: 3 } as never)).rejects.toThrow(/unknown option "maxTokns"; valid options: maxTokens, temperature/);
      await first.save(saved);
    } finally {
      first.dispose();
    }
    expect(await readModelConfig(saved)).toMatchObject({ version: 1, task: 'text-generation', kind: 'char-lm' });
    const again = await pipeline('text-generation', saved);
    try {
      expect((await again.generate('ROMEO:', { maxTokens: 40, seed: 3, temperature: 0.8 })).text).toBe(text);
    } finally {
      again.dispose();
    }
  });
});

function seasonalSeries(n: number): TimeSeries {
  const dates = Array.from({ length: n }, (_, i) => new Date(Date.UTC(2000, i, 1)));
  return createSeries({ sales: Array.from({ length: n }, (_, i) => 100 + 10 * Math.sin((2 * Math.PI * i) / 12) + 0.5 * i + ((i * 7919) % 11) / 11) }, dates);
}

describe("pipeline('forecast')", () => {
  // Every forecaster kind, with small settings for the neural ones.
  const options: Record<string, Record<string, unknown>> = {
    segrnn: { epochs: 1, hidden: 8, segmentLength: 6, seed: 1 },
    seq2seq: { epochs: 1, hidden: 4, seed: 1 },
    'mean-ensemble': { members: [{ name: 'naive' }, { name: 'drift' }] },
  };

  it('covers every registered forecaster', () => {
    expect([...FORECASTER_NAMES].sort()).toEqual(
      ['auto', 'drift', 'dlinear', 'holt-winters', 'linear', 'mean-ensemble', 'moving-average', 'naive', 'seasonal-naive', 'segrnn', 'seq2seq'].sort(),
    );
  });

  it.each([...FORECASTER_NAMES])('%s: fits, forecasts, saves, reloads with the same forecast', async (name) => {
    const series = seasonalSeries(100);
    const request = { horizon: 6, levels: [0.9], options: options[name] ?? {} };
    const base = await pipeline('forecast', name);
    const fitted = await base.fit(series, request);
    const saved = path.join(tmp, `forecast-${name}`);
    let mean: number[][];
    try {
      const direct = await base.run(series, request);
      const result = await expectNoLeakedTensors(() => fitted.run(undefined, request));
      expect(result.model).toBe(name);
      expect(result.main.mean[0]).toHaveLength(6);
      for (const v of result.main.mean[0]!) expect(Number.isFinite(v)).toBe(true);
      mean = result.main.mean;
      // run(series) is fit(series) then run(): the same numbers for the same request.
      direct.main.mean[0]!.forEach((v, h) => expect(v).toBeCloseTo(mean[0]![h]!, 6));
      await fitted.save(saved);
    } finally {
      fitted.dispose();
    }
    expect(await readModelConfig(saved)).toMatchObject({ version: 1, task: 'forecast', kind: name });
    const again = await pipeline('forecast', saved);
    try {
      const reloaded = await again.run(undefined, request);
      reloaded.main.mean[0]!.forEach((v, h) => expect(v).toBeCloseTo(mean[0]![h]!, 6));
    } finally {
      again.dispose();
    }
  });

  it('turns the horizon into window settings: a 100-row series with linear, horizon 6', async () => {
    const p = await pipeline('forecast', 'linear');
    const r = await p.run(seasonalSeries(100), { horizon: 6 });
    expect(r.options).toMatchObject({ horizon: 6, lookback: 24 });
    expect(r.main.mean[0]).toHaveLength(6);
  });

  it.each([...GLOBAL_FORECASTER_NAMES])('global %s: a saved directory loads as a panel pipeline, forecasts every series (and a new one), saves and reloads the same', async (name) => {
    // Four monthly series of different levels; a fifth the model never saw.
    const panel = [1, 2, 3, 4, 5].map((k) => {
      const s = seasonalSeries(100);
      return { id: `s${k}`, series: { ...s, values: [s.values[0]!.map((v) => v * k)] } };
    });
    const model = createGlobalForecaster(name, { season: 12, horizon: 6, lookback: 24, hidden: 8, epochs: 2, windowsPerEpoch: 128 });
    await model.fit(panel.slice(0, 4));
    const dir = path.join(tmp, `global-${name}`);
    await model.save(dir);
    model.dispose();
    expect(await readModelConfig(dir)).toMatchObject({ version: 1, task: 'forecast', kind: name, global: true });
    const p = await pipeline('forecast', dir);
    const again = path.join(tmp, `global-${name}-again`);
    let first;
    try {
      expect(p.global).toBe(true);
      first = await expectNoLeakedTensors(() => p.runPanel(panel, { horizon: 6, levels: [0.8] }));
      expect(first.series.map((s) => [s.id, s.seen, s.mean.length])).toEqual(panel.map((q, i) => [q.id, i < 4, 6]));
      // Monthly dates carry over to the forecast steps.
      expect(first.series[0]!.dates![0]).toBe(new Date(Date.UTC(2000, 100, 1)).toISOString());
      await p.save(again);
    } finally {
      p.dispose();
    }
    const reloaded = await pipeline('forecast', again);
    try {
      const second = await reloaded.runPanel(panel, { horizon: 6, levels: [0.8] });
      second.series.forEach((s, i) => s.mean.forEach((v, h) => expect(v).toBeCloseTo(first.series[i]!.mean[h]!, 6)));
    } finally {
      reloaded.dispose();
    }
  });

  it('rejects unknown forecaster options, listing the valid ones', async () => {
    const p = await pipeline('forecast', 'seasonal-naive');
    await expect(p.run(seasonalSeries(40), { horizon: 3, options: { seasn: 4 } })).rejects.toThrow(
      'forecaster "seasonal-naive": unknown option "seasn"; valid options: scaler, season',
    );
    await expect(p.run(seasonalSeries(40), { horizon: 3, extra: 1 } as never)).rejects.toThrow(/unknown option "extra"; valid options: horizon, levels/);
  });
});

describe("pipeline('embedding')", () => {
  it('use-lite and semantic-index: embeds, indexes, saves, reloads with the same vectors and hits', async () => {
    const first = await pipeline('embedding', undefined, { encoder });
    const saved = path.join(tmp, 'index');
    let hits;
    let vectors: Float32Array[];
    try {
      expect(first).toMatchObject({ task: 'embedding', kind: 'use-lite' });
      vectors = await first.embed(TEXTS.slice(0, 2));
      expect(vectors[0]).toHaveLength(512);
      await first.index(TEXTS);
      expect(first.kind).toBe('semantic-index');
      hits = await first.search('a charming film', 2);
      await first.save(saved);
    } finally {
      first.dispose();
    }
    expect(await readModelConfig(saved)).toMatchObject({ version: 1, task: 'embedding', kind: 'semantic-index' });
    const again = await pipeline('embedding', saved, { encoder });
    try {
      expect(again.kind).toBe('semantic-index');
      const more = await again.search('a charming film', 2);
      expect(more.map((h) => h.index)).toEqual(hits.map((h) => h.index));
      more.forEach((h, i) => expect(h.score).toBeCloseTo(hits[i]!.score, 6));
      (await again.embed(TEXTS.slice(0, 2))).forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(vectors[i]!)));
    } finally {
      again.dispose();
    }
  });
});

describe('pipeline errors', () => {
  it('names tasks, models and kinds, never server folders', async () => {
    await expect(pipeline('summarize' as never)).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/valid tasks: sentiment, text-classification, text-generation, forecast, embedding/) });
    const missing = await pipeline('sentiment', 'nope').catch((e: Error) => e);
    expect(missing).toMatchObject({ code: 'not_found', message: expect.stringMatching(/^no model named "nope"; available models: .*sentiment-glove/) });
    expect((missing as Error).message).not.toContain(modelsDir());
    await expect(pipeline('sentiment', 'shakespeare-char')).rejects.toMatchObject({ code: 'bad_input', message: 'model "shakespeare-char" is a text-generation model, not a sentiment model' });
    await expect(pipeline('forecast', DEFAULT_MODELS.sentiment)).rejects.toMatchObject({ code: 'bad_input' });
  });

  it('a missing config.json is not_found and a missing weights file is model_file_corrupt, named by the model', async () => {
    const root = path.join(tmp, 'models');
    await fs.mkdir(path.join(root, 'empty'), { recursive: true });
    const emptyErr = await pipeline('sentiment', 'empty', { modelsDir: root }).catch((e: Error) => e);
    expect(emptyErr).toMatchObject({ code: 'not_found', message: 'empty/config.json: file not found (not a seqlab model directory)' });
    await fs.cp(await singleRnnModel(), path.join(root, 'broken'), { recursive: true });
    const weights = (await fs.readdir(path.join(root, 'broken'))).find((f) => f.endsWith('.bin'))!;
    await fs.rm(path.join(root, 'broken', weights));
    const broken = await pipeline('sentiment', 'broken', { modelsDir: root }).catch((e: Error) => e);
    expect(broken).toMatchObject({ code: 'model_file_corrupt' });
    expect((broken as Error).message).toMatch(/^broken\/weights\.[0-9a-f]+\.bin: weights file listed in model\.json is missing/);
    expect((broken as Error).message).not.toContain(tmp);
  });
});
