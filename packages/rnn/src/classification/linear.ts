import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import {
  BadInputError,
  throwIfCancelled,
  classificationResult,
  ModelFileError,
  SeededRandom,
  writeFileAtomic,
  writeModelConfig,
  type ClassificationProblem,
  type ClassifyOptions,
  type TextClassificationPipeline,
  type TextClassificationResult,
} from '@seqlab/core/base';
import { TextVectorizer, type CleanTextOptions, type Token } from '@seqlab/tokenize';
import { positiveInt, RnnArgumentError } from '../errors.js';
import { readJson } from '../read-json.js';
import { checkClasses } from './labels.js';
import { fitLogisticRegression, type LogisticParams } from './solver.js';
import { packTexts, RowAccumulator, type PackedCorpus } from './sparse.js';
import { HashedFeaturizer, TextHasher } from './sparse-hashed.js';
import { fastTextThreads, shareFastTextState, trainFastText, type FastTextState } from './fasttext-sgd.js';
import { NgramTable, tfidfMatrix, tfidfVocabulary, WORD_BITS } from './sparse-tfidf.js';
import { classificationMetrics } from './metrics.js';
import { checkThresholds } from './thresholds.js';
import { checkTexts, DEFAULT_CLEAN, type LabelledRows } from './inputs.js';

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
  /**
   * Character n-gram lengths of `<word>` (0 = none). Default 3 and 5 on up to
   * {@link FASTTEXT_CHAR_NGRAM_MAX_TOKENS} training tokens, none on larger corpora.
   */
  minn?: number;
  maxn?: number;
  /** Initial SGD learning rate, decayed linearly to 0. Default 0.5. */
  learningRate?: number;
  /** Default 20, fewer (down to 5) on corpora over 1.5 million tokens: see {@link fastTextDefaults}. */
  epochs?: number;
  /**
   * SGD threads, 1 or 2. Default 2 on a machine with two or more cores once the training rows hold
   * {@link FASTTEXT_PARALLEL_MIN_NNZ} features (about 6,000 reviews), else 1. With 2 the
   * threads update shared parameters without locks, as fastText's do: about twice as fast, but the
   * model then depends on thread timing; 1 gives the same model for the same seed every time.
   */
  threads?: number;
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
  /** L2 penalty per mean loss: the objective is mean loss + `l2 / 2 * ||W||^2` (scikit-learn's `1 / (C * rows)`). Default 1e-4. */
  l2?: number;
  /** The fit stops once the gradient norm is this fraction of its norm at zero weights. Default 1e-4. */
  tolerance?: number;
  /** L-BFGS iterations per L2 penalty at most. Default 500. */
  maxIterations?: number;
  /** @deprecated Ignored: the fit is full-batch L-BFGS run to {@link tolerance}, not SGD. */
  learningRate?: number;
  /** @deprecated Ignored: the fit is full-batch L-BFGS run to {@link tolerance}, not SGD epochs. */
  epochs?: number;
}

/**
 * Progress of {@link fitLinearTextClassifier}. `featurize`: texts read (training, then
 * validation). `fit`, fasttext: training steps (texts x epochs); tfidf-lr: 100 per L2 penalty
 * tried, advancing as the gradient norm falls toward the tolerance (log scale), with `l2` the
 * penalty being fitted.
 */
export interface LinearFitProgress {
  stage: 'featurize' | 'fit';
  done: number;
  total: number;
  l2?: number;
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
  /**
   * `data.texts` already tokenized by {@link packClassifierTexts} with the same `clean` (shared
   * by several kinds' fits and a refit, so the texts are tokenized once). Default: packed here.
   */
  corpus?: PackedCorpus;
  /** Called as texts are featurized and as the fit advances (at most a few times a second). */
  onProgress?: (event: LinearFitProgress) => void;
  /** Checked between passes over the data; once aborted the fit throws `CancelledError`. */
  signal?: AbortSignal;
}

