/**
 * The linear text classifiers' fast path: the L-BFGS logistic-regression solver against a dense
 * Newton reference written here, warm starts, the CSR features against the model's own
 * featurize(), progress and cancellation, and TF-IDF LR accuracy on TREC.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '@seqlab/core';
import { TextVectorizer } from '@seqlab/tokenize';
import { DEFAULT_CLEAN, FASTTEXT_CHAR_NGRAM_MAX_TOKENS, packClassifierTexts, packedTokenCounts, repackRows, fastTextDefaults, fitLinearTextClassifier, fitLogisticRegression, logisticObjective, TFIDF_L2_CANDIDATES, TFIDF_L2_PATIENCE, type LinearFitProgress, type LogisticData } from '../src/index.js';
import { packTexts, type CsrMatrix } from '../src/classification/sparse.js';
import { tfidfMatrix, tfidfVocabulary } from '../src/classification/sparse-tfidf.js';
import { HashedFeaturizer, TextHasher } from '../src/classification/sparse-hashed.js';
import { PARALLEL_MIN_NNZ, solverThreads } from '../src/classification/solver-threads.js';
import { FASTTEXT_PARALLEL_MIN_NNZ, fastTextThreads, shareFastTextState, trainFastText, type FastTextState } from '../src/classification/fasttext-sgd.js';

/** A random sparse problem: `rows` x `cols`, about 8 features a row, labels from a hidden linear rule plus noise. */
function randomProblem(rows: number, cols: number, classes: number, multiLabel: boolean, seed: number): LogisticData {
  const rng = new SeededRandom(seed);
  const truth = Array.from({ length: cols * classes }, () => rng.normal());
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  const labels: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const cs = [...new Set(Array.from({ length: 8 }, () => rng.int(cols)))];
    const z = new Array<number>(classes).fill(0);
    for (const c of cs) {
      const v = Math.fround(rng.next());
      indices.push(c);
      values.push(v);
      for (let k = 0; k < classes; k++) z[k]! += truth[c * classes + k]! * v;
    }
    indptr[r + 1] = indices.length;
    if (multiLabel) labels.push([...z.keys()].filter((k) => z[k]! + rng.normal() > 0));
    else labels.push([z.map((v) => v + rng.normal()).reduce((best, v, k, all) => (v > all[best]! ? k : best), 0)]);
  }
  const x: CsrMatrix = { rows, cols, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
  return { x, classes, multiLabel, labels };
}

/** The objective, gradient and Hessian written out densely, independent of the solver's code. */
function denseObjective(d: LogisticData, theta: Float64Array, l2: number): { f: number; g: Float64Array; H: Float64Array[] } {
  const { x, classes: C } = d;
  const FC = x.cols * C;
  const P = FC + C;
  const g = new Float64Array(P);
  const H = Array.from({ length: P }, () => new Float64Array(P));
  let f = 0;
  for (let r = 0; r < x.rows; r++) {
    // Row r as (parameter index, input value) per class: its features, then the bias.
    const feats: Array<[number, number]> = [];
    for (let k = x.indptr[r]!; k < x.indptr[r + 1]!; k++) feats.push([x.indices[k]!, x.values[k]!]);
    const at = (j: number, c: number) => (j < 0 ? FC + c : j * C + c);
    const terms = [...feats, [-1, 1] as [number, number]];
    const z = Array.from({ length: C }, (_, c) => terms.reduce((s, [j, v]) => s + theta[at(j, c)]! * v, 0));
    const ls = d.labels[r]!;
    const w = d.classWeight ? d.classWeight[ls[0]!]! : 1;
    // dLoss/dz and d2Loss/dz dz' for this row.
    const dz = new Array<number>(C).fill(0);
    const hz = Array.from({ length: C }, () => new Array<number>(C).fill(0));
    if (d.multiLabel) {
      for (let c = 0; c < C; c++) {
        const t = ls.includes(c) ? 1 : 0;
        const p = 1 / (1 + Math.exp(-z[c]!));
        f += -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
        dz[c] = p - t;
        hz[c]![c] = p * (1 - p);
      }
    } else {
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / s);
      f += -w * Math.log(p[ls[0]!]!);
      for (let c = 0; c < C; c++) {
        dz[c] = w * (p[c]! - (c === ls[0] ? 1 : 0));
        for (let k = 0; k < C; k++) hz[c]![k] = w * ((c === k ? p[c]! : 0) - p[c]! * p[k]!);
      }
    }
    for (const [j, v] of terms) {
      for (let c = 0; c < C; c++) {
        g[at(j, c)]! += (dz[c]! * v) / x.rows;
        for (const [j2, v2] of terms) for (let c2 = 0; c2 < C; c2++) H[at(j, c)]![at(j2, c2)]! += (hz[c]![c2]! * v * v2) / x.rows;
      }
    }
  }
  f /= x.rows;
  for (let i = 0; i < FC; i++) {
    f += 0.5 * l2 * theta[i]! ** 2;
    g[i]! += l2 * theta[i]!;
    H[i]![i]! += l2;
  }
  return { f, g, H };
}

