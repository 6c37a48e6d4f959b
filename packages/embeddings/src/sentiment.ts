import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  BadInputError,
  classificationResult,
  EarlyStopping,
  findModelByDigest,
  fit,
  loadLayersModel,
  MODEL_CONFIG,
  modelDigest,
  ModelFileError,
  nameModelInError,
  readModelConfig,
  SeededRandom,
  SeqlabError,
  SENTIMENT_LABELS,
  UnsupportedError,
  writeFileAtomic,
  type Callback,
  type ClassifyOptions,
  type TextClassificationPipeline,
  type TextClassificationResult,
  type TrainingLoop,
} from '@seqlab/core';
import { loadEncoder, type SentenceEncoder } from './encoder.js';
import { RnnSentimentFeatures } from './rnn-features.js';
import { useClassifierFromSentimentHead } from './text-classifier.js';
import { EMBEDDING_DIM } from './similarity.js';

/** Options of {@link useSentimentHead}. */
export interface UseSentimentHeadOptions {
  /** Units of the hidden ReLU layer; 0 gives plain logistic regression on the embedding. Default 256. */
  hidden?: number;
  /** Dropout before the output layer, in [0, 1). Default 0.5. */
  dropout?: number;
  /** L2 penalty on the dense kernels. Default 1e-5. */
  l2?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Length of the input vectors. Default 512 (a USE embedding); larger for hybrid features. */
  inputDim?: number;
}

function checkRange(value: number, name: string, lo: number, hi: number, integer = false): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < lo || value >= hi || (integer && !Number.isInteger(value))) {
    throw new BadInputError(`${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}), got ${String(value)}`);
  }
  return value;
}

/**
 * A small classifier on top of frozen USE sentence vectors: `[batch, 512]` -> dense ReLU ->
 * dropout -> sigmoid probability of the positive class. Compiled with binary cross-entropy
 * and Adam, ready for `fit` or {@link trainSentimentHead}.
 *
 * @example
 * ```ts
 * const head = useSentimentHead({ hidden: 256 });
 * head.summary();
 * ```
 */