/**
 * L2 penalties a `tfidf-lr` fit tries when it has validation rows, strongest first. The right
 * value moves with the number of rows and features: 1e-4 suits tens of thousands of long
 * reviews, short questions want far less (TREC-6's 5,000 questions chose 3e-6).
 */
export const TFIDF_L2_CANDIDATES: readonly number[] = Object.freeze([3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6]);

/** The L2 search stops after this many penalties in a row score below the best one. */
export const TFIDF_L2_PATIENCE = 2;

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
  /** tfidf-lr over words and bigrams: the vocabulary by word ids (see {@link wordGramCounts}), once built. */
  private wordGrams: WordGramIndex | null | undefined;
  /** Texts featurized so far by feature strings (the index pays off only after a few hundred). */
  private textsByStrings = 0;
  /** fasttext: per-word bucket hashes. */
  private hasher: TextHasher | undefined;
  /** tfidf-lr: one text's feature counts (reused). */
  private counts: RowAccumulator | undefined;

  /**
   * @param embedding fasttext: `[features, dim]` row-major; tfidf-lr: empty.
   * @param weights `[classes, dim]` (fasttext) or `[classes, features]` (tfidf-lr), row-major.
   * @param vocabulary tfidf-lr: feature string -> id, with `idf` per id.
   */
  private rowLogits: Float32Array | undefined;
  private featureWeights: Float32Array | undefined;

  constructor(
    readonly config: LinearClassifierDirConfig,
    private readonly embedding: Float32Array,
    private readonly weights: Float32Array,
    private readonly bias: Float32Array,
    private readonly vocabulary?: { index: Map<string, number>; idf: Float32Array },
    readonly name = 'classifier',
  ) {
    this.tokenizer = classifierTokenizer(config.clean);
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
    return this.featurizeTokens(this.tokenizer.tokenize(text));
  }

  /** The feature vector of a text's tokens (from this model's tokenization). */
  private featurizeTokens(tokens: readonly Token[]): Sparse {
    const c = this.config;
    const words = tokens.map((t) => t.text);
    if (c.kind === 'fasttext') {
      // The mean over every n-gram occurrence, stored once per distinct bucket (long documents
      // repeat most of their n-grams).
      this.hasher ??= new TextHasher({ buckets: c.features, wordNgrams: c.wordNgrams, minn: c.minn, maxn: c.maxn });
      return this.hasher.row(words);
    }
    const acc = (this.counts ??= new RowAccumulator(c.features));
    acc.reset();
    const index = this.wordGramIndex();
    if (index) this.wordGramCounts(words, index, acc);
    else this.featureStringCounts(words, acc);
    const n = acc.ids.length;
    const idx = acc.ids.data.slice(0, n);
    const idf = this.vocabulary!.idf;
    // Sublinear tf, idf, unit length: the usual strong TF-IDF baseline.
    const val = new Float32Array(n);
    for (let k = 0; k < n; k++) val[k] = (1 + Math.log(acc.counts.data[k]!)) * idf[idx[k]!]!;
    let norm = 0;
    for (const v of val) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < val.length; i++) val[i]! /= norm;
    return { idx, val };
  }

  /**
   * The word-id index of a tfidf-lr vocabulary, once this model has featurized enough texts:
   * building it costs about as much as featurizing a few hundred texts by strings, so a one-text
   * classify never builds it and a scoring job soon does. Null when the vocabulary cannot be
   * indexed by words (other feature names, longer n-grams, character n-grams).
   */
  private wordGramIndex(): WordGramIndex | null | undefined {
    const c = this.config;
    if (this.wordGrams === undefined && ++this.textsByStrings > WORD_INDEX_AFTER_TEXTS) {
      this.wordGrams = c.wordNgrams <= 2 && !(c.minn > 0) ? (wordGramIndex(this.vocabulary!.index, c.wordNgrams) ?? null) : null;
    }
    return this.wordGrams;
  }

  // Feature counts by looking up each n-gram's feature string (minn = maxn = 0, no character
  // n-grams, in models saved before they were an option).
  private featureStringCounts(words: string[], acc: RowAccumulator): void {
    const c = this.config;
    for (const f of ngramFeatures(words, c.wordNgrams, c.minn, c.maxn)) {
      const id = this.vocabulary!.index.get(f);
      if (id !== undefined) acc.add(id);
    }
  }

  /**
   * Feature counts of words and word bigrams by ids: what looking up each n-gram's feature
   * string gives, in the same order (so the same vector to the bit), without building the
   * strings. A bigram is a feature only if both its words occur in some feature.
   */
  private wordGramCounts(words: readonly string[], ix: WordGramIndex, acc: RowAccumulator): void {
    let a = words.length > 0 ? (ix.words.get(words[0]!) ?? -1) : -1;
    for (let i = 0; i < words.length; i++) {
      const b = i + 1 < words.length ? (ix.words.get(words[i + 1]!) ?? -1) : -1;
      if (a >= 0) {
        const u = ix.unigram[a]!;
        if (u >= 0) acc.add(u);
        if (ix.bigrams && b >= 0) {
          const e = ix.bigrams.table.findPair(a, b);
          if (e >= 0) acc.add(ix.bigrams.columns[e]!);
        }
      }
      a = b;
    }
  }

  /** Class scores of one featurized text (probabilities). */
  scores(x: Sparse, hidden?: Float64Array): Float64Array {
    const C = this.config.classes.length;
    const z = new Float64Array(C);
    if (this.config.kind === 'fasttext' && C <= this.config.dim) {
      // The logits are linear in the mean of the rows: each row's contribution to each class,
      // made once, is a table C/dim the size of the embedding that stays in cache, where a
      // text's few hundred random rows of the whole embedding each missed it.
      const table = (this.rowLogits ??= this.makeRowLogits());
      for (let c = 0; c < C; c++) z[c] = this.bias[c]!;
      for (let k = 0; k < x.idx.length; k++) {
        const row = x.idx[k]! * C;
        const v = x.val[k]!;
        for (let c = 0; c < C; c++) z[c]! += v * table[row + c]!;
      }
    } else if (this.config.kind === 'fasttext') {
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
      // Weights by feature, the classes of a feature side by side: one cache line per feature of
      // the text instead of one per feature and class. Each class sums in the same order as before.
      const byFeature = (this.featureWeights ??= transposeWeights(this.weights, C, this.config.features));
      for (let c = 0; c < C; c++) z[c] = this.bias[c]!;
      for (let k = 0; k < x.idx.length; k++) {
        const row = x.idx[k]! * C;
        const v = x.val[k]!;
        for (let c = 0; c < C; c++) z[c]! += byFeature[row + c]! * v;
      }
    }
    if (this.config.problem === 'multi-label') sigmoidInPlace(z);
    else softmaxInPlace(z);
    return z;
  }

  /**
   * Rewrites the output weights and bias in place (a fit trying penalty after penalty); the
   * tables made from them for scoring are made again on the next prediction.
   * @internal
   */
  setParameters(write: (weights: Float32Array, bias: Float32Array) => void): void {
    write(this.weights, this.bias);
    this.featureWeights = undefined;
    this.rowLogits = undefined;
  }

  /** fasttext: `[features, C]`, each embedding row times the output weights. */
  private makeRowLogits(): Float32Array {
    const { features: F, dim: d } = this.config;
    const C = this.config.classes.length;
    const table = new Float32Array(F * C);
    for (let r = 0; r < F; r++) {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += this.weights[c * d + j]! * this.embedding[r * d + j]!;
        table[r * C + c] = s;
      }
    }
    return table;
  }

  async predict(texts: string[], options: ClassifyOptions = {}): Promise<TextClassificationResult[]> {
    const out: TextClassificationResult[] = [];
    const each = this.predictEach(texts, options);
    for (let r = each.next(); !r.done; r = each.next()) {
      out.push(r.value);
      if (out.length % 256 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return out;
  }

  /** {@link predict}'s results one text at a time (plain arrays: no backend, no kernels). */
  *predictEach(texts: string[], options: ClassifyOptions = {}): Generator<TextClassificationResult> {
    checkTexts(texts);
    const shared = options.sharedTokens ? this.tokenizer.tokenizeAll(texts, options.sharedTokens) : undefined;
    for (let i = 0; i < texts.length; i++) yield this.resultOf(shared ? this.featurizeTokens(shared[i]!) : this.featurize(texts[i]!));
  }

  /** The prediction for a featurized text. */
  resultOf(x: Sparse): TextClassificationResult {
    return classificationResult(this.config.classes, this.scores(x), this.config.problem, { truncated: false, threshold: this.config.thresholds ?? this.config.threshold });
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
      // One line: 200,000 features pretty-printed parse in twice the time, and a one-text
      // `seqlab classify` spends much of its run loading this file.
      await writeFileAtomic(path.join(dir, 'vocabulary.json'), `${JSON.stringify({ features, idf: Array.from(this.vocabulary.idf) })}\n`);
    }
    const { version: _v, task: _t, kind, ...fields } = c;
    await writeModelConfig(dir, { task: 'text-classification', kind }, { ...fields, storedRows: rows.length, weightsFile: 'weights.bin', ...(this.vocabulary ? { vocabularyFile: 'vocabulary.json' } : {}) });
  }

  dispose(): void {
    // Plain arrays: nothing to free.
  }
}

