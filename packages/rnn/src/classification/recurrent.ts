import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  classificationResult,
  loadLayersModel,
  withSideWork,
  writeModelConfig,
  CLASSIFICATION_PROBLEMS,
  type AttributedToken,
  type TokenContribution,
  type ClassificationProblem,
  type ClassifyOptions,
  type TextClassificationPipeline,
  type TextClassificationResult,
  type WeightPrecision,
} from '@seqlab/core';
import { TextVectorizer, type Token } from '@seqlab/tokenize';
import { resolveTextClassifierOptions, withAttentionWeights, type ClassifierOutput, type TextClassifierConfig } from '../builders/text-classifier.js';
import { oneOf, positiveInt, RnnArgumentError } from '../errors.js';
import { readJson } from '../read-json.js';
import { checkTexts } from './inputs.js';
import { CompiledModel } from '../inference/compiled-model.js';
import { removeStaleMembers, sentimentMemberDirs, writeClassifierMembers } from '../sentiment.js';
import { chunkStarts, keptPositions, LONG_TEXT_MODES, TRUNCATION_STRATEGIES, type LengthStats, type LongTextMode, type TruncationStrategy } from './long-texts.js';
import { checkClasses } from './labels.js';
import { checkThresholds, DEFAULT_THRESHOLD } from './thresholds.js';
import { ensembleScores } from '../inference/ensemble-scores.js';

/**
 * Each token's attention weight (and, multi-label, its contribution to each class's logit),
 * averaged over the rows that read it: a text read in several windows gets the mean.
 */
class TokenShares {
  private readonly weight: Float64Array[];
  private readonly covered: Uint8Array[];
  private readonly contribution: Float64Array[];

  constructor(
    private readonly tokens: readonly (readonly Token[])[],
    private readonly classes: number,
  ) {
    this.weight = tokens.map((ts) => new Float64Array(ts.length));
    this.covered = tokens.map((ts) => new Uint8Array(ts.length));
    this.contribution = tokens.map((ts) => new Float64Array(ts.length * classes));
  }

  /** Adds row `i` (of `width` positions, one of `k` rows of its text) of a scored group. */
  add(r: Row, i: number, width: number, k: number, weights: Float32Array, contributions: Float32Array | undefined): void {
    const C = this.classes;
    r.positions.forEach((p, j) => {
      this.weight[r.text]![p]! += weights[i * width + j]! / k;
      this.covered[r.text]![p] = 1;
      if (contributions) for (let c = 0; c < C; c++) this.contribution[r.text]![p * C + c]! += contributions[(i * width + j) * C + c]! / k;
    });
  }

  /** Text `t`'s read tokens with their attention weights. */
  attention(t: number): AttributedToken[] {
    const out: AttributedToken[] = [];
    this.tokens[t]!.forEach((tok, p) => {
      if (this.covered[t]![p]) out.push({ text: tok.text, start: tok.start, end: tok.end, weight: this.weight[t]![p]! });
    });
    return out;
  }

  /** Text `t`'s read tokens with their contributions to class `c`'s logit. */
  contributions(t: number, c: number): TokenContribution[] {
    const out: TokenContribution[] = [];
    this.tokens[t]!.forEach((tok, p) => {
      if (this.covered[t]![p]) out.push({ text: tok.text, start: tok.start, end: tok.end, contribution: this.contribution[t]![p * this.classes + c]! });
    });
    return out;
  }
}

/** Batches of a window sorted by length before scoring (bounded, so a huge call never holds every text's tokens at once). */
const SORT_WINDOW_BATCHES = 16;

