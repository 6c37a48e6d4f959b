import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import {
  BadInputError,
  classificationResult,
  ModelFileError,
  SeededRandom,
  writeFileAtomic,
  writeJsonAtomic,
  writeModelConfig,
  type ClassificationProblem,
  type ClassifyOptions,
  type TextClassificationPipeline,
  type TextClassificationResult,
} from '@seqlab/core';
import { TextVectorizer, type CleanTextOptions } from '@seqlab/tokenize';
import { positiveInt, RnnArgumentError } from '../errors.js';
import { readJson } from '../generation/load.js';
import { checkClasses } from './labels.js';
import { classificationMetrics } from './metrics.js';
import { checkThresholds } from './thresholds.js';
import { checkTexts } from './recurrent.js';
import { DEFAULT_CLEAN, type LabelledRows } from './fit-recurrent.js';

/** The linear (bag-of-n-grams) kinds of the text-classification task. */
export type LinearKind = 'fasttext' | 'tfidf-lr';

/** Hyper-parameters of the fastText-style kind. */
export interface FastTextOptions {
  /** Embedding size. Default 16. */
  dim?: number;
  /** Hash buckets shared by word, bigram and character n-grams. Default 2^18. */
  buckets?: number;
  /** Word n-grams up to this order. Default 2. */
  wordNgrams?: number;
  /** Character n-gram lengths of `<word>` (0 = none). Default 3 and 5. */
  minn?: number;
  maxn?: number;
  /** Initial SGD learning rate, decayed linearly to 0. Default 0.5. */
  learningRate?: number;
  /** Default 20. */
  epochs?: number;
}

/** Hyper-parameters of the TF-IDF logistic regression. */
export interface TfidfLrOptions {
  /** Word n-grams up to this order. Default 2. */
  wordNgrams?: number;
  /**
   * Also character n-grams of each word (with `<` and `>` marking its ends), of lengths
   * `[min, max]`: they share evidence between inflections and rare spellings, which matters
   * most for short texts. Default none.
   */
  charNgrams?: [number, number];
  /** An n-gram is a feature when it occurs in at least this many training texts. Default 1 (unigrams), 2 (longer). */
  minDf?: number;
  /** Keep at most this many features (most frequent first). Default 200,000. */
  maxFeatures?: number;
  /** L2 penalty (scikit-learn's 1/C per example). Default 1e-4. */
  l2?: number;
  /** Default 0.5. */
  learningRate?: number;
  /** Default 30. */
  epochs?: number;
}

/** Options of {@link fitLinearTextClassifier}. */
export interface FitLinearClassifierOptions {
  kind: LinearKind;
  classes?: string[];
  /** Default `multi-label` when any row has several labels, else binary / multi-class. */
  problem?: ClassificationProblem;
  clean?: CleanTextOptions | false;
  seed?: number;
  fasttext?: FastTextOptions;
  tfidf?: TfidfLrOptions;
  /** `'balanced'` weights classes by inverse frequency. Default `'none'`. */
  classWeights?: 'balanced' | 'none';
  /**
   * `tfidf-lr` without `tfidf.l2`: held-out rows on which the L2 penalty is chosen from
   * {@link TFIDF_L2_CANDIDATES} (best accuracy; the stronger penalty on a tie), as
   * scikit-learn's `LogisticRegressionCV` would. The chosen value is in `config.training.l2`.
   */
  validation?: LabelledRows;
  training?: Record<string, unknown>;
}

/**
 * L2 penalties a `tfidf-lr` fit tries when it has validation rows, strongest first. The right
 * value moves with the number of rows and features: 1e-4 suits tens of thousands of long
 * reviews, short questions want far less (TREC-6's 5,000 questions chose 3e-6).
 */
export const TFIDF_L2_CANDIDATES: readonly number[] = Object.freeze([3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6]);

