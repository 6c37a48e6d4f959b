/**
 * Ensembles of text classifiers of any kinds: a weighted mean of the members' probabilities,
 * saved as one model directory (members inside), served by pipeline('text-classification'),
 * with weights chosen on held-out rows.
 */
import { readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend, readModelConfig, SeededRandom, sharedTokens, writeModelConfig, type TextClassificationPipeline, type TextClassificationResult } from '@seqlab/core';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { TextVectorizer } from '@seqlab/tokenize';
import { decodeText, fitLinearTextClassifier, fitRecurrentTextClassifier, stratifiedSample, type LabelledRows, type LinearTextClassifier, type RecurrentTextClassifier } from '@seqlab/rnn';
import { chooseEnsembleWeights, crossFittedEnsembleAccuracy, modelDigest, pipeline, repoRoot, TextClassifierEnsemble } from '../src/index.js';

function trec(file: string): LabelledRows {
  const lines = decodeText(readFileSync(path.join(repoRoot()!, 'data/trec', file)))
    .split('\n')
    .filter((l) => l.trim());
  return { texts: lines.map((l) => l.slice(l.indexOf(' ') + 1).trim()), labels: lines.map((l) => [l.slice(0, l.indexOf(':'))]) };
}

let tmp: string;
let tfidf: TextClassificationPipeline;
let fasttext: TextClassificationPipeline;
let recurrent: TextClassificationPipeline;
const all = trec('train_5500.label');
const pick = (idx: number[]) => ({ texts: idx.map((i) => all.texts[i]!), labels: idx.map((i) => all.labels[i]!) });
const fit = pick(stratifiedSample(all.labels, 800, 1));
const held = pick(stratifiedSample(all.labels, 300, 2).filter((i) => !fit.texts.includes(all.texts[i]!)));
const test = trec('TREC_10.label');

/** A hand-written ensemble config.json (for the loader's refusals). */
function writeEnsembleConfig(dir: string, members: Record<string, unknown>[]) {
  return writeModelConfig(dir, { task: 'text-classification', kind: 'ensemble' }, { format: 'seqlab-tasks/text-classifier-ensemble@1', members });
}

/** Class probabilities of each text in the order of `classes`. */
async function probabilities(model: TextClassificationPipeline, texts: string[], classes: readonly string[]): Promise<number[][]> {
  return (await model.predict(texts)).map((r) => classes.map((c) => r.labels.find((l) => l.label === c)!.score));
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-ensemble-'));
  tfidf = await fitLinearTextClassifier(fit, { kind: 'tfidf-lr', seed: 1 });
  fasttext = await fitLinearTextClassifier(fit, { kind: 'fasttext', seed: 1 });
  recurrent = (await fitRecurrentTextClassifier(fit, { units: 12, embeddingDim: 24, epochs: 3, learningRate: 0.01, seed: 1, clean: false })).classifier;
}, 120_000);

