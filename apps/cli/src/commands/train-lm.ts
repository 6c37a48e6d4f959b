import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, fmt, println } from '../cli.js';
import { InputError, UsageError } from '../errors.js';
import { commonSchema, existingFile, fraction, int, nonNegative, number, oneOf, parseOptions, plotPath, positive, positiveInt, seed } from '../options.js';
import { RUN_FILE, TrainingSession, disposeTrained, announceResume, curveFromHistory, partialEpochOf, resumeOptions, type RunRecord } from '../training.js';

const schema = commonSchema.extend({
  data: z.string({ error: 'required unless --resume is given' }),
  out: z.string({ error: 'required unless --resume is given' }),
  epochs: positiveInt.default(10),
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
});

type LmOptions = z.output<typeof schema>;

/** `seqlab train lm`: a character-level language model that `seqlab generate` can load. */
export function trainLmCommand(): Command {
  const cmd = new Command('lm')
    .description('train a character-level recurrent language model on a text file (usable by `seqlab generate --model DIR`)')
    .option('--data <file>', 'UTF-8 text file (the last --val-split of it is held out)')
    .option('--out <dir>', 'run directory: checkpoints, training curve and the final model')
    .option('--resume <dir>', 'continue the interrupted run in DIR (its options are reused; flags given now override)')
    .option('--epochs <n>', 'maximum epochs (counting epochs done before a resume)', '10')
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
    .option('--force', 'start over even if --out already holds a run');
  return defineAction(cmd, async ({ opts, command }) => {
    const resumeDir = typeof opts.resume === 'string' ? resolve(opts.resume) : undefined;
    const raw = resumeDir ? { ...resumeOptions(resumeDir, 'lm', command, opts), out: resumeDir, resume: resumeDir } : opts;
    const o = parseOptions(schema, raw);
    const out = resolve(o.out);
    const data = existingFile(o.data, '--data');
    const plot = plotPath(o.plot) ?? join(out, 'training-curve.png');
    const checkpoints = join(out, 'checkpoints');
    const rnn = await import('@seqlab/rnn');
    const { initBackend, setGlobalSeed, writeJsonAtomic } = await import('@seqlab/core');

    if (!resumeDir && existsSync(join(checkpoints, 'state.json'))) {
      if (!o.force) throw new UsageError(`${out} already holds a training run; continue it with --resume ${o.out} or start over with --force`);
      await rm(checkpoints, { recursive: true, force: true });
    }
    let text = readFileSync(data, 'utf8');
    if (o.maxChars) text = text.slice(0, o.maxChars);
    const split = Math.floor(text.length * (1 - o.valSplit));
    // The vocabulary is fixed at the first run: a resumed run must map characters to the same ids.
    const vocabFile = join(out, 'vocabulary.json');
    const vocab = resumeDir && existsSync(vocabFile)
      ? rnn.CharVocabulary.fromJSON(JSON.parse(readFileSync(vocabFile, 'utf8')))
      : rnn.CharVocabulary.fromText(text);
    const ids = vocab.encode(text);
    const trainIds = ids.subarray(0, split);
    const valIds = ids.subarray(split);
    if (trainIds.length < o.seqLen + 2 || valIds.length < o.seqLen + 2) {
      throw new InputError(`--data: ${text.length} characters are too few for --seq-len ${o.seqLen} with --val-split ${o.valSplit}`);
    }
    const backend = await initBackend();
    const record: RunRecord<LmOptions> = { task: 'lm', options: { ...o, data, out } };
    await writeJsonAtomic(join(out, RUN_FILE), record);
    await writeJsonAtomic(vocabFile, vocab.toJSON());

    const trainData = rnn.languageModelData(trainIds, { sequenceLength: o.seqLen, batchSize: o.batchSize, windowsPerEpoch: o.windowsPerEpoch, seed: o.seed });
    const valData = rnn.languageModelData(valIds, { sequenceLength: o.seqLen, batchSize: 64, context: Math.min(32, o.seqLen), shuffle: false });
    const arch = rnn.resolveLanguageModelOptions({
      vocabSize: vocab.size,
      cell: o.cell,
      layers: o.layers,
      units: o.units,
      embeddingDim: o.embeddingDim,
      dropout: o.dropout,
    });
    setGlobalSeed(o.seed);
    const model = rnn.languageModel(arch);
    const before = resumeDir ? await rnn.readTrainingState(checkpoints) : undefined;
    const resumedFrom = before?.epoch ?? 0;
    if (resumeDir) announceResume(resumedFrom, o.epochs);
    const session = new TrainingSession(o.epochs, out, `seqlab train lm --resume ${o.out}`, { quiet: o.json });
    try {
      const result = await session.run((onProgress) =>
        rnn.train(model, trainData, {
          epochs: o.epochs,
          learningRate: o.lr,
          clipNorm: o.clip,
          validationData: valData,
          monitor: 'val_loss',
          earlyStopping: o.patience > 0 ? { patience: o.patience, restoreBestWeights: true } : undefined,
          checkpointDir: checkpoints,
          resume: resumeDir !== undefined,
          seed: o.seed,
          timeBudgetSeconds: o.timeBudget,
          onProgress,
        }),
      );
      const val = rnn.evaluate(model, valData, { output: 'logits' });
      const metrics = { validationLoss: val.loss, bitsPerChar: val.loss / Math.LN2, perplexity: Math.exp(val.loss), accuracy: val.accuracy };
      // The one text-generation saver: the layout pipeline('text-generation') loads.
      await rnn.saveTextGenerator(out, model, vocab, {
        architecture: arch,
        training: { seed: o.seed, sequenceLength: o.seqLen, batchSize: o.batchSize, learningRate: o.lr, clipNorm: o.clip, data },
        metrics,
      });
      const curve = curveFromHistory(result.history);
      const { trainingCurveChart, writeChart } = await import('../plots.js');
      await writeChart(trainingCurveChart(curve, { title: `character LM on ${data.split('/').pop()}`, resumedFrom: resumedFrom || undefined, partialEpoch: partialEpochOf(result.history) }), plot);
      const summary = {
        task: 'lm',
        out,
        backend: backend.name,
        resumedFromEpoch: resumeDir ? resumedFrom : null,
        epochsCompleted: result.history.length,
        lastEpochPartial: partialEpochOf(result.history) !== undefined,
        stopReason: result.stopReason,
        bestEpoch: result.bestEpoch + 1,
        restoredBest: result.restoredBest,
        seconds: result.wallTimeSeconds,
        vocabSize: vocab.size,
        metrics,
        plot,
        history: result.history,
      };
      await writeJsonAtomic(join(out, 'training.json'), summary);
      emit(o.json, summary, () => {
        if (resumeDir) println(`resumed from epoch ${resumedFrom}`);
        println(`trained ${result.history.length} epochs (${result.stopReason}${partialEpochOf(result.history) ? `; epoch ${result.history.length} was cut short by the time budget: partial` : ''}); best epoch ${result.bestEpoch + 1}${result.restoredBest ? ' (weights restored)' : ''}`);
        println(`validation: ${fmt(metrics.validationLoss)} nats/char, ${fmt(metrics.bitsPerChar)} bits/char, perplexity ${fmt(metrics.perplexity)}`);
        println(`model saved to ${out}; try: seqlab generate --model ${o.out} --prompt "..."`);
        println(`training curve: ${plot}`);
      });
    } finally {
      disposeTrained(model);
    }
  });
}
