import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  sharedWeightsInUse,
  SHARED_WEIGHTS_FILE,
  loadLayersModel,
  saveModel,
  writeJsonAtomic,
  writeModelConfig,
  type AttributedToken,
  type SentimentPipeline,
  type SentimentResult,
  type WeightPrecision,
} from '@seqlab/core';
import { TextVectorizer } from '@seqlab/tokenize';
import { resolveTextClassifierOptions, withAttentionWeights, type TextClassifierConfig } from './builders/text-classifier.js';
import { oneOf, positiveInt, RnnArgumentError } from './errors.js';
import { keptPositions, TRUNCATION_STRATEGIES, type TruncationStrategy } from './classification/long-texts.js';
import { readJson } from './generation/load.js';
import { CompiledModel } from './inference/compiled-model.js';
import { ensembleScores } from './inference/ensemble-scores.js';

/** A sentiment prediction of a recurrent model: the shared {@link SentimentResult}, always with token weights. */
export type SentimentPrediction = SentimentResult & { tokens: AttributedToken[] };

/** `config.json` of a saved sentiment model directory. */
export interface SentimentModelDirConfig {
  /** config.json header version (absent in directories saved before it existed). */
  version?: number;
  task: 'sentiment';
  /** Model kind: always `rnn` for this loader (absent in directories saved before it existed). */
  kind?: 'rnn';
  format: string;
  labels: ['negative', 'positive'];
  vectorizerFile: string;
  /** Tokens kept per text (longer texts are truncated as {@link truncation} says). */
  maxLength: number;
  /**
   * Which tokens of a longer text are kept: `head` (directories saved before this field existed),
   * `tail`, or `head+tail` (a quarter of the budget from the start, the rest from the end, where
   * reviews tend to conclude).
   */
  truncation?: TruncationStrategy;
  architecture: TextClassifierConfig;
  /**
   * An ensemble: subdirectories (relative to the model directory) that each hold one
   * classifier of this architecture trained on the same vocabulary. Predictions average the
   * members' probabilities and attention weights. Absent: one model in the directory itself.
   */
  members?: string[];
  [key: string]: unknown;
}

/**
 * A loaded sentiment classifier that explains its predictions with attention weights: the
 * `rnn` kind of the sentiment task.
 */
export class SentimentModel implements SentimentPipeline {
  readonly task = 'sentiment' as const;
  readonly kind = 'rnn' as const;
  readonly explains = true;
  private disposed = false;

  private readonly explainers: tfl.LayersModel[];
  private readonly owned: tfl.LayersModel[];
  // The inference fast path (plain-array kernels, no tf ops) when every member compiles.
  private readonly compiled: CompiledModel[] | undefined;
  private fastPathEnabled = true;

  /**
   * @param explainers One model per ensemble member, each returning `[probabilities, attention]`
   *   (see {@link withAttentionWeights}).
   * @param owned The models to free on {@link dispose}.
   */
  constructor(
    explainers: tfl.LayersModel | tfl.LayersModel[],
    readonly vectorizer: TextVectorizer,
    readonly config: SentimentModelDirConfig,
    owned: tfl.LayersModel | tfl.LayersModel[],
    /** The model's name as users call it. */
    readonly name = 'sentiment',
  ) {
    this.explainers = Array.isArray(explainers) ? explainers : [explainers];
    this.owned = Array.isArray(owned) ? owned : [owned];
    if (this.explainers.length === 0) throw new RnnArgumentError('SentimentModel: needs at least one model');
    const compiled = this.explainers.map((m) => CompiledModel.compile(m));
    this.compiled = compiled.every((c) => c !== undefined) ? (compiled as CompiledModel[]) : undefined;
  }

  /** Whether predictions run on the inference fast path (see {@link CompiledModel}). */
  get fastPath(): boolean {
    return this.compiled !== undefined && this.fastPathEnabled;
  }

  /** Turns the inference fast path off (tf.layers' predict) or back on; for comparisons. */
  setFastPath(enabled: boolean): void {
    this.fastPathEnabled = enabled;
  }

