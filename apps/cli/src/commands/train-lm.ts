import { existsSync } from 'node:fs';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, fmt, println, type ActionContext } from '../cli.js';
import { InterruptedError, UsageError } from '../errors.js';
import { withInterrupt } from '../interrupt.js';
import { commonSchema, existingFile, fraction, int, nonNegative, number, oneOf, parseOptions, plotPath, positive, positiveInt, seed } from '../options.js';
import { trainEventPrinter } from '../train-events.js';
import type { TextGenerationTrainOptions } from '@seqlab/tasks';
import { RUN_FILE, curveFromHistory, partialEpochOf, resumeOptions, type RunRecord } from '../training.js';

const schema = commonSchema.extend({
  data: z.string({ error: 'required unless --resume is given' }),
  out: z.string({ error: 'required unless --resume is given' }),
  epochs: positiveInt.optional(),
  steps: positiveInt.optional(),
  cell: oneOf(['lstm', 'gru', 'simple'] as const, 'a cell type, one of').default('lstm'),
  layers: int(1, 8).default(1),
  units: positiveInt.default(128),
  embeddingDim: positiveInt.default(32),
  dropout: number('a number in [0, 1)', (n) => n >= 0 && n < 1).default(0),
  seqLen: int(2, 10_000).default(64),
  batchSize: positiveInt.default(32),
  lr: positive.default(0.002),
  clip: positive.default(5),
  valSplit: fraction.default(0.1),
  windowsPerEpoch: positiveInt.optional(),
  maxChars: positiveInt.optional(),
  patience: int(0).default(3),
  timeBudget: nonNegative.optional(),
  seed: seed.default(1),
  plot: z.string().optional(),
  force: z.boolean().default(false),
  keepCheckpoints: z.boolean().default(false),
});

type LmOptions = z.output<typeof schema>;

/** `seqlab train lm`: a character-level language model that `seqlab generate` can load. */
export function trainLmCommand(): Command {
  const cmd = new Command('lm')
    .description('train a character-level recurrent language model on a text file (usable by `seqlab generate --model DIR`)')
    .option('--data <file>', 'UTF-8 text file (the last --val-split of it is held out)')
    .option('--out <dir>', 'model folder (checkpoints go to the run folder DIR.run beside it)')
    .option('--resume <dir>', 'continue the interrupted run of model folder DIR (its options are reused; flags given now override)')
    .option('--epochs <n>', 'maximum epochs, counting epochs done before a resume (default 10)')
    .option('--steps <n>', 'budget in optimizer steps instead of epochs')
    .option('--cell <type>', 'recurrent cell: lstm|gru|simple', 'lstm')
    .option('--layers <n>', 'stacked recurrent layers', '1')
    .option('--units <n>', 'units per recurrent layer', '128')
    .option('--embedding-dim <n>', 'character embedding size', '32')
    .option('--dropout <r>', 'dropout between layers', '0')
    .option('--seq-len <n>', 'characters per training window (truncated BPTT length)', '64')
    .option('--batch-size <n>', 'windows per batch', '32')
    .option('--lr <rate>', 'Adam learning rate', '0.002')
    .option('--clip <norm>', 'clip gradients to this global norm', '5')
    .option('--val-split <f>', 'fraction of the text held out for validation', '0.1')
    .option('--windows-per-epoch <n>', 'windows per epoch (shorter epochs = more frequent checkpoints)')
    .option('--max-chars <n>', 'use only the first N characters of the file')
    .option('--patience <n>', 'early stopping: epochs without a better validation loss (0 = off)', '3')
    .option('--time-budget <seconds>', 'stop cleanly (checkpoint, save) after this many seconds')
    .option('--seed <n>', 'random seed', '1')
    .option('--plot <file>', 'training-curve plot (.png or .svg; default DIR/training-curve.png)')
    .option('--force', 'start over even if the run folder holds an unfinished run')
    .option('--keep-checkpoints', 'keep the run folder after success (to --resume with a larger budget)')
    .option('--no-keep-checkpoints', 'remove the run folder after success (when resuming a run that kept it)');
  return defineAction(cmd, runTrainLm);
}