/** `config.json` of a linear text classifier. */
export interface LinearClassifierDirConfig {
  version?: number;
  task: 'text-classification';
  kind: LinearKind;
  format: 'seqlab/linear-text-classifier@1';
  problem: ClassificationProblem;
  classes: string[];
  clean: CleanTextOptions | false;
  /** Number of features (tfidf-lr: vocabulary size; fasttext: hash buckets). */
  features: number;
  /** Hidden size (fasttext) or 0 (tfidf-lr: the weights act on the features directly). */
  dim: number;
  wordNgrams: number;
  minn: number;
  maxn: number;
  /** Stored row indices of the embedding (fasttext: rows ever updated). */
  weightsFile: string;
  vocabularyFile?: string;
  /** Multi-label decision threshold of every class (0.5), unless `thresholds` gives one per class. */
  threshold: number;
  /** Multi-label: one decision threshold per class in class order (e.g. chosen on validation rows). */
  thresholds?: number[];
  training?: Record<string, unknown>;
  [key: string]: unknown;
}

/** FNV-1a, 32 bits: a stable hash for feature buckets. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Feature strings of a token list: word n-grams up to `wordNgrams`, character n-grams of `<word>`. */
function ngramFeatures(words: string[], wordNgrams: number, minn: number, maxn: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    out.push(`w ${words[i]}`);
    for (let n = 2; n <= wordNgrams && i + n <= words.length; n++) out.push(`${n} ${words.slice(i, i + n).join(' ')}`);
    if (minn > 0) {
      const w = `<${words[i]}>`;
      for (let n = minn; n <= maxn; n++) for (let s = 0; s + n <= w.length; s++) if (n < w.length) out.push(`c ${w.slice(s, s + n)}`);
    }
  }
  return out;
}

function softmaxInPlace(z: Float64Array): void {
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += z[i] = Math.exp(z[i]! - m);
  for (let i = 0; i < z.length; i++) z[i]! /= s;
}

function sigmoidInPlace(z: Float64Array): void {
  for (let i = 0; i < z.length; i++) z[i] = 1 / (1 + Math.exp(-z[i]!));
}

/** A sparse input: feature ids and values. */
interface Sparse {
  idx: Int32Array;
  val: Float32Array;
}

/**
 * A bag-of-n-grams classifier on plain arrays (no TensorFlow.js): the fastText-style embedding
 * bag (kind `fasttext`: the mean of hashed word, bigram and character n-gram embeddings, then a
 * linear layer) or a TF-IDF logistic regression (kind `tfidf-lr`). Both read whole texts, so
 * nothing is ever truncated, and both do multi-label (independent sigmoids).
 */
export class LinearTextClassifier implements TextClassificationPipeline {
  readonly task = 'text-classification' as const;
  readonly explains = false;
  readonly maxLength = Number.POSITIVE_INFINITY;
  private readonly tokenizer: TextVectorizer;

  /**
   * @param embedding fasttext: `[features, dim]` row-major; tfidf-lr: empty.
   * @param weights `[classes, dim]` (fasttext) or `[classes, features]` (tfidf-lr), row-major.
   * @param vocabulary tfidf-lr: feature string -> id, with `idf` per id.
   */
  constructor(
    readonly config: LinearClassifierDirConfig,
    private readonly embedding: Float32Array,
    private readonly weights: Float32Array,
    private readonly bias: Float32Array,
    private readonly vocabulary?: { index: Map<string, number>; idf: Float32Array },
    readonly name = 'classifier',
  ) {
    this.tokenizer = new TextVectorizer({ tokenizer: 'word', ...(config.clean ? { clean: config.clean } : {}) });
  }

  get kind(): LinearKind {
    return this.config.kind;
  }

  get problem(): ClassificationProblem {
    return this.config.problem;
  }

  get classes(): readonly string[] {
    return this.config.classes;
  }

  /** Multi-label: the decision threshold of each class in class order. */
  get thresholds(): readonly number[] | undefined {
    if (this.config.problem !== 'multi-label') return undefined;
    return this.config.thresholds ?? this.config.classes.map(() => this.config.threshold);
  }

