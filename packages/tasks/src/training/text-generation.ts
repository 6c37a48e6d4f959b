/**
 * The text-generation task's training and evaluation: text in (a file or strings in memory), a
 * character-level recurrent language model out, through @seqlab/rnn's one LM trainer. The model
 * folder holds only the model; checkpoints live in a run folder beside it.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError, NotFoundError, getBackendInfo, initBackend, throwIfCancelled } from '@seqlab/core';
import type { EpochLog, LanguageModelConfig, LanguageModelProgress, LanguageModelScore, TrainLanguageModelOptions, TrainLanguageModelResult } from '@seqlab/rnn';
import { COMMON_TRAIN_KEYS, StageClock, checkOptionKeys, type CommonTrainOptions, type TrainEvent, type TrainReport } from './types.js';

/** The one model kind text-generation trains. */
const KIND = 'char-lm';

/**
 * What text-generation trains and evaluates on: the path of a UTF-8 text file, text in memory
 * (a string with at least one line break), or texts in memory (joined with line breaks).
 */
export type TextGenerationData = string | string[];

/** Options of `train('text-generation', ...)`. Defaults are those of `seqlab train lm`. */
export interface TextGenerationTrainOptions
  extends CommonTrainOptions,
    // The architecture and optimizer settings are rnn's trainer's own, under the same names.
    Pick<TrainLanguageModelOptions, 'cell' | 'layers' | 'units' | 'embeddingDim' | 'dropout' | 'batchSize' | 'learningRate' | 'clipNorm'> {
  /** Characters per training window (truncated-BPTT length). Default 64. */
  seqLength?: number;
  /** Budget in epochs, counting epochs done before a resume. Default 10 (unless `steps` is given). */
  epochs?: number;
  /** Budget in optimizer steps instead of epochs (rounded up to equal epochs; see rnn's `trainLanguageModel`). */
  steps?: number;
  /** Windows per epoch (shorter epochs validate and checkpoint more often). Default: the training text once. */
  windowsPerEpoch?: number;
  /** Fraction of the text, from its end, held out for validation. Default 0.1. */
  valSplit?: number;
  /** Unscored characters of history before each validation window. Default `min(32, seqLength)`. */
  validationContext?: number;
  /** Early stopping on validation loss (best weights restored) after this many epochs without improvement; 0 = off. Default 3. */
  patience?: number;
  /** Halve (or multiply by `factor`) the learning rate after `patience` epochs without a better validation loss. Default: off. */
  reduceLrOnPlateau?: { factor?: number; patience?: number; minLearningRate?: number };
  /** Decay of a moving average of the weights used for validation and the saved model; 0 = off (default). */
  ema?: number;
  /** Stop cleanly (validate, save) after this many seconds of training; the cut epoch is reported as partial. */
  timeBudgetSeconds?: number;
  /** Train on the first N characters only. */
  maxChars?: number;
  /** The run folder (checkpoints `last/`, `best/`, `state.json`, the vocabulary). Default {@link defaultCheckpointDir}(out), beside the model folder. */
  checkpointDir?: string;
  /** Continue the run in `checkpointDir` after its last finished epoch (with none there, start from the beginning). */
  resume?: boolean;
  /** Start over when `checkpointDir` holds an unfinished run (its checkpoints are deleted). Default false: such a run is refused. */
  overwrite?: boolean;
  /** Keep the checkpoints after a successful run (to resume it with a larger budget). Default false: they are removed. */
  keepCheckpoints?: boolean;
  /** What produced the model (command, data name ...), stored in the model's `config.json`. */
  provenance?: Record<string, unknown>;
}

/** The task-specific part of the text-generation training report. */
export interface TextGenerationDetails {
  /** The text trained on: a file path, or `(in memory)`. */
  data: string;
  /** Per-epoch logs across resumes (`epoch` is 0-based as in rnn's history; `seconds` is the epoch's own time). */
  history: EpochLog[];
  stopReason: 'epochs' | 'early-stopping' | 'time-budget';
  /** 1-based epoch whose weights were kept by early stopping (or the best validation epoch). */
  bestEpoch: number;
  restoredBest: boolean;
  /** Epochs finished before this call (0 for a fresh run). */
  resumedFromEpoch: number;
  epochsCompleted: number;
  /** Epochs the budget allowed (from `epochs`, or from `steps`). */
  epochsPlanned: number;
  /** True when the time budget cut the last epoch short. */
  lastEpochPartial: boolean;
  /** Optimizer steps across resumes. */
  steps: number;
  architecture: LanguageModelConfig;
  vocabularySize: number;
  characters: { train: number; validation: number };
  /** The saved model on the held-out text. */
  validation: LanguageModelScore;
  /** The run folder when it was kept (`keepCheckpoints`). */
  checkpointDir?: string;
}

