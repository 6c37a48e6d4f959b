import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, fmt, println } from '../cli.js';
import { InputError, UsageError } from '../errors.js';
import { readLabelledTsv, type LabelledTexts } from '../labelled.js';
import { commonSchema, existingFile, fraction, int, nonNegative, number, oneOf, parseOptions, plotPath, positive, positiveInt, seed } from '../options.js';
import { RUN_FILE, TrainingSession, disposeTrained, announceResume, curveFromHistory, resumeOptions, type RunRecord } from '../training.js';

const schema = commonSchema.extend({
  data: z.string({ error: 'required unless --resume is given' }),
  out: z.string({ error: 'required unless --resume is given' }),
  validation: z.string().optional(),
  textCol: z.string().default('sentence'),
  labelCol: z.string().default('label'),
  epochs: positiveInt.default(5),
  cell: oneOf(['lstm', 'gru', 'simple'] as const, 'a cell type, one of').default('lstm'),
  layers: int(1, 4).default(1),
  units: positiveInt.default(64),
  embeddingDim: positiveInt.default(64),
  attention: oneOf(['pooling', 'self'] as const, 'an attention kind, one of').default('pooling'),
  dropout: number('a number in [0, 1)', (n) => n >= 0 && n < 1).default(0.3),
  vocabSize: int(16).default(20_000),
  maxLength: int(2, 10_000).default(64),
  batchSize: positiveInt.default(32),
  lr: positive.default(0.002),
  clip: positive.default(5),
  valSplit: fraction.default(0.05),
  limit: positiveInt.optional(),
  patience: int(0).default(2),
  timeBudget: nonNegative.optional(),
  seed: seed.default(1),
  plot: z.string().optional(),
  force: z.boolean().default(false),
});

type ClassifierOptions = z.output<typeof schema>;