/** Newton's method with the dense Hessian (a tiny ridge on the softmax's free bias direction). */
function newtonReference(d: LogisticData, l2: number): Float64Array {
  const P = d.x.cols * d.classes + d.classes;
  const theta = new Float64Array(P);
  for (let it = 0; it < 50; it++) {
    const { g, H } = denseObjective(d, theta, l2);
    if (Math.hypot(...g) < 1e-13) break;
    for (let i = P - d.classes; i < P; i++) H[i]![i]! += 1e-12;
    const step = solveDense(H, g);
    for (let i = 0; i < P; i++) theta[i]! -= step[i]!;
  }
  return theta;
}

/** Gaussian elimination with partial pivoting: A x = b. */
function solveDense(A: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const M = A.map((row, i) => Float64Array.from([...row, b[i]!]));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const k = M[r]![c]! / M[c]![c]!;
      for (let j = c; j <= n; j++) M[r]![j]! -= k * M[c]![j]!;
    }
  }
  const out = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let j = r + 1; j < n; j++) s -= M[r]![j]! * out[j]!;
    out[r] = s / M[r]![r]!;
  }
  return out;
}

const centred = (b: Float64Array) => b.map((v) => v - b.reduce((s, x) => s + x, 0) / b.length);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

describe('fitLogisticRegression (L-BFGS) against a dense Newton reference', () => {
  it.each([
    ['multi-class softmax', 3, false, undefined],
    ['multi-class with class weights', 3, false, [1, 2.5, 0.7]],
    ['binary softmax', 2, false, undefined],
    ['multi-label sigmoids', 3, true, undefined],
  ] as const)('%s: same objective and weights to 1e-4, gradient ~0 at the solution', async (_name, classes, multiLabel, classWeight) => {
    const data = { ...randomProblem(200, 50, classes, multiLabel, 11), ...(classWeight ? { classWeight: [...classWeight] } : {}) };
    const l2 = 1e-2;
    const ref = newtonReference(data, l2);
    const FC = 50 * classes;
    const fit = await fitLogisticRegression(data, { l2, tolerance: 1e-7, maxIterations: 2000 });
    expect(fit.converged).toBe(true);
    const theta = Float64Array.from([...fit.weights, ...fit.bias]);
    const dense = denseObjective(data, theta, l2);
    // The solver's objective is the one written out densely here ...
    expect(logisticObjective(data, fit, l2)).toBeCloseTo(dense.f, 12);
    // ... it reached the reference optimum ...
    expect(Math.abs(fit.objective - denseObjective(data, ref, l2).f)).toBeLessThan(1e-9);
    expect(maxDiff(fit.weights, ref.subarray(0, FC))).toBeLessThan(1e-4);
    const bias = multiLabel ? fit.bias : centred(fit.bias);
    expect(maxDiff(bias, multiLabel ? ref.subarray(FC) : centred(ref.subarray(FC)))).toBeLessThan(1e-4);
    // ... where the gradient (the reference's formula) vanishes.
    expect(Math.hypot(...dense.g)).toBeLessThan(1e-7);
    const grad = new Float64Array(FC + classes);
    logisticObjective(data, fit, l2, grad);
    expect(maxDiff(grad, dense.g)).toBeLessThan(1e-12);
  });

  it.each([
    ['binary', 2, false],
    ['multi-class', 3, false],
    ['multi-label', 3, true],
  ] as const)('%s: with two threads (rows split with a helper thread) the same optimum as one thread and the reference', async (_name, classes, multiLabel) => {
    const data = randomProblem(400, 30, classes, multiLabel, 5);
    const l2 = 1e-2;
    const one = await fitLogisticRegression(data, { l2, tolerance: 1e-7, maxIterations: 2000, threads: 1 });
    const two = await fitLogisticRegression(data, { l2, tolerance: 1e-7, maxIterations: 2000, threads: 2 });
    expect([one.threads, two.threads]).toEqual([1, 2]);
    expect(two.converged).toBe(true);
    const ref = newtonReference(data, l2);
    expect(Math.abs(two.objective - denseObjective(data, ref, l2).f)).toBeLessThan(1e-9);
    expect(Math.abs(two.objective - one.objective)).toBeLessThan(1e-10);
    expect(maxDiff(two.weights, ref.subarray(0, 30 * classes))).toBeLessThan(1e-4);
  });

  it('one thread unless asked: SEQLAB_THREADS=2 asks, and then only from a million stored features', async () => {
    const small = randomProblem(500, 40, 2, false, 3);
    const saved = process.env.SEQLAB_THREADS;
    try {
      delete process.env.SEQLAB_THREADS;
      expect(solverThreads()).toBe(1);
      process.env.SEQLAB_THREADS = '2';
      expect(solverThreads()).toBe(Math.min(2, os.availableParallelism()));
      expect((await fitLogisticRegression(small, { l2: 1e-3 })).threads).toBe(1);
    } finally {
      if (saved === undefined) delete process.env.SEQLAB_THREADS;
      else process.env.SEQLAB_THREADS = saved;
    }
    expect(PARALLEL_MIN_NNZ).toBe(1_000_000);
  });

  it('a warm start from a stronger penalty reaches the cold-start optimum, in fewer iterations', async () => {
    const data = randomProblem(400, 120, 4, false, 5);
    const strong = await fitLogisticRegression(data, { l2: 1e-2, tolerance: 1e-7 });
    const cold = await fitLogisticRegression(data, { l2: 1e-3, tolerance: 1e-7 });
    const warm = await fitLogisticRegression(data, { l2: 1e-3, tolerance: 1e-7, init: strong });
    expect(warm.converged && cold.converged).toBe(true);
    expect(maxDiff(warm.weights, cold.weights)).toBeLessThan(1e-4);
    expect(Math.abs(warm.objective - cold.objective)).toBeLessThan(1e-10);
    expect(warm.iterations).toBeLessThan(cold.iterations);
  });
});

