import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  BadInputError,
  classificationResult,
  EarlyStopping,
  fit,
  loadLayersModel,
  ModelFileError,
  readModelConfig,
  saveModel,
  SeededRandom,
  setGlobalSeed,
  writeModelConfig,
  type Callback,
  type ClassificationProblem,
  type ClassifyOptions,
  type TextClassificationPipeline,
  type TextClassificationResult,
  type TrainingLoop,
} from '@seqlab/core';
import {
  fitLinearTextClassifier,
  loadLinearTextClassifier,
  stratifiedSplit,
  type LabelledRows,
  type LinearTextClassifier,
  type TfidfLrOptions,
} from '@seqlab/rnn';
import type { CleanTextOptions } from '@seqlab/tokenize';
import { loadEncoder, type SentenceEncoder } from './encoder.js';
import { sha256Hex, USE_LITE_SHA256 } from './model-files.js';
import { EMBEDDING_DIM } from './similarity.js';

/**
 * The sentence-encoder kinds of the text-classification task: `use` (a head on USE vectors) and
 * `hybrid` (that head's probabilities averaged with a TF-IDF n-gram logistic regression's).
 */
export type UseClassifierKind = 'use' | 'hybrid';

/** Every {@link UseClassifierKind}, in the order they are listed to users. */
export const USE_CLASSIFIER_KINDS: readonly UseClassifierKind[] = Object.freeze(['use', 'hybrid']);

/** The encoder a saved model was trained on: named, and pinned by its model.json digest. */
export interface EncoderRecord {
  name: 'use-lite';
  /** SHA-256 of the encoder's model.json when the head was trained. */
  modelJsonSha256: string;
}

/** Settings of the head on the sentence vectors. */
export interface HeadSettings {
  /** Units of the hidden ReLU layer; 0 = logistic regression on the vector. */
  hidden: number;
  /** Dropout after the hidden layer (0 without one). */
  dropout: number;
  /** L2 penalty on the dense kernels. */
  l2: number;
}