export function useSentimentHead(options: UseSentimentHeadOptions = {}): tfl.LayersModel {
  const hidden = checkRange(options.hidden ?? 256, 'useSentimentHead: hidden', 0, 65_536, true);
  const dropout = checkRange(options.dropout ?? 0.5, 'useSentimentHead: dropout', 0, 1);
  const l2 = checkRange(options.l2 ?? 1e-5, 'useSentimentHead: l2', 0, 1);
  const learningRate = checkRange(options.learningRate ?? 1e-3, 'useSentimentHead: learningRate', 1e-8, 10);
  const inputDim = checkRange(options.inputDim ?? EMBEDDING_DIM, 'useSentimentHead: inputDim', 1, 1 << 20, true);
  const reg = l2 > 0 ? tfl.regularizers.l2({ l2 }) : undefined;
  const input = tfl.input({ shape: [inputDim], name: 'features' });
  let x: tfl.SymbolicTensor = input;
  if (hidden > 0) {
    x = tfl.layers.dense({ units: hidden, activation: 'relu', kernelRegularizer: reg, name: 'hidden' }).apply(x) as tfl.SymbolicTensor;
  }
  if (dropout > 0) x = tfl.layers.dropout({ rate: dropout, name: 'dropout' }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelRegularizer: reg, name: 'positive' }).apply(x) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out, name: 'use_sentiment_head' });
  model.compile({ optimizer: tf.train.adam(learningRate), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  return model;
}

/**
 * A hybrid head over joined `[USE vector, RNN features]` rows that fuses two already trained
 * scorers at the logit level: a trained USE head (its layers copied and frozen, reading the
 * first {@link EMBEDDING_DIM} inputs) and the RNN model's own read-out (frozen, reading the
 * rest; see `RnnSentimentFeatures.logitWeights`). Only the fusion is trained:
 * `p = sigmoid(a * useLogit + b * rnnLogit + c)`, three parameters, so a few thousand examples
 * the RNN never saw are enough to fit it.
 */
export function fusionHead(useHead: tfl.LayersModel, rnn: { kernel: Float32Array; bias: number }, options: { learningRate?: number } = {}): tfl.LayersModel {
  const useDim = inputDimOf(useHead);
  if (useDim !== EMBEDDING_DIM) throw new BadInputError(`fusionHead: the USE head reads ${useDim} inputs, expected ${EMBEDDING_DIM}`);
  const rnnDim = rnn.kernel.length;
  const dim = useDim + rnnDim;
  const input = tfl.input({ shape: [dim], name: 'features' });
  // Copy the USE head's dense layers, zero-padding the first one's kernel over the RNN inputs.
  const dense = useHead.layers.filter((l) => l.getClassName() === 'Dense');
  let x: tfl.SymbolicTensor = input;
  const frozen: Array<[tfl.layers.Layer, tf.Tensor[]]> = [];
  dense.forEach((l, i) => {
    const cfg = l.getConfig() as { units: number; activation: string };
    const last = i === dense.length - 1;
    const copy = tfl.layers.dense({ units: cfg.units, activation: last ? 'linear' : (cfg.activation as 'relu'), trainable: false, name: last ? 'use_logit' : `use_${l.name}` });
    const [k, b] = l.getWeights();
    frozen.push([copy, i === 0 ? [tf.concat([k!, tf.zeros([rnnDim, cfg.units])], 0), b!.clone()] : [k!.clone(), b!.clone()]]);
    x = copy.apply(x) as tfl.SymbolicTensor;
  });
  if (dense.length === 0) throw new BadInputError('fusionHead: the USE head has no dense layers');
  const rnnLogit = tfl.layers.dense({ units: 1, trainable: false, name: 'rnn_logit' });
  frozen.push([rnnLogit, [tf.concat([tf.zeros([useDim, 1]), tf.tensor2d(rnn.kernel, [rnnDim, 1])], 0), tf.tensor1d([rnn.bias])]]);
  const r = rnnLogit.apply(input) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate({ name: 'logits' }).apply([x, r]) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 1, activation: 'sigmoid', name: 'positive', kernelInitializer: 'ones', biasInitializer: 'zeros' }).apply(joined) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out, name: 'fusion_sentiment_head' });
  for (const [layer, weights] of frozen) {
    layer.setWeights(weights);
    tf.dispose(weights);
  }
  model.compile({ optimizer: tf.train.adam(options.learningRate ?? 0.01), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** Options of {@link trainSentimentHead}. */
export interface TrainHeadOptions {
  /** Maximum epochs. Default 30. */
  epochs?: number;
  /** Examples per gradient step. Default 256. */
  batchSize?: number;
  /** Stop after this many epochs without a better validation accuracy; the best weights are restored. Default 4. */
  patience?: number;
  /** Seed of the shuffling order. Default 1. */
  seed?: number;
  /** Called after every epoch. */
  onEpoch?: (log: HeadEpochLog) => void;
  /** Abandons training with a `CancelledError` (from @seqlab/core) before the next batch once aborted. */
  signal?: AbortSignal;
}

/** One epoch of {@link trainSentimentHead}. */
export interface HeadEpochLog {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  valAccuracy: number;
  seconds: number;
}

/** Result of {@link trainSentimentHead}. */
export interface TrainHeadResult {
  history: HeadEpochLog[];
  /** Epoch (1-based) whose weights the head now holds. */
  bestEpoch: number;
  bestValAccuracy: number;
}

/**
 * Labelled feature vectors: `x` holds `n` rows of `dim` floats back to back (`dim` = 512 for
 * USE embeddings, the head's input length in general), `y` holds 0/1 labels.
 */
export interface EmbeddedExamples {
  x: Float32Array;
  y: ArrayLike<number>;
}

function inputDimOf(head: tfl.LayersModel): number {
  const d = head.inputs[0]?.shape[1];
  if (typeof d !== 'number') throw new BadInputError(`head input shape ${JSON.stringify(head.inputs[0]?.shape)} is not [batch, dim]`);
  return d;
}

function checkExamples(data: EmbeddedExamples, name: string, dim: number): number {
  const n = data.y.length;
  if (data.x.length !== n * dim) {
    throw new BadInputError(`${name}: x has ${data.x.length} floats, expected ${n} labels x ${dim} = ${n * dim}`);
  }
  for (let i = 0; i < n; i++) {
    if (data.y[i] !== 0 && data.y[i] !== 1) throw new BadInputError(`${name}: label ${i} is ${data.y[i]}, expected 0 or 1`);
  }
  return n;
}

/** Accuracy of a head on embedded examples (threshold 0.5), evaluated in batches. */
export function headAccuracy(head: tfl.LayersModel, data: EmbeddedExamples, batchSize = 1024): number {
  const p = headProba(head, data.x, batchSize);
  let correct = 0;
  checkExamples(data, 'headAccuracy', inputDimOf(head));
  for (let i = 0; i < p.length; i++) if ((p[i]! >= 0.5 ? 1 : 0) === data.y[i]) correct++;
  return correct / p.length;
}

/** Positive-class probabilities of a head for `n` feature rows, evaluated in batches. */
export function headProba(head: tfl.LayersModel, x: Float32Array, batchSize = 1024): Float32Array {
  const dim = inputDimOf(head);
  if (x.length % dim !== 0) throw new BadInputError(`headProba: x has ${x.length} floats, not a multiple of the head's input length ${dim}`);
  const n = x.length / dim;
  const out = new Float32Array(n);
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const p = tf.tidy(() => (head.predict(tf.tensor2d(x.subarray(s * dim, (s + m) * dim), [m, dim])) as tf.Tensor).dataSync());
    out.set(p, s);
  }
  return out;
}

/**
 * Trains a head on precomputed embeddings with early stopping on validation accuracy and
 * restores the weights of the best epoch (tfjs-layers' own early stopping keeps the last).
 * Runs on `@seqlab/core`'s `fit`, the loop every seqlab model trains with.
 */
export async function trainSentimentHead(
  head: tfl.LayersModel,
  train: EmbeddedExamples,
  validation: EmbeddedExamples,
  options: TrainHeadOptions = {},
): Promise<TrainHeadResult> {
  const dim = inputDimOf(head);
  const n = checkExamples(train, 'trainSentimentHead: train', dim);
  checkExamples(validation, 'trainSentimentHead: validation', dim);
  const epochs = checkRange(options.epochs ?? 30, 'trainSentimentHead: epochs', 1, 10_000, true);
  const batchSize = checkRange(options.batchSize ?? 256, 'trainSentimentHead: batchSize', 1, 1e7, true);
  const patience = checkRange(options.patience ?? 4, 'trainSentimentHead: patience', 1, 10_000, true);
  const rng = new SeededRandom(options.seed ?? 1);
  const history: HeadEpochLog[] = [];
  const xb = new Float32Array(batchSize * dim);
  const yb = new Float32Array(batchSize);
  const loop: TrainingLoop<{ x: tf.Tensor2D; y: tf.Tensor2D; m: number }> = {
    *batches() {
      const order = rng.permutation(n);
      for (let s = 0; s < n; s += batchSize) {
        const m = Math.min(batchSize, n - s);
        for (let i = 0; i < m; i++) {
          const r = order[s + i]!;
          xb.set(train.x.subarray(r * dim, (r + 1) * dim), i * dim);
          yb[i] = train.y[r]!;
        }
        yield { x: tf.tensor2d(xb.subarray(0, m * dim), [m, dim]), y: tf.tensor2d(yb.subarray(0, m), [m, 1]), m };
      }
    },
    batchesPerEpoch: Math.ceil(n / batchSize),
    trainBatch: async ({ x, y, m }) => {
      try {
        const [loss, acc] = (await head.trainOnBatch(x, y)) as number[];
        return { loss: loss!, weight: m, metrics: { accuracy: { sum: acc! * m, count: m } } };
      } finally {
        x.dispose();
        y.dispose();
      }
    },
    validate: () => ({ val_accuracy: headAccuracy(head, validation) }),
    weights: { get: () => head.getWeights().map((w) => w.clone()), set: (w) => head.setWeights(w) },
  };
  const report: Callback = {
    onEpochEnd: (l) => {
      const log: HeadEpochLog = { epoch: l.epoch + 1, loss: l.loss, trainAccuracy: l.accuracy as number, valAccuracy: l.val_accuracy as number, seconds: l.seconds };
      history.push(log);
      options.onEpoch?.(log);
    },
  };
  const result = await fit(loop, { epochs, monitor: 'val_accuracy', mode: 'max', callbacks: [report, new EarlyStopping({ patience })], signal: options.signal, what: 'sentiment head training' });
  return { history, bestEpoch: result.bestEpoch + 1, bestValAccuracy: Number.isFinite(result.bestValue) ? result.bestValue : -1 };
}

/**
 * What a saved sentiment model records about itself: in its config.json (task `sentiment`,
 * kind `use-head` or `hybrid`) and, for older loaders, in model.json's userDefinedMetadata.
 */
export interface SentimentMetadata {
  /** `use-head`: the head reads the USE vector; `hybrid`: the USE vector joined with RNN features. */
  kind: 'use-head' | 'hybrid';
  labels: ['negative', 'positive'];
  /** The encoder the head was trained on. */
  encoder: 'use-lite';
  /** For `hybrid`: the @seqlab/rnn sentiment model directory, relative to this model's directory (a hint: see `rnnModelDigest`). */
  rnnModel?: string;
  /**
   * For `hybrid`: the content digest (`modelDigest` of @seqlab/core) of the RNN model when it was
   * saved. Loading takes the model with this digest (at `rnnModel`, or renamed beside it) and
   * refuses a changed one. Absent in models saved before digests.
   */
  rnnModelDigest?: string;
  /** GLUE SST-2 dev accuracy measured when it was saved, if known. */
  devAccuracy?: number;
}

/** Options of {@link loadSentimentClassifier}. */
export interface LoadSentimentOptions {
  /** Directory of a saved classifier (which model is a task's default is `@seqlab/tasks`' registry's to say). */
  modelDir: string;
  /** The model's name as users call it (used in error messages). Default: the directory's name. */
  name?: string;
  /** An encoder to share (it is then not disposed with the classifier). Default: a new {@link loadEncoder}(). */
  encoder?: SentenceEncoder;
}

/**
 * Joins each text's USE vector with its RNN features: `n` rows of `512 + rnn.dim` floats.
 * Exposed so that training code builds exactly the inputs the classifier will see.
 */
export function joinFeatures(use: Float32Array, rnn: Float32Array, n: number): Float32Array {
  if (use.length !== n * EMBEDDING_DIM) throw new BadInputError(`joinFeatures: USE part has ${use.length} floats, expected ${n} x ${EMBEDDING_DIM}`);
  if (rnn.length % n !== 0 || (n === 0 && rnn.length !== 0)) throw new BadInputError(`joinFeatures: RNN part has ${rnn.length} floats, not ${n} equal rows`);
  const r = n === 0 ? 0 : rnn.length / n;
  const d = EMBEDDING_DIM + r;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    out.set(use.subarray(i * EMBEDDING_DIM, (i + 1) * EMBEDDING_DIM), i * d);
    out.set(rnn.subarray(i * r, (i + 1) * r), i * d + EMBEDDING_DIM);
  }
  return out;
}