/** `[C, F]` weights as `[F, C]`. */
function transposeWeights(weights: Float32Array, C: number, F: number): Float32Array {
  const out = new Float32Array(F * C);
  for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) out[f * C + c] = weights[c * F + f]!;
  return out;
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
    vocabulary = { index: featureIndex(v.features), idf: Float32Array.from(v.idf) };
  }
  return new LinearTextClassifier({ ...config, classes }, embedding, weights, bias, vocabulary, options.name ?? path.basename(path.resolve(dir)));
}

/** Texts a tfidf-lr model featurizes by feature strings before it builds its word-id index. */
const WORD_INDEX_AFTER_TEXTS = 256;

/** A word and bigram vocabulary by word ids: the words of its features, and each feature's column. */
interface WordGramIndex {
  words: Map<string, number>;
  /** Column of the unigram feature of word id i, or -1. */
  unigram: Int32Array;
  /** The bigrams (a, b) by key `a * WORD_BITS + b`, and the column of each entry; absent when the model has no bigrams. */
  bigrams: { table: NgramTable; columns: Int32Array } | undefined;
}

// Feature names are `w word` and `2 first second` (see ngramFeatures); words hold no spaces.
function wordGramIndex(index: ReadonlyMap<string, number>, wordNgrams: number): WordGramIndex | undefined {
  const words = new Map<string, number>();
  const wordId = (w: string) => {
    let id = words.get(w);
    if (id === undefined) words.set(w, (id = words.size));
    return id;
  };
  const pairs: Array<[number, number, number]> = [];
  const unigrams: Array<[number, number]> = [];
  for (const [feature, column] of index) {
    if (feature.startsWith('w ')) unigrams.push([wordId(feature.slice(2)), column]);
    else {
      const parts = feature.split(' ');
      // Anything else (a model from another featurizer) keeps the string lookup.
      if (parts.length !== 3 || parts[0] !== '2' || wordNgrams < 2) return undefined;
      pairs.push([wordId(parts[1]!), wordId(parts[2]!), column]);
    }
  }
  const W = words.size;
  if (W >= WORD_BITS) return undefined;
  const unigram = new Int32Array(W).fill(-1);
  for (const [w, column] of unigrams) unigram[w] = column;
  if (wordNgrams < 2) return { words, unigram, bigrams: undefined };
  const table = new NgramTable();
  const columns = new Int32Array(pairs.length);
  for (const [a, b, column] of pairs) columns[table.intern(a * WORD_BITS + b)] = column;
  return { words, unigram, bigrams: { table, columns } };
}