/** Options of `evaluate('text-generation', ...)`. */
export interface TextGenerationEvaluateOptions {
  /** Characters scored per window. Default 100. */
  seqLength?: number;
  /** Unscored characters of history before each window. Default 50. */
  context?: number;
  /** Score only the first N characters. */
  maxChars?: number;
}

/** What `evaluate('text-generation', ...)` returns. */
export interface TextGenerationEvaluation extends LanguageModelScore {
  /** The model as named by the caller. */
  model: string;
  /** The text scored: a file path, or `(in memory)`. */
  data: string;
  /** Characters of the text the model's vocabulary lacks (scored as its fallback character). */
  unknownCharacters: string[];
  seconds: number;
}

const TRAIN_KEYS = [
  ...COMMON_TRAIN_KEYS,
  ...(['cell', 'layers', 'units', 'embeddingDim', 'dropout', 'seqLength', 'batchSize', 'learningRate', 'clipNorm', 'epochs', 'steps', 'windowsPerEpoch'] as const),
  ...(['valSplit', 'validationContext', 'patience', 'reduceLrOnPlateau', 'ema', 'timeBudgetSeconds', 'maxChars', 'checkpointDir', 'resume', 'overwrite', 'keepCheckpoints', 'provenance'] as const),
];
const EVALUATE_KEYS = ['seqLength', 'context', 'maxChars'] as const;

/** What the LM trainer writes in a run folder (removed after success unless kept; nothing else there is touched). */
const RUN_ENTRIES = ['last', 'last-ema', 'best', 'state.json', 'vocabulary.json'];

/** The run folder of a model folder when none is given: `<out>.run`, beside it. */
export function defaultCheckpointDir(out: string): string {
  return `${path.resolve(out)}.run`;
}

/**
 * Reads the text: a file when `data` is a path, the string itself when it has a line break, the
 * strings joined by line breaks for a list; the first `maxChars` characters when given.
 */
async function readText(what: string, data: TextGenerationData, maxChars: number | undefined): Promise<{ text: string; source: string; cut: number }> {
  let text: string;
  let source = '(in memory)';
  if (Array.isArray(data)) {
    const bad = data.findIndex((t) => typeof t !== 'string');
    if (bad >= 0) throw new BadInputError(`${what}: data[${bad}] must be a string, got ${typeof data[bad]}`);
    text = data.join('\n');
  } else if (typeof data !== 'string') {
    throw new BadInputError(`${what}: data must be a text file path, a string of text or a list of strings, got ${data === null ? 'null' : typeof data}`);
  } else if (data.includes('\n')) {
    text = data;
  } else {
    if (!existsSync(data) || !statSync(data).isFile()) {
      throw new NotFoundError(`${what}: data: no text file at ${data} (to train on text in memory pass a list of strings, or a string with line breaks)`);
    }
    source = path.resolve(data);
    text = (await readFile(data, 'utf8')).replace(/^\uFEFF/, '');
  }
  if (text.length === 0) throw new BadInputError(`${what}: data holds no text${source === '(in memory)' ? '' : ` (${source} is empty)`}`);
  if (maxChars !== undefined && !(Number.isInteger(maxChars) && maxChars > 0)) throw new BadInputError(`${what}: maxChars must be a positive integer, got ${JSON.stringify(maxChars)}`);
  let cut = 0;
  if (maxChars !== undefined && text.length > maxChars) {
    const chars = Array.from(text);
    cut = Math.max(0, chars.length - maxChars);
    if (cut > 0) text = chars.slice(0, maxChars).join('');
  }
  return { text, source, cut };
}

/** Checks the run folder: never inside the model folder; an unfinished run is resumed, overwritten or refused. */
async function prepareRunFolder(out: string, dir: string, options: TextGenerationTrainOptions): Promise<void> {
  const rel = path.relative(out, dir);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
    throw new BadInputError(`train text-generation: checkpointDir ${dir} is inside the model folder ${out}; put the run folder beside it (default ${defaultCheckpointDir(out)})`);
  }
  if (options.resume || !existsSync(path.join(dir, 'state.json'))) return;
  if (!options.overwrite) {
    throw new BadInputError(`train text-generation: ${dir} holds an unfinished training run; pass resume: true to continue it or overwrite: true to start over`);
  }
  await removeRunEntries(dir);
}