/**
 * Sentiment of English sentences: USE-lite embeddings (optionally joined with the
 * BiLSTM-attention features of an `@seqlab/rnn` sentiment model) fed to a trained head. A binary
 * text classifier of negative/positive (the sentiment task of `@seqlab/tasks` serves it as
 * such). {@link loadSentimentClassifier} reads directories of the older sentiment format
 * (config.json task `sentiment`); {@link save} writes the text-classification format. Create
 * with {@link loadSentimentClassifier} or from a freshly trained head.
 */
export class SentimentClassifier implements TextClassificationPipeline {
  readonly task = 'text-classification' as const;
  readonly problem = 'binary' as const;
  readonly classes: readonly string[] = SENTIMENT_LABELS;
  /** The sentence encoder reads whole texts: nothing is truncated. */
  readonly maxLength = Number.POSITIVE_INFINITY;
  readonly explains = false;
  /** The model's name as users call it. */
  name = 'sentiment-use';
  private disposed = false;

  constructor(
    /** The sentence encoder the head reads. */
    readonly encoder: SentenceEncoder,
    /** The trained head (input `[batch, 512 (+ rnn.dim)]`, output positive probability `[batch, 1]`). */
    readonly head: tfl.LayersModel,
    /** Facts recorded with the model. */
    readonly metadata: SentimentMetadata = { kind: 'use-head', labels: ['negative', 'positive'], encoder: 'use-lite' },
    private readonly ownsEncoder = false,
    /** For hybrid models: the RNN feature extractor (owned and disposed by the classifier). */
    readonly rnn?: RnnSentimentFeatures,
  ) {
    if ((metadata.kind === 'hybrid') !== (rnn !== undefined)) {
      throw new BadInputError(`SentimentClassifier: a ${metadata.kind} model ${rnn ? 'takes no' : 'needs'} RNN features`);
    }
  }

