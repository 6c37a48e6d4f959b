import { existsSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError, classScores, initBackend, releaseMemory, releaseMemoryEvery, SENTIMENT_LABELS, writeJsonAtomic } from '@seqlab/core';
import {
  classificationMetrics,
  defaultMaxLength,
  fitLinearTextClassifier,
  lengthStats,
  packClassifierTexts,
  packedTokenCounts,
  repackRows,
  saveRecurrentTextClassifier,
  type LinearTextClassifier,
  type RecurrentTextClassifier,
} from '@seqlab/rnn';
import { embedWithFileCache, loadEncoder, type SentenceEncoder } from '@seqlab/embeddings';
import { StageClock, type TrainEvent, type TrainReport } from '../training/types.js';
import { fitCandidate, predictWithProgress, type Candidate, type FitContext, type RnnOutcome } from './candidates.js';
import { chooseCandidate, type Choice } from './choose.js';
import { readRows, splitRows, type ReadRows, type SplitRows } from './data.js';
import { candidateKinds, ENCODER_KINDS, resolveTrainOptions, type ResolvedTextClassificationOptions, type TextClassificationData, type TextClassificationTrainOptions } from './options.js';
import { buildReport, type TextClassificationDetails } from './report.js';

/** SST-2-style label sets an rnn names negative/positive when saved, so the sentiment task serves it. */
const SENTIMENT_CLASSES = [JSON.stringify(['0', '1']), JSON.stringify(['neg', 'pos'])];

/** The default run folder of a model folder, `<out>.run`: checkpoints live beside the model, never inside it. */
export function defaultCheckpointDir(out: string): string {
  return `${path.resolve(out)}.run`;
}

/** What a run folder holds: the rnn loop's checkpoints and state, and the CLI's record of the run. */
const RUN_ENTRIES = ['last', 'last-ema', 'best', 'state.json', 'run.json'];

/** Checks the run folder: never inside the model folder; an unfinished run is resumed, overwritten or refused. */
async function prepareRunFolder(out: string, dir: string, o: ResolvedTextClassificationOptions): Promise<void> {
  const rel = path.relative(out, dir);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
    throw new BadInputError(`checkpointDir ${dir} is inside the model folder ${out}; put the run folder beside it (default ${defaultCheckpointDir(out)})`);
  }
  const members = await memberFolders(dir);
  if (o.resume || ![dir, ...members].some((d) => existsSync(path.join(d, 'state.json')))) return;
  if (!o.overwrite) throw new BadInputError(`checkpointDir ${dir} holds the checkpoints of a training run; pass resume: true to continue it or overwrite: true to start over`);
  await removeRunEntries(dir, ['last', 'last-ema', 'best', 'state.json']);
}

/** The `member-K` folders an ensemble's members keep their checkpoints in. */
async function memberFolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && /^member-\d+$/.test(e.name)).map((e) => path.join(dir, e.name));
}

/** Removes a run's entries (and its members'), then the folder if nothing else is in it (a caller's own files stay). */
async function removeRunEntries(dir: string, entries = RUN_ENTRIES): Promise<void> {
  await Promise.all((await memberFolders(dir)).map((d) => rm(d, { recursive: true, force: true })));
  await Promise.all(entries.map((e) => rm(path.join(dir, e), { recursive: true, force: true })));
  await rmdir(dir).catch(() => undefined);
}

/**
 * `train('text-classification', data, options)`: reads the rows, splits off validation rows,
 * fits the candidate kinds, keeps the best by {@link chooseCandidate}'s rule, saves it to
 * `options.out` (with `training.json`), scores the saved model through `pipeline()`, refits a
 * chosen linear kind on every row, and reports what happened and why.
 *
 * The rnn's checkpoints live in the run folder `checkpointDir` (default `<out>.run`, beside the
 * model folder), removed after a successful run unless `keepCheckpoints`; `resume: true`
 * continues an interrupted run from them, `overwrite: true` starts over.
 *
 * @throws BadInputError for unknown or bad options (named), a bad row (by index) or file.
 * @throws CancelledError when `options.signal` aborts (between candidates or batches).
 */