/** `seqlab train classifier`: a BiRNN + attention sentiment classifier that `seqlab sentiment` can load. */
export function trainClassifierCommand(): Command {
  const cmd = new Command('classifier')
    .description('train a recurrent sentiment classifier with attention on a TSV of texts and 0/1 labels (usable by `seqlab sentiment --model DIR`)')
    .option('--data <file>', 'TSV with a header row, e.g. data/sst2/train.tsv (sentence<TAB>label)')
    .option('--out <dir>', 'run directory: checkpoints, training curve and the final model')
    .option('--resume <dir>', 'continue the interrupted run in DIR (its options are reused; flags given now override)')
    .option('--validation <file>', 'validation TSV for early stopping (default: hold out --val-split of --data)')
    .option('--text-col <name>', 'text column', 'sentence')
    .option('--label-col <name>', 'label column (0/1 or negative/positive)', 'label')
    .option('--epochs <n>', 'maximum epochs (counting epochs done before a resume)', '5')
    .option('--cell <type>', 'recurrent cell: lstm|gru|simple', 'lstm')
    .option('--layers <n>', 'stacked bidirectional layers', '1')
    .option('--units <n>', 'units per direction', '64')
    .option('--embedding-dim <n>', 'word embedding size', '64')
    .option('--attention <kind>', 'pooling (attention pooling) | self (self-attention, then pooling)', 'pooling')
    .option('--dropout <r>', 'dropout after the embedding and before the output', '0.3')
    .option('--vocab-size <n>', 'largest word vocabulary', '20000')
    .option('--max-length <n>', 'tokens kept per text', '64')
    .option('--batch-size <n>', 'texts per batch', '32')
    .option('--lr <rate>', 'Adam learning rate', '0.002')
    .option('--clip <norm>', 'clip gradients to this global norm', '5')
    .option('--val-split <f>', 'fraction of --data held out when --validation is not given', '0.05')
    .option('--limit <n>', 'train on the first N rows only (quick runs)')
    .option('--patience <n>', 'early stopping: epochs without better validation accuracy (0 = off)', '2')
    .option('--time-budget <seconds>', 'stop cleanly (checkpoint, save) after this many seconds')
    .option('--seed <n>', 'random seed', '1')
    .option('--plot <file>', 'training-curve plot (.png or .svg; default DIR/training-curve.png)')
    .option('--force', 'start over even if --out already holds a run');
  return defineAction(cmd, async ({ opts, command }) => {
    const resumeDir = typeof opts.resume === 'string' ? resolve(opts.resume) : undefined;
    const raw = resumeDir ? { ...resumeOptions(resumeDir, 'classifier', command, opts), out: resumeDir } : opts;
    const o = parseOptions(schema, raw);
    const out = resolve(o.out);
    const data = existingFile(o.data, '--data');
    const validationFile = o.validation ? existingFile(o.validation, '--validation') : undefined;
    const plot = plotPath(o.plot) ?? join(out, 'training-curve.png');
    const checkpoints = join(out, 'checkpoints');
    const rnn = await import('@seqlab/rnn');
    const { TextVectorizer } = await import('@seqlab/tokenize');
    const { initBackend, setGlobalSeed, writeJsonAtomic, SeededRandom } = await import('@seqlab/core');

    if (!resumeDir && existsSync(join(checkpoints, 'state.json'))) {
      if (!o.force) throw new UsageError(`${out} already holds a training run; continue it with --resume ${o.out} or start over with --force`);
      await rm(checkpoints, { recursive: true, force: true });
    }
    const all = readLabelledTsv(data, o.textCol, o.labelCol);
    let train: LabelledTexts;
    let validation: LabelledTexts;
    if (validationFile) {
      train = all;
      validation = readLabelledTsv(validationFile, o.textCol, o.labelCol);
    } else {
      // A seeded split, so a resumed run holds out the same rows.
      const perm = new SeededRandom(`holdout:${o.seed}`).permutation(all.texts.length);
      const nHold = Math.max(1, Math.round(all.texts.length * o.valSplit));
      const pick = (idx: ArrayLike<number>) => ({ texts: Array.from(idx, (i) => all.texts[i]!), labels: Array.from(idx, (i) => all.labels[i]!) });
      validation = pick(perm.subarray(0, nHold));
      train = pick(perm.subarray(nHold));
    }
    if (o.limit) train = { texts: train.texts.slice(0, o.limit), labels: train.labels.slice(0, o.limit) };
    if (new Set(train.labels).size < 2) throw new InputError(`--data: the training rows contain only one label; a classifier needs both`);

    const vectorizerFile = join(out, 'vectorizer.json');
    const vectorizer =
      resumeDir && existsSync(vectorizerFile)
        ? TextVectorizer.fromJSON(JSON.parse(readFileSync(vectorizerFile, 'utf8')))
        : await new TextVectorizer({ tokenizer: 'word', maxTokens: o.vocabSize }).adapt(train.texts);
    const encode = (texts: string[]) => texts.map((t) => vectorizer.encodeIds(t).slice(0, o.maxLength));
    const backend = await initBackend();
    const record: RunRecord<ClassifierOptions> = { task: 'classifier', options: { ...o, data, out, validation: validationFile } };
    await writeJsonAtomic(join(out, RUN_FILE), record);
    await writeJsonAtomic(vectorizerFile, vectorizer.toJSON());

    const arch = rnn.resolveTextClassifierOptions({
      vocabSize: vectorizer.vocabSize,
      embeddingDim: o.embeddingDim,
      cell: o.cell,
      bidirectional: true,
      layers: o.layers,
      units: o.units,
      attention: o.attention,
      dropout: o.dropout,
      numClasses: 2,
    });
    setGlobalSeed(o.seed);
    const model = rnn.textClassifier(arch);
    const before = resumeDir ? await rnn.readTrainingState(checkpoints) : undefined;
    const resumedFrom = before?.epoch ?? 0;
    if (resumeDir) announceResume(resumedFrom, o.epochs);
    const session = new TrainingSession(o.epochs, out, `seqlab train classifier --resume ${o.out}`, { quiet: o.json });
    try {
      const result = await session.run((onProgress) =>
        rnn.train(model, rnn.bucketedData(encode(train.texts), train.labels, { batchSize: o.batchSize, seed: o.seed }), {
          epochs: o.epochs,
          learningRate: o.lr,
          clipNorm: o.clip,
          validationData: rnn.bucketedData(encode(validation.texts), validation.labels, { batchSize: 128, shuffle: false }),
          monitor: 'val_accuracy',
          earlyStopping: o.patience > 0 ? { patience: o.patience, restoreBestWeights: true } : undefined,
          checkpointDir: checkpoints,
          resume: resumeDir !== undefined,
          seed: o.seed,
          timeBudgetSeconds: o.timeBudget,
          onProgress,
        }),
      );
      // The model directory has the layout loadSentimentModel reads (and the SST-2 recipe writes).
      await rnn.saveSentimentModel(out, model, vectorizer, {
        architecture: arch,
        maxLength: o.maxLength,
        training: { seed: o.seed, data, validation: validationFile ?? `${o.valSplit} of --data`, trainRows: train.texts.length },
      });
      // Score through the saved model, exactly as `seqlab sentiment` will load it.
      const sentiment = await rnn.loadSentimentModel(out);
      let report;
      try {
        const preds = await sentiment.predict(validation.texts);
        report = rnn.classificationReport(validation.labels, preds.map((p) => (p.label === 'positive' ? 1 : 0)), 2);
      } finally {
        sentiment.dispose();
      }
      const curve = curveFromHistory(result.history);
      const { trainingCurveChart, writeChart } = await import('../plots.js');
      await writeChart(trainingCurveChart(curve, { title: `sentiment classifier on ${data.split('/').pop()}`, resumedFrom: resumedFrom || undefined }), plot);
      const summary = {
        task: 'classifier',
        out,
        backend: backend.name,
        resumedFromEpoch: resumeDir ? resumedFrom : null,
        epochsCompleted: result.history.length,
        stopReason: result.stopReason,
        bestEpoch: result.bestEpoch + 1,
        restoredBest: result.restoredBest,
        seconds: result.wallTimeSeconds,
        trainRows: train.texts.length,
        validationRows: validation.texts.length,
        vocabSize: vectorizer.vocabSize,
        validationMetrics: { accuracy: report.accuracy, macroF1: report.macroF1, confusionMatrix: report.confusionMatrix },
        plot,
        history: result.history,
      };
      await writeJsonAtomic(join(out, 'training.json'), summary);
      emit(o.json, summary, () => {
        if (resumeDir) println(`resumed from epoch ${resumedFrom}`);
        println(`trained ${result.history.length} epochs (${result.stopReason}) on ${train.texts.length} texts; best epoch ${result.bestEpoch + 1}${result.restoredBest ? ' (weights restored)' : ''}`);
        println(`validation (${validation.texts.length} texts): accuracy ${fmt(report.accuracy)}, macro F1 ${fmt(report.macroF1)}`);
        println(`model saved to ${out}; try: seqlab sentiment --model ${o.out} --explain "a gorgeous, witty film"`);
        println(`training curve: ${plot}`);
      });
    } finally {
      disposeTrained(model);
    }
  });
}