/** `config.json` of a recurrent text-classifier directory (task `text-classification`, kind `rnn`). */
export interface RecurrentClassifierDirConfig {
  version?: number;
  task: 'text-classification';
  kind: 'rnn';
  format: string;
  problem: ClassificationProblem;
  /** Class names in output order. */
  classes: string[];
  vectorizerFile: string;
  /** Tokens the model reads at once. */
  maxLength: number;
  /** Which tokens of a longer text are kept when it is truncated. */
  truncation: TruncationStrategy;
  /** How longer texts are read by default: truncated, or in chunks whose probabilities are averaged. */
  longTexts: LongTextMode;
  architecture: TextClassifierConfig;
  /**
   * Multi-label only: the decision threshold of each class, in class order (chosen on the
   * validation rows by {@link fitRecurrentTextClassifier}; absent: 0.5 for every class).
   */
  thresholds?: number[];
  /** Ensemble members' subdirectories (absent: one model in the directory itself). */
  members?: string[];
  /** Token-length statistics of the training texts. */
  lengthStats?: LengthStats;
  precision?: WeightPrecision;
  training?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One model row: which tokens of which text it holds. */
interface Row {
  text: number;
  positions: number[];
}

/**
 * A recurrent text classifier with attention (kind `rnn` of the `text-classification` task):
 * binary, multi-class or multi-label (a sigmoid per class, with a decision threshold per class),
 * single model or ensemble, with per-token explanations, head+tail truncation and
 * chunk-and-pool reading of long texts. Also loads sentiment model directories (kind `rnn` of
 * the sentiment task) as binary classifiers.
 *
 * The explanation is the attention pooling's weights: one distribution over the tokens per
 * text, which the model reads before scoring every class. Multi-label results add `labelTokens`:
 * for each predicted class, each token's additive share of that class's logit (its attention
 * weight times its state projected on the class's output weights). For one model and a text
 * read whole the shares plus the class's bias are the logit; ensembles and chunked texts average
 * them like the scores.
 */
export class RecurrentTextClassifier implements TextClassificationPipeline {
  readonly task = 'text-classification' as const;
  readonly kind = 'rnn' as const;
  readonly explains = true;
  private disposed = false;
  private readonly explainers: tfl.LayersModel[];
  private readonly compiled: CompiledModel[] | undefined;
  private fastPathEnabled = true;
  /** Multi-label: each member's output kernel `[features, classes]`, for per-class token contributions. */
  private readonly outputKernels: Float32Array[] | undefined;

  /**
   * @param models One classifier per ensemble member ({@link textClassifier} with attention);
   *   owned by this object and freed on {@link dispose}.
   */
  constructor(
    private readonly models: tfl.LayersModel[],
    readonly vectorizer: TextVectorizer,
    readonly config: RecurrentClassifierDirConfig,
    readonly name: string,
  ) {
    if (models.length === 0) throw new RnnArgumentError('RecurrentTextClassifier: needs at least one model');
    // Multi-label explainers also return the pooled sequence, from which each token's share of
    // each class's logit follows (the logit is linear in the pooled vector).
    const multiLabel = config.problem === 'multi-label';
    this.explainers = models.map((m) => withAttentionWeights(m, { states: multiLabel }));
    this.outputKernels = multiLabel ? models.map((m) => m.getLayer('probabilities').getWeights()[0]!.dataSync() as Float32Array) : undefined;
    const compiled = this.explainers.map((m) => CompiledModel.compile(m));
    this.compiled = compiled.every((c) => c !== undefined) ? (compiled as CompiledModel[]) : undefined;
  }

  get problem(): ClassificationProblem {
    return this.config.problem;
  }

  /** Whether predictions run on the inference fast path (see {@link CompiledModel}). */
  get fastPath(): boolean {
    return this.compiled !== undefined && this.fastPathEnabled;
  }

  /** Turns the inference fast path off (tf.layers' predict) or back on; for comparisons and benchmarks. */
  setFastPath(enabled: boolean): void {
    this.fastPathEnabled = enabled;
  }

  /** The trained Keras-style model of each ensemble member (owned by this classifier). */
  get members(): readonly tfl.LayersModel[] {
    return this.models;
  }

  get classes(): readonly string[] {
    return this.config.classes;
  }

  get maxLength(): number {
    return this.config.maxLength;
  }

  /** Multi-label: the decision threshold of each class in class order (default 0.5 each). */
  get thresholds(): readonly number[] | undefined {
    if (this.config.problem !== 'multi-label') return undefined;
    return this.config.thresholds ?? this.config.classes.map(() => DEFAULT_THRESHOLD);
  }

