/**
 * Language-model training as one path: text -> character vocabulary -> shifted windows -> a
 * recurrent next-character model fitted by {@link train} (checkpoints, resume, early stopping,
 * learning-rate schedules, time budget, cancellation) -> validation figures -> the `char-lm`
 * directory {@link saveTextGenerator} writes. `seqlab train lm`, the shakespeare recipe and
 * `train('text-generation')` all come through here.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { setGlobalSeed, throwIfCancelled, writeJsonAtomic } from '@seqlab/core';
import type { CellType } from '../builders/cells.js';
import { languageModel, resolveLanguageModelOptions, type LanguageModelConfig } from '../builders/language-model.js';
import { RnnArgumentError, nonNegativeInt, positiveInt } from '../errors.js';
import { CharVocabulary, type CharVocabularyJSON } from '../text/char-vocabulary.js';
import { languageModelData } from '../training/data.js';
import { evaluate } from '../training/evaluate.js';
import { readTrainingState, train, type TrainOptions, type TrainProgress, type TrainResult } from '../training/train.js';
import { saveTextGenerator } from './load.js';

/** A stage of {@link trainLanguageModel} starting (the epochs themselves arrive as {@link TrainProgress}). */
export interface LanguageModelStageEvent {
  type: 'stage';
  stage: 'vectorize' | 'fit' | 'evaluate' | 'save';
  message: string;
}

/** What {@link TrainLanguageModelOptions.onProgress} receives. */
export type LanguageModelProgress = TrainProgress | LanguageModelStageEvent;

/** Options of {@link trainLanguageModel}. Defaults are those of `seqlab train lm`. */
export interface TrainLanguageModelOptions {
  /** The model folder written at the end (the `char-lm` layout `loadTextGenerator` reads). Required. */
  out: string;
  /** Recurrent cell. Default `'lstm'`. */
  cell?: CellType;
  /** Stacked recurrent layers. Default 1. */
  layers?: number;
  /** Units per recurrent layer. Default 128. */
  units?: number;
  /** Character embedding size. Default 32. */
  embeddingDim?: number;
  /** Dropout after each recurrent layer. Default 0. */
  dropout?: number;
  /** Characters per training window (truncated-BPTT length). Default 64. */
  sequenceLength?: number;
  /** Windows per batch. Default 32. */
  batchSize?: number;
  /** Adam learning rate. Default 0.002. */
  learningRate?: number;
  /** Gradients are rescaled to at most this global norm. Default 5. */
  clipNorm?: number;
  /** Epochs to run, counting epochs done before a resume. Default 10 (unless `steps` is given). */
  epochs?: number;
  /**
   * Optimizer steps to run instead of `epochs`: the steps are spread over the fewest epochs of
   * equal size that fit the windows per epoch, so the run takes `steps` rounded up to a multiple
   * of its epoch count (at most `epochs - 1` more).
   */
  steps?: number;
  /** Windows per epoch (shorter epochs validate and checkpoint more often). Default: the whole training text once. */
  windowsPerEpoch?: number;
  /** Fraction of the text, taken from its end, held out for validation. Default 0.1. */
  validationSplit?: number;
  /** Unscored characters of history before each validation window. Default `min(32, sequenceLength)`. */
  validationContext?: number;
  /** Early stopping on validation loss after this many epochs without improvement; restores the best weights. 0 = off. Default 3. */
  patience?: number;
  /** Multiply the learning rate by `factor` after `patience` epochs without a better validation loss. Default: off. */
  reduceLrOnPlateau?: TrainOptions['reduceLrOnPlateau'];
  /** Learning rate of each epoch, from the epoch and the current rate. */
  learningRateSchedule?: TrainOptions['learningRateSchedule'];
  /** Decay of a moving average of the weights used for validation, `best/` and the saved model (0 = off, the default). */
  ema?: number;
  /** Stop cleanly (validate, checkpoint, save) after this many seconds of training. */
  timeBudgetSeconds?: number;
  /** Checkpoint folder: `last/`, `best/`, `state.json` and the vocabulary a resumed run reuses. Default: no checkpoints. */
  checkpointDir?: string;
  /** Continue from the checkpoints in `checkpointDir` (weights, optimizer, epoch, vocabulary). */
  resume?: boolean;
  /** Seed of initial weights, window order and dropout. Default 1. */
  seed?: number;
  /** Abandons training with a `CancelledError`; the last finished epoch's checkpoint stays. */
  signal?: AbortSignal;
  /** Stage events and the training loop's batch / epoch / end events; awaited. */
  onProgress?: (event: LanguageModelProgress) => void | Promise<void>;
  /** What produced the model (data file, command ...), stored beside the settings under `training` in `config.json`. */
  provenance?: Record<string, unknown>;
}