  // The mean of the members' probabilities and of their attention weights (still a
  // distribution over the tokens), on the fast path or through tf.layers.
  private scores(ids: Int32Array, B: number, L: number): Promise<[Float32Array, Float32Array]> {
    return ensembleScores(this.compiled && this.fastPathEnabled ? this.compiled : undefined, this.explainers, ids, B, L);
  }

  /** Number of ensemble members (1 for a single model). */
  get size(): number {
    return this.explainers.length;
  }

  /** Classifies texts; batches internally. */
  async predict(texts: string[], options: { batchSize?: number } = {}): Promise<SentimentPrediction[]> {
    if (this.disposed) throw new Error('SentimentModel: used after dispose()');
    if (!Array.isArray(texts)) throw new RnnArgumentError(`predict: texts must be an array of strings, got ${typeof texts}`);
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw new RnnArgumentError(`predict: texts[${i}] must be a string, got ${typeof t}`);
    });
    // Options are checked like every task's: unknown keys name the valid ones.
    if (options === null || typeof options !== 'object') throw new RnnArgumentError(`predict: options must be an object, got ${JSON.stringify(options)}`);
    for (const key of Object.keys(options)) {
      if (key !== 'batchSize') throw new RnnArgumentError(`predict: unknown option "${key}"; valid options: batchSize`);
    }
    const batchSize = options.batchSize === undefined ? 64 : positiveInt('predict: batchSize', options.batchSize);
    const out: SentimentPrediction[] = [];
    for (let s = 0; s < texts.length; s += batchSize) {
      const chunk = texts.slice(s, s + batchSize);
      const enc = this.vectorizer.encode(chunk, { padding: 'post', truncation: 'post' });
      const [B, L0] = enc.shape;
      const L = Math.max(2, Math.min(L0, this.config.maxLength));
      const ids = new Int32Array(B * L);
      const strategy = this.config.truncation ?? 'head';
      // Positions kept from each row: all of a short row, the strategy's choice of a long one.
      const kept = Array.from({ length: B }, (_, r) => keptPositions(enc.tokens[r]!.length, L, strategy));
      for (let r = 0; r < B; r++) kept[r]!.forEach((p, j) => (ids[r * L + j] = enc.ids[r * L0 + p]!));
      const [probs, weights] = await this.scores(ids, B, L);
      for (let r = 0; r < B; r++) {
        const p = [probs[r * 2]!, probs[r * 2 + 1]!];
        const label = p[1]! >= p[0]! ? 'positive' : 'negative';
        const tokens = kept[r]!.map((pos, j) => {
          const t = enc.tokens[r]![pos]!;
          return { text: t.text, start: t.start, end: t.end, weight: weights[r * L + j]! };
        });
        out.push({ label, score: label === 'positive' ? p[1]! : p[0]!, probabilities: p, tokens });
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return out;
  }

  /** Saves the model (every ensemble member) with {@link saveSentimentModel}; it loads back identical. */
  async save(dir: string): Promise<void> {
    if (this.disposed) throw new Error('SentimentModel: used after dispose()');
    const precision = this.config.precision === 'float16' ? 'float16' : 'float32';
    await saveSentimentModel(dir, this.owned, this.vectorizer, {
      architecture: this.config.architecture,
      maxLength: this.config.maxLength,
      ...(this.config.truncation ? { truncation: this.config.truncation } : {}),
      precision,
      ...(this.config.training ? { training: this.config.training as Record<string, unknown> } : {}),
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.owned) m.dispose();
  }
}

/**
 * Loads a sentiment model saved by the SST-2 recipe: `model.json` (a {@link textClassifier}
 * with attention pooling), the vectorizer JSON and `config.json`.
 *
 * @example
 * ```ts
 * const sentiment = await loadSentimentModel('models/my-sentiment');
 * const [r] = await sentiment.predict(['a gorgeous, witty film']);
 * console.log(r.label, r.score.toFixed(3), r.tokens.map((t) => `${t.text}:${t.weight.toFixed(2)}`));
 * ```
 */
export async function loadSentimentModel(dir: string, options: { name?: string } = {}): Promise<SentimentModel> {
  const config = await readJson<SentimentModelDirConfig>(path.join(dir, 'config.json'), 'loadSentimentModel');
  if (config.task !== 'sentiment') {
    throw new RnnArgumentError(`loadSentimentModel: ${path.join(dir, 'config.json')} has task ${JSON.stringify(config.task)}, expected "sentiment"`);
  }
  const arch = resolveTextClassifierOptions(config.architecture);
  if (arch.numClasses !== 2) throw new RnnArgumentError(`loadSentimentModel: expected a 2-class model, config says ${arch.numClasses}`);
  if (config.truncation !== undefined) oneOf(`loadSentimentModel: ${path.join(dir, 'config.json')}: truncation`, config.truncation, TRUNCATION_STRATEGIES);
  const vectorizer = TextVectorizer.fromJSON(await readJson<unknown>(path.join(dir, config.vectorizerFile ?? 'vectorizer.json'), 'loadSentimentModel'));
  if (vectorizer.vocabSize !== arch.vocabSize) {
    throw new RnnArgumentError(`loadSentimentModel: the vectorizer has ${vectorizer.vocabSize} tokens but the model expects ${arch.vocabSize}`);
  }
  const members = sentimentMemberDirs(dir, config);
  const models: tfl.LayersModel[] = [];
  try {
    for (const m of members) models.push(await loadLayersModel(m));
  } catch (err) {
    for (const m of models) m.dispose();
    throw err;
  }
  return new SentimentModel(models.map((m) => withAttentionWeights(m)), vectorizer, config, models, options.name ?? path.basename(path.resolve(dir)));
}

/**
 * Writes the LayersModel(s) and `vectorizer.json` of a recurrent classifier directory (the
 * layout sentiment and text-classification models share): one model in `dir`, or an ensemble as
 * `member-1`, `member-2`, ... Returns the member subdirectories, or undefined for one model.
 * config.json, which says what the directory is, is the caller's to write last.
 */
export async function writeClassifierMembers(
  dir: string,
  models: readonly tfl.LayersModel[],
  vectorizer: TextVectorizer,
  precision: WeightPrecision,
): Promise<string[] | undefined> {
  await fs.mkdir(dir, { recursive: true });
  const members = models.length > 1 ? models.map((_, i) => `member-${i + 1}`) : undefined;
  // Members trained over one frozen pre-trained embedding hold the same matrix, often most of
  // their bytes: it is stored once in the ensemble's directory.
  for (const [i, m] of models.entries()) await saveModel(m, members ? path.join(dir, members[i]!) : dir, { precision, ...(members ? { sharedWeights: {} } : {}) });
  await writeJsonAtomic(path.join(dir, 'vectorizer.json'), vectorizer.toJSON());
  // Shared files an earlier save left and no member uses any more.
  const used = await sharedWeightsInUse(dir, members ?? []);
  for (const name of await fs.readdir(dir)) if (SHARED_WEIGHTS_FILE.test(name) && !used.has(name)) await fs.rm(path.join(dir, name), { force: true });
  return members;
}

/**
 * The directories holding the LayersModel(s) of a saved sentiment model: the directory itself,
 * or each ensemble member's subdirectory (checked to stay inside `dir`).
 */
export function sentimentMemberDirs(dir: string, config: Pick<SentimentModelDirConfig, 'members'>): string[] {
  if (config.members === undefined) return [dir];
  if (!Array.isArray(config.members) || config.members.length === 0 || config.members.some((m) => typeof m !== 'string')) {
    throw new RnnArgumentError(`${path.join(dir, 'config.json')}: members must be a non-empty array of subdirectory names`);
  }
  const root = path.resolve(dir);
  return config.members.map((m) => {
    const full = path.resolve(root, m);
    if (!full.startsWith(root + path.sep)) throw new RnnArgumentError(`${path.join(dir, 'config.json')}: member ${JSON.stringify(m)} is outside the model directory`);
    return full;
  });
}

/** Options of {@link saveSentimentModel}. */
export interface SaveSentimentModelOptions {
  /** Tokens kept per text at prediction time. Default 64. */
  maxLength?: number;
  /** Which tokens of a longer text are kept. Default `head`. */
  truncation?: TruncationStrategy;
  /** What produced the model (seed, command, data); stored in `config.json`. */
  training?: Record<string, unknown>;
  /** Storage precision of the weights (`'float16'` halves the files). Default `'float32'`. */
  precision?: WeightPrecision;
}

/**
 * Saves a sentiment classifier (or an ensemble of classifiers that share one vectorizer and
 * architecture) in the directory layout {@link loadSentimentModel} reads: `config.json`, the
 * vectorizer JSON, and `model.json` + weights (one model) or `member-1/`, `member-2/`, ...
 * Every file is written atomically and `config.json` last. Overwriting a directory in place
 * replaces file by file, so a crash part-way can leave old and new files side by side; for an
 * all-or-nothing switch, save into a new directory and rename it over the old one.
 *
 * @param dir - The model directory.
 * @param models - One trained classifier, or the members of an ensemble (averaged at prediction).
 * @param vectorizer - The adapted vectorizer the models were trained with.
 * @param options - `architecture` is required: the full {@link TextClassifierConfig} of the
 *   model(s), i.e. `resolveTextClassifierOptions(o)` of the options `o` given to
 *   `textClassifier(o)`. It is stored in `config.json`, and {@link loadSentimentModel} rebuilds
 *   every member from it before reading the weights, so it must describe the models exactly
 *   (`numClasses` 2, the default, and `vocabSize` equal to `vectorizer.vocabSize`; either
 *   mismatch is refused here). The other options are those of {@link SaveSentimentModelOptions}.
 * @returns The `config.json` contents written.
 *
 * @example
 * ```ts
 * const options = { vocabSize: vectorizer.vocabSize, units: 64 };
 * const model = textClassifier(options);
 * const architecture = resolveTextClassifierOptions(options);
 * // ... train(model, ...)
 * await saveSentimentModel('models/my-sentiment', model, vectorizer, { architecture, maxLength: 64 });
 * ```
 */
export async function saveSentimentModel(
  dir: string,
  models: tfl.LayersModel | tfl.LayersModel[],
  vectorizer: TextVectorizer,
  options: SaveSentimentModelOptions & { architecture: TextClassifierConfig },
): Promise<SentimentModelDirConfig> {
  const list = Array.isArray(models) ? models : [models];
  if (list.length === 0) throw new RnnArgumentError('saveSentimentModel: models is empty');
  const arch = resolveTextClassifierOptions(options.architecture);
  if (arch.numClasses !== 2) throw new RnnArgumentError(`saveSentimentModel: sentiment models have 2 classes, the architecture says ${arch.numClasses}`);
  if (vectorizer.vocabSize !== arch.vocabSize) {
    throw new RnnArgumentError(`saveSentimentModel: the vectorizer has ${vectorizer.vocabSize} tokens but the architecture expects ${arch.vocabSize}`);
  }
  const precision = options.precision ?? 'float32';
  const members = await writeClassifierMembers(dir, list, vectorizer, precision);
  const fields = {
    format: 'seqlab-rnn/text-classifier@1',
    labels: ['negative', 'positive'],
    vectorizerFile: 'vectorizer.json',
    maxLength: options.maxLength ?? 64,
    ...(options.truncation && options.truncation !== 'head' ? { truncation: oneOf('saveSentimentModel: truncation', options.truncation, TRUNCATION_STRATEGIES) } : {}),
    architecture: arch,
    ...(members ? { members } : {}),
    ...(precision !== 'float32' ? { precision } : {}),
    ...(options.training ? { training: options.training } : {}),
  };
  const config = (await writeModelConfig(dir, { task: 'sentiment', kind: 'rnn' }, fields)) as unknown as SentimentModelDirConfig;
  // Files of a previous save of the other kind (single <-> ensemble) are now unreferenced.
  const keep = new Set(['config.json', 'vectorizer.json', ...(members ?? [])]);
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const stale = members
      ? e.name === 'model.json' || /^weights\.[0-9a-f]{16}\.bin$/.test(e.name) || (e.isDirectory() && /^member-\d+$/.test(e.name) && !keep.has(e.name))
      : e.isDirectory() && /^member-\d+$/.test(e.name);
    if (stale) await fs.rm(path.join(dir, e.name), { recursive: true, force: true });
  }
  return config;
}