  /**
   * Sets the multi-label decision thresholds (one in (0, 1) per class, e.g. from
   * {@link chooseThresholds} on validation rows); {@link save} stores them.
   */
  setThresholds(thresholds: readonly number[]): void {
    if (this.config.problem !== 'multi-label') throw new RnnArgumentError(`setThresholds: a ${this.config.problem} classifier predicts its top class; thresholds are for multi-label models`);
    this.config.thresholds = checkThresholds(thresholds, this.config.classes.length, 'setThresholds: thresholds');
  }

  // Mean over members of probabilities [B, C], attention weights [B, L] and, multi-label, each
  // position's contribution to each class's logit [B, L, C].
  private async scores(ids: Int32Array, B: number, L: number): Promise<[Float32Array, Float32Array, Float32Array?]> {
    const compiled = this.fastPathEnabled ? this.compiled : undefined;
    if (!this.outputKernels) return ensembleScores(compiled, this.explainers, ids, B, L);
    const C = this.config.classes.length;
    const probs = new Float32Array(B * C);
    const weights = new Float32Array(B * L);
    const contributions = new Float32Array(B * L * C);
    const M = this.models.length;
    for (let m = 0; m < M; m++) {
      let outs: Float32Array[];
      if (compiled) outs = compiled[m]!.predict(ids, B, L);
      else {
        const ts = tf.tidy(() => this.explainers[m]!.predict(tf.tensor2d(ids, [B, L], 'int32')) as tf.Tensor[]);
        outs = await Promise.all(ts.map(async (t) => (await t.data()) as Float32Array));
        tf.dispose(ts);
      }
      const [p, w, h] = outs as [Float32Array, Float32Array, Float32Array];
      const kernel = this.outputKernels[m]!;
      const F = h.length / (B * L);
      for (let i = 0; i < p.length; i++) probs[i]! += p[i]! / M;
      for (let i = 0; i < w.length; i++) weights[i]! += w[i]! / M;
      // logit_c = sum_t w_t (h_t . K[:, c]) + b_c: the pooled vector is the attention-weighted
      // mean of the states and dropout is off, so each position's term is its exact share.
      for (let bt = 0; bt < B * L; bt++) {
        const wt = w[bt]!;
        if (wt === 0) continue;
        for (let c = 0; c < C; c++) {
          let dot = 0;
          for (let f = 0; f < F; f++) dot += h[bt * F + f]! * kernel[f * C + c]!;
          contributions[bt * C + c]! += (wt * dot) / M;
        }
      }
    }
    return [probs, weights, contributions];
  }

  /**
   * Classifies texts. A text longer than {@link maxLength} tokens is cut by the model's
   * truncation strategy (`longTexts: 'truncate'`) or read in windows whose probabilities and
   * attention weights are averaged (`'chunks'`); either way its result says `truncated: true`.
   */
  async predict(texts: string[], options: ClassifyOptions = {}): Promise<TextClassificationResult[]> {
    if (this.disposed) throw new RnnArgumentError('RecurrentTextClassifier: used after dispose()');
    checkTexts(texts);
    const next = options.lookahead;
    if (!next) return this.classify(texts, options);
    // The caller's next batch is tokenized while the kernels run, instead of before its own call.
    return withSideWork(this.vectorizer.prefillTokens(next.texts, next.sharedTokens), () => this.classify(texts, options));
  }