/** Loss, bits per character, perplexity and next-character accuracy of a model on a text. */
export interface LanguageModelScore {
  /** Mean negative log-likelihood in nats per scored character. */
  lossNats: number;
  bitsPerChar: number;
  perplexity: number;
  accuracy: number;
  /** Characters scored. */
  characters: number;
}

/** What {@link trainLanguageModel} returns. */
export interface TrainLanguageModelResult {
  /** The saved model folder. */
  dir: string;
  architecture: LanguageModelConfig;
  vocabularySize: number;
  /** Characters of the text used for training and for validation. */
  characters: { train: number; validation: number };
  /** Epochs planned (from `epochs`, or from `steps`) and windows per epoch. */
  plan: { epochs: number; windowsPerEpoch?: number; batchesPerEpoch: number };
  /** Epochs finished before this call (0 for a fresh run). */
  resumedFromEpoch: number;
  /** The loop's result: per-epoch history (across resumes), stop reason, best epoch. */
  training: TrainResult;
  /** The saved model on the validation text. */
  validation: LanguageModelScore;
  /** Wall-clock seconds of each stage. */
  stages: Record<'vectorize' | 'fit' | 'evaluate' | 'save', number>;
}

interface Resolved {
  arch: LanguageModelConfig;
  sequenceLength: number;
  batchSize: number;
  learningRate: number;
  clipNorm: number;
  validationSplit: number;
  validationContext: number;
  patience: number;
  seed: number;
}

function resolveOptions(options: TrainLanguageModelOptions, vocabSize: number): Resolved {
  const sequenceLength = positiveInt('trainLanguageModel: sequenceLength', options.sequenceLength ?? 64);
  const validationSplit = options.validationSplit ?? 0.1;
  if (!(validationSplit > 0 && validationSplit < 1)) throw new RnnArgumentError(`trainLanguageModel: validationSplit must be in (0, 1), got ${JSON.stringify(validationSplit)}`);
  const learningRate = options.learningRate ?? 0.002;
  if (!(learningRate > 0)) throw new RnnArgumentError(`trainLanguageModel: learningRate must be positive, got ${JSON.stringify(learningRate)}`);
  const clipNorm = options.clipNorm ?? 5;
  if (!(clipNorm > 0)) throw new RnnArgumentError(`trainLanguageModel: clipNorm must be positive, got ${JSON.stringify(clipNorm)}`);
  if (options.ema !== undefined && !(options.ema >= 0 && options.ema < 1)) throw new RnnArgumentError(`trainLanguageModel: ema must be a decay in [0, 1) (0 = off), got ${JSON.stringify(options.ema)}`);
  if (options.resume && !options.checkpointDir) throw new RnnArgumentError('trainLanguageModel: resume needs checkpointDir');
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new RnnArgumentError(`trainLanguageModel: seed must be an integer, got ${JSON.stringify(seed)}`);
  return {
    arch: resolveLanguageModelOptions({
      vocabSize,
      cell: options.cell ?? 'lstm',
      layers: options.layers ?? 1,
      units: options.units ?? 128,
      embeddingDim: options.embeddingDim ?? 32,
      dropout: options.dropout ?? 0,
    }),
    sequenceLength,
    batchSize: positiveInt('trainLanguageModel: batchSize', options.batchSize ?? 32),
    learningRate,
    clipNorm,
    validationSplit,
    validationContext: nonNegativeInt('trainLanguageModel: validationContext', options.validationContext ?? Math.min(32, sequenceLength)),
    patience: nonNegativeInt('trainLanguageModel: patience', options.patience ?? 3),
    seed,
  };
}

/** Epochs and windows per epoch from an epoch or a step budget (see {@link TrainLanguageModelOptions.steps}). */
function planEpochs(trainLength: number, r: Resolved, options: TrainLanguageModelOptions): TrainLanguageModelResult['plan'] {
  const windowsPerEpoch = options.windowsPerEpoch === undefined ? undefined : positiveInt('trainLanguageModel: windowsPerEpoch', options.windowsPerEpoch);
  const fullWindows = Math.floor((trainLength - 1) / r.sequenceLength);
  const batchesPerEpoch = Math.ceil(Math.min(windowsPerEpoch ?? fullWindows, fullWindows) / r.batchSize);
  if (options.steps === undefined) {
    return { epochs: positiveInt('trainLanguageModel: epochs', options.epochs ?? 10), windowsPerEpoch, batchesPerEpoch };
  }
  if (options.epochs !== undefined) throw new RnnArgumentError('trainLanguageModel: give a budget in epochs or in steps, not both');
  const steps = positiveInt('trainLanguageModel: steps', options.steps);
  const epochs = Math.ceil(steps / batchesPerEpoch);
  const stepsPerEpoch = Math.ceil(steps / epochs);
  return { epochs, windowsPerEpoch: stepsPerEpoch * r.batchSize, batchesPerEpoch: stepsPerEpoch };
}