/** The settings of `train('text-generation')` that the flags give. */
function trainSettings(o: LmOptions, data: string, runDir: string, resume: boolean): Omit<TextGenerationTrainOptions, 'out'> {
  const budget = o.steps === undefined ? { epochs: o.epochs ?? 10 } : { steps: o.steps, ...(o.epochs !== undefined ? { epochs: o.epochs } : {}) };
  return {
    ...budget,
    seed: o.seed,
    cell: o.cell, layers: o.layers, units: o.units, embeddingDim: o.embeddingDim, dropout: o.dropout,
    seqLength: o.seqLen, batchSize: o.batchSize, learningRate: o.lr, clipNorm: o.clip, valSplit: o.valSplit, patience: o.patience,
    ...(o.windowsPerEpoch !== undefined ? { windowsPerEpoch: o.windowsPerEpoch } : {}),
    ...(o.maxChars !== undefined ? { maxChars: o.maxChars } : {}),
    ...(o.timeBudget !== undefined ? { timeBudgetSeconds: o.timeBudget } : {}),
    checkpointDir: runDir, resume, overwrite: o.force, keepCheckpoints: o.keepCheckpoints, provenance: { data },
  };
}

async function runTrainLm({ opts, command }: ActionContext): Promise<void> {
  const { defaultCheckpointDir, train } = await import('@seqlab/tasks');
  const { writeJsonAtomic } = await import('@seqlab/core');
  const resumeDir = typeof opts.resume === 'string' ? resolve(opts.resume) : undefined;
  const raw = resumeDir ? { ...resumeOptions(defaultCheckpointDir(resumeDir), 'lm', command, opts), out: resumeDir } : opts;
  const o = parseOptions(schema, raw);
  const out = resolve(o.out);
  const data = existingFile(o.data, '--data');
  const plot = plotPath(o.plot) ?? join(out, 'training-curve.png');
  const runDir = defaultCheckpointDir(out);
  if (!resumeDir && existsSync(join(runDir, 'state.json')) && !o.force) {
    throw new UsageError(`${o.out} already holds a training run; continue it with --resume ${o.out} or start over with --force (its checkpoints: ${runDir})`);
  }
  await mkdir(runDir, { recursive: true });
  // How to print and whether to start over belong to one invocation, not to the run a --resume continues.
  const { json: _j, verbose: _v, force: _f, ...settings } = o;
  await writeJsonAtomic(join(runDir, RUN_FILE), { task: 'lm', options: { ...settings, data, out } } satisfies RunRecord<Partial<LmOptions>>);
  const printer = trainEventPrinter({ quiet: o.json });
  const resumeHint = `seqlab train lm --resume ${o.out}`;
  const { report } = await withInterrupt(
    (signal) => train('text-generation', data, { out, signal, onProgress: printer.onProgress, ...trainSettings(o, data, runDir, resumeDir !== undefined) }).finally(printer.stop),
    () => new InterruptedError(`interrupted; the last finished epoch is checkpointed in ${runDir}; continue with: ${resumeHint}`),
  );
  if (!o.keepCheckpoints) {
    // train() removed its checkpoints; the run record goes with them (nothing is left to resume).
    await rm(join(runDir, RUN_FILE), { force: true });
    await rmdir(runDir).catch(() => undefined);
  }
  const { details: d, details: { validation: v } } = report;
  const { trainingCurveChart, writeChart } = await import('../plots.js');
  const partialEpoch = partialEpochOf(d.history);
  await writeChart(trainingCurveChart(curveFromHistory(d.history), { title: `character LM on ${data.split('/').pop()}`, resumedFrom: d.resumedFromEpoch || undefined, partialEpoch }), plot);
  const metrics = { validationLoss: v.lossNats, bitsPerChar: v.bitsPerChar, perplexity: v.perplexity, accuracy: v.accuracy };
  const { epochsCompleted, lastEpochPartial, stopReason, bestEpoch, restoredBest, history } = d;
  const summary = {
    task: 'lm', out, backend: report.backend, resumedFromEpoch: resumeDir ? d.resumedFromEpoch : null, epochsCompleted, lastEpochPartial, stopReason, bestEpoch, restoredBest,
    seconds: report.seconds, vocabSize: d.vocabularySize, metrics, plot, checkpoints: d.checkpointDir ?? null, history,
  };
  await writeJsonAtomic(join(out, 'training.json'), summary);
  emit(o.json, summary, () => {
    if (resumeDir) println(`resumed from epoch ${d.resumedFromEpoch}`);
    println(`trained ${epochsCompleted} epochs (${stopReason}${partialEpoch ? `; epoch ${partialEpoch} was cut short by the time budget: partial` : ''}); best epoch ${bestEpoch}${restoredBest ? ' (weights restored)' : ''}`);
    println(`validation: ${fmt(metrics.validationLoss)} nats/char, ${fmt(metrics.bitsPerChar)} bits/char, perplexity ${fmt(metrics.perplexity)}`);
    println(`model saved to ${out}; try: seqlab generate --model ${o.out} --prompt "..."`);
    if (d.checkpointDir) println(`checkpoints kept in ${d.checkpointDir}; continue with: ${resumeHint} --epochs N`);
    println(`training curve: ${plot}`);
  });
}