  /**
   * Sets the multi-label decision thresholds (one in (0, 1) per class, e.g. from
   * `chooseThresholds` on validation rows); {@link save} stores them.
   */
  setThresholds(thresholds: readonly number[]): void {
    if (this.config.problem !== 'multi-label') throw new RnnArgumentError(`setThresholds: a ${this.config.problem} classifier predicts its top class; thresholds are for multi-label models`);
    this.config.thresholds = checkThresholds(thresholds, this.config.classes.length, 'setThresholds: thresholds');
  }

  /** The feature vector of a text. */
  featurize(text: string): Sparse {
    const c = this.config;
    const words = this.tokenizer.tokenize(text).map((t) => t.text);
    if (c.kind === 'fasttext') {
      // The mean over every n-gram occurrence, stored once per distinct bucket (long documents
      // repeat most of their character n-grams).
      const feats = ngramFeatures(words, c.wordNgrams, c.minn, c.maxn);
      const counts = new Map<number, number>();
      for (const f of feats) {
        const b = fnv1a(f) % c.features;
        counts.set(b, (counts.get(b) ?? 0) + 1);
      }
      const idx = Int32Array.from(counts.keys());
      return { idx, val: Float32Array.from(idx, (b) => counts.get(b)! / feats.length) };
    }
    const counts = new Map<number, number>();
    // minn = maxn = 0 (no character n-grams) in models saved before they were an option.
    for (const f of ngramFeatures(words, c.wordNgrams, c.minn, c.maxn)) {
      const id = this.vocabulary!.index.get(f);
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const idx = Int32Array.from(counts.keys());
    // Sublinear tf, idf, unit length: the usual strong TF-IDF baseline.
    const val = Float32Array.from(idx, (id) => (1 + Math.log(counts.get(id)!)) * this.vocabulary!.idf[id]!);
    let norm = 0;
    for (const v of val) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < val.length; i++) val[i]! /= norm;
    return { idx, val };
  }

  /** Class scores of one featurized text (probabilities). */
  scores(x: Sparse, hidden?: Float64Array): Float64Array {
    const C = this.config.classes.length;
    const z = new Float64Array(C);
    if (this.config.kind === 'fasttext') {
      const d = this.config.dim;
      const h = hidden ?? new Float64Array(d);
      h.fill(0);
      for (let k = 0; k < x.idx.length; k++) {
        const row = x.idx[k]! * d;
        const v = x.val[k]!;
        for (let j = 0; j < d; j++) h[j]! += v * this.embedding[row + j]!;
      }
      for (let c = 0; c < C; c++) {
        let s = this.bias[c]!;
        for (let j = 0; j < d; j++) s += this.weights[c * d + j]! * h[j]!;
        z[c] = s;
      }
    } else {
      const F = this.config.features;
      for (let c = 0; c < C; c++) {
        let s = this.bias[c]!;
        for (let k = 0; k < x.idx.length; k++) s += this.weights[c * F + x.idx[k]!]! * x.val[k]!;
        z[c] = s;
      }
    }
    if (this.config.problem === 'multi-label') sigmoidInPlace(z);
    else softmaxInPlace(z);
    return z;
  }