/** `config.json` of a USE text classifier (task `text-classification`, kind `use` or `hybrid`). */
export interface UseClassifierDirConfig {
  version?: number;
  task: 'text-classification';
  kind: UseClassifierKind;
  format: 'seqlab/use-text-classifier@1';
  problem: ClassificationProblem;
  classes: string[];
  /**
   * The head's outputs when they are finer than {@link classes} (trained on sub-labels): the
   * class each output belongs to, by index into `classes`. Absent: outputs are the classes.
   */
  outputs?: { labels: string[]; classOf: number[] };
  encoder: EncoderRecord;
  /** Unit-length USE vectors are multiplied by this before the head (about unit variance per input). */
  inputScale: number;
  head: HeadSettings;
  /** `hybrid`: weight of the USE head's probabilities; the n-gram model's get `1 - useWeight`. */
  useWeight?: number;
  /** `hybrid`: the TF-IDF logistic regression's directory, relative to this one. */
  ngramModel?: string;
  threshold: number;
  training?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A stage of {@link fitUseTextClassifier}, for progress reports. */
export type UseFitStage = 'embed' | 'head' | 'ngrams' | 'refit';

/** Progress of {@link fitUseTextClassifier}. */
export interface UseFitProgress {
  stage: UseFitStage;
  /** `embed`: texts embedded so far; `head`: epochs finished of the candidate being trained. */
  done: number;
  total: number;
  /** What is being done, for a progress line. */
  what: string;
}

/** Options of {@link fitUseTextClassifier}. */
export interface FitUseClassifierOptions {
  kind: UseClassifierKind;
  /** Default: every label of the training rows, sorted. */
  classes?: string[];
  /** Default `multi-label` when any row has several labels, else binary / multi-class. */
  problem?: ClassificationProblem;
  /** Rows that choose the head, its epochs and the hybrid's weight. Default: a stratified {@link validationSplit} of the training rows. */
  validation?: LabelledRows;
  /** Share of the training rows held out when no validation rows are given. Default 0.1. */
  validationSplit?: number;
  /**
   * After choosing on validation, fit the chosen settings again on training + validation rows
   * (the head for its best epoch count). Default `false`.
   */
  refit?: boolean;
  /**
   * Finer labels of the same rows (one per training row, then one per validation row), each
   * belonging to one class: the models learn these and a class scores the sum of its
   * sub-labels' probabilities (TREC's 50 fine question types for its 6 coarse ones).
   * Single-label problems only.
   */
  subLabels?: { train: string[]; validation?: string[] };
  /** Head sizes tried (0 = logistic regression); the best on validation is kept. Default `[0, 256]`. */
  hidden?: number[];
  /** Dropout after a hidden layer. Default 0.3. */
  dropout?: number;
  /** L2 on the head's kernels. Default 1e-5. */
  l2?: number;
  /** Adam learning rate. Default 2e-3. */
  learningRate?: number;
  /** Maximum epochs per head. Default 60. */
  epochs?: number;
  /** Epochs without better validation accuracy before a head stops. Default 8. */
  patience?: number;
  /** Default 32. */
  batchSize?: number;
  /**
   * `hybrid`: settings of the TF-IDF logistic regression. Its L2 penalty stays at the given (or
   * default) value rather than being searched on the validation rows: those rows already choose
   * the head, the labels and the mixing weight, and on TREC-6 a search of the penalty there too
   * raised validation accuracy (89.7% to 90.6%) while lowering test accuracy (94.8% to 91.2%).
   */
  tfidf?: TfidfLrOptions;
  /** `hybrid`: cleaning of the n-gram model's input. Default: @seqlab/rnn's `DEFAULT_CLEAN`. */
  clean?: CleanTextOptions | false;
  /** `hybrid`: weights tried for the USE head's probabilities. Default 0, 0.05, ..., 1. */
  useWeights?: number[];
  seed?: number;
  /** A loaded encoder to use (not disposed). Default: a new one, disposed with the classifier. */
  encoder?: SentenceEncoder;
  onProgress?: (p: UseFitProgress) => void;
  /** Recorded in config.json. */
  training?: Record<string, unknown>;
}

/** One head tried by {@link fitUseTextClassifier}. */
export interface HeadCandidate {
  hidden: number;
  validationAccuracy: number;
  /** Epochs (1-based) of the best validation accuracy. */
  bestEpoch: number;
  epochsRun: number;
  seconds: number;
}

/** What {@link fitUseTextClassifier} chose and measured. */
export interface FitUseClassifierResult {
  classifier: UseTextClassifier;
  heads: HeadCandidate[];
  chosenHidden: number;
  /** Validation accuracy of the chosen model (before any refit). */
  validationAccuracy: number;
  /** `hybrid`: the chosen weight and the n-gram model's own validation accuracy. */
  useWeight?: number;
  ngramValidationAccuracy?: number;
  embedSeconds: number;
  seconds: number;
}

function checkNumber(value: unknown, name: string, lo: number, hi: number, integer = false): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < lo || value > hi || (integer && !Number.isInteger(value))) {
    throw new BadInputError(`${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkTexts(texts: unknown, fn: string): asserts texts is string[] {
  if (!Array.isArray(texts)) throw new BadInputError(`${fn}: texts must be an array of strings, got ${texts === null ? 'null' : typeof texts}`);
  texts.forEach((t: unknown, i) => {
    if (typeof t !== 'string') throw new BadInputError(`${fn}: texts[${i}] must be a string, got ${t === null ? 'null' : typeof t}`);
    if (t.trim() === '') throw new BadInputError(`${fn}: texts[${i}] is empty`);
  });
}

/** SHA-256 of the model.json an encoder was loaded from (directory sources; URL sources give the published digest when verified). */
export async function encoderRecord(encoder: SentenceEncoder): Promise<EncoderRecord> {
  if (encoder.source.kind === 'dir') {
    const bytes = await fs.readFile(path.join(encoder.source.location, 'model.json'));
    return { name: 'use-lite', modelJsonSha256: sha256Hex(bytes) };
  }
  if (!encoder.source.verified) throw new BadInputError(`an unverified encoder fetched from ${encoder.source.location} cannot be recorded in a model; load it with verify: true`);
  return { name: 'use-lite', modelJsonSha256: USE_LITE_SHA256['model.json']! };
}

/** Builds the head: `[batch, 512]` -> (dense ReLU -> dropout) -> softmax (or sigmoids for multi-label). */
function buildHead(outputs: number, settings: HeadSettings, multiLabel: boolean, learningRate: number): tfl.LayersModel {
  const reg = settings.l2 > 0 ? tfl.regularizers.l2({ l2: settings.l2 }) : undefined;
  const input = tfl.input({ shape: [EMBEDDING_DIM], name: 'sentence' });
  let x: tfl.SymbolicTensor = input;
  if (settings.hidden > 0) {
    x = tfl.layers.dense({ units: settings.hidden, activation: 'relu', kernelRegularizer: reg, name: 'hidden' }).apply(x) as tfl.SymbolicTensor;
    if (settings.dropout > 0) x = tfl.layers.dropout({ rate: settings.dropout, name: 'dropout' }).apply(x) as tfl.SymbolicTensor;
  }
  const out = tfl.layers.dense({ units: outputs, activation: multiLabel ? 'sigmoid' : 'softmax', kernelRegularizer: reg, name: 'classes' }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out, name: 'use_text_head' });
  model.compile({ optimizer: tf.train.adam(learningRate), loss: multiLabel ? 'binaryCrossentropy' : 'categoricalCrossentropy' });
  return model;
}

/** Head probabilities of `n` scaled vectors, `[n, outputs]` row-major. */
function headProbabilities(head: tfl.LayersModel, x: Float32Array, n: number, batchSize = 512): Float32Array {
  const k = head.outputs[0]!.shape[1] as number;
  const out = new Float32Array(n * k);
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const p = tf.tidy(() => (head.predict(tf.tensor2d(x.subarray(s * EMBEDDING_DIM, (s + m) * EMBEDDING_DIM), [m, EMBEDDING_DIM])) as tf.Tensor).dataSync() as Float32Array);
    out.set(p, s * k);
  }
  return out;
}

/** Sums output probabilities into class scores (identity when the outputs are the classes). */
function toClassScores(p: ArrayLike<number>, offset: number, outputs: number, classes: number, classOf: readonly number[] | undefined): Float64Array {
  const z = new Float64Array(classes);
  if (!classOf) {
    for (let c = 0; c < classes; c++) z[c] = p[offset + c]!;
  } else {
    for (let o = 0; o < outputs; o++) z[classOf[o]!]! += p[offset + o]!;
  }
  return z;
}

/**
 * A text classifier on Universal Sentence Encoder vectors (kinds `use` and `hybrid` of the
 * text-classification task). The encoder's weights are not part of the model: the directory
 * records which encoder (name and model.json digest) and the loader takes it from
 * @seqlab/embeddings. Texts of any length are embedded whole (USE-lite has no length limit),
 * so nothing is truncated.
 */
export class UseTextClassifier implements TextClassificationPipeline {
  readonly task = 'text-classification' as const;
  readonly explains = false;
  readonly maxLength = Number.POSITIVE_INFINITY;
  private disposed = false;

  /** @internal Use {@link fitUseTextClassifier} or {@link loadUseTextClassifier}. */
  constructor(
    readonly config: UseClassifierDirConfig,
    /** The sentence encoder the head reads. */
    readonly encoder: SentenceEncoder,
    /** The trained head: `[batch, 512]` -> probabilities of the outputs. */
    readonly head: tfl.LayersModel,
    /** `hybrid`: the TF-IDF logistic regression over the same outputs. */
    readonly ngrams: LinearTextClassifier | undefined,
    private readonly ownsEncoder: boolean,
    readonly name = 'classifier',
  ) {
    if ((config.kind === 'hybrid') !== (ngrams !== undefined)) throw new BadInputError(`UseTextClassifier: a ${config.kind} model ${ngrams ? 'takes no' : 'needs an'} n-gram model`);
  }

  get kind(): UseClassifierKind {
    return this.config.kind;
  }

  get problem(): ClassificationProblem {
    return this.config.problem;
  }

  get classes(): readonly string[] {
    return this.config.classes;
  }

  /** Scaled USE vectors of `texts`, `[n, 512]` row-major. */
  async features(texts: string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array> {
    return embedScaled(this.encoder, texts, this.config.inputScale, onProgress);
  }

  /** Class probabilities of `n` texts from their {@link features} (and texts, for the n-gram part), `[n, classes]`. */
  scoreFeatures(x: Float32Array, texts: readonly string[]): Float64Array[] {
    const n = texts.length;
    const outputs = this.config.outputs?.labels.length ?? this.config.classes.length;
    const p = headProbabilities(this.head, x, n);
    if (this.ngrams) {
      const w = this.config.useWeight ?? 0.5;
      for (let i = 0; i < n; i++) {
        const q = this.ngrams.scores(this.ngrams.featurize(texts[i]!));
        for (let o = 0; o < outputs; o++) p[i * outputs + o] = w * p[i * outputs + o]! + (1 - w) * q[o]!;
      }
    }
    return Array.from({ length: n }, (_, i) => toClassScores(p, i * outputs, outputs, this.config.classes.length, this.config.outputs?.classOf));
  }

  async predict(texts: string[], _options: ClassifyOptions = {}): Promise<TextClassificationResult[]> {
    if (this.disposed) throw new BadInputError(`classifier "${this.name}" was used after dispose()`);
    checkTexts(texts, 'predict');
    if (texts.length === 0) return [];
    const scores = this.scoreFeatures(await this.features(texts), texts);
    return scores.map((s) => classificationResult(this.config.classes, s, this.config.problem, { truncated: false, threshold: this.config.threshold }));
  }

  /**
   * Writes the head (model.json and weights, atomically), for `hybrid` the n-gram model under
   * `ngrams/`, then `config.json` last, so a directory with a config is complete.
   */
  async save(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    await saveModel(this.head, dir);
    const fields: Record<string, unknown> = { ...this.config };
    if (this.ngrams) {
      await this.ngrams.save(path.join(dir, 'ngrams'));
      fields.ngramModel = 'ngrams';
    }
    await writeModelConfig(dir, { task: 'text-classification', kind: this.config.kind }, fields);
  }

  /** Frees the head, and the encoder when the classifier loaded it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.head.dispose();
    this.ngrams?.dispose();
    if (this.ownsEncoder) this.encoder.dispose();
  }
}

async function embedScaled(encoder: SentenceEncoder, texts: string[], scale: number, onProgress?: (done: number, total: number) => void): Promise<Float32Array> {
  const rows = await encoder.embed(texts, onProgress ? { onProgress } : {});
  const x = new Float32Array(texts.length * EMBEDDING_DIM);
  rows.forEach((r, i) => {
    for (let j = 0; j < EMBEDDING_DIM; j++) x[i * EMBEDDING_DIM + j] = r[j]! * scale;
  });
  return x;
}

/** Options of {@link loadUseTextClassifier}. */
export interface LoadUseClassifierOptions {
  /** The model's name in messages. Default: the directory's name. */
  name?: string;
  /** A loaded encoder to share (not disposed with the classifier). Default: a new {@link loadEncoder}(). */
  encoder?: SentenceEncoder;
}

/**
 * Loads a directory written by {@link UseTextClassifier.save}: the head, the n-gram model of a
 * hybrid, and the sentence encoder, which must be the one the head was trained on.
 *
 * @throws ModelFileError when a file is missing or inconsistent, or the installed encoder's
 *   model.json differs from the one recorded.
 */
export async function loadUseTextClassifier(dir: string, options: LoadUseClassifierOptions = {}): Promise<UseTextClassifier> {
  const file = path.join(dir, 'config.json');
  const config = (await readModelConfig(dir)) as unknown as UseClassifierDirConfig;
  if (config.task !== 'text-classification' || (config.kind !== 'use' && config.kind !== 'hybrid')) {
    throw new ModelFileError(file, `does not describe a USE text classifier (task "text-classification", kind "use" or "hybrid"); it has task ${JSON.stringify(config.task)}, kind ${JSON.stringify(config.kind)}`);
  }
  if (!Array.isArray(config.classes) || config.classes.length < 2) throw new ModelFileError(file, 'must list at least two classes');
  if (!config.encoder || config.encoder.name !== 'use-lite' || typeof config.encoder.modelJsonSha256 !== 'string') {
    throw new ModelFileError(file, 'must name its encoder ({ name: "use-lite", modelJsonSha256 })');
  }
  if (!(typeof config.inputScale === 'number' && config.inputScale > 0)) throw new ModelFileError(file, `inputScale must be a positive number, got ${JSON.stringify(config.inputScale)}`);
  const outputs = config.outputs?.labels.length ?? config.classes.length;
  if (config.outputs && (config.outputs.classOf.length !== outputs || config.outputs.classOf.some((c) => !(c >= 0 && c < config.classes.length)))) {
    throw new ModelFileError(file, `outputs.classOf must give a class index for each of the ${outputs} outputs`);
  }
  const head = await loadLayersModel(dir);
  const owned: Array<{ dispose(): void }> = [head];
  try {
    const shape = head.outputs[0]?.shape;
    if (head.inputs[0]?.shape[1] !== EMBEDDING_DIM || shape?.[1] !== outputs) {
      throw new ModelFileError(path.join(dir, 'model.json'), `maps ${JSON.stringify(head.inputs[0]?.shape)} to ${JSON.stringify(shape)}; the config describes [null, ${EMBEDDING_DIM}] to [null, ${outputs}]`);
    }
    let ngrams: LinearTextClassifier | undefined;
    if (config.kind === 'hybrid') {
      if (typeof config.ngramModel !== 'string') throw new ModelFileError(file, 'describes a hybrid model but names no ngramModel directory');
      if (!(typeof config.useWeight === 'number' && config.useWeight >= 0 && config.useWeight <= 1)) throw new ModelFileError(file, `useWeight must be in [0, 1], got ${JSON.stringify(config.useWeight)}`);
      const ngramDir = path.resolve(dir, config.ngramModel);
      if (!existsSync(ngramDir)) throw new ModelFileError(ngramDir, 'n-gram model directory not found');
      ngrams = await loadLinearTextClassifier(ngramDir);
      const expected = config.outputs?.labels ?? config.classes;
      if (JSON.stringify(ngrams.classes) !== JSON.stringify(expected)) throw new ModelFileError(path.join(ngramDir, 'config.json'), `classes ${JSON.stringify(ngrams.classes)} differ from the head's ${JSON.stringify(expected)}`);
    }
    const encoder = options.encoder ?? (await loadEncoder());
    if (!options.encoder) owned.push(encoder);
    const have = await encoderRecord(encoder);
    if (have.modelJsonSha256 !== config.encoder.modelJsonSha256) {
      throw new ModelFileError(file, `was trained on the encoder whose model.json has SHA-256 ${config.encoder.modelJsonSha256}; the encoder loaded (${encoder.source.location}) has ${have.modelJsonSha256}`);
    }
    return new UseTextClassifier(config, encoder, head, ngrams, options.encoder === undefined, options.name ?? path.basename(path.resolve(dir)));
  } catch (err) {
    for (const o of owned) o.dispose();
    throw err;
  }
}