export async function trainTextClassification(data: TextClassificationData, options: TextClassificationTrainOptions): Promise<{ dir: string; report: TrainReport<TextClassificationDetails> }> {
  // A run holds a corpus's texts live for minutes while each batch makes garbage: collected on a
  // clock, RSS stays near the live heap (see releaseMemoryEvery).
  const stopReleasing = releaseMemoryEvery(RELEASE_MEMORY_EVERY_MS);
  try {
    return await fitAndSave(data, options);
  } finally {
    stopReleasing();
  }
}

/** How often a training run or an evaluation collects garbage. */
export const RELEASE_MEMORY_EVERY_MS = 20_000;

async function fitAndSave(data: TextClassificationData, options: TextClassificationTrainOptions): Promise<{ dir: string; report: TrainReport<TextClassificationDetails> }> {
  const clock = new StageClock();
  const o = resolveTrainOptions(options);
  const out = path.resolve(o.out);
  const checkpointDir = path.resolve(o.checkpointDir ?? defaultCheckpointDir(out));
  await prepareRunFolder(out, checkpointDir, o);
  const emit = (e: TrainEvent) => o.onProgress?.(e);
  const split = await clock.time('read', async () => {
    emit({ type: 'stage', stage: 'read', message: `reading ${typeof data === 'string' ? data : `${Array.isArray(data) ? data.length : 0} rows`} ...` });
    const read = await readRows(data, o, 'data');
    return { read, ...(await splitRows(read, o.validation, o)) };
  });
  const backend = await initBackend();
  const ctx = await clock.time('vectorize', () => prepare(o, split, checkpointDir, emit));
  const candidates: Candidate[] = [];
  const rnn: { value?: RnnOutcome } = {};
  let encoder: SentenceEncoder | undefined;
  try {
    encoder = await encoderFor(o, split);
    if (encoder) ctx.encoder = encoder;
    for (const kind of candidateKinds(o)) {
      // Reading and each finished kind leave large typed arrays behind (feature matrices of
      // hundreds of MB on a large corpus): freed here, before the next kind builds its own.
      releaseMemory();
      candidates.push(await clock.time(`fit ${kind}`, () => fitCandidate(kind, ctx, rnn)));
    }
    releaseMemory();
    return await chooseAndSave({ o, out, checkpointDir, backend: backend.name, split, ctx, candidates, rnn: rnn.value, encoder, clock });
  } finally {
    for (const c of candidates) if (c.kind !== 'ensemble') c.model.dispose();
    encoder?.dispose();
  }
}

/**
 * The sentence encoder, when a kind of this run reads its vectors (its cache sized to the rows).
 * With `embeddingCache`, the rows' vectors are read from that folder (or embedded once and
 * written there) into the encoder's cache before any kind fits.
 */
export async function encoderFor(o: ResolvedTextClassificationOptions, split: SplitRows): Promise<SentenceEncoder | undefined> {
  if (o.encoder !== 'use' && !ENCODER_KINDS.includes(o.model)) return undefined;
  const encoder = await loadEncoder({ cacheSize: Math.min(100_000, split.train.texts.length + split.validation.texts.length), ...(o.encoderBatchSize !== undefined ? { batchSize: o.encoderBatchSize } : {}) });
  if (!o.embeddingCache) return encoder;
  try {
    for (const [name, texts] of [['training', split.train.texts], ['validation', split.validation.texts]] as const) {
      const { cached, file } = await embedWithFileCache(encoder, texts, o.embeddingCache, {
        onProgress: (done, total) => o.onProgress?.({ type: 'items', stage: 'embed', candidate: 'encoder', done, total }),
      });
      o.onProgress?.({ type: 'stage', stage: 'embed', message: `${name} texts' sentence vectors ${cached ? 'read from' : 'embedded and kept in'} ${file}` });
    }
  } catch (err) {
    encoder.dispose();
    throw err;
  }
  return encoder;
}