async function removeRunEntries(dir: string): Promise<void> {
  await Promise.all(RUN_ENTRIES.map((e) => rm(path.join(dir, e), { recursive: true, force: true })));
}

/**
 * Turns the LM trainer's events into the task events: 1-based epochs and batches, each epoch's
 * own seconds, validation perplexity, and the epoch a time budget cut short marked partial.
 */
function taskEvents(onProgress: (e: TrainEvent) => void, timeBudgetSeconds: number | undefined): (e: LanguageModelProgress) => void {
  let previousEpochEnd = 0;
  let overBudget = false;
  return (e) => {
    if (e.type === 'stage') {
      onProgress({ type: 'stage', stage: e.stage, candidate: KIND, message: e.message });
    } else if (e.type === 'batch') {
      // The loop's time budget cuts the epoch after the first batch that ends past it.
      if (timeBudgetSeconds !== undefined && e.elapsedSeconds >= timeBudgetSeconds) overBudget = true;
      const metrics = { loss: e.loss, accuracy: e.metrics.accuracy ?? NaN };
      onProgress({ type: 'batch', stage: 'fit', epoch: e.epoch + 1, epochs: e.epochs, batch: e.batch + 1, batches: e.batchesPerEpoch, etaSeconds: e.etaSeconds, metrics });
    } else if (e.type === 'epoch') {
      const seconds = e.elapsedSeconds - previousEpochEnd;
      previousEpochEnd = e.elapsedSeconds;
      const metrics: Record<string, number> = { loss: e.loss, ...e.metrics };
      if (e.metrics.val_loss !== undefined) metrics.val_perplexity = Math.exp(e.metrics.val_loss);
      onProgress({ type: 'epoch', stage: 'fit', epoch: e.epoch + 1, epochs: e.epochs, seconds, etaSeconds: e.etaSeconds, metrics, ...(overBudget ? { partial: true } : {}) });
    }
  };
}

function lmOptions(o: TextGenerationTrainOptions, out: string, checkpointDir: string, source: string): TrainLanguageModelOptions {
  const { seqLength, valSplit, onProgress, maxChars: _m, overwrite: _o, keepCheckpoints: _k, provenance, ...rest } = o;
  return {
    ...rest,
    out,
    checkpointDir,
    seed: o.seed ?? 1,
    ...(seqLength !== undefined ? { sequenceLength: seqLength } : {}),
    ...(valSplit !== undefined ? { validationSplit: valSplit } : {}),
    ...(onProgress ? { onProgress: taskEvents(onProgress, o.timeBudgetSeconds) } : {}),
    provenance: { data: source, ...provenance },
  };
}

/**
 * Trains a character-level recurrent language model: reads the text, holds out its last
 * `valSplit`, fits with early stopping on validation loss, saves the model to `out` and reports
 * validation loss, bits per character and perplexity. Checkpoints go to the run folder beside
 * the model (`<out>.run`) after every epoch, so an interrupted run can be resumed; they are
 * removed after a successful run unless `keepCheckpoints`.
 *
 * @throws BadInputError for unknown options, bad settings, or a text too short for them.
 * @throws NotFoundError when `data` names no file.
 * @throws SeqlabError `cancelled` when `signal` aborts (the last finished epoch stays checkpointed).
 */
export async function trainTextGeneration(data: TextGenerationData, options: TextGenerationTrainOptions): Promise<{ dir: string; report: TrainReport<TextGenerationDetails> }> {
  checkOptionKeys('train text-generation', options, TRAIN_KEYS);
  if (typeof options.out !== 'string' || options.out.length === 0) throw new BadInputError('train text-generation: options.out (the model folder) is required');
  const clock = new StageClock();
  const out = path.resolve(options.out);
  const checkpointDir = path.resolve(options.checkpointDir ?? defaultCheckpointDir(out));
  const { text, source, cut } = await clock.time('read', () => readText('train text-generation', data, options.maxChars));
  throwIfCancelled(options.signal, 'training');
  await prepareRunFolder(out, checkpointDir, options);
  const backend = getBackendInfo() ?? (await initBackend());
  const { trainLanguageModel } = await import('@seqlab/rnn');
  const result = await trainLanguageModel(text, lmOptions(options, out, checkpointDir, source));
  if (!options.keepCheckpoints) {
    await removeRunEntries(checkpointDir);
    // Only an empty folder goes: a caller may keep its own files there (the CLI's run record).
    await rmdir(checkpointDir).catch(() => undefined);
  }
  Object.assign(clock.stages, result.stages);
  const report = buildReport(result, { out, source, cut, seed: options.seed ?? 1, backend: backend.name, seconds: clock.elapsed(), stages: clock.stages, kept: options.keepCheckpoints ? checkpointDir : undefined });
  return { dir: out, report };
}