/** TREC questions with their coarse labels. */
function trec(file: string, from = 0, to = Infinity): { texts: string[]; labels: string[][] } {
  const lines = readFileSync(path.resolve(__dirname, '../../../data/trec', file), 'latin1').split('\n').filter((l) => l.trim()).slice(from, to);
  return { texts: lines.map((l) => l.slice(l.indexOf(' ') + 1)), labels: lines.map((l) => [l.slice(0, l.indexOf(':'))]) };
}

describe('features computed once for training equal the model featurize() at inference', () => {
  const rows = trec('train_5500.label', 0, 400);
  const tokenizer = () => new TextVectorizer({ tokenizer: 'word', clean: DEFAULT_CLEAN });

  // Without character n-grams, featurize() looks words and bigrams up by word ids rather than
  // by feature strings once it has featurized 256 texts: the 400 rows here compare both ways.
  it.each([
    ['word bigrams and character n-grams', [3, 4], 2],
    ['word bigrams only (looked up by word ids)', [0, 0], 2],
    ['word trigrams (found through their bigram prefixes)', [0, 0], 3],
  ] as const)('tfidf-lr, %s: same ids and bit-identical values', async (_name, [minn, maxn], wordNgrams) => {
    const model = await fitLinearTextClassifier(rows, { kind: 'tfidf-lr', seed: 1, tfidf: { wordNgrams, ...(minn > 0 ? { charNgrams: [minn, maxn] } : {}) } });
    const corpus = await packTexts(rows.texts, tokenizer());
    const vocab = tfidfVocabulary(corpus, { wordNgrams, minn, maxn, maxFeatures: 200_000 });
    expect(vocab.features.length).toBe(model.config.features);
    const x = tfidfMatrix(corpus, vocab, wordNgrams);
    expect(x.rows).toBe(rows.texts.length);
    let bigrams = 0;
    for (const [r, text] of rows.texts.entries()) {
      const want = model.featurize(text);
      expect(Array.from(x.indices.subarray(x.indptr[r], x.indptr[r + 1]))).toEqual(Array.from(want.idx));
      expect(Array.from(x.values.subarray(x.indptr[r], x.indptr[r + 1]))).toEqual(Array.from(want.val));
      bigrams += Array.from(want.idx).filter((f) => vocab.features[f]!.startsWith('2 ')).length;
    }
    // Each kind of n-gram really is in the rows compared.
    expect(bigrams).toBeGreaterThan(100);
    expect(vocab.features.some((f) => f.startsWith('3 '))).toBe(wordNgrams === 3);
    expect(vocab.features.some((f) => f.startsWith('c '))).toBe(minn > 0);
  });

  it('fasttext: hashed words, bigrams and character 3- to 5-grams, same buckets and values', async () => {
    const model = await fitLinearTextClassifier(rows, { kind: 'fasttext', seed: 1, fasttext: { epochs: 1 } });
    const corpus = await packTexts(rows.texts, tokenizer());
    const featurizer = new HashedFeaturizer(corpus, { buckets: model.config.features, wordNgrams: 2, minn: 3, maxn: 5 });
    const stored = featurizer.matrix(Number.POSITIVE_INFINITY);
    for (const [r, text] of rows.texts.entries()) {
      const want = model.featurize(text);
      const got = featurizer.row(r);
      expect(Array.from(got.idx.subarray(0, got.nnz))).toEqual(Array.from(want.idx));
      expect(Array.from(got.val.subarray(0, got.nnz))).toEqual(Array.from(want.val));
      expect(Array.from(stored.indices.subarray(stored.indptr[r], stored.indptr[r + 1]))).toEqual(Array.from(want.idx));
    }
  });

  it('fasttext scoring features are the same past the word cache (words hashed as they come)', () => {
    const options = { buckets: 1 << 18, wordNgrams: 3, minn: 3, maxn: 5 };
    const [cached, capped] = [new TextHasher(options), new TextHasher(options, 5)];
    for (const text of rows.texts.slice(0, 60)) {
      const words = tokenizer().tokenize(text).map((t) => t.text);
      const [a, b] = [cached.row(words), capped.row(words)];
      expect(Array.from(b.idx)).toEqual(Array.from(a.idx));
      expect(Array.from(b.val)).toEqual(Array.from(a.val));
    }
  });

  it('fasttext scores from per-row class logits equal the softmax of the output layer over the mean embedding', async () => {
    const model = await fitLinearTextClassifier(rows, { kind: 'fasttext', seed: 1, fasttext: { epochs: 1 } });
    const { embedding, weights, bias } = model as unknown as { embedding: Float32Array; weights: Float32Array; bias: Float32Array };
    const { dim: d, classes } = model.config;
    const C = classes.length;
    expect(C).toBeLessThanOrEqual(d);
    for (const text of rows.texts.slice(0, 40)) {
      const x = model.featurize(text);
      const h = new Float64Array(d);
      for (let k = 0; k < x.idx.length; k++) for (let j = 0; j < d; j++) h[j]! += x.val[k]! * embedding[x.idx[k]! * d + j]!;
      const z = Array.from({ length: C }, (_, c) => bias[c]! + Array.from(h).reduce((s, hj, j) => s + hj * weights[c * d + j]!, 0));
      const top = Math.max(...z);
      const e = z.map((v) => Math.exp(v - top));
      const sum = e.reduce((a, b) => a + b, 0);
      const got = model.scores(x);
      e.forEach((v, c) => expect(got[c]).toBeCloseTo(v / sum, 6));
    }
  });

  it('featurizing streams: the corpus is kept as word ids (one Int32Array), one string per distinct word', async () => {
    const rng = new SeededRandom(3);
    const texts = Array.from({ length: 3000 }, () => Array.from({ length: 60 }, () => `w${rng.int(500)}`).join(' '));
    const corpus = await packTexts(texts, tokenizer());
    expect(corpus.tokens).toBeInstanceOf(Int32Array);
    expect(corpus.tokens.length).toBe(3000 * 60);
    expect(corpus.offsets[3000]).toBe(3000 * 60);
    expect(corpus.words.length).toBeLessThanOrEqual(500);
    expect(new Set(corpus.words).size).toBe(corpus.words.length);
    expect(corpus.words[corpus.tokens[61]!]).toBe(texts[1]!.split(' ')[1]);
  });
});