/** The fitted candidates of a run and what the choice, the save and the report read. */
export interface FittedRun {
  o: ResolvedTextClassificationOptions;
  out: string;
  checkpointDir: string;
  backend: string;
  split: SplitRows & { read: ReadRows };
  ctx: FitContext;
  /** The ensemble, when tried, is pushed here; the caller disposes the others' models. */
  candidates: Candidate[];
  rnn: RnnOutcome | undefined;
  encoder: SentenceEncoder | undefined;
  clock: StageClock;
}

/**
 * Chooses among fitted candidates, saves and scores the choice, refits a linear kind, writes
 * training.json and removes the run's checkpoints: shared by `train()` and the distributed
 * combine step, so both apply one rule.
 */
export async function chooseAndSave(run: FittedRun): Promise<{ dir: string; report: TrainReport<TextClassificationDetails> }> {
  const { o, out, split, ctx, candidates, clock } = run;
  const choice = await clock.time('choose', async () => chooseCandidate(candidates, ctx));
  ctx.emit({ type: 'stage', stage: 'choose', candidate: choice.chosen.kind, message: `keeping ${choice.chosen.kind}: ${choice.reason}` });
  const validationMetrics = await clock.time('save', () => saveAndScore(choice, out, ctx, run.encoder));
  releaseMemory();
  const refitRows = await clock.time('refit', () => refitChosen(choice.chosen, split, ctx, out));
  const report = buildReport({ o, out, backend: run.backend, split, ctx, candidates, choice, rnn: run.rnn, validationMetrics, refitRows, clock });
  await writeJsonAtomic(path.join(out, 'training.json'), report);
  if (!o.keepCheckpoints) await removeRunEntries(run.checkpointDir);
  if (choice.chosen.settings.refit !== true) return { dir: out, report };
  const validationScores = choice.chosen.results.map((r) => classScores(r, ctx.classes));
  return { dir: out, report: { ...report, details: { ...report.details, validationScores } } };
}

/** Length statistics, the rnn's length and the word counts: what every kind's fit reads. */
export async function prepare(o: ResolvedTextClassificationOptions, split: SplitRows & { read: { source: string } }, checkpointDir: string, emit: (e: TrainEvent) => void): Promise<FitContext> {
  // Tokenized once as the linear kinds tokenize (they and a refit reuse it), so the rnn's length
  // and the word vectors' coverage are counted on the same tokens.
  const packedTrain = await packClassifierTexts(split.train.texts, o.clean, o.signal ? { signal: o.signal } : {});
  const { lengths, wordCounts } = packedTokenCounts(packedTrain);
  const stats = lengthStats(lengths);
  const maxLength = o.maxLength ?? defaultMaxLength(stats);
  const { train, validation, classes, problem } = split;
  emit({
    type: 'stage',
    stage: 'vectorize',
    message: `${split.read.source}: ${train.texts.length} training / ${validation.texts.length} validation texts, ${classes.length} classes${problem === 'multi-label' ? ' (multi-label)' : ''}; text length in tokens: median ${stats.p50}, 90th percentile ${stats.p90}, max ${stats.max}`,
  });
  const training = {
    seed: o.seed,
    data: split.read.source,
    validation: split.validationGiven ? (typeof o.validation === 'string' ? o.validation : 'rows') : `${o.valSplit} of the data (stratified)`,
    trainRows: train.texts.length,
    lengthStats: stats,
  };
  return { o, train, validation, classes, problem, maxLength, wordCounts, packedTrain, training, checkpointDir, emit, lengths, lengthStats: stats, ...(split.fineLabels ? { fineLabels: split.fineLabels } : {}) };
}

