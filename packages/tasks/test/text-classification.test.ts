/**
 * The text-classification task: a recurrent multi-class model saved with its class names,
 * served by pipeline('text-classification'); long texts truncated head+tail or read in chunks,
 * with every truncation flagged; sentiment models served as binary classifiers.
 */
import { readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classScores, initBackend, readModelConfig, setGlobalSeed } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { bucketedData, decodeText, fitLinearTextClassifier, resolveTextClassifierOptions, saveRecurrentTextClassifier, textClassifier, TFIDF_L2_CANDIDATES, train } from '@seqlab/rnn';
import { TextVectorizer } from '@seqlab/tokenize';
import { DEFAULT_MODELS, pipeline, repoRoot } from '../src/index.js';

let tmp: string;
let modelDir: string;
const CLASSES = ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'];

/** The first `n` questions of the TREC test file with their coarse labels. */
function trecQuestions(n: number): { texts: string[]; labels: number[] } {
  const lines = readFileSync(path.join(repoRoot()!, 'data/trec/TREC_10.label'), 'latin1').split('\n').filter((l) => l.trim());
  const rows = lines.slice(0, n).map((l) => {
    const [tag, ...words] = l.split(' ');
    return { text: words.join(' '), label: CLASSES.indexOf(tag!.split(':')[0]!) };
  });
  return { texts: rows.map((r) => r.text), labels: rows.map((r) => r.label) };
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-textclf-'));
  const { texts, labels } = trecQuestions(120);
  setGlobalSeed(3);
  const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(texts);
  const architecture = resolveTextClassifierOptions({ vocabSize: vectorizer.vocabSize, embeddingDim: 16, units: 12, attentionUnits: 8, numClasses: 6, dropout: 0 });
  const model = textClassifier(architecture);
  await train(model, bucketedData(texts.map((t) => vectorizer.encodeIds(t)), labels, { batchSize: 16, seed: 3 }), { epochs: 12, learningRate: 0.02, seed: 3 });
  modelDir = path.join(tmp, 'question-type');
  await saveRecurrentTextClassifier(modelDir, model, vectorizer, { architecture, classes: CLASSES, maxLength: 12, lengthStats: { count: 120, mean: 10, p50: 9, p90: 14, p95: 16, p99: 20, max: 25 } });
  model.dispose();
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe("pipeline('text-classification') kind rnn", () => {
  it('stores the class names and problem in config.json and predicts them, learned from the training questions', async () => {
    const config = await readModelConfig(modelDir);
    expect(config).toMatchObject({ version: 1, task: 'text-classification', kind: 'rnn', problem: 'multi-class', classes: CLASSES, maxLength: 12, truncation: 'head+tail' });
    expect(config.lengthStats).toMatchObject({ p90: 14 });
    const { texts, labels } = trecQuestions(120);
    await expectNoLeakedTensors(async () => {
      const clf = await pipeline('text-classification', modelDir);
      try {
        expect(clf).toMatchObject({ task: 'text-classification', kind: 'rnn', problem: 'multi-class', explains: true, maxLength: 12 });
        expect(clf.classes).toEqual(CLASSES);
        const results = await clf.predict(texts);
        for (const r of results) {
          expect(r.labels.map((l) => l.label).sort()).toEqual([...CLASSES].sort());
          expect(r.labels.reduce((s, l) => s + l.score, 0)).toBeCloseTo(1, 4);
          expect(r.labels[0]).toEqual({ label: r.label, score: r.score });
          expect(r.predicted).toEqual([r.label]);
          for (let i = 1; i < r.labels.length; i++) expect(r.labels[i]!.score).toBeLessThanOrEqual(r.labels[i - 1]!.score);
          expect(r.tokens!.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 4);
        }
        const correct = results.filter((r, i) => r.label === CLASSES[labels[i]!]).length;
        // Six classes, the largest about a quarter of the rows: well above what guessing gets.
        expect(correct / texts.length).toBeGreaterThan(0.6);
      } finally {
        clf.dispose();
      }
    });
  });

  it('flags texts longer than the model length; head+tail keeps the end, chunks read every token', async () => {
    const clf = await pipeline('text-classification', modelDir);
    try {
      const long = 'What is the name of the river that flows through the middle of the old city where the famous poet was born in the year 1800 ?';
      const short = 'Who wrote Hamlet ?';
      const [cut, whole] = await clf.predict([long, short]);
      expect(cut!.truncated).toBe(true);
      expect(whole!.truncated).toBe(false);
      expect(cut!.tokens).toHaveLength(12);
      expect(cut!.tokens!.at(-1)!.text).toBe('?');
      expect(cut!.tokens![0]!.text).toBe('what');
      const [chunked] = await clf.predict([long], { longTexts: 'chunks' });
      expect(chunked!.truncated).toBe(true);
      expect(chunked!.tokens!.length).toBeGreaterThan(24);
      expect(chunked!.tokens!.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 4);
      expect(chunked!.labels.map((l) => l.score)).not.toEqual(cut!.labels.map((l) => l.score));
      await expect(clf.predict([long], { longTexts: 'all' as never })).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/longTexts must be one of 'truncate', 'chunks'/) });
    } finally {
      clf.dispose();
    }
  });

  it('scores texts batched by length exactly as one at a time, results in input order', async () => {
    const { texts } = trecQuestions(120);
    // Lengths from 3 to 25 tokens, shuffled: batches of 8 then hold texts of similar length.
    const mixed = [...texts.slice(0, 40)].sort((a, b) => (a.length * 7919) % 97 - (b.length * 7919) % 97);
    const clf = await pipeline('text-classification', modelDir);
    try {
      const together = await clf.predict(mixed, { batchSize: 8 });
      for (const [i, text] of mixed.entries()) {
        const [alone] = await clf.predict([text]);
        expect(together[i]!.tokens!.map((t) => t.text).join(' ')).toBe(alone!.tokens!.map((t) => t.text).join(' '));
        expect(together[i]!.label).toBe(alone!.label);
        const scores = classScores(together[i]!, clf.classes);
        for (const [c, s] of classScores(alone!, clf.classes).entries()) expect(scores[c]).toBeCloseTo(s, 5);
      }
    } finally {
      clf.dispose();
    }
  });

  it('saves and reloads with the same output', async () => {
    const first = await pipeline('text-classification', modelDir);
    const again = path.join(tmp, 'saved-again');
    const texts = trecQuestions(10).texts;
    const before = await first.predict(texts);
    await first.save(again);
    first.dispose();
    const second = await pipeline('text-classification', again);
    const after = await second.predict(texts);
    second.dispose();
    expect(after.map((r) => r.labels)).toEqual(before.map((r) => r.labels));
  });

  it('refuses a multi-label directory for a softmax model, and duplicate class names', async () => {
    const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(['a b', 'c d']);
    const architecture = resolveTextClassifierOptions({ vocabSize: vectorizer.vocabSize, embeddingDim: 4, units: 2, attentionUnits: 2 });
    const model = textClassifier(architecture);
    try {
      await expect(saveRecurrentTextClassifier(path.join(tmp, 'ml'), model, vectorizer, { architecture, classes: ['a', 'b'], problem: 'multi-label' })).rejects.toMatchObject({
        code: 'bad_input',
        message: expect.stringMatching(/a multi-label classifier needs a sigmoid output \(architecture output: 'sigmoid'\), the architecture has softmax/),
      });
      await expect(saveRecurrentTextClassifier(path.join(tmp, 'dup'), model, vectorizer, { architecture, classes: ['a', 'a'] })).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/class "a" is listed twice/) });
    } finally {
      model.dispose();
    }
  });
});