  private async classify(texts: string[], options: ClassifyOptions): Promise<TextClassificationResult[]> {
    const mode = oneOf('predict: longTexts', options.longTexts ?? this.config.longTexts, LONG_TEXT_MODES);
    const explain = options.explain ?? true;
    const batchSize = positiveInt('predict: batchSize', options.batchSize ?? 64);
    const L = this.config.maxLength;
    const C = this.config.classes.length;
    const vocab = this.vectorizer.vocabulary;
    const out = new Array<TextClassificationResult>(texts.length);
    // Within a window of texts, batches are made of texts of similar length: a batch is padded
    // to its longest row, and in input order nearly every batch of long documents holds one at
    // the full length. Masked padding leaves each text's scores as they were.
    const window = batchSize * SORT_WINDOW_BATCHES;
    // Token lists an ensemble's other members share (the caller bounds the batch).
    const shared = options.sharedTokens ? this.vectorizer.tokenizeAll(texts, options.sharedTokens) : undefined;
    for (let w = 0; w < texts.length; w += window) {
      const windowTokens = shared ? shared.slice(w, w + window) : this.vectorizer.tokenizeAll(texts.slice(w, w + window));
      const byLength = Array.from(windowTokens.keys()).sort((a, b) => windowTokens[a]!.length - windowTokens[b]!.length);
      for (let s = 0; s < byLength.length; s += batchSize) {
        const picked = byLength.slice(s, s + batchSize);
        const chunk = picked.map((i) => texts[w + i]!);
        const tokens = picked.map((i) => windowTokens[i]!);
        // Ids of the positions read only (a cut review skips the vocabulary lookups of its middle).
        const idOf = (text: number, p: number): number => {
          const id = vocab.tokenToId(tokens[text]![p]!.text);
          return vocab.isSpecialId(id) ? vocab.unkId : id;
        };
        const rows: Row[] = [];
        tokens.forEach((ts, text) => {
          const n = Math.max(1, ts.length);
          if (n <= L || mode === 'truncate') rows.push({ text, positions: keptPositions(ts.length, L, this.config.truncation) });
          else for (const start of chunkStarts(n, L)) rows.push({ text, positions: Array.from({ length: L }, (_, i) => start + i) });
        });
        // Rows are scored in groups so a batch of long texts chunked into many windows stays bounded.
        const probsPerText = chunk.map(() => new Float64Array(C));
        const explained = explain ? new TokenShares(tokens, this.outputKernels ? C : 0) : undefined;
        const rowsPerText = new Int32Array(chunk.length);
        for (const r of rows) rowsPerText[r.text]!++;
        for (let g = 0; g < rows.length; g += batchSize) {
          const group = rows.slice(g, g + batchSize);
          const width = Math.max(2, ...group.map((r) => r.positions.length));
          const x = new Int32Array(group.length * width);
          group.forEach((r, i) => {
            const at = i * width;
            const ps = r.positions;
            for (let j = 0; j < ps.length; j++) x[at + j] = idOf(r.text, ps[j]!);
          });
          const [probs, weights, contributions] = await this.scores(x, group.length, width);
          group.forEach((r, i) => {
            const k = rowsPerText[r.text]!;
            for (let c = 0; c < C; c++) probsPerText[r.text]![c]! += probs[i * C + c]! / k;
            explained?.add(r, i, width, k, weights, contributions);
          });
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        chunk.forEach((_, t) => {
          const result = classificationResult(this.config.classes, probsPerText[t]!, this.config.problem, {
            truncated: tokens[t]!.length > L,
            ...(explained ? { tokens: explained.attention(t) } : {}),
            ...(this.config.thresholds ? { threshold: this.config.thresholds } : {}),
          });
          if (explained && this.outputKernels) result.labelTokens = result.predicted.map((label) => ({ label, tokens: explained.contributions(t, this.config.classes.indexOf(label)) }));
          out[w + picked[t]!] = result;
        });
      }
    }
    return out;
  }

  /** Saves with {@link saveRecurrentTextClassifier}; it loads back identical. */
  async save(dir: string): Promise<void> {
    if (this.disposed) throw new RnnArgumentError('RecurrentTextClassifier: used after dispose()');
    const c = this.config;
    await saveRecurrentTextClassifier(dir, this.models, this.vectorizer, {
      architecture: c.architecture,
      classes: c.classes,
      problem: c.problem,
      maxLength: c.maxLength,
      truncation: c.truncation,
      longTexts: c.longTexts,
      ...(c.lengthStats ? { lengthStats: c.lengthStats } : {}),
      ...(c.thresholds ? { thresholds: c.thresholds } : {}),
      ...(c.precision ? { precision: c.precision } : {}),
      ...(c.training ? { training: c.training } : {}),
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.models) m.dispose();
  }
}

/** A sigmoid output goes with multi-label and a softmax with the other problems. */
function checkOutputMatchesProblem(output: ClassifierOutput, problem: ClassificationProblem, what: string): void {
  if ((output === 'sigmoid') !== (problem === 'multi-label')) {
    throw new RnnArgumentError(`${what}: a ${problem} classifier needs ${problem === 'multi-label' ? "a sigmoid output (architecture output: 'sigmoid')" : 'a softmax output'}, the architecture has ${output}`);
  }
}

/** Options of {@link saveRecurrentTextClassifier}. */
export interface SaveRecurrentClassifierOptions {
  architecture: TextClassifierConfig;
  /** Class names in output order (as many as the architecture's `numClasses`). */
  classes: readonly string[];
  /** Default: `multi-label` for a sigmoid architecture, else `binary` for two classes, else `multi-class`. */
  problem?: ClassificationProblem;
  /** Multi-label: one decision threshold in (0, 1) per class. Default 0.5 each. */
  thresholds?: readonly number[];
  /** Tokens read at once. Default 64. */
  maxLength?: number;
  /** Default `'head+tail'`. */
  truncation?: TruncationStrategy;
  /** Default `'truncate'`. */
  longTexts?: LongTextMode;
  lengthStats?: LengthStats;
  precision?: WeightPrecision;
  training?: Record<string, unknown>;
}

/**
 * Writes a recurrent classifier (or an ensemble sharing one vectorizer and architecture) as a
 * `text-classification` model directory: weights, `vectorizer.json`, then `config.json` (task,
 * kind `rnn`, problem, classes, length, truncation, length statistics, multi-label thresholds).
 * A multi-label classifier needs the sigmoid architecture (`output: 'sigmoid'`) and the others
 * the softmax one, so a directory never pairs scores with the wrong decision rule.
 */
export async function saveRecurrentTextClassifier(
  dir: string,
  models: tfl.LayersModel | tfl.LayersModel[],
  vectorizer: TextVectorizer,
  options: SaveRecurrentClassifierOptions,
): Promise<RecurrentClassifierDirConfig> {
  const list = Array.isArray(models) ? models : [models];
  if (list.length === 0) throw new RnnArgumentError('saveRecurrentTextClassifier: models is empty');
  const arch = resolveTextClassifierOptions(options.architecture);
  const classes = checkClasses(options.classes, 'saveRecurrentTextClassifier: classes');
  if (classes.length !== arch.numClasses) {
    throw new RnnArgumentError(`saveRecurrentTextClassifier: ${classes.length} class names for a model of ${arch.numClasses} classes`);
  }
  const problem = oneOf('saveRecurrentTextClassifier: problem', options.problem ?? (arch.output === 'sigmoid' ? 'multi-label' : classes.length === 2 ? 'binary' : 'multi-class'), CLASSIFICATION_PROBLEMS);
  checkOutputMatchesProblem(arch.output, problem, 'saveRecurrentTextClassifier');
  if (options.thresholds && problem !== 'multi-label') throw new RnnArgumentError(`saveRecurrentTextClassifier: thresholds are for multi-label classifiers, this one is ${problem}`);
  const thresholds = options.thresholds ? checkThresholds(options.thresholds, classes.length, 'saveRecurrentTextClassifier: thresholds') : undefined;
  if (problem === 'binary' && classes.length !== 2) throw new RnnArgumentError(`saveRecurrentTextClassifier: a binary classifier has 2 classes, got ${classes.length}`);
  if (vectorizer.vocabSize !== arch.vocabSize) {
    throw new RnnArgumentError(`saveRecurrentTextClassifier: the vectorizer has ${vectorizer.vocabSize} tokens but the architecture expects ${arch.vocabSize}`);
  }
  const precision = options.precision ?? 'float32';
  const members = await writeClassifierMembers(dir, list, vectorizer, precision);
  const fields = {
    format: 'seqlab-rnn/text-classifier@1',
    problem,
    classes,
    vectorizerFile: 'vectorizer.json',
    maxLength: positiveInt('saveRecurrentTextClassifier: maxLength', options.maxLength ?? 64),
    truncation: oneOf('saveRecurrentTextClassifier: truncation', options.truncation ?? 'head+tail', TRUNCATION_STRATEGIES),
    longTexts: oneOf('saveRecurrentTextClassifier: longTexts', options.longTexts ?? 'truncate', LONG_TEXT_MODES),
    architecture: arch,
    ...(members ? { members } : {}),
    ...(options.lengthStats ? { lengthStats: options.lengthStats } : {}),
    ...(thresholds ? { thresholds } : {}),
    ...(precision !== 'float32' ? { precision } : {}),
    ...(options.training ? { training: options.training } : {}),
  };
  const config = (await writeModelConfig(dir, { task: 'text-classification', kind: 'rnn' }, fields)) as unknown as RecurrentClassifierDirConfig;
  await removeStaleMembers(dir, members);
  return config;
}

/**
 * Loads a recurrent classifier directory: a `text-classification` model of kind `rnn`, or a
 * sentiment model of kind `rnn` (read as a binary classifier with classes negative/positive
 * that keeps the head of long texts, as the sentiment task does).
 */
export async function loadRecurrentTextClassifier(dir: string, options: { name?: string } = {}): Promise<RecurrentTextClassifier> {
  const file = path.join(dir, 'config.json');
  const raw = await readJson<Record<string, unknown>>(file, 'loadRecurrentTextClassifier');
  let config: RecurrentClassifierDirConfig;
  if (raw.task === 'sentiment') {
    config = {
      ...(raw as object),
      task: 'text-classification',
      kind: 'rnn',
      problem: 'binary',
      classes: (raw.labels as string[] | undefined) ?? ['negative', 'positive'],
      // Sentiment directories keep the head unless they say otherwise.
      truncation: (raw.truncation as TruncationStrategy | undefined) ?? 'head',
      longTexts: 'truncate',
    } as RecurrentClassifierDirConfig;
  } else if (raw.task === 'text-classification') {
    config = raw as RecurrentClassifierDirConfig;
  } else {
    throw new RnnArgumentError(`${file}: task ${JSON.stringify(raw.task)} is not a text classifier`);
  }
  const arch = resolveTextClassifierOptions(config.architecture);
  const classes = checkClasses(config.classes, `${file}: classes`);
  if (classes.length !== arch.numClasses) throw new RnnArgumentError(`${file}: ${classes.length} classes for a model of ${arch.numClasses} outputs`);
  oneOf(`${file}: problem`, config.problem, CLASSIFICATION_PROBLEMS);
  checkOutputMatchesProblem(arch.output, config.problem, file);
  if (config.thresholds !== undefined) {
    if (config.problem !== 'multi-label') throw new RnnArgumentError(`${file}: thresholds are for multi-label classifiers, this one is ${config.problem}`);
    checkThresholds(config.thresholds, classes.length, `${file}: thresholds`);
  }
  oneOf(`${file}: truncation`, config.truncation, TRUNCATION_STRATEGIES);
  oneOf(`${file}: longTexts`, config.longTexts, LONG_TEXT_MODES);
  positiveInt(`${file}: maxLength`, config.maxLength);
  const vectorizer = TextVectorizer.fromJSON(await readJson<unknown>(path.join(dir, config.vectorizerFile ?? 'vectorizer.json'), 'loadRecurrentTextClassifier'));
  if (vectorizer.vocabSize !== arch.vocabSize) {
    throw new RnnArgumentError(`${file}: the vectorizer has ${vectorizer.vocabSize} tokens but the model expects ${arch.vocabSize}`);
  }
  const models: tfl.LayersModel[] = [];
  try {
    for (const m of sentimentMemberDirs(dir, config)) models.push(await loadLayersModel(m));
  } catch (err) {
    for (const m of models) m.dispose();
    throw err;
  }
  return new RecurrentTextClassifier(models, vectorizer, { ...config, architecture: arch }, options.name ?? path.basename(path.resolve(dir)));
}