/** Options of {@link useClassifierFromSentimentHead}. */
export interface SentimentHeadConversionOptions {
  /** Stored as the directory's `training` record (what produced the head). */
  training?: Record<string, unknown>;
  /** The model's name in messages. Default `classifier`. */
  name?: string;
}

/**
 * The `use` text classifier of negative/positive that predicts exactly what a sentiment head
 * (`useSentimentHead`: USE vector -> optional ReLU layer -> one sigmoid for positive) does, so
 * such a head is saved in the one format of the text-classification family. The sigmoid becomes
 * a two-class softmax over logits `[0, z]` (softmax gives `sigmoid(z)` to positive). The result
 * holds a new head (the given one is not consumed) and shares `encoder` (not disposed with it).
 *
 * @throws BadInputError when the head reads other than the 512 USE inputs (e.g. a USE + RNN
 *   hybrid head) or is not a dense stack ending in one sigmoid unit.
 */
export async function useClassifierFromSentimentHead(encoder: SentenceEncoder, head: tfl.LayersModel, options: SentimentHeadConversionOptions = {}): Promise<UseTextClassifier> {
  const inputs = head.inputs[0]?.shape[1];
  if (inputs !== EMBEDDING_DIM) throw new BadInputError(`useClassifierFromSentimentHead: the head reads ${inputs} inputs; only a head on the ${EMBEDDING_DIM} USE inputs converts`);
  const dense = head.layers.filter((l) => l.getClassName() === 'Dense');
  const last = dense[dense.length - 1];
  const lastConfig = last?.getConfig() as { units?: number; activation?: string } | undefined;
  if (!last || dense.length > 2 || lastConfig?.units !== 1 || lastConfig.activation !== 'sigmoid') {
    throw new BadInputError('useClassifierFromSentimentHead: expected a sentiment head (at most one hidden dense layer, then one sigmoid unit)');
  }
  const hiddenLayer = dense.length === 2 ? dense[0]! : undefined;
  const dropoutLayer = head.layers.find((l) => l.getClassName() === 'Dropout');
  const regularizer = (last.getConfig() as { kernelRegularizer?: { config?: { l2?: number } } }).kernelRegularizer;
  const settings: HeadSettings = {
    hidden: hiddenLayer ? (hiddenLayer.getConfig() as { units: number }).units : 0,
    dropout: hiddenLayer && dropoutLayer ? (dropoutLayer.getConfig() as { rate: number }).rate : 0,
    l2: regularizer?.config?.l2 ?? 0,
  };
  const converted = buildHead(2, settings, false, 1e-3);
  const [kernel, bias] = last.getWeights() as [tf.Tensor, tf.Tensor];
  const weights = tf.tidy(() => [
    ...(hiddenLayer ? hiddenLayer.getWeights().map((w) => w.clone()) : []),
    tf.concat([tf.zerosLike(kernel), kernel], 1),
    tf.concat([tf.zerosLike(bias), bias], 0),
  ]);
  converted.setWeights(weights);
  tf.dispose(weights);
  const config: UseClassifierDirConfig = {
    task: 'text-classification',
    kind: 'use',
    format: 'seqlab/use-text-classifier@1',
    problem: 'binary',
    classes: ['negative', 'positive'],
    encoder: await encoderRecord(encoder),
    // Sentiment heads read the unit-length vectors as they come.
    inputScale: 1,
    head: settings,
    threshold: 0.5,
    ...(options.training ? { training: options.training } : {}),
  };
  return new UseTextClassifier(config, encoder, converted, undefined, false, options.name);
}