/** Feature name -> column. A plain loop: building 200,000 [feature, index] pairs first took twice as long. */
function featureIndex(features: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < features.length; i++) index.set(features[i]!, i);
  return index;
}

/** Everything both kinds settle before fitting: classes, targets, the config, the tokenizer. */
interface LinearSetup {
  kind: LinearKind;
  classes: string[];
  problem: ClassificationProblem;
  targets: number[][];
  base: LinearClassifierDirConfig;
  tokenizer: TextVectorizer;
  classWeight: number[] | undefined;
}

function linearSetup(data: LabelledRows, options: FitLinearClassifierOptions): LinearSetup {
  const kind = options.kind;
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
  if (tf.charNgrams !== undefined) {
    const [lo, hi] = Array.isArray(tf.charNgrams) ? tf.charNgrams : [NaN, NaN];
    if (tf.charNgrams.length !== 2 || !Number.isInteger(lo) || !Number.isInteger(hi) || lo! < 1 || hi! < lo! || hi! > 20) {
      throw new BadInputError(`tfidf.charNgrams must be [min, max] with 1 <= min <= max <= 20, got ${JSON.stringify(tf.charNgrams)}`);
    }
  }
  const base: LinearClassifierDirConfig = {
    task: 'text-classification',
    kind,
    format: 'seqlab/linear-text-classifier@1',
    problem,
    classes,
    clean,
    features: 0,
    dim: 0,
    wordNgrams: kind === 'fasttext' ? (ft.wordNgrams ?? 2) : (tf.wordNgrams ?? 2),
    minn: kind === 'fasttext' ? (ft.minn ?? 3) : (tf.charNgrams?.[0] ?? 0),
    maxn: kind === 'fasttext' ? (ft.maxn ?? 5) : (tf.charNgrams?.[1] ?? 0),
    weightsFile: 'weights.bin',
    threshold: 0.5,
    ...(options.training ? { training: options.training } : {}),
  };
  const C = classes.length;
  const classWeight = options.classWeights === 'balanced' ? classes.map((_, c) => data.texts.length / (C * Math.max(1, targets.filter((t) => t.includes(c)).length))) : undefined;
  return { kind, classes, problem, targets, base, tokenizer: classifierTokenizer(clean), classWeight };
}