/** The vocabulary: a resumed run must map characters to the ids its checkpoints were trained on. */
async function runVocabulary(text: string, options: TrainLanguageModelOptions): Promise<CharVocabulary> {
  const file = options.checkpointDir ? path.join(options.checkpointDir, VOCABULARY_FILE) : undefined;
  if (options.resume && file && existsSync(file)) return CharVocabulary.fromJSON(JSON.parse(await readFile(file, 'utf8')) as CharVocabularyJSON);
  const vocabulary = CharVocabulary.fromText(text);
  if (file) await writeJsonAtomic(file, vocabulary.toJSON());
  return vocabulary;
}

/**
 * Scores a next-character model on `ids`: every character once, in fixed windows of
 * `sequenceLength`, each with `context` unscored characters of history before it (the model is
 * stateless between windows, so a window's first characters would otherwise be predicted from
 * nothing).
 *
 * @throws RnnArgumentError when `ids` is shorter than `sequenceLength + 2`.
 */
export function scoreLanguageModel(model: LayersModel, ids: ArrayLike<number>, options: { sequenceLength: number; context: number; batchSize?: number }): LanguageModelScore {
  if (ids.length < options.sequenceLength + 2) {
    throw new RnnArgumentError(`scoreLanguageModel: ${ids.length} characters are too few to score with sequenceLength ${options.sequenceLength} (need at least ${options.sequenceLength + 2})`);
  }
  const data = languageModelData(ids, { sequenceLength: options.sequenceLength, batchSize: options.batchSize ?? 64, context: options.context, shuffle: false });
  const r = evaluate(model, data, { output: 'logits' });
  return { lossNats: r.loss, bitsPerChar: r.loss / Math.LN2, perplexity: Math.exp(r.loss), accuracy: r.accuracy, characters: r.count };
}

/**
 * Trains a character-level recurrent language model on `text` and saves it to `options.out` in
 * the `char-lm` layout (`loadTextGenerator`, `pipeline('text-generation')`). The last
 * `validationSplit` of the text is held out: it drives early stopping, checkpoints' `best/` and
 * the reported validation loss. With `checkpointDir` every epoch is checkpointed and
 * `resume: true` continues an interrupted run exactly where its last finished epoch left off.
 *
 * @example
 * ```ts
 * const r = await trainLanguageModel(text, { out: 'runs/lm', cell: 'gru', units: 256, epochs: 20, checkpointDir: 'runs/lm.run' });
 * console.log(r.validation.bitsPerChar, r.training.stopReason);
 * ```
 * @throws RnnArgumentError for bad options or a text too short for `sequenceLength` and `validationSplit`.
 * @throws CancelledError (code `cancelled`) once `options.signal` aborts.
 */