describe('fitLinearTextClassifier progress, cancellation and accuracy', () => {
  it('reports featurize then fit progress up to done = total, with the L2 being fitted', async () => {
    const fit = trec('train_5500.label', 0, 600);
    const validation = trec('train_5500.label', 600, 800);
    const events: LinearFitProgress[] = [];
    const model = await fitLinearTextClassifier(fit, { kind: 'tfidf-lr', validation, onProgress: (e) => events.push(e) });
    const featurize = events.filter((e) => e.stage === 'featurize');
    const fitting = events.filter((e) => e.stage === 'fit');
    expect(featurize.at(-1)).toEqual({ stage: 'featurize', done: 800, total: 800 });
    expect(events.indexOf(fitting[0]!)).toBeGreaterThan(events.indexOf(featurize.at(-1)!));
    const tried = (model.config.training as { l2Candidates: Array<{ l2: number }> }).l2Candidates.map((c) => c.l2);
    // Done reaches the total whether every penalty was tried or the search stopped early.
    expect(fitting.at(-1)).toMatchObject({ done: 600, total: 600, l2: tried.at(-1) });
    for (let i = 1; i < fitting.length; i++) expect(fitting[i]!.done).toBeGreaterThanOrEqual(fitting[i - 1]!.done);
    expect([...new Set(fitting.map((e) => e.l2))]).toEqual(tried);
  });

  it('tfidf-lr: the L2 search goes from strong to weak penalties and stops once two in a row score below the best', async () => {
    const fit = trec('train_5500.label', 0, 600);
    const validation = trec('train_5500.label', 600, 800);
    const model = await fitLinearTextClassifier(fit, { kind: 'tfidf-lr', validation });
    const tried = (model.config.training as { l2Candidates: Array<{ l2: number; validationAccuracy: number }> }).l2Candidates;
    expect(tried.map((c) => c.l2)).toEqual(TFIDF_L2_CANDIDATES.slice(0, tried.length));
    const accuracies = tried.map((c) => c.validationAccuracy);
    const best = accuracies.indexOf(Math.max(...accuracies));
    expect(model.config.training!.l2).toBe(tried[best]!.l2);
    // On these 600 questions the accuracy turns over before the weakest penalty.
    expect(tried.length).toBeLessThan(TFIDF_L2_CANDIDATES.length);
    expect(tried.length - 1 - best).toBe(TFIDF_L2_PATIENCE);
  });

  it('fasttext defaults follow the corpus size: 20 epochs with character n-grams on small corpora, fewer epochs and none on large ones', async () => {
    expect(fastTextDefaults(50_000)).toEqual({ epochs: 20, charNgrams: true });
    expect(fastTextDefaults(FASTTEXT_CHAR_NGRAM_MAX_TOKENS)).toEqual({ epochs: 15, charNgrams: true });
    expect(fastTextDefaults(6_000_000)).toEqual({ epochs: 5, charNgrams: false });
    expect(fastTextDefaults(60_000_000)).toEqual({ epochs: 5, charNgrams: false });
    const model = await fitLinearTextClassifier(trec('train_5500.label', 0, 300), { kind: 'fasttext' });
    expect(model.config).toMatchObject({ minn: 3, maxn: 5, training: { fasttextEpochs: 20, fasttextCharNgrams: [3, 5] } });
  });

  it.each(['tfidf-lr', 'fasttext'] as const)('%s: an abort during the fit rejects with a cancelled error', async (kind) => {
    const controller = new AbortController();
    const rows = trec('train_5500.label', 0, 1500);
    const run = fitLinearTextClassifier(rows, { kind, signal: controller.signal, onProgress: (e) => e.stage === 'fit' && controller.abort() });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('tfidf-lr with its L2 chosen on validation rows: TREC-6 test accuracy at least 0.85 (the SGD fit scored 0.860)', async () => {
    const fit = trec('train_5500.label', 0, 2000);
    const validation = trec('train_5500.label', 2000, 2500);
    const test = trec('TREC_10.label');
    const model = await fitLinearTextClassifier(fit, { kind: 'tfidf-lr', seed: 1, validation });
    const predicted = await model.predict(test.texts);
    const accuracy = predicted.filter((p, i) => p.label === test.labels[i]![0]).length / test.texts.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
  });
});

describe('fasttext on two threads (lock-free SGD over shared parameters)', () => {
  const fit = trec('train_5500.label');
  const test = trec('TREC_10.label');
  const accuracy = async (model: Awaited<ReturnType<typeof fitLinearTextClassifier>>) =>
    (await model.predict(test.texts)).filter((p, i) => p.label === test.labels[i]![0]).length / test.texts.length;

  it('one thread below two million stored features, and a seed then gives the same model every time', async () => {
    expect(fastTextThreads(FASTTEXT_PARALLEL_MIN_NNZ - 1)).toBe(1);
    expect(fastTextThreads(FASTTEXT_PARALLEL_MIN_NNZ)).toBe(Math.min(2, os.availableParallelism()));
    const rows = trec('train_5500.label', 0, 800);
    const [a, b] = [await fitLinearTextClassifier(rows, { kind: 'fasttext', seed: 4, fasttext: { epochs: 3 } }), await fitLinearTextClassifier(rows, { kind: 'fasttext', seed: 4, fasttext: { epochs: 3 } })];
    expect(a.config.training).toMatchObject({ fasttextThreads: 1 });
    expect(await a.predict(test.texts.slice(0, 50))).toEqual(await b.predict(test.texts.slice(0, 50)));
  });

  it('two threads learn the 5,452 TREC questions as well as one (test accuracy within 3 points) and record the threads used', async () => {
    const one = await fitLinearTextClassifier(fit, { kind: 'fasttext', seed: 1, fasttext: { threads: 1 } });
    const two = await fitLinearTextClassifier(fit, { kind: 'fasttext', seed: 1, fasttext: { threads: 2 } });
    expect(two.config.training).toMatchObject({ fasttextThreads: 2 });
    const [accOne, accTwo] = [await accuracy(one), await accuracy(two)];
    expect(accOne).toBeGreaterThan(0.8);
    expect(accTwo).toBeGreaterThan(accOne - 0.03);
  }, 60_000);

  it('with two threads, an abort during the fit rejects with a cancelled error', async () => {
    const controller = new AbortController();
    const run = fitLinearTextClassifier(fit, { kind: 'fasttext', fasttext: { threads: 2 }, signal: controller.signal, onProgress: (e) => e.stage === 'fit' && e.done > 0 && controller.abort() });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('threads other than 1 or 2 are refused, naming the option', async () => {
    await expect(fitLinearTextClassifier(trec('train_5500.label', 0, 50), { kind: 'fasttext', fasttext: { threads: 3 } })).rejects.toThrow(/fasttext\.threads must be 1 or 2, got 3/);
  });
});

describe('texts tokenized once for several fits (packClassifierTexts, repackRows)', () => {
  const rows = trec('train_5500.label', 0, 600);
  const [a, b] = [rows.texts.slice(0, 400), rows.texts.slice(400)];

  it('rows of two packed corpora, interleaved, repack into exactly the corpus packTexts gives for those texts', async () => {
    const [pa, pb] = [await packClassifierTexts(a), await packClassifierTexts(b)];
    const order: Array<[0 | 1, number]> = [];
    for (let i = 0; i < 400; i++) {
      order.push([0, i]);
      if (i % 2 === 0 && i / 2 < 200) order.push([1, i / 2]);
    }
    const texts = order.map(([s, r]) => (s === 0 ? a[r]! : b[r]!));
    const direct = await packClassifierTexts(texts);
    const repacked = repackRows([pa, pb], order);
    expect(repacked.words).toEqual(direct.words);
    expect(Array.from(repacked.tokens)).toEqual(Array.from(direct.tokens));
    expect(Array.from(repacked.offsets)).toEqual(Array.from(direct.offsets));
    expect(packedTokenCounts(repacked)).toEqual(packedTokenCounts(direct));
  });

  it('a fit given the packed texts makes the same model as one that tokenizes them, and a corpus tokenized otherwise is refused', async () => {
    const corpus = await packClassifierTexts(rows.texts);
    const own = await fitLinearTextClassifier(rows, { kind: 'fasttext', seed: 2, fasttext: { epochs: 2 } });
    const shared = await fitLinearTextClassifier(rows, { kind: 'fasttext', seed: 2, fasttext: { epochs: 2 }, corpus });
    expect(await shared.predict(rows.texts.slice(0, 40))).toEqual(await own.predict(rows.texts.slice(0, 40)));
    const unclean = await packClassifierTexts(rows.texts, false);
    await expect(fitLinearTextClassifier(rows, { kind: 'tfidf-lr', corpus: unclean })).rejects.toThrow(/corpus: packed 600 texts tokenized as .*"clean":false/);
  });
});

describe('fasttext SGD over rows partly stored, partly hashed again each epoch', () => {
  it('learns TREC question types when most rows are hashed on the fly, on one thread and on two', async () => {
    const fit = trec('train_5500.label');
    const test = trec('TREC_10.label');
    const corpus = await packClassifierTexts(fit.texts);
    const classes = [...new Set(fit.labels.flat())].sort();
    const featurizer = new HashedFeaturizer(corpus, { buckets: 1 << 16, wordNgrams: 2, minn: 3, maxn: 5 });
    // About a fifth of the rows fit in the store; the rest take the path a corpus past the limit takes.
    const stored = featurizer.matrix(60_000);
    expect(stored.rows).toBeGreaterThan(500);
    expect(stored.rows).toBeLessThan(fit.texts.length / 2);
    for (const threads of [1, 2]) {
      const C = classes.length;
      const d = 16;
      const rng = new SeededRandom(`linear:${threads}`);
      const N = fit.texts.length;
      const isTarget = new Uint8Array(N * C);
      const firstTarget = Int32Array.from(fit.labels, (l) => classes.indexOf(l[0]!));
      firstTarget.forEach((c, r) => (isTarget[r * C + c] = 1));
      let state: FastTextState = { E: new Float32Array((1 << 16) * d), W: Float32Array.from({ length: C * d }, () => (rng.next() * 2 - 1) / 4), b: new Float32Array(C), C, d, multi: 0, isTarget, classWeight: new Float64Array(0), firstTarget, lr0: 0.5, total: 10 * N };
      if (threads === 2) state = shareFastTextState(state);
      expect(await trainFastText(state, stored, featurizer, N, { epochs: 10, rng, threads })).toBe(threads);
      // Score the test questions with the trained parameters: mean of bucket rows, then the output layer.
      const testCorpus = await packClassifierTexts(test.texts);
      const testFeaturizer = new HashedFeaturizer(testCorpus, { buckets: 1 << 16, wordNgrams: 2, minn: 3, maxn: 5 });
      let correct = 0;
      for (let r = 0; r < test.texts.length; r++) {
        const { idx, val, nnz } = testFeaturizer.row(r);
        const h = new Float64Array(d);
        for (let k = 0; k < nnz; k++) for (let j = 0; j < d; j++) h[j]! += val[k]! * state.E[idx[k]! * d + j]!;
        let best = 0;
        let bestScore = -Infinity;
        for (let c = 0; c < C; c++) {
          let z = state.b[c]!;
          for (let j = 0; j < d; j++) z += state.W[c * d + j]! * h[j]!;
          if (z > bestScore) [best, bestScore] = [c, z];
        }
        if (classes[best] === test.labels[r]![0]) correct++;
      }
      expect(correct / test.texts.length).toBeGreaterThan(0.8);
    }
  }, 60_000);
});