/** Index of each row's target outputs. */
function targetsOf(labels: readonly (readonly string[])[], outputs: readonly string[], what: string): number[][] {
  const index = new Map(outputs.map((c, i) => [c, i]));
  return labels.map((ls, r) =>
    ls.map((l) => {
      const id = index.get(l);
      if (id === undefined) throw new BadInputError(`${what} row ${r + 1}: label ${JSON.stringify(l)} is not one of the classes (${outputs.join(', ')})`);
      return id;
    }),
  );
}

/** Share of rows whose predicted class set equals the true one (single-label: top class). */
function accuracyOf(scores: readonly Float64Array[], truth: readonly number[][], multiLabel: boolean, threshold = 0.5): number {
  let ok = 0;
  scores.forEach((s, i) => {
    const t = truth[i]!;
    if (multiLabel) {
      const p: number[] = [];
      s.forEach((v, c) => {
        if (v >= threshold) p.push(c);
      });
      if (p.length === t.length && p.every((c) => t.includes(c))) ok++;
    } else {
      let best = 0;
      for (let c = 1; c < s.length; c++) if (s[c]! > s[best]!) best = c;
      if (best === t[0]) ok++;
    }
  });
  return ok / Math.max(1, scores.length);
}

/** Trains a head for at most `epochs` epochs; with validation, keeps the best epoch's weights. */
async function trainHead(
  head: tfl.LayersModel,
  x: Float32Array,
  targets: number[][],
  outputs: number,
  o: { epochs: number; batchSize: number; seed: number; patience: number; validate?: () => number; onEpoch?: (epoch: number) => void },
): Promise<{ bestEpoch: number; best: number; epochsRun: number }> {
  const n = targets.length;
  const rng = new SeededRandom(`use-head:${o.seed}`);
  const xb = new Float32Array(o.batchSize * EMBEDDING_DIM);
  const yb = new Float32Array(o.batchSize * outputs);
  const loop: TrainingLoop<{ x: tf.Tensor2D; y: tf.Tensor2D; m: number }> = {
    *batches() {
      const order = rng.permutation(n);
      for (let s = 0; s < n; s += o.batchSize) {
        const m = Math.min(o.batchSize, n - s);
        yb.fill(0, 0, m * outputs);
        for (let i = 0; i < m; i++) {
          const r = order[s + i]!;
          xb.set(x.subarray(r * EMBEDDING_DIM, (r + 1) * EMBEDDING_DIM), i * EMBEDDING_DIM);
          for (const t of targets[r]!) yb[i * outputs + t] = 1;
        }
        yield { x: tf.tensor2d(xb.subarray(0, m * EMBEDDING_DIM), [m, EMBEDDING_DIM]), y: tf.tensor2d(yb.subarray(0, m * outputs), [m, outputs]), m };
      }
    },
    batchesPerEpoch: Math.ceil(n / o.batchSize),
    trainBatch: async ({ x: xt, y, m }) => {
      try {
        const loss = (await head.trainOnBatch(xt, y)) as number;
        return { loss, weight: m };
      } finally {
        xt.dispose();
        y.dispose();
      }
    },
    ...(o.validate ? { validate: () => ({ val_accuracy: o.validate!() }) } : {}),
    weights: { get: () => head.getWeights().map((w) => w.clone()), set: (w) => head.setWeights(w) },
  };
  let epochsRun = 0;
  const report: Callback = {
    onEpochEnd: (l) => {
      epochsRun = l.epoch + 1;
      o.onEpoch?.(epochsRun);
    },
  };
  const callbacks: Callback[] = [report];
  if (o.validate) callbacks.push(new EarlyStopping({ patience: o.patience }));
  let result: Awaited<ReturnType<typeof fit>>;
  try {
    result = await fit(loop, { epochs: o.epochs, ...(o.validate ? { monitor: 'val_accuracy', mode: 'max' as const } : {}), callbacks, what: 'text classifier head training' });
  } finally {
    // The optimizer is not the model's to free (it was passed in as an object), and its moment
    // estimates are of no use once the head is trained.
    head.optimizer?.dispose();
  }
  return { bestEpoch: result.bestEpoch + 1, best: result.bestValue, epochsRun };
}