  /** `use-head` or `hybrid`. */
  get kind(): SentimentMetadata['kind'] {
    return this.metadata.kind;
  }

  /** Positive-class probability of each text. */
  async predictProba(texts: string[]): Promise<Float32Array> {
    const use = await this.encoder.embed(texts);
    const flat = new Float32Array(texts.length * EMBEDDING_DIM);
    use.forEach((v, i) => flat.set(v, i * EMBEDDING_DIM));
    const x = this.rnn ? joinFeatures(flat, await this.rnn.features(texts), texts.length) : flat;
    return headProba(this.head, x);
  }

  /** Both classes with their probabilities for each text (options are accepted for the interface; texts are never cut). */
  async predict(texts: string[], _options: ClassifyOptions = {}): Promise<TextClassificationResult[]> {
    if (this.disposed) throw new BadInputError(`model "${this.name}" has been disposed`);
    const p = await this.predictProba(texts);
    return Array.from(p, (positive) => classificationResult(this.classes, [1 - positive, positive], 'binary', { truncated: false }));
  }

  /**
   * Saves a `use-head` model as what it is, a binary text classifier of negative/positive: the
   * `use` kind of the text-classification family (see {@link useClassifierFromSentimentHead};
   * same predictions), with `modelCard` as README.md when given. Both tasks load it back.
   *
   * @throws UnsupportedError for a `hybrid` (USE + RNN features): the text-classification family
   *   has no such kind, so it cannot be saved; directories of the older format still load. Train
   *   a text classifier (kind `use`, `hybrid` or `rnn`) instead.
   */
  async save(dir: string, modelCard?: string): Promise<void> {
    if (this.disposed) throw new BadInputError(`model "${this.name}" has been disposed`);
    if (this.rnn) {
      throw new UnsupportedError(
        `model "${this.name}": a USE + RNN hybrid sentiment model cannot be saved (the text-classification family has no such kind; older directories of it still load); train a text classifier of kind use, hybrid or rnn instead`,
      );
    }
    const training = { convertedFrom: 'sentiment use-head', ...(this.metadata.devAccuracy !== undefined ? { devAccuracy: this.metadata.devAccuracy } : {}) };
    const classifier = await useClassifierFromSentimentHead(this.encoder, this.head, { training, name: this.name });
    try {
      await classifier.save(dir);
    } finally {
      classifier.dispose();
    }
    if (modelCard !== undefined) await writeFileAtomic(path.join(dir, 'README.md'), modelCard);
  }