function classifierTokenizer(clean: CleanTextOptions | false): TextVectorizer {
  return new TextVectorizer({ tokenizer: 'word', ...(clean ? { clean } : {}) });
}

const tokenizationKey = (clean: CleanTextOptions | false) => JSON.stringify({ tokenizer: 'word', clean });

/**
 * Checks that a packed corpus handed to a fit holds `texts` tokenized as that fit tokenizes
 * (word tokens after `clean`): a corpus of other texts or another cleaning would train on
 * tokens the saved model never reads.
 */
export function checkPackedCorpus(corpus: PackedCorpus, texts: readonly string[], clean: CleanTextOptions | false): PackedCorpus {
  if (corpus.offsets.length - 1 !== texts.length || corpus.tokenization !== tokenizationKey(clean)) {
    throw new BadInputError(`corpus: packed ${corpus.offsets.length - 1} texts tokenized as ${corpus.tokenization ?? 'unknown'}; the fit has ${texts.length} texts tokenized as ${tokenizationKey(clean)} (pack them with packClassifierTexts and the same clean)`);
  }
  return corpus;
}

/**
 * Tokenizes texts once into word ids as the linear kinds do (word tokens after `clean`, default
 * {@link DEFAULT_CLEAN}), for {@link FitLinearClassifierOptions.corpus}: a training run that fits
 * several kinds and refits one then tokenizes its texts once.
 */