/** The fitting options once checked, with their defaults filled in. */
interface UseFitSettings {
  kind: UseClassifierKind;
  hiddens: number[];
  dropout: number;
  l2: number;
  learningRate: number;
  epochs: number;
  patience: number;
  batchSize: number;
  seed: number;
  useWeights: number[];
}

/** Checks the training rows and every numeric option before anything is embedded or trained. */
function checkUseFitOptions(data: LabelledRows, options: FitUseClassifierOptions): UseFitSettings {
  const kind = options.kind;
  if (!USE_CLASSIFIER_KINDS.includes(kind)) throw new BadInputError(`kind must be one of ${USE_CLASSIFIER_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  if (!data || !Array.isArray(data.texts) || !Array.isArray(data.labels) || data.texts.length !== data.labels.length) {
    throw new BadInputError('training data must have as many label lists as texts');
  }
  if (data.texts.length === 0) throw new BadInputError('no training texts');
  checkTexts(data.texts, 'training data');
  const hiddens = options.hidden ?? [0, 256];
  if (!Array.isArray(hiddens) || hiddens.length === 0) throw new BadInputError(`hidden must be a non-empty list of layer sizes, got ${JSON.stringify(hiddens)}`);
  hiddens.forEach((h, i) => checkNumber(h, `hidden[${i}]`, 0, 65_536, true));
  const dropout = checkNumber(options.dropout ?? 0.3, 'dropout', 0, 0.95);
  const l2 = checkNumber(options.l2 ?? 1e-5, 'l2', 0, 1);
  const learningRate = checkNumber(options.learningRate ?? 2e-3, 'learningRate', 1e-6, 1);
  const epochs = checkNumber(options.epochs ?? 60, 'epochs', 1, 10_000, true);
  const patience = checkNumber(options.patience ?? 8, 'patience', 1, 10_000, true);
  const batchSize = checkNumber(options.batchSize ?? 32, 'batchSize', 1, 65_536, true);
  const seed = options.seed ?? 1;
  const useWeights = options.useWeights ?? Array.from({ length: 21 }, (_, i) => i / 20);
  useWeights.forEach((w, i) => checkNumber(w, `useWeights[${i}]`, 0, 1));
  return { kind, hiddens, dropout, l2, learningRate, epochs, patience, batchSize, seed, useWeights };
}

/** Training and validation rows (with their sub-labels, if any) after any holdout split. */
interface UseFitRows {
  train: LabelledRows;
  validation: LabelledRows;
  trainSub: string[] | undefined;
  valSub: string[] | undefined;
}

/** The given validation rows (checked), or a stratified holdout of the training rows. */
function splitUseFitRows(data: LabelledRows, options: FitUseClassifierOptions, seed: number): UseFitRows {
  const trainSub = options.subLabels?.train;
  const valSub = options.subLabels?.validation;
  if (options.subLabels && trainSub?.length !== data.texts.length) throw new BadInputError(`subLabels.train must have one label per training row (${data.texts.length}), got ${trainSub?.length}`);
  const validation = options.validation;
  if (validation) {
    checkTexts(validation.texts, 'validation data');
    if (validation.texts.length !== validation.labels.length || validation.texts.length === 0) throw new BadInputError('validation data must have texts, each with its labels');
    if (options.subLabels && options.refit && valSub?.length !== validation.texts.length) throw new BadInputError(`subLabels.validation must have one label per validation row (${validation.texts.length}) to refit on them`);
    return { train: data, validation, trainSub, valSub };
  }
  const split = stratifiedSplit(data.labels, checkNumber(options.validationSplit ?? 0.1, 'validationSplit', 0.01, 0.5), seed);
  return {
    train: { texts: split.train.map((i) => data.texts[i]!), labels: split.train.map((i) => data.labels[i]!) },
    validation: { texts: split.holdout.map((i) => data.texts[i]!), labels: split.holdout.map((i) => data.labels[i]!) },
    trainSub: trainSub ? split.train.map((i) => trainSub[i]!) : undefined,
    valSub: trainSub ? split.holdout.map((i) => trainSub[i]!) : valSub,
  };
}

/** The classes, the outputs the models learn (sub-labels or the classes) and every row's targets. */
interface UseLabelPlan {
  classes: string[];
  problem: ClassificationProblem;
  multiLabel: boolean;
  valClassTargets: number[][];
  outputs: UseClassifierDirConfig['outputs'];
  outputLabels: string[];
  outTargets: number[][];
  valOutTargets: number[][] | undefined;
}

/** Ties each sub-label to its one class; the outputs are the sub-labels, sorted. */
function subLabelOutputs(rows: UseFitRows, trainSub: string[], classes: string[]): { outputs: NonNullable<UseClassifierDirConfig['outputs']>; outTargets: number[][]; valOutTargets: number[][] | undefined } {
  const classOf = new Map<string, string>();
  const record = (sub: string, cls: string, where: string) => {
    if (typeof sub !== 'string' || sub === '') throw new BadInputError(`${where}: sub-label must be a non-empty string, got ${JSON.stringify(sub)}`);
    const had = classOf.get(sub);
    if (had !== undefined && had !== cls) throw new BadInputError(`${where}: sub-label ${JSON.stringify(sub)} is under class ${JSON.stringify(cls)} here and ${JSON.stringify(had)} elsewhere; each sub-label belongs to one class`);
    classOf.set(sub, cls);
  };
  trainSub.forEach((s, r) => record(s, rows.train.labels[r]![0]!, `training row ${r + 1}`));
  rows.valSub?.forEach((s, r) => record(s, rows.validation.labels[r]![0]!, `validation row ${r + 1}`));
  const labels = [...classOf.keys()].sort();
  return {
    outputs: { labels, classOf: labels.map((l) => classes.indexOf(classOf.get(l)!)) },
    outTargets: targetsOf(trainSub.map((s) => [s]), labels, 'training'),
    valOutTargets: rows.valSub ? targetsOf(rows.valSub.map((s) => [s]), labels, 'validation') : undefined,
  };
}

/** Resolves classes and problem, and turns every row's labels into output indices. */
function planUseLabels(data: LabelledRows, rows: UseFitRows, options: FitUseClassifierOptions): UseLabelPlan {
  const classes = options.classes ?? [...new Set(data.labels.flat())].sort();
  if (classes.length < 2) throw new BadInputError(`a classifier needs at least two classes, got ${JSON.stringify(classes)}`);
  const multiLabel = (options.problem ?? (data.labels.some((l) => l.length !== 1) ? 'multi-label' : undefined)) === 'multi-label';
  const problem: ClassificationProblem = multiLabel ? 'multi-label' : (options.problem ?? (classes.length === 2 ? 'binary' : 'multi-class'));
  const classTargets = targetsOf(rows.train.labels, classes, 'training');
  const valClassTargets = targetsOf(rows.validation.labels, classes, 'validation');
  const plan: UseLabelPlan = { classes, problem, multiLabel, valClassTargets, outputs: undefined, outputLabels: classes, outTargets: classTargets, valOutTargets: undefined };
  if (!rows.trainSub) return plan;
  if (multiLabel) throw new BadInputError('subLabels apply to single-label problems only');
  const sub = subLabelOutputs(rows, rows.trainSub, classes);
  return { ...plan, ...sub, outputLabels: sub.outputs.labels };
}

/** Scaled sentence vectors of the training rows followed by the validation rows. */
interface EmbeddedRows {
  x: Float32Array;
  xTrain: Float32Array;
  xVal: Float32Array;
  nTrain: number;
  nVal: number;
  allTexts: string[];
  embedSeconds: number;
}

/** Embeds every row once, so that each head and the refit reuse the same vectors. */
async function embedRows(encoder: SentenceEncoder, rows: UseFitRows, inputScale: number, onProgress: FitUseClassifierOptions['onProgress']): Promise<EmbeddedRows> {
  const t0 = performance.now();
  const allTexts = [...rows.train.texts, ...rows.validation.texts];
  const x = await embedScaled(encoder, allTexts, inputScale, (done, total) => onProgress?.({ stage: 'embed', done, total, what: 'embedding texts' }));
  const embedSeconds = (performance.now() - t0) / 1000;
  const nTrain = rows.train.texts.length;
  return { x, xTrain: x.subarray(0, nTrain * EMBEDDING_DIM), xVal: x.subarray(nTrain * EMBEDDING_DIM), nTrain, nVal: rows.validation.texts.length, allTexts, embedSeconds };
}

/** What the steps after embedding share: settings, labels, vectors and the options' callbacks. */
interface UseFitContext {
  settings: UseFitSettings;
  plan: UseLabelPlan;
  rows: UseFitRows;
  embedded: EmbeddedRows;
  options: FitUseClassifierOptions;
  /** Models to free if a later step fails. */
  disposeOnError: Array<{ dispose(): void }>;
}

/** Validation accuracy of output probabilities `[nVal, outputs]` (summed into classes first). */
function validationAccuracy(ctx: UseFitContext, p: Float32Array): number {
  const { plan, embedded } = ctx;
  const K = plan.outputLabels.length;
  const scores = Array.from({ length: embedded.nVal }, (_, i) => toClassScores(p, i * K, K, plan.classes.length, plan.outputs?.classOf));
  return accuracyOf(scores, plan.valClassTargets, plan.multiLabel);
}

/** The head that {@link chooseHead} kept, with its settings and record. */
interface ChosenHead {
  model: tfl.LayersModel;
  candidate: HeadCandidate;
  settings: HeadSettings;
}

/** Trains one head per size; the best validation accuracy wins, the smaller head on a tie. */
async function chooseHead(ctx: UseFitContext): Promise<{ best: ChosenHead; heads: HeadCandidate[] }> {
  const { settings: s, plan, embedded, options } = ctx;
  const K = plan.outputLabels.length;
  const heads: HeadCandidate[] = [];
  let best: ChosenHead | undefined;
  for (const hidden of s.hiddens) {
    const h0 = performance.now();
    const settings: HeadSettings = { hidden, dropout: hidden > 0 ? s.dropout : 0, l2: s.l2 };
    // Initial weights and dropout masks draw from Math.random: seeded, a run repeats exactly.
    setGlobalSeed(`use-head:${s.seed}:${hidden}`);
    const model = buildHead(K, settings, plan.multiLabel, s.learningRate);
    ctx.disposeOnError.push(model);
    const r = await trainHead(model, embedded.xTrain, plan.outTargets, K, {
      epochs: s.epochs,
      batchSize: s.batchSize,
      seed: s.seed,
      patience: s.patience,
      validate: () => validationAccuracy(ctx, headProbabilities(model, embedded.xVal, embedded.nVal)),
      onEpoch: (e) => options.onProgress?.({ stage: 'head', done: e, total: s.epochs, what: hidden > 0 ? `MLP head (${hidden} hidden)` : 'logistic-regression head' }),
    });
    const candidate: HeadCandidate = { hidden, validationAccuracy: r.best, bestEpoch: r.bestEpoch, epochsRun: r.epochsRun, seconds: (performance.now() - h0) / 1000 };
    heads.push(candidate);
    if (!best || candidate.validationAccuracy > best.candidate.validationAccuracy) {
      if (best) best.model.dispose();
      best = { model, candidate, settings };
    } else {
      model.dispose();
    }
  }
  return { best: best!, heads };
}

/** Fits the TF-IDF logistic regression of a hybrid on rows labelled with the outputs. */
function fitNgrams(ctx: UseFitContext, texts: string[], targets: number[][]): Promise<LinearTextClassifier> {
  const { plan, options } = ctx;
  const K = plan.outputLabels.length;
  const rows: LabelledRows = { texts, labels: targets.map((t) => t.map((i) => plan.outputLabels[i]!)) };
  const clean = options.clean;
  return fitLinearTextClassifier(rows, {
    kind: 'tfidf-lr',
    classes: [...plan.outputLabels],
    problem: plan.multiLabel ? 'multi-label' : K === 2 ? 'binary' : 'multi-class',
    seed: ctx.settings.seed,
    ...(clean !== undefined ? { clean } : {}),
    ...(options.tfidf ? { tfidf: options.tfidf } : {}),
  });
}

/** A hybrid's n-gram model and the weight of the head's probabilities chosen on validation. */
interface HybridChoice {
  ngrams: LinearTextClassifier;
  useWeight: number;
  validationAccuracy: number;
  ngramValidationAccuracy: number;
}

/** Fits the n-gram model and picks the mixing weight with the best validation accuracy. */
async function chooseUseWeight(ctx: UseFitContext, head: tfl.LayersModel): Promise<HybridChoice> {
  const { plan, embedded, rows } = ctx;
  const K = plan.outputLabels.length;
  ctx.options.onProgress?.({ stage: 'ngrams', done: 0, total: 1, what: 'TF-IDF n-gram model' });
  const ngrams = await fitNgrams(ctx, rows.train.texts, plan.outTargets);
  const pUse = headProbabilities(head, embedded.xVal, embedded.nVal);
  const pNgram = new Float32Array(embedded.nVal * K);
  rows.validation.texts.forEach((t, i) => pNgram.set(ngrams.scores(ngrams.featurize(t)), i * K));
  const ngramValidationAccuracy = validationAccuracy(ctx, pNgram);
  // The weight with the best validation accuracy; among ties the one nearest an even mix,
  // which is least tuned to the few validation rows that decide between them.
  let bestW = { w: 0.5, acc: -1 };
  const mix = new Float32Array(embedded.nVal * K);
  for (const w of ctx.settings.useWeights) {
    for (let j = 0; j < mix.length; j++) mix[j] = w * pUse[j]! + (1 - w) * pNgram[j]!;
    const acc = validationAccuracy(ctx, mix);
    if (acc > bestW.acc || (acc === bestW.acc && Math.abs(w - 0.5) < Math.abs(bestW.w - 0.5))) bestW = { w, acc };
  }
  return { ngrams, useWeight: bestW.w, validationAccuracy: bestW.acc, ngramValidationAccuracy };
}

/**
 * Fits the chosen settings again on every row (the head for the epochs that were best), and
 * frees the models they replace.
 */
async function refitOnAllRows(ctx: UseFitContext, best: ChosenHead, head: tfl.LayersModel, ngrams: LinearTextClassifier | undefined): Promise<{ head: tfl.LayersModel; ngrams: LinearTextClassifier | undefined }> {
  const { settings: s, plan, embedded } = ctx;
  const K = plan.outputLabels.length;
  ctx.options.onProgress?.({ stage: 'refit', done: 0, total: 1, what: 'refitting on training + validation rows' });
  const allTargets = [...plan.outTargets, ...(plan.valOutTargets ?? (plan.outputs ? [] : plan.valClassTargets))];
  if (allTargets.length !== embedded.nTrain + embedded.nVal) throw new BadInputError('refit needs the sub-labels of the validation rows (subLabels.validation)');
  setGlobalSeed(`use-head:${s.seed}:${best.settings.hidden}`);
  const refitted = buildHead(K, best.settings, plan.multiLabel, s.learningRate);
  ctx.disposeOnError.push(refitted);
  await trainHead(refitted, embedded.x, allTargets, K, { epochs: best.candidate.bestEpoch, batchSize: s.batchSize, seed: s.seed, patience: s.patience });
  head.dispose();
  if (!ngrams) return { head: refitted, ngrams };
  ngrams.dispose();
  return { head: refitted, ngrams: await fitNgrams(ctx, embedded.allTexts, allTargets) };
}

/** What the fit chose and measured, as recorded in config.json and returned. */
interface UseFitOutcome {
  encoder: EncoderRecord;
  best: ChosenHead;
  heads: HeadCandidate[];
  validationAccuracy: number;
  useWeight: number | undefined;
  ngramValidationAccuracy: number | undefined;
}

/** The config.json of the fitted classifier, with what training chose under `training`. */
function useClassifierConfig(ctx: UseFitContext, inputScale: number, outcome: UseFitOutcome): UseClassifierDirConfig {
  const { plan, options, embedded } = ctx;
  const { best, useWeight, ngramValidationAccuracy } = outcome;
  return {
    task: 'text-classification',
    kind: ctx.settings.kind,
    format: 'seqlab/use-text-classifier@1',
    problem: plan.problem,
    classes: [...plan.classes],
    ...(plan.outputs ? { outputs: plan.outputs } : {}),
    encoder: outcome.encoder,
    inputScale,
    head: best.settings,
    ...(useWeight !== undefined ? { useWeight } : {}),
    threshold: 0.5,
    training: {
      ...(options.training ?? {}),
      seed: ctx.settings.seed,
      trainRows: embedded.nTrain,
      validationRows: embedded.nVal,
      refit: options.refit === true,
      headEpochs: best.candidate.bestEpoch,
      heads: outcome.heads,
      validationAccuracy: outcome.validationAccuracy,
      ...(ngramValidationAccuracy !== undefined ? { ngramValidationAccuracy } : {}),
    },
  };
}

/** Frees what a failed fit made, keeping the first error the one reported. */
function disposeAll(items: Array<{ dispose(): void }>): void {
  for (const d of items) {
    try {
      d.dispose();
    } catch {
      // Already freed on the way (a replaced head): the first error is the one to report.
    }
  }
}

/**
 * Fits a USE text classifier: embeds the rows once (in batches, with progress), trains a
 * logistic regression and small MLPs on the vectors and keeps the best on validation; for
 * `hybrid` also fits a TF-IDF logistic regression on the same rows and chooses, on validation,
 * the weight of the average of the two models' probabilities. With `refit` the chosen settings
 * are fitted again on all rows. Test data never enters any choice.
 *
 * @throws BadInputError for bad options or labels (naming the option or the row).
 */
export async function fitUseTextClassifier(data: LabelledRows, options: FitUseClassifierOptions): Promise<FitUseClassifierResult> {
  const started = performance.now();
  const settings = checkUseFitOptions(data, options);
  const rows = splitUseFitRows(data, options, settings.seed);
  const plan = planUseLabels(data, rows, options);
  const ownsEncoder = options.encoder === undefined;
  const encoder = options.encoder ?? (await loadEncoder());
  const disposeOnError: Array<{ dispose(): void }> = ownsEncoder ? [encoder] : [];
  try {
    const encoderInfo = await encoderRecord(encoder);
    const inputScale = Math.sqrt(EMBEDDING_DIM);
    const embedded = await embedRows(encoder, rows, inputScale, options.onProgress);
    const ctx: UseFitContext = { settings, plan, rows, embedded, options, disposeOnError };
    const { best, heads } = await chooseHead(ctx);
    let head = best.model;
    const hybrid = settings.kind === 'hybrid' ? await chooseUseWeight(ctx, head) : undefined;
    let ngrams = hybrid?.ngrams;
    if (options.refit) ({ head, ngrams } = await refitOnAllRows(ctx, best, head, ngrams));
    const outcome: UseFitOutcome = {
      encoder: encoderInfo,
      best,
      heads,
      validationAccuracy: hybrid?.validationAccuracy ?? best.candidate.validationAccuracy,
      useWeight: hybrid?.useWeight,
      ngramValidationAccuracy: hybrid?.ngramValidationAccuracy,
    };
    const classifier = new UseTextClassifier(useClassifierConfig(ctx, inputScale, outcome), encoder, head, ngrams, ownsEncoder);
    return {
      classifier,
      heads,
      chosenHidden: best.settings.hidden,
      validationAccuracy: outcome.validationAccuracy,
      ...(outcome.useWeight !== undefined ? { useWeight: outcome.useWeight } : {}),
      ...(outcome.ngramValidationAccuracy !== undefined ? { ngramValidationAccuracy: outcome.ngramValidationAccuracy } : {}),
      embedSeconds: embedded.embedSeconds,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (err) {
    disposeAll(disposeOnError);
    throw err;
  }
}