/** TREC questions of a file with their coarse and fine labels. */
function trec(file: string, n = Infinity): { texts: string[]; coarse: string[]; fine: string[] } {
  const lines = decodeText(readFileSync(path.join(repoRoot()!, 'data/trec', file)))
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, n);
  const tags = lines.map((l) => l.slice(0, l.indexOf(' ')));
  return { texts: lines.map((l) => l.slice(l.indexOf(' ') + 1)), coarse: tags.map((t) => t.split(':')[0]!), fine: tags };
}

describe('linear kinds (fasttext, tfidf-lr)', () => {
  const train = trec('train_5500.label', 2500);
  const test = trec('TREC_10.label');

  it.each(['fasttext', 'tfidf-lr'] as const)('%s: learns TREC-6 from 2,500 questions, saves, reloads through pipeline() with the same scores', async (kind) => {
    const model = await fitLinearTextClassifier({ texts: train.texts, labels: train.coarse.map((c) => [c]) }, { kind, seed: 1 });
    const before = await model.predict(test.texts);
    const accuracy = before.filter((r, i) => r.label === test.coarse[i]).length / test.texts.length;
    // The majority class is 27.6% of the test set; bag-of-n-gram models reach well above 80%.
    expect(accuracy).toBeGreaterThan(0.8);
    expect(before.every((r) => r.truncated === false && r.predicted.length === 1)).toBe(true);
    const dir = path.join(tmp, kind);
    await model.save(dir);
    expect(await readModelConfig(dir)).toMatchObject({ task: 'text-classification', kind, problem: 'multi-class', classes: CLASSES });
    const loaded = await pipeline('text-classification', dir);
    expect(loaded).toMatchObject({ kind, explains: false, problem: 'multi-class' });
    const after = await loaded.predict(test.texts);
    loaded.dispose();
    after.forEach((r, i) => {
      expect(r.label).toBe(before[i]!.label);
      expect(r.score).toBeCloseTo(before[i]!.score, 5);
    });
  });

  it('fasttext does multi-label: coarse and fine label of each question predicted together', async () => {
    const model = await fitLinearTextClassifier({ texts: train.texts, labels: train.coarse.map((c, i) => [c, train.fine[i]!]) }, { kind: 'fasttext', seed: 1 });
    expect(model.problem).toBe('multi-label');
    const results = await model.predict(test.texts);
    const coarseHit = results.filter((r, i) => r.predicted.includes(test.coarse[i]!)).length / results.length;
    expect(coarseHit).toBeGreaterThan(0.7);
    for (const r of results) for (const l of r.labels) expect(l.score >= 0.5).toBe(r.predicted.includes(l.label));
    const dir = path.join(tmp, 'multi');
    await model.save(dir);
    const loaded = await pipeline('text-classification', dir);
    expect(loaded.problem).toBe('multi-label');
    expect((await loaded.predict(test.texts.slice(0, 20))).map((r) => r.predicted)).toEqual(results.slice(0, 20).map((r) => r.predicted));
  });

  it('tfidf-lr chooses its L2 penalty on validation rows and keeps the best of those it tried', async () => {
    const fit = { texts: train.texts.slice(0, 2000), labels: train.coarse.slice(0, 2000).map((c) => [c]) };
    const validation = { texts: train.texts.slice(2000), labels: train.coarse.slice(2000).map((c) => [c]) };
    const model = await fitLinearTextClassifier(fit, { kind: 'tfidf-lr', seed: 1, validation, tfidf: { epochs: 10 } });
    const training = model.config.training as { l2: number; l2Candidates: Array<{ l2: number; validationAccuracy: number }> };
    expect(training.l2Candidates.map((c) => c.l2)).toEqual([...TFIDF_L2_CANDIDATES]);
    const accuracies = training.l2Candidates.map((c) => c.validationAccuracy);
    // The penalties give different models (else there would be nothing to choose) ...
    expect(new Set(accuracies).size).toBeGreaterThan(1);
    // ... and the one kept is the first with the best accuracy, measured again here.
    expect(training.l2).toBe(training.l2Candidates[accuracies.indexOf(Math.max(...accuracies))]!.l2);
    const again = (await model.predict(validation.texts)).filter((r, i) => r.label === validation.labels[i]![0]).length / validation.texts.length;
    expect(again).toBeCloseTo(Math.max(...accuracies), 10);
  });

  it('tfidf-lr with character n-grams saves them and reloads with the same scores', async () => {
    const rows = { texts: train.texts.slice(0, 600), labels: train.coarse.slice(0, 600).map((c) => [c]) };
    const words = await fitLinearTextClassifier(rows, { kind: 'tfidf-lr', seed: 1, tfidf: { epochs: 5 } });
    const chars = await fitLinearTextClassifier(rows, { kind: 'tfidf-lr', seed: 1, tfidf: { epochs: 5, charNgrams: [3, 4] } });
    expect(chars.config.features).toBeGreaterThan(words.config.features);
    expect(chars.config).toMatchObject({ minn: 3, maxn: 4 });
    const dir = path.join(tmp, 'chars');
    await chars.save(dir);
    const loaded = await pipeline('text-classification', dir);
    const [a, b] = [await chars.predict(test.texts.slice(0, 30)), await loaded.predict(test.texts.slice(0, 30))];
    loaded.dispose();
    b.forEach((r, i) => expect(r.score).toBeCloseTo(a[i]!.score, 5));
    await expect(fitLinearTextClassifier(rows, { kind: 'tfidf-lr', tfidf: { charNgrams: [4, 2] } })).rejects.toThrow(/tfidf\.charNgrams must be \[min, max\]/);
  });

  it('a truncated weights file is model_file_corrupt', async () => {
    const model = await fitLinearTextClassifier({ texts: train.texts.slice(0, 300), labels: train.coarse.slice(0, 300).map((c) => [c]) }, { kind: 'tfidf-lr', tfidf: { epochs: 2 } });
    const dir = path.join(tmp, 'broken');
    await model.save(dir);
    const bytes = await fs.readFile(path.join(dir, 'weights.bin'));
    await fs.writeFile(path.join(dir, 'weights.bin'), bytes.subarray(0, bytes.length - 8));
    await expect(pipeline('text-classification', dir)).rejects.toMatchObject({ code: 'model_file_corrupt', message: expect.stringMatching(/weights\.bin: has \d+ bytes, the config describes \d+/) });
  });
});