afterAll(async () => {
  for (const m of [tfidf, fasttext, recurrent]) m?.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('TextClassifierEnsemble', () => {
  it('predicts the weighted mean of its members, explains through the member that can, and loads back as the same model', async () => {
    const classes = tfidf.classes;
    const texts = test.texts.slice(0, 60);
    const [a, b] = [await probabilities(tfidf, texts, classes), await probabilities(recurrent, texts, classes)];
    const ensemble = new TextClassifierEnsemble([{ model: tfidf, weight: 3 }, { model: recurrent, weight: 1 }], 'pair', { note: 'test' });
    expect(ensemble.weights).toEqual([0.75, 0.25]);
    expect(ensemble).toMatchObject({ kind: 'ensemble', problem: 'multi-class', explains: true });
    // The recurrent member reads a bounded length; the linear one whole texts.
    expect(tfidf.maxLength).toBe(Infinity);
    expect(ensemble.maxLength).toBe(recurrent.maxLength);
    const results = await ensemble.predict(texts);
    results.forEach((r, i) => {
      const mean = classes.map((_, c) => 0.75 * a[i]![c]! + 0.25 * b[i]![c]!);
      for (const l of r.labels) expect(l.score).toBeCloseTo(mean[classes.indexOf(l.label)]!, 6);
      expect(r.label).toBe(classes[mean.indexOf(Math.max(...mean))]);
      expect(r.tokens!.length).toBeGreaterThan(0);
    });

    const dir = path.join(tmp, 'pair');
    await ensemble.save(dir);
    const config = await readModelConfig(dir);
    expect(config).toMatchObject({ task: 'text-classification', kind: 'ensemble', problem: 'multi-class', classes, training: { note: 'test' } });
    expect(config.members).toEqual([
      { dir: 'members/1-tfidf-lr', kind: 'tfidf-lr', weight: 0.75 },
      { dir: 'members/2-rnn', kind: 'rnn', weight: 0.25 },
    ]);
    await expectNoLeakedTensors(async () => {
      const loaded = await pipeline('text-classification', dir);
      try {
        expect(loaded.kind).toBe('ensemble');
        const again = await loaded.predict(texts);
        again.forEach((r, i) => {
          expect(r.label).toBe(results[i]!.label);
          expect(r.score).toBeCloseTo(results[i]!.score, 5);
        });
      } finally {
        loaded.dispose();
      }
    });
  }, 60_000);

  it('tokenizes a batch once for members that tokenize alike, with the same results', async () => {
    const classes = tfidf.classes;
    const texts = test.texts.slice(0, 80);
    const [a, b] = [await probabilities(tfidf, texts, classes), await probabilities(fasttext, texts, classes)];
    const ensemble = new TextClassifierEnsemble([{ model: tfidf, weight: 1 }, { model: fasttext, weight: 1 }], 'linear pair');
    const tokenize = vi.spyOn(TextVectorizer.prototype, 'tokenize');
    try {
      const results = await ensemble.predict(texts);
      expect(tokenize).toHaveBeenCalledTimes(texts.length);
      results.forEach((r, i) => {
        for (const l of r.labels) expect(l.score).toBeCloseTo((a[i]![classes.indexOf(l.label)]! + b[i]![classes.indexOf(l.label)]!) / 2, 6);
      });
    } finally {
      tokenize.mockRestore();
    }
  });

  it("scores its plain-array members while the recurrent member's kernels run on the helper thread, with the same results", async () => {
    const classes = tfidf.classes;
    const texts = test.texts.slice(0, 256);
    const [a, b, c] = [await probabilities(tfidf, texts, classes), await probabilities(fasttext, texts, classes), await probabilities(recurrent, texts, classes)];
    const ensemble = new TextClassifierEnsemble([{ model: tfidf, weight: 0.5 }, { model: fasttext, weight: 0.25 }, { model: recurrent, weight: 0.25 }], 'trio');
    // Texts the linear members scored while the recurrent member's predict was under way.
    let inRecurrent = false;
    let during = 0;
    const predict = recurrent.predict.bind(recurrent);
    const linear = tfidf as LinearTextClassifier;
    const each = linear.predictEach.bind(linear);
    const spies = [
      vi.spyOn(recurrent, 'predict').mockImplementation(async (...args) => {
        inRecurrent = true;
        try {
          return await predict(...args);
        } finally {
          inRecurrent = false;
        }
      }),
      vi.spyOn(linear, 'predictEach').mockImplementation(function* (...args: Parameters<LinearTextClassifier['predictEach']>) {
        for (const r of each(...args)) {
          if (inRecurrent) during++;
          yield r;
        }
      }),
    ];
    try {
      // With two kernel threads the helper runs the recurrence while this thread scores texts; on
      // a loaded machine the helper may finish each call before this thread looks: a few tries.
      for (let attempt = 0; attempt < 10 && during === 0; attempt++) {
        const results = await ensemble.predict(texts, { explain: false });
        results.forEach((r, i) => {
          for (const l of r.labels) {
            const k = classes.indexOf(l.label);
            expect(l.score).toBeCloseTo(0.5 * a[i]![k]! + 0.25 * b[i]![k]! + 0.25 * c[i]![k]!, 6);
          }
        });
        if (os.availableParallelism() < 2) break;
      }
      if (os.availableParallelism() >= 2) expect(during).toBeGreaterThan(0);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("a recurrent model tokenizes the caller's next batch while its kernels run (lookahead); an ensemble passes it on; results unchanged", async () => {
    const [first, second] = [test.texts.slice(0, 256), test.texts.slice(256, 480)];
    const ensemble = new TextClassifierEnsemble([{ model: tfidf, weight: 0.5 }, { model: fasttext, weight: 0.25 }, { model: recurrent, weight: 0.25 }], 'trio');
    const scores = (rs: TextClassificationResult[]) => rs.map((r) => r.labels.map((l) => [l.label, l.score]));
    const vectorizer = (recurrent as RecurrentTextClassifier).vectorizer;
    for (const model of [recurrent, ensemble]) {
      const plain = [scores(await model.predict(first, { explain: false })), scores(await model.predict(second, { explain: false }))];
      let prefilled = 0;
      // As above: on a loaded machine the helper may finish each call before this thread looks.
      for (let attempt = 0; attempt < 10 && prefilled === 0; attempt++) {
        const [now, next] = [sharedTokens(), sharedTokens()];
        const a = await model.predict(first, { explain: false, sharedTokens: now, lookahead: { texts: second, sharedTokens: next } });
        let left = 0;
        next.get(second, vectorizer.tokenizationKey, (ts) => {
          left = ts.length;
          return ts.map((t) => vectorizer.tokenize(t));
        });
        prefilled = second.length - left;
        const b = await model.predict(second, { explain: false, sharedTokens: next });
        expect(scores(a)).toEqual(plain[0]);
        expect(scores(b)).toEqual(plain[1]);
        // In the ensemble the linear members' side work may use up the kernels' waits first.
        if (model === ensemble || os.availableParallelism() < 2) break;
      }
      if (model === recurrent && os.availableParallelism() >= 2) expect(prefilled).toBeGreaterThan(0);
    }
  });

  it('refuses members it cannot combine, and member paths outside its directory', async () => {
    expect(() => new TextClassifierEnsemble([{ model: tfidf, weight: 1 }])).toThrow(/at least two members, got 1/);
    expect(() => new TextClassifierEnsemble([{ model: tfidf, weight: 1 }, { model: fasttext, weight: -1 }])).toThrow(/member 2 \(fasttext\): weight must be a non-negative number/);
    expect(() => new TextClassifierEnsemble([{ model: tfidf, weight: 0 }, { model: fasttext, weight: 0 }])).toThrow(/weights are all zero/);
    const twoClass = { texts: fit.texts.slice(0, 200), labels: fit.labels.slice(0, 200).map((l) => [l[0] === 'HUM' ? 'HUM' : 'OTHER']) };
    const binary = await fitLinearTextClassifier(twoClass, { kind: 'tfidf-lr', seed: 1 });
    expect(() => new TextClassifierEnsemble([{ model: tfidf, weight: 1 }, { model: binary, weight: 1 }])).toThrow(/member 2 \(tfidf-lr\) is binary, member 1 is multi-class/);
    binary.dispose();

    const dir = path.join(tmp, 'escape');
    await writeEnsembleConfig(dir, [
      { dir: 'members/1', kind: 'tfidf-lr', weight: 0.5 },
      { dir: '../elsewhere', kind: 'tfidf-lr', weight: 0.5 },
    ]);
    await fs.mkdir(path.join(dir, 'members'), { recursive: true });
    await tfidf.save(path.join(dir, 'members/1'));
    await expect(pipeline('text-classification', dir)).rejects.toThrow(/members\[1\]\.dir "\.\.\/elsewhere" is outside the model directory/);
  }, 60_000);
});

describe('ensembles that name other models', () => {
  it('refer to members by model name instead of copying them, and refuse nesting and paths', async () => {
    const models = path.join(tmp, 'models');
    await tfidf.save(path.join(models, 'base'));
    const base = await pipeline('text-classification', 'base', { modelsDir: models });
    const named = new TextClassifierEnsemble([{ model: base, weight: 1, ref: 'base', refDir: path.join(models, 'base') }, { model: fasttext, weight: 1 }], 'mixed');
    await named.save(path.join(models, 'mixed'));
    const config = await readModelConfig(path.join(models, 'mixed'));
    expect(config.members).toEqual([
      { model: 'base', digest: await modelDigest(path.join(models, 'base')), kind: 'tfidf-lr', weight: 0.5 },
      { dir: 'members/2-fasttext', kind: 'fasttext', weight: 0.5 },
    ]);
    const texts = test.texts.slice(0, 20);
    const expected = await named.predict(texts);
    base.dispose();
    const loaded = await pipeline('text-classification', 'mixed', { modelsDir: models, allowPaths: false });
    try {
      expect((await loaded.predict(texts)).map((r) => r.label)).toEqual(expected.map((r) => r.label));
    } finally {
      loaded.dispose();
    }

    const nested = path.join(models, 'nested');
    await writeEnsembleConfig(nested, [
      { model: 'mixed', kind: 'ensemble', weight: 0.5 },
      { model: 'base', kind: 'tfidf-lr', weight: 0.5 },
    ]);
    await expect(pipeline('text-classification', 'nested', { modelsDir: models })).rejects.toThrow(/member "mixed" is an ensemble; ensembles do not nest/);
    await writeEnsembleConfig(nested, [
      { model: '../base', kind: 'tfidf-lr', weight: 0.5 },
      { model: 'base', kind: 'tfidf-lr', weight: 0.5 },
    ]);
    await expect(pipeline('text-classification', 'nested', { modelsDir: models })).rejects.toThrow(/"\.\.\/base" is not a valid model name .*no paths/);

    // By content digest, the name a hint: a renamed member is found, a changed one refused.
    const digest = await modelDigest(path.join(models, 'base'));
    await fs.rename(path.join(models, 'base'), path.join(models, 'base-renamed'));
    const renamed = await pipeline('text-classification', 'mixed', { modelsDir: models, allowPaths: false });
    try {
      expect((await renamed.predict(texts)).map((r) => r.label)).toEqual(expected.map((r) => r.label));
      expect((renamed as TextClassifierEnsemble).models[0]!.name).toBe('base-renamed');
    } finally {
      renamed.dispose();
    }
    // A different model under the member's name (a re-trained or replaced member), and no copy of the old one.
    await fs.rm(path.join(models, 'base-renamed'), { recursive: true });
    await fasttext.save(path.join(models, 'base'));
    const changed = await pipeline('text-classification', 'mixed', { modelsDir: models }).catch((e: Error) => e);
    expect(changed).toMatchObject({ code: 'bad_input' });
    expect((changed as Error).message).toBe(
      `model "mixed": member "base" has changed since the ensemble was saved (digest ${await modelDigest(path.join(models, 'base'))}, the ensemble expects ${digest}); re-create the member or re-run the ensemble's recipe`,
    );
    await fs.rm(path.join(models, 'base'), { recursive: true });
    await expect(pipeline('text-classification', 'mixed', { modelsDir: models })).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/^model "mixed": member "base" \(sha256:[0-9a-f]{64}\) is not in the models folder/) });
  }, 60_000);

  it('still load ensembles saved before digests (a member by name alone)', async () => {
    const models = path.join(tmp, 'legacy-models');
    await tfidf.save(path.join(models, 'base'));
    await writeEnsembleConfig(path.join(models, 'legacy'), [
      { model: 'base', kind: 'tfidf-lr', weight: 0.5 },
      { dir: 'members/2-fasttext', kind: 'fasttext', weight: 0.5 },
    ]);
    await fasttext.save(path.join(models, 'legacy', 'members/2-fasttext'));
    const loaded = await pipeline('text-classification', 'legacy', { modelsDir: models, allowPaths: false });
    try {
      const texts = test.texts.slice(0, 10);
      const mean = new TextClassifierEnsemble([{ model: tfidf, weight: 1 }, { model: fasttext, weight: 1 }]);
      expect((await loaded.predict(texts)).map((r) => r.label)).toEqual((await mean.combine([await tfidf.predict(texts), await fasttext.predict(texts)])).map((r) => r.label));
    } finally {
      loaded.dispose();
    }
  }, 60_000);
});

describe('chooseEnsembleWeights', () => {
  it('finds weights at least as accurate on the held-out rows as either member alone', async () => {
    const classes = tfidf.classes;
    const truth = held.labels.map((l) => classes.indexOf(l[0]!));
    const probs = [await probabilities(tfidf, held.texts, classes), await probabilities(recurrent, held.texts, classes)];
    const choice = chooseEnsembleWeights(probs, truth);
    expect(choice.tried).toHaveLength(11);
    expect(choice.weights[0]! + choice.weights[1]!).toBeCloseTo(1, 10);
    const alone = [choice.tried.find((t) => t.weights[0] === 1)!.accuracy, choice.tried.find((t) => t.weights[1] === 1)!.accuracy];
    expect(choice.accuracy).toBeGreaterThanOrEqual(Math.max(...alone));
    expect(Math.max(...alone)).toBeGreaterThan(0.5);
  });

  it('breaks ties toward equal weights and checks its input', () => {
    // Member 1 is right on both rows whatever the weights; every grid point ties.
    const sure = [[0.9, 0.1], [0.2, 0.8]];
    const choice = chooseEnsembleWeights([sure, sure, sure], [0, 1], 0.5);
    expect(choice.accuracy).toBe(1);
    expect(choice.tried).toHaveLength(6);
    // With step 0.5 the grid cannot hold (1/3, 1/3, 1/3); the nearest points have one zero weight.
    expect(choice.weights.filter((w) => w === 0)).toHaveLength(1);
    expect(() => chooseEnsembleWeights([sure], [0, 1])).toThrow(/at least two members/);
    expect(() => chooseEnsembleWeights([sure, [[1, 0]]], [0, 1])).toThrow(/member 2 has 1 rows of probabilities, truth has 2/);
  });
});

describe('crossFittedEnsembleAccuracy', () => {
  it('sees through weights fitted to noise: members that know nothing look better than chance on the rows that chose their weights, not on other rows', () => {
    const rng = new SeededRandom('noise-members');
    const n = 200;
    const truth = Array.from({ length: n }, () => rng.int(2));
    const noise = () => Array.from({ length: n }, () => {
      const p = rng.next();
      return [p, 1 - p];
    });
    const members = [noise(), noise(), noise(), noise()];
    const alone = Math.max(...members.map((m) => m.filter((row, i) => (row[1]! > row[0]! ? 1 : 0) === truth[i]).length / n));
    const inSample = chooseEnsembleWeights(members, truth).accuracy;
    const outOfFold = crossFittedEnsembleAccuracy(members, truth, { folds: 5, seed: 1 });
    // In-sample, the ensemble beats every member (what `train classifier --model auto` used to
    // take for a better model); on rows that did not choose its weights it does not.
    expect(inSample).toBeGreaterThan(alone);
    expect(outOfFold).toBeLessThanOrEqual(alone);
    // Seeded: the same folds, the same answer.
    expect(crossFittedEnsembleAccuracy(members, truth, { folds: 5, seed: 1 })).toBe(outOfFold);
  });

  it('keeps what real members are worth on TREC questions, and checks its input', async () => {
    const classes = tfidf.classes;
    const truth = held.labels.map((l) => classes.indexOf(l[0]!));
    const probs = [await probabilities(tfidf, held.texts, classes), await probabilities(recurrent, held.texts, classes)];
    const accuracy = (p: number[][]) => p.filter((row, i) => row.indexOf(Math.max(...row)) === truth[i]).length / truth.length;
    const alone = probs.map(accuracy);
    const outOfFold = crossFittedEnsembleAccuracy(probs, truth);
    // Two real models: about as good as the weaker alone at least, and no better than with the
    // weights fitted on every row.
    expect(Math.min(...alone)).toBeGreaterThan(0.5);
    expect(outOfFold).toBeGreaterThan(Math.min(...alone) - 0.02);
    expect(outOfFold).toBeLessThanOrEqual(chooseEnsembleWeights(probs, truth).accuracy);
    expect(() => crossFittedEnsembleAccuracy(probs, truth, { folds: 1 })).toThrow(/folds must be an integer >= 2/);
    expect(() => crossFittedEnsembleAccuracy([[[1, 0]], [[0, 1]]], [0], { folds: 2 })).toThrow(/1 rows cannot make 2 folds/);
  });
});