export async function packClassifierTexts(texts: readonly string[], clean: CleanTextOptions | false = DEFAULT_CLEAN, o: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {}): Promise<PackedCorpus> {
  return { ...(await packTexts(texts, classifierTokenizer(clean), o)), tokenization: tokenizationKey(clean) };
}

/**
 * Fits a linear classifier in seconds: the fastText-style embedding bag (SGD one text at a time,
 * learning rate decaying linearly to zero, as fastText trains) or a TF-IDF logistic regression
 * (sublinear tf, smoothed idf, L2-regularised, fitted to convergence by L-BFGS; with validation
 * rows the penalty is chosen from {@link TFIDF_L2_CANDIDATES}, each fit warm-started from the
 * previous, stronger one). Binary, multi-class (softmax) or multi-label (independent sigmoids,
 * threshold 0.5). Texts are tokenized once into word ids and featurized once into a sparse
 * matrix; `onProgress` reports both stages, `signal` cancels between passes.
 */
export async function fitLinearTextClassifier(data: LabelledRows, options: FitLinearClassifierOptions): Promise<LinearTextClassifier> {
  const kind = options.kind;
  if (kind !== 'fasttext' && kind !== 'tfidf-lr') throw new BadInputError(`kind must be 'fasttext' or 'tfidf-lr', got ${JSON.stringify(kind)}`);
  if (data.texts.length === 0) throw new BadInputError('no training texts');
  const validation = kind === 'tfidf-lr' && options.tfidf?.l2 === undefined ? options.validation : undefined;
  if (validation && (validation.texts.length === 0 || validation.texts.length !== validation.labels.length)) throw new BadInputError('validation must have texts, each with its labels');
  const setup = linearSetup(data, options);
  throwIfCancelled(options.signal, `fitting ${kind}`);
  const total = data.texts.length + (validation?.texts.length ?? 0);
  const given = options.corpus && checkPackedCorpus(options.corpus, data.texts, setup.base.clean);
  const corpus = given ?? (await packTexts(data.texts, setup.tokenizer, { signal: options.signal, onProgress: (done) => options.onProgress?.({ stage: 'featurize', done, total }) }));
  return kind === 'fasttext' ? fitFastText(setup, corpus, options) : fitTfidf(setup, corpus, options, validation);
}