export async function trainLanguageModel(text: string, options: TrainLanguageModelOptions): Promise<TrainLanguageModelResult> {
  if (typeof text !== 'string' || text.length === 0) throw new RnnArgumentError('trainLanguageModel: text must be a non-empty string');
  if (typeof options?.out !== 'string' || options.out.length === 0) throw new RnnArgumentError('trainLanguageModel: options.out (the model folder) is required');
  throwIfCancelled(options.signal, 'training');
  const stages = { vectorize: 0, fit: 0, evaluate: 0, save: 0 };
  const emit = async (stage: LanguageModelStageEvent['stage'], message: string) => options.onProgress?.({ type: 'stage', stage, message });
  const timed = async <T>(stage: keyof typeof stages, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      stages[stage] += (performance.now() - t0) / 1000;
    }
  };

  const prepared = await timed('vectorize', async () => prepare(text, options));
  await emit('vectorize', `${text.length} characters, vocabulary ${prepared.vocabulary.size}: ${prepared.trainIds.length} for training, ${prepared.validationIds.length} for validation`);
  const { r, plan, vocabulary } = prepared;
  setGlobalSeed(r.seed);
  const model = languageModel(r.arch);
  try {
    const resumedFromEpoch = options.resume ? ((await readTrainingState(options.checkpointDir!))?.epoch ?? 0) : 0;
    await emit('fit', `${r.arch.layers}-layer ${r.arch.cell.toUpperCase()}(${r.arch.units}): ${plan.epochs} epochs of ${plan.batchesPerEpoch} batches${resumedFromEpoch ? `; resuming from epoch ${resumedFromEpoch} (${resumedFromEpoch} of ${plan.epochs} epochs done)` : ''}`);
    const training = await timed('fit', () => fitLanguageModel(model, prepared, options));
    await emit('evaluate', `scoring ${prepared.validationIds.length} validation characters`);
    const validation = await timed('evaluate', async () => scoreLanguageModel(model, prepared.validationIds, { sequenceLength: r.sequenceLength, context: r.validationContext }));
    await emit('save', `saving to ${options.out}`);
    await timed('save', () =>
      saveTextGenerator(options.out, model, vocabulary, {
        architecture: r.arch,
        training: {
          ...options.provenance,
          seed: r.seed,
          sequenceLength: r.sequenceLength,
          batchSize: r.batchSize,
          learningRate: r.learningRate,
          clipNorm: r.clipNorm,
          validationSplit: r.validationSplit,
          epochs: training.history.length,
          steps: training.steps,
        },
        metrics: { validationLoss: validation.lossNats, bitsPerChar: validation.bitsPerChar, perplexity: validation.perplexity, accuracy: validation.accuracy },
      }),
    );
    const characters = { train: prepared.trainIds.length, validation: prepared.validationIds.length };
    return { dir: options.out, architecture: r.arch, vocabularySize: vocabulary.size, characters, plan, resumedFromEpoch, training, validation, stages };
  } finally {
    // train() hands the optimizer to the model, so this frees Adam's moments too.
    model.dispose();
  }
}

interface Prepared {
  r: Resolved;
  plan: TrainLanguageModelResult['plan'];
  vocabulary: CharVocabulary;
  trainIds: Int32Array;
  validationIds: Int32Array;
}

async function prepare(text: string, options: TrainLanguageModelOptions): Promise<Prepared> {
  const vocabulary = await runVocabulary(text, options);
  const r = resolveOptions(options, vocabulary.size);
  const ids = vocabulary.encode(text);
  const split = Math.floor(ids.length * (1 - r.validationSplit));
  const trainIds = ids.subarray(0, split);
  const validationIds = ids.subarray(split);
  const need = r.sequenceLength + 2;
  if (trainIds.length < need || validationIds.length < need) {
    throw new RnnArgumentError(
      `trainLanguageModel: ${ids.length} characters are too few for sequenceLength ${r.sequenceLength} with validationSplit ${r.validationSplit} (training and validation each need at least ${need})`,
    );
  }
  return { r, plan: planEpochs(trainIds.length, r, options), vocabulary, trainIds, validationIds };
}

async function fitLanguageModel(model: LayersModel, p: Prepared, options: TrainLanguageModelOptions): Promise<TrainResult> {
  const { r, plan } = p;
  const trainData = languageModelData(p.trainIds, { sequenceLength: r.sequenceLength, batchSize: r.batchSize, windowsPerEpoch: plan.windowsPerEpoch, seed: r.seed });
  const validationData = languageModelData(p.validationIds, { sequenceLength: r.sequenceLength, batchSize: 64, context: r.validationContext, shuffle: false });
  return train(model, trainData, {
    epochs: plan.epochs,
    learningRate: r.learningRate,
    clipNorm: r.clipNorm,
    output: 'logits',
    validationData,
    monitor: 'val_loss',
    ...(r.patience > 0 ? { earlyStopping: { patience: r.patience, restoreBestWeights: true } } : {}),
    ...(options.reduceLrOnPlateau ? { reduceLrOnPlateau: options.reduceLrOnPlateau } : {}),
    ...(options.learningRateSchedule ? { learningRateSchedule: options.learningRateSchedule } : {}),
    ...(options.ema ? { ema: { decay: options.ema } } : {}),
    ...(options.checkpointDir ? { checkpointDir: options.checkpointDir, resume: options.resume === true } : {}),
    ...(options.timeBudgetSeconds !== undefined ? { timeBudgetSeconds: options.timeBudgetSeconds } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    seed: r.seed,
  });
}

/** The vocabulary's file in a checkpoint folder. */
const VOCABULARY_FILE = 'vocabulary.json';