describe('sentence-encoder kinds (use, hybrid)', () => {
  it.each(['use', 'hybrid'] as const)('%s: saved by @seqlab/embeddings, served by pipeline() with the same scores, with a shared or its own encoder', async (kind) => {
    const { fitUseTextClassifier, loadEncoder } = await import('@seqlab/embeddings');
    // Small on purpose: USE-lite embeds about 20 texts/s on wasm, fewer on a shared machine.
    const train = trec('train_5500.label', 240);
    const test = trec('TREC_10.label', 30);
    const encoder = await loadEncoder();
    const dir = path.join(tmp, `sentence-${kind}`);
    try {
      const { classifier } = await fitUseTextClassifier({ texts: train.texts, labels: train.coarse.map((c) => [c]) }, { kind, encoder, hidden: [0], epochs: 15, patience: 3, seed: 1 });
      const before = await classifier.predict(test.texts);
      await classifier.save(dir);
      classifier.dispose();
      expect(await readModelConfig(dir)).toMatchObject({ task: 'text-classification', kind, classes: CLASSES });
      await expectNoLeakedTensors(async () => {
        const shared = await pipeline('text-classification', dir, { encoder });
        expect({ kind: shared.kind, explains: shared.explains, problem: shared.problem }).toEqual({ kind, explains: false, problem: 'multi-class' });
        expect(await shared.predict(test.texts)).toEqual(before);
        shared.dispose();
      });
      // Without an encoder to share the pipeline loads one, and frees it with itself.
      const own = await pipeline('text-classification', dir);
      expect((await own.predict(test.texts)).map((r) => r.label)).toEqual(before.map((r) => r.label));
      own.dispose();
    } finally {
      encoder.dispose();
    }
  }, 300_000);
});