/** tfidf-lr: vocabulary and matrix once, then one L-BFGS fit per L2 penalty (warm-started). */
async function fitTfidf(setup: LinearSetup, corpus: PackedCorpus, options: FitLinearClassifierOptions, validation: LabelledRows | undefined): Promise<LinearTextClassifier> {
  const tf = options.tfidf ?? {};
  if (tf.epochs !== undefined) positiveInt('tfidf.epochs', tf.epochs);
  const { base } = setup;
  const vocab = tfidfVocabulary(corpus, { wordNgrams: base.wordNgrams, minn: base.minn, maxn: base.maxn, ...(tf.minDf !== undefined ? { minDf: tf.minDf } : {}), maxFeatures: tf.maxFeatures ?? 200_000 });
  const x = tfidfMatrix(corpus, vocab, base.wordNgrams);
  const F = vocab.features.length;
  const C = setup.classes.length;
  const model = new LinearTextClassifier({ ...base, features: F, dim: 0 }, new Float32Array(0), new Float32Array(C * F), new Float32Array(C), { index: featureIndex(vocab.features), idf: vocab.idf });
  const scored = validation ? await featurizeValidation(model, validation, corpus.offsets.length - 1, options) : undefined;
  const grid = validation ? TFIDF_L2_CANDIDATES : [tf.l2 ?? 1e-4];
  const data = { x, classes: C, multiLabel: setup.problem === 'multi-label', labels: setup.targets, ...(setup.classWeight ? { classWeight: setup.classWeight } : {}) };
  let warm: LogisticParams | undefined;
  let best: { accuracy: number; l2: number; at: number; weights: Float32Array; bias: Float32Array } | undefined;
  const tried: Array<{ l2: number; validationAccuracy: number; iterations: number }> = [];
  for (const [k, l2] of grid.entries()) {
    let start: number | undefined;
    // The gradient norm is not monotone under L-BFGS: progress keeps its best share so far.
    let shown = 0;
    const fit = await fitLogisticRegression(data, {
      l2,
      ...(warm ? { init: warm } : {}),
      ...(tf.tolerance !== undefined ? { tolerance: tf.tolerance } : {}),
      ...(tf.maxIterations !== undefined ? { maxIterations: positiveInt('tfidf.maxIterations', tf.maxIterations) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onIteration: ({ gradientNorm, targetNorm }) => {
        start ??= gradientNorm;
        const share = start > targetNorm ? Math.log(start / gradientNorm) / Math.log(start / targetNorm) : 1;
        shown = Math.max(shown, Math.round(99 * Math.min(1, Math.max(0, share))));
        options.onProgress?.({ stage: 'fit', done: k * 100 + shown, total: grid.length * 100, l2 });
      },
    });
    warm = fit;
    setWeights(model, fit, F, C);
    options.onProgress?.({ stage: 'fit', done: (k + 1) * 100, total: grid.length * 100, l2 });
    if (!scored) break;
    const accuracy = classificationMetrics(model.classes, model.problem, scored.labels, scored.features.map((f) => model.resultOf(f))).accuracy;
    tried.push({ l2, validationAccuracy: accuracy, iterations: fit.iterations });
    const m = model as unknown as { weights: Float32Array; bias: Float32Array };
    if (!best || accuracy > best.accuracy) best = { accuracy, l2, at: k, weights: m.weights.slice(), bias: m.bias.slice() };
    // Weaker penalties cost the most iterations; once two in a row score below the best, the
    // accuracy has turned over (the path from strong to weak penalties rises, then falls).
    if (k - best.at >= TFIDF_L2_PATIENCE && k + 1 < grid.length) {
      options.onProgress?.({ stage: 'fit', done: grid.length * 100, total: grid.length * 100, l2 });
      break;
    }
  }
  if (best) {
    const chosen = best;
    model.setParameters((weights, bias) => {
      weights.set(chosen.weights);
      bias.set(chosen.bias);
    });
    model.config.training = { ...model.config.training, l2: best.l2, l2Candidates: tried };
  }
  return model;
}

/** Copies solver parameters (feature-major, float64) into the model's `[classes, features]` float32 arrays. */
function setWeights(model: LinearTextClassifier, fit: LogisticParams, F: number, C: number): void {
  model.setParameters((weights, bias) => {
    for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) weights[c * F + f] = fit.weights[f * C + c]!;
    bias.set(fit.bias);
  });
}

/** Validation features through the model's own featurize(), computed once for every penalty. */
async function featurizeValidation(model: LinearTextClassifier, validation: LabelledRows, before: number, options: FitLinearClassifierOptions): Promise<{ features: Sparse[]; labels: string[][] }> {
  const features: Sparse[] = [];
  const total = before + validation.texts.length;
  for (const [i, text] of validation.texts.entries()) {
    if (typeof text !== 'string') throw new BadInputError(`validation row ${i + 1}: text must be a string, got ${typeof text}`);
    features.push(model.featurize(text));
    if (i % 256 === 255) {
      options.onProgress?.({ stage: 'featurize', done: before + i + 1, total });
      await new Promise<void>((resolve) => setImmediate(resolve));
      throwIfCancelled(options.signal, 'featurizing');
    }
  }
  options.onProgress?.({ stage: 'featurize', done: total, total });
  return { features, labels: validation.labels };
}

/**
 * Training tokens x epochs a default fasttext fit aims at. Small corpora keep 20 epochs; from
 * about 1.5 million tokens the epochs fall toward fastText's own default of 5, where more passes
 * over tens of thousands of long documents only cost time (on the generated 25,000-review corpus
 * 5 epochs scored 0.875 on held-out documents, 20 epochs 0.867).
 */
export const FASTTEXT_TOKEN_EPOCHS = 30_000_000;

/**
 * Above this many training tokens a default fasttext fit leaves out character n-grams (as
 * fastText's supervised mode does by default): they help short texts and rare words (SST-2
 * phrases, TREC questions), while on long documents they triple the features per row and, on the
 * generated review corpus, cost accuracy (0.849 with them against 0.875 without, at 5 epochs).
 */
export const FASTTEXT_CHAR_NGRAM_MAX_TOKENS = 2_000_000;

/** The epochs and whether to use character n-grams of a default fasttext fit on `tokens` training tokens. */
export function fastTextDefaults(tokens: number): { epochs: number; charNgrams: boolean } {
  return { epochs: Math.max(5, Math.min(20, Math.ceil(FASTTEXT_TOKEN_EPOCHS / Math.max(1, tokens)))), charNgrams: tokens <= FASTTEXT_CHAR_NGRAM_MAX_TOKENS };
}

/** Stored fasttext features at most (8 bytes each); rows past it are hashed again each epoch. */
const FASTTEXT_STORED_ENTRIES = 48_000_000;

/** fasttext: hashed rows once, then SGD over them (on one thread or two: see {@link trainFastText}). */
async function fitFastText(setup: LinearSetup, corpus: PackedCorpus, options: FitLinearClassifierOptions): Promise<LinearTextClassifier> {
  const ft = options.fasttext ?? {};
  const C = setup.classes.length;
  const dim = positiveInt('fasttext.dim', ft.dim ?? 16);
  const buckets = positiveInt('fasttext.buckets', ft.buckets ?? 1 << 18);
  const sized = fastTextDefaults(corpus.tokens.length);
  const epochs = positiveInt('fasttext.epochs', ft.epochs ?? sized.epochs);
  const charNgrams = ft.minn !== undefined || ft.maxn !== undefined || sized.charNgrams;
  const base: LinearClassifierDirConfig = { ...setup.base, ...(charNgrams ? {} : { minn: 0, maxn: 0 }) };
  const featurizer = new HashedFeaturizer(corpus, { buckets, wordNgrams: base.wordNgrams, minn: base.minn, maxn: base.maxn });
  const stored = featurizer.matrix(FASTTEXT_STORED_ENTRIES);
  if (ft.threads !== undefined && ft.threads !== 1 && ft.threads !== 2) throw new RnnArgumentError(`fasttext.threads must be 1 or 2, got ${JSON.stringify(ft.threads)}`);
  const threads = ft.threads ?? fastTextThreads(stored.indptr[stored.rows]!);
  const rng = new SeededRandom(`linear:${options.seed ?? 1}`);
  const N = corpus.offsets.length - 1;
  const isTarget = new Uint8Array(N * C);
  setup.targets.forEach((t, r) => t.forEach((c) => (isTarget[r * C + c] = 1)));
  let state: FastTextState = {
    E: new Float32Array(buckets * dim),
    W: Float32Array.from({ length: C * dim }, () => (rng.next() * 2 - 1) / Math.sqrt(dim)),
    b: new Float32Array(C),
    C,
    d: dim,
    multi: setup.problem === 'multi-label' ? 1 : 0,
    isTarget,
    classWeight: Float64Array.from(setup.classWeight ?? []),
    firstTarget: Int32Array.from(setup.targets, (t) => t[0] ?? 0),
    lr0: ft.learningRate ?? 0.5,
    total: epochs * N,
  };
  if (threads > 1) state = shareFastTextState(state);
  const used = await trainFastText(state, stored, featurizer, N, { epochs, rng, threads, ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  base.training = { ...base.training, fasttextEpochs: epochs, fasttextCharNgrams: charNgrams ? [base.minn, base.maxn] : 'off', fasttextTokens: corpus.tokens.length, fasttextThreads: used };
  return new LinearTextClassifier({ ...base, features: buckets, dim }, state.E, state.W, state.b);
}