  /** Frees the head's (and RNN's) weights, and the encoder's when the classifier created it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.head.dispose();
    this.rnn?.dispose();
    if (this.ownsEncoder) this.encoder.dispose();
  }
}

/**
 * Loads a saved {@link SentimentClassifier} (a directory of task `sentiment`, kind `use-head`
 * or `hybrid`).
 *
 * @example
 * ```ts
 * const clf = await loadSentimentClassifier({ modelDir: 'models/sentiment-use' });
 * console.log(await clf.predict(['a gorgeous, witty film', 'tedious and overlong']));
 * clf.dispose();
 * ```
 */
export async function loadSentimentClassifier(options: LoadSentimentOptions): Promise<SentimentClassifier> {
  const dir = options?.modelDir;
  if (typeof dir !== 'string' || dir === '') throw new BadInputError('loadSentimentClassifier: modelDir must name a model directory');
  const name = options.name ?? path.basename(path.resolve(dir));
  try {
    return await loadClassifier(dir, name, options.encoder);
  } catch (err) {
    throw nameModelInError(err, dir, name);
  }
}

/**
 * The RNN model a hybrid reads: at its recorded relative path when its content digest matches
 * (or none was recorded), else the model beside it with that digest (a renamed copy).
 *
 * @throws ModelFileError naming the hybrid's config.json, the RNN model and both digests when it changed.
 */
async function rnnModelDir(dir: string, configFile: string, rnnModel: string, digest: string | undefined): Promise<string> {
  const named = path.resolve(dir, rnnModel);
  if (digest === undefined) return named;
  const found = existsSync(path.join(named, MODEL_CONFIG)) ? await modelDigest(named) : undefined;
  if (found === digest) return named;
  const renamed = await findModelByDigest(path.dirname(named), digest, path.basename(named));
  if (renamed) return renamed;
  throw new ModelFileError(
    configFile,
    found
      ? `names RNN model ${JSON.stringify(rnnModel)} with digest ${digest}, but that model now has ${found} (changed since this model was saved) and no model beside it has the recorded content`
      : `names RNN model ${JSON.stringify(rnnModel)} (${digest}), which is not there, and no model beside it has that content`,
  );
}

async function loadClassifier(dir: string, name: string, sharedEncoder: SentenceEncoder | undefined): Promise<SentimentClassifier> {
  const configFile = path.join(dir, MODEL_CONFIG);
  let config: Awaited<ReturnType<typeof readModelConfig>> | undefined;
  try {
    config = await readModelConfig(dir);
  } catch (err) {
    // A directory with no description at all: loadLayersModel below names the missing file.
    if (!(err instanceof SeqlabError && err.code === 'not_found')) throw err;
  }
  const head = await loadLayersModel(dir);
  if (!config || config.task !== 'sentiment' || (config.kind !== 'use-head' && config.kind !== 'hybrid')) {
    head.dispose();
    throw new ModelFileError(configFile, 'does not describe a seqlab USE sentiment model (task "sentiment", kind "use-head" or "hybrid")');
  }
  const meta: SentimentMetadata = {
    kind: config.kind,
    labels: ['negative', 'positive'],
    encoder: 'use-lite',
    ...(typeof config.rnnModel === 'string' ? { rnnModel: config.rnnModel } : {}),
    ...(typeof config.rnnModelDigest === 'string' ? { rnnModelDigest: config.rnnModelDigest } : {}),
    ...(typeof config.devAccuracy === 'number' ? { devAccuracy: config.devAccuracy } : {}),
  };
  let rnn: RnnSentimentFeatures | undefined;
  if (meta.kind === 'hybrid') {
    if (!meta.rnnModel) {
      head.dispose();
      throw new ModelFileError(configFile, 'describes a hybrid model but names no rnnModel directory');
    }
    try {
      rnn = await RnnSentimentFeatures.load(await rnnModelDir(dir, configFile, meta.rnnModel, meta.rnnModelDigest));
    } catch (err) {
      head.dispose();
      throw err;
    }
  }
  let encoder: SentenceEncoder;
  try {
    encoder = sharedEncoder ?? (await loadEncoder());
  } catch (err) {
    head.dispose();
    rnn?.dispose();
    throw err;
  }
  const clf = new SentimentClassifier(encoder, head, meta, sharedEncoder === undefined, rnn);
  clf.name = name;
  return clf;
}