describe('the default text classifier (models/question-type)', () => {
  it('is the committed TREC question-type model and labels questions by the answer they ask for', async () => {
    const clf = await pipeline('text-classification');
    try {
      expect(clf.name).toBe('question-type');
      expect(clf.classes).toEqual(CLASSES);
      const results = await clf.predict(['How far is it from Denver to Aspen ?', 'Who wrote Hamlet ?', 'What does NASA stand for ?', 'Where is the Taj Mahal ?']);
      expect(results.map((r) => r.label)).toEqual(['NUM', 'HUM', 'ABBR', 'LOC']);
      // Its test accuracy, measured here on the 500 TREC test questions, is the one the recipe reported.
      const test = trec('TREC_10.label');
      const all = await clf.predict(test.texts);
      const accuracy = all.filter((r, i) => r.label === test.coarse[i]).length / test.texts.length;
      const reported = JSON.parse(readFileSync(path.join(repoRoot()!, 'results/trec.json'), 'utf8')).questionType.testAccuracy;
      expect(accuracy).toBeCloseTo(reported, 10);
    } finally {
      clf.dispose();
    }
  });
});

describe('sentiment models as binary text classifiers', () => {
  it('the default sentiment ensemble gives the same scores through both tasks', async () => {
    const texts = ['a gorgeous , witty film', 'tedious , overlong and dull'];
    const sentiment = await pipeline('sentiment');
    const clf = await pipeline('text-classification', DEFAULT_MODELS.sentiment!);
    try {
      const a = await sentiment.predict(texts);
      const b = await clf.predict(texts);
      expect(clf.problem).toBe('binary');
      expect(clf.classes).toEqual(['negative', 'positive']);
      b.forEach((r, i) => {
        expect(r.label).toBe(a[i]!.label);
        expect(r.score).toBeCloseTo(a[i]!.score, 5);
        expect(r.truncated).toBe(false);
      });
    } finally {
      sentiment.dispose();
      clf.dispose();
    }
  });

  it('a text-classification model is not a sentiment model', async () => {
    await expect(pipeline('sentiment', modelDir)).rejects.toMatchObject({ code: 'bad_input', message: expect.stringMatching(/sentiment needs a binary classifier of negative and positive/) });
  });
});