/** Saves the chosen model to `out` and scores it there, exactly as `pipeline()` will load it. */
async function saveAndScore(choice: Choice, out: string, ctx: FitContext, encoder: SentenceEncoder | undefined) {
  const { chosen } = choice;
  ctx.emit({ type: 'stage', stage: 'save', candidate: chosen.kind, message: `saving ${chosen.kind} to ${out} ...` });
  if (chosen.kind === 'rnn' && ctx.problem === 'binary' && SENTIMENT_CLASSES.includes(JSON.stringify(ctx.classes))) {
    const clf = chosen.model as RecurrentTextClassifier;
    await saveRecurrentTextClassifier(out, [...clf.members], clf.vectorizer, { ...clf.config, classes: SENTIMENT_LABELS });
  } else {
    await chosen.model.save(out);
  }
  const { pipeline } = await import('../pipeline.js');
  const saved = await pipeline('text-classification', out, encoder ? { encoder } : {});
  try {
    const truth = labelsForClasses(ctx.validation.labels, saved.classes);
    // In slices, as the candidates were scored: one call over 25,000 validation reviews held an
    // ensemble's tokens and every member's results at once (600 MB of a large run's heap).
    return classificationMetrics(saved.classes, saved.problem, truth, await predictWithProgress(saved, ctx.validation.texts));
  } finally {
    saved.dispose();
  }
}

/**
 * The held-out rows only had to choose the kind. A linear kind refits in seconds (the encoder
 * kinds would embed every text again, the rnn would train again: they stay), so the saved model
 * learns from them too; the validation figures stay those of the fit that had not seen them.
 * Returns the rows refitted on, or null.
 */
async function refitChosen(chosen: Candidate, split: SplitRows, ctx: FitContext, out: string): Promise<number | null> {
  if (!ctx.o.refit || split.validationGiven || (chosen.kind !== 'fasttext' && chosen.kind !== 'tfidf-lr')) return null;
  const rows = split.all.texts.length;
  ctx.emit({ type: 'stage', stage: 'refit', candidate: chosen.kind, message: `refitting ${chosen.kind} on all ${rows} rows (training + validation) ...` });
  const l2 = chosen.kind === 'tfidf-lr' ? ((chosen.model as LinearTextClassifier).config.training?.l2 as number | undefined) : undefined;
  // The training rows' tokens are reused; only the validation rows are tokenized again.
  const corpus = split.allRows ? repackRows([ctx.packedTrain, await packClassifierTexts(split.validation.texts, ctx.o.clean)], split.allRows) : undefined;
  const whole = await fitLinearTextClassifier(
    { texts: split.all.texts, labels: split.all.labels },
    {
      ...(corpus ? { corpus } : {}),
      kind: chosen.kind,
      classes: ctx.classes,
      problem: ctx.problem,
      seed: ctx.o.seed,
      classWeights: ctx.o.classWeights,
      ...(ctx.o.clean !== undefined ? { clean: ctx.o.clean } : {}),
      // The penalty chosen on validation carries over to the refit.
      ...(l2 !== undefined ? { tfidf: { l2 } } : {}),
      ...(chosen.kind === 'fasttext' && ctx.o.fasttext ? { fasttext: ctx.o.fasttext } : {}),
      training: { ...ctx.training, refitRows: rows, ...(l2 !== undefined ? { l2 } : {}) },
    },
  );
  try {
    // Thresholds chosen on the validation rows stay: a refit on more rows of the same data moves
    // the scores little, and no held-out rows are left to choose them again.
    const kept = (chosen.model as LinearTextClassifier).thresholds;
    if (kept) whole.setThresholds(kept);
    await whole.save(out);
  } finally {
    whole.dispose();
  }
  return rows;
}

/**
 * The labels of rows in a model's class names: sentiment models name their classes
 * negative/positive while SST-2-style files say 0/1 (or neg/pos). Other labels are kept.
 */
export function labelsForClasses(labels: readonly (readonly string[])[], classes: readonly string[]): string[][] {
  if (classes.length !== 2 || classes[0] !== 'negative' || classes[1] !== 'positive') return labels.map((l) => [...l]);
  const map: Record<string, string> = { '0': 'negative', '1': 'positive', neg: 'negative', pos: 'positive' };
  return labels.map((ls) => ls.map((l) => map[l.toLowerCase()] ?? l));
}