  async predict(texts: string[], _options: ClassifyOptions = {}): Promise<TextClassificationResult[]> {
    checkTexts(texts);
    const out: TextClassificationResult[] = [];
    for (let i = 0; i < texts.length; i++) {
      out.push(classificationResult(this.config.classes, this.scores(this.featurize(texts[i]!)), this.config.problem, { truncated: false, threshold: this.config.thresholds ?? this.config.threshold }));
      if (i % 256 === 255) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return out;
  }

  /**
   * Writes `config.json`, `weights.bin` (float32: the embedding rows ever trained, the output
   * weights and bias) and, for tfidf-lr, `vocabulary.json` (features and idf).
   */
  async save(dir: string): Promise<void> {
    const c = this.config;
    await fs.mkdir(dir, { recursive: true });
    let rows = new Int32Array(0);
    let emb = new Float32Array(0);
    if (c.kind === 'fasttext') {
      const d = c.dim;
      const used: number[] = [];
      for (let r = 0; r < c.features; r++) {
        for (let j = 0; j < d; j++) {
          if (this.embedding[r * d + j] !== 0) {
            used.push(r);
            break;
          }
        }
      }
      rows = Int32Array.from(used);
      emb = new Float32Array(used.length * d);
      used.forEach((r, i) => emb.set(this.embedding.subarray(r * d, r * d + d), i * d));
    }
    const parts = [new Uint8Array(rows.buffer), new Uint8Array(emb.buffer), new Uint8Array(this.weights.buffer, this.weights.byteOffset, this.weights.byteLength), new Uint8Array(this.bias.buffer, this.bias.byteOffset, this.bias.byteLength)];
    const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    await writeFileAtomic(path.join(dir, 'weights.bin'), bytes);
    if (this.vocabulary) {
      const features = new Array<string>(this.vocabulary.index.size);
      for (const [f, id] of this.vocabulary.index) features[id] = f;
      await writeJsonAtomic(path.join(dir, 'vocabulary.json'), { features, idf: Array.from(this.vocabulary.idf) });
    }
    const { version: _v, task: _t, kind, ...fields } = c;
    await writeModelConfig(dir, { task: 'text-classification', kind }, { ...fields, storedRows: rows.length, weightsFile: 'weights.bin', ...(this.vocabulary ? { vocabularyFile: 'vocabulary.json' } : {}) });
  }

  dispose(): void {
    // Plain arrays: nothing to free.
  }
}

/** Loads a linear classifier directory written by {@link LinearTextClassifier.save}. */
export async function loadLinearTextClassifier(dir: string, options: { name?: string } = {}): Promise<LinearTextClassifier> {
  const file = path.join(dir, 'config.json');
  const config = await readJson<LinearClassifierDirConfig & { storedRows: number }>(file, 'loadLinearTextClassifier');
  if (config.kind !== 'fasttext' && config.kind !== 'tfidf-lr') throw new RnnArgumentError(`${file}: kind ${JSON.stringify(config.kind)} is not a linear classifier`);
  const classes = checkClasses(config.classes, `${file}: classes`);
  const C = classes.length;
  if (config.thresholds !== undefined) checkThresholds(config.thresholds, C, `${file}: thresholds`);
  const F = positiveInt(`${file}: features`, config.features);
  const d = config.kind === 'fasttext' ? positiveInt(`${file}: dim`, config.dim) : 0;
  const stored = config.kind === 'fasttext' ? config.storedRows : 0;
  const weightsPath = path.join(dir, config.weightsFile ?? 'weights.bin');
  if (!existsSync(weightsPath)) throw new ModelFileError(weightsPath, 'file not found');
  const buf = await fs.readFile(weightsPath);
  const wCols = config.kind === 'fasttext' ? d : F;
  const expected = 4 * (stored + stored * d + C * wCols + C);
  if (buf.byteLength !== expected) throw new ModelFileError(weightsPath, `has ${buf.byteLength} bytes, the config describes ${expected}`);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const rows = new Int32Array(all.buffer, 0, stored);
  const embedding = new Float32Array(config.kind === 'fasttext' ? F * d : 0);
  for (let i = 0; i < stored; i++) {
    if (rows[i]! < 0 || rows[i]! >= F) throw new ModelFileError(weightsPath, `row ${rows[i]} is outside the ${F} features`);
    embedding.set(all.subarray(stored + i * d, stored + (i + 1) * d), rows[i]! * d);
  }
  const wStart = stored + stored * d;
  const weights = all.slice(wStart, wStart + C * wCols);
  const bias = all.slice(wStart + C * wCols, wStart + C * wCols + C);
  let vocabulary: { index: Map<string, number>; idf: Float32Array } | undefined;
  if (config.kind === 'tfidf-lr') {
    const v = await readJson<{ features: string[]; idf: number[] }>(path.join(dir, config.vocabularyFile ?? 'vocabulary.json'), 'loadLinearTextClassifier');
    if (!Array.isArray(v.features) || v.features.length !== F || !Array.isArray(v.idf) || v.idf.length !== F) {
      throw new ModelFileError(path.join(dir, 'vocabulary.json'), `must list ${F} features and ${F} idf values`);
    }
    vocabulary = { index: new Map(v.features.map((f, i) => [f, i])), idf: Float32Array.from(v.idf) };
  }
  return new LinearTextClassifier({ ...config, classes }, embedding, weights, bias, vocabulary, options.name ?? path.basename(path.resolve(dir)));
}

/**
 * Fits a linear classifier in seconds: the fastText-style embedding bag (SGD one text at a time,
 * learning rate decaying linearly to zero, as fastText trains) or a TF-IDF logistic regression
 * (SGD with L2, sublinear tf, smoothed idf). Binary, multi-class (softmax) or multi-label
 * (independent sigmoids, threshold 0.5).
 */
export async function fitLinearTextClassifier(data: LabelledRows, options: FitLinearClassifierOptions): Promise<LinearTextClassifier> {
  const kind = options.kind;
  if (kind !== 'fasttext' && kind !== 'tfidf-lr') throw new BadInputError(`kind must be 'fasttext' or 'tfidf-lr', got ${JSON.stringify(kind)}`);
  if (data.texts.length === 0) throw new BadInputError('no training texts');
  const { validation, ...rest } = options;
  if (validation && kind === 'tfidf-lr' && options.tfidf?.l2 === undefined) {
    if (validation.texts.length === 0 || validation.texts.length !== validation.labels.length) throw new BadInputError('validation must have texts, each with its labels');
    let best: { model: LinearTextClassifier; accuracy: number; l2: number } | undefined;
    const tried: Array<{ l2: number; validationAccuracy: number }> = [];
    for (const l2 of TFIDF_L2_CANDIDATES) {
      const model = await fitLinearTextClassifier(data, { ...rest, tfidf: { ...options.tfidf, l2 } });
      const accuracy = classificationMetrics(model.classes, model.problem, validation.labels, await model.predict(validation.texts)).accuracy;
      tried.push({ l2, validationAccuracy: accuracy });
      if (!best || accuracy > best.accuracy) {
        best?.model.dispose();
        best = { model, accuracy, l2 };
      } else {
        model.dispose();
      }
    }
    best!.model.config.training = { ...best!.model.config.training, l2: best!.l2, l2Candidates: tried };
    return best!.model;
  }
  const classes = checkClasses(options.classes ?? [...new Set(data.labels.flat())].sort(), 'classes');
  const problem = options.problem ?? (data.labels.some((l) => l.length !== 1) ? 'multi-label' : classes.length === 2 ? 'binary' : 'multi-class');
  const index = new Map(classes.map((c, i) => [c, i]));
  const targets = data.labels.map((ls, r) =>
    ls.map((l) => {
      const id = index.get(l);
      if (id === undefined) throw new BadInputError(`training row ${r + 1}: label ${JSON.stringify(l)} is not one of the classes (${classes.join(', ')})`);
      return id;
    }),
  );
  const clean = options.clean === undefined ? DEFAULT_CLEAN : options.clean;
  const ft = options.fasttext ?? {};
  const tf = options.tfidf ?? {};
  const wordNgrams = kind === 'fasttext' ? (ft.wordNgrams ?? 2) : (tf.wordNgrams ?? 2);
  if (tf.charNgrams !== undefined) {
    const [lo, hi] = Array.isArray(tf.charNgrams) ? tf.charNgrams : [NaN, NaN];
    if (tf.charNgrams.length !== 2 || !Number.isInteger(lo) || !Number.isInteger(hi) || lo! < 1 || hi! < lo! || hi! > 20) {
      throw new BadInputError(`tfidf.charNgrams must be [min, max] with 1 <= min <= max <= 20, got ${JSON.stringify(tf.charNgrams)}`);
    }
  }
  const C = classes.length;
  const rng = new SeededRandom(`linear:${options.seed ?? 1}`);
  const base: LinearClassifierDirConfig = {
    task: 'text-classification',
    kind,
    format: 'seqlab/linear-text-classifier@1',
    problem,
    classes,
    clean,
    features: 0,
    dim: 0,
    wordNgrams,
    minn: kind === 'fasttext' ? (ft.minn ?? 3) : (tf.charNgrams?.[0] ?? 0),
    maxn: kind === 'fasttext' ? (ft.maxn ?? 5) : (tf.charNgrams?.[1] ?? 0),
    weightsFile: 'weights.bin',
    threshold: 0.5,
    ...(options.training ? { training: options.training } : {}),
  };
  const tokenizer = new TextVectorizer({ tokenizer: 'word', ...(clean ? { clean } : {}) });
  const words = data.texts.map((t) => tokenizer.tokenize(t).map((x) => x.text));
  let model: LinearTextClassifier;
  let epochs: number;
  let lr0: number;
  let l2 = 0;
  if (kind === 'fasttext') {
    const dim = positiveInt('fasttext.dim', ft.dim ?? 16);
    const buckets = positiveInt('fasttext.buckets', ft.buckets ?? 1 << 18);
    const config = { ...base, features: buckets, dim };
    const weights = Float32Array.from({ length: C * dim }, () => (rng.next() * 2 - 1) / Math.sqrt(dim));
    model = new LinearTextClassifier(config, new Float32Array(buckets * dim), weights, new Float32Array(C));
    epochs = positiveInt('fasttext.epochs', ft.epochs ?? 20);
    lr0 = ft.learningRate ?? 0.5;
  } else {
    const df = new Map<string, number>();
    for (const ws of words) for (const f of new Set(ngramFeatures(ws, wordNgrams, base.minn, base.maxn))) df.set(f, (df.get(f) ?? 0) + 1);
    const minDf = tf.minDf;
    const kept = [...df.entries()]
      .filter(([f, n]) => n >= (minDf ?? (f.startsWith('w ') ? 1 : 2)))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, tf.maxFeatures ?? 200_000);
    if (kept.length === 0) throw new BadInputError('tfidf-lr: no features (are the texts empty?)');
    const N = data.texts.length;
    const vocabulary = { index: new Map(kept.map(([f], i) => [f, i])), idf: Float32Array.from(kept, ([, n]) => Math.log((1 + N) / (1 + n)) + 1) };
    const config = { ...base, features: kept.length, dim: 0 };
    model = new LinearTextClassifier(config, new Float32Array(0), new Float32Array(C * kept.length), new Float32Array(C), vocabulary);
    epochs = positiveInt('tfidf.epochs', tf.epochs ?? 30);
    lr0 = tf.learningRate ?? 0.5;
    l2 = tf.l2 ?? 1e-4;
  }
  const classWeight = options.classWeights === 'balanced' ? classes.map((_, c) => data.texts.length / (C * Math.max(1, targets.filter((t) => t.includes(c)).length))) : undefined;
  trainLinear(model, data.texts, targets, { epochs, lr0, l2, rng, classWeight });
  return model;
}