function buildReport(
  r: TrainLanguageModelResult,
  c: { out: string; source: string; cut: number; seed: number; backend: string; seconds: number; stages: Record<string, number>; kept: string | undefined },
): TrainReport<TextGenerationDetails> {
  const t = r.training;
  const bestEpoch = t.bestEpoch + 1;
  const partial = t.history.at(-1)?.partial === true;
  const truncated: Record<string, number | string> = {};
  if (c.cut > 0) truncated.characters = c.cut;
  // Epochs of the budget the time limit left unfinished (a cut epoch counts as unfinished).
  if (t.stopReason === 'time-budget') truncated.epochs = r.plan.epochs - t.history.length + (partial ? 1 : 0);
  const v = r.validation;
  const a = r.architecture;
  return {
    task: 'text-generation',
    dir: c.out,
    seed: c.seed,
    backend: c.backend,
    kind: KIND,
    reason: `text-generation trains one kind, a ${a.layers}-layer ${a.cell.toUpperCase()}(${a.units}) character language model; stopped by ${t.stopReason} after ${t.history.length} epochs, keeping ${t.restoredBest ? `epoch ${bestEpoch}'s weights (best validation loss)` : 'the last weights'}`,
    candidates: [
      {
        kind: KIND,
        seconds: r.stages.fit,
        metrics: { loss: v.lossNats, perplexity: v.perplexity, bitsPerChar: v.bitsPerChar, accuracy: v.accuracy },
        settings: { ...a, epochs: t.history.length, steps: t.steps },
      },
    ],
    stages: c.stages,
    seconds: c.seconds,
    truncated,
    details: {
      data: c.source,
      history: t.history,
      stopReason: t.stopReason,
      bestEpoch,
      restoredBest: t.restoredBest,
      resumedFromEpoch: r.resumedFromEpoch,
      epochsCompleted: t.history.length,
      epochsPlanned: r.plan.epochs,
      lastEpochPartial: partial,
      steps: t.steps,
      architecture: a,
      vocabularySize: r.vocabularySize,
      characters: r.characters,
      validation: v,
      ...(c.kept ? { checkpointDir: c.kept } : {}),
    },
  };
}

/**
 * Scores a saved language model on a text: nats and bits per character, perplexity and
 * next-character accuracy, every character scored once with `context` characters of history.
 *
 * @throws BadInputError for unknown options or a text shorter than `seqLength + 2` characters.
 * @throws NotFoundError for an unknown model or data file.
 */
export async function evaluateTextGeneration(model: string, data: TextGenerationData, options: TextGenerationEvaluateOptions = {}): Promise<TextGenerationEvaluation> {
  checkOptionKeys('evaluate text-generation', options, EVALUATE_KEYS);
  const seqLength = options.seqLength ?? 100;
  const context = options.context ?? 50;
  if (!(Number.isInteger(seqLength) && seqLength >= 2)) throw new BadInputError(`evaluate text-generation: seqLength must be an integer >= 2, got ${JSON.stringify(seqLength)}`);
  if (!(Number.isInteger(context) && context >= 0)) throw new BadInputError(`evaluate text-generation: context must be a non-negative integer, got ${JSON.stringify(context)}`);
  const { text, source } = await readText('evaluate text-generation', data, options.maxChars);
  const { pipeline } = await import('../pipeline.js');
  const { scoreLanguageModel } = await import('@seqlab/rnn');
  const lm = await pipeline('text-generation', model);
  try {
    const t0 = performance.now();
    const known = new Set(lm.vocabulary.chars);
    const unknownCharacters = [...new Set(text)].filter((ch) => !known.has(ch));
    const ids = lm.vocabulary.encode(text);
    if (ids.length < seqLength + 2) throw new BadInputError(`evaluate text-generation: data has ${ids.length} characters, fewer than seqLength ${seqLength} + 2`);
    const score = scoreLanguageModel(lm.languageModel, ids, { sequenceLength: seqLength, context });
    return { model, data: source, ...score, unknownCharacters, seconds: (performance.now() - t0) / 1000 };
  } finally {
    lm.dispose();
  }
}