/** The SGD loop shared by both kinds; reaches into the model's arrays (same module). */
function trainLinear(
  model: LinearTextClassifier,
  texts: string[],
  targets: number[][],
  o: { epochs: number; lr0: number; l2: number; rng: SeededRandom; classWeight: number[] | undefined },
): void {
  const m = model as unknown as { config: LinearClassifierDirConfig; embedding: Float32Array; weights: Float32Array; bias: Float32Array };
  const { config, embedding: E, weights: W, bias: b } = m;
  const C = config.classes.length;
  // Features are computed once and kept while they fit a memory budget (about 40M entries,
  // 320 MB); beyond it (tens of thousands of long documents) they are recomputed every epoch.
  const N = texts.length;
  const cached: (Sparse | undefined)[] = new Array(N);
  let entries = 0;
  const features = (r: number): Sparse => {
    const hit = cached[r];
    if (hit) return hit;
    const x = model.featurize(texts[r]!);
    if (entries + x.idx.length <= 40_000_000) {
      cached[r] = x;
      entries += x.idx.length;
    }
    return x;
  };
  const total = o.epochs * N;
  const d = config.dim;
  const F = config.features;
  const h = new Float64Array(Math.max(1, d));
  const g = new Float64Array(C);
  const dh = new Float64Array(Math.max(1, d));
  // L2 as a global scale of W (Bottou's trick): decay is O(1) per step, not O(weights).
  let scale = 1;
  let step = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const order = o.rng.permutation(N);
    for (const r of order) {
      const lr = o.lr0 * Math.max(1e-4, 1 - step / total);
      step++;
      const x = features(r);
      if (scale !== 1) {
        // scores() reads W unscaled: fold the scale in before use when it drifts.
        if (scale < 1e-3) {
          for (let i = 0; i < W.length; i++) W[i]! *= scale;
          scale = 1;
        }
      }
      const p = scoresScaled(model, x, h, scale);
      const multi = config.problem === 'multi-label';
      const t = targets[r]!;
      for (let c = 0; c < C; c++) g[c] = p[c]! - (t.includes(c) ? 1 : 0);
      if (!multi && o.classWeight) {
        const w = o.classWeight[t[0]!]!;
        for (let c = 0; c < C; c++) g[c]! *= w;
      } else if (multi && o.classWeight) {
        for (let c = 0; c < C; c++) if (t.includes(c)) g[c]! *= o.classWeight[c]!;
      }
      if (config.kind === 'fasttext') {
        dh.fill(0);
        for (let c = 0; c < C; c++) {
          const gc = g[c]!;
          if (gc === 0) continue;
          for (let j = 0; j < d; j++) {
            dh[j]! += W[c * d + j]! * gc;
            W[c * d + j]! -= lr * gc * h[j]!;
          }
          b[c]! -= lr * gc;
        }
        for (let k = 0; k < x.idx.length; k++) {
          const row = x.idx[k]! * d;
          const v = x.val[k]!;
          for (let j = 0; j < d; j++) E[row + j]! -= lr * v * dh[j]!;
        }
      } else {
        scale *= 1 - lr * o.l2;
        for (let c = 0; c < C; c++) {
          const gc = g[c]!;
          if (gc === 0) continue;
          for (let k = 0; k < x.idx.length; k++) W[c * F + x.idx[k]!]! -= (lr * gc * x.val[k]!) / scale;
          b[c]! -= lr * gc;
        }
      }
    }
  }
  if (scale !== 1) for (let i = 0; i < W.length; i++) W[i]! *= scale;
}

/** scores() with W multiplied by `scale` (tfidf-lr's lazy L2 decay). */
function scoresScaled(model: LinearTextClassifier, x: Sparse, h: Float64Array, scale: number): Float64Array {
  if (scale === 1) return model.scores(x, h);
  const m = model as unknown as { config: LinearClassifierDirConfig; weights: Float32Array; bias: Float32Array };
  const C = m.config.classes.length;
  const F = m.config.features;
  const z = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let k = 0; k < x.idx.length; k++) s += m.weights[c * F + x.idx[k]!]! * x.val[k]!;
    z[c] = s * scale + m.bias[c]!;
  }
  if (m.config.problem === 'multi-label') sigmoidInPlace(z);
  else softmaxInPlace(z);
  return z;
}
