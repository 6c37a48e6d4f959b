import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, fmt, note, println, table } from '../cli.js';
import { UsageError } from '../errors.js';
import { classifyWithProgress } from '../classifying.js';
import { labelsForModel, requireHeaderDecision } from '../labelled.js';
import { modelSpec } from '../models.js';
import { commonSchema, existingFile, oneOf, parseOptions, plotPath, positiveInt, seed } from '../options.js';

const schema = commonSchema.extend({
  model: z.string().optional(),
  data: z.string(),
  textCol: z.string().optional(),
  header: z.boolean().optional(),
  labelCol: z.string().optional(),
  limit: positiveInt.optional(),
  seed: seed.default(1),
  longTexts: oneOf(['truncate', 'chunks'] as const, 'one of').optional(),
  baseline: z.boolean().default(false),
  baselineData: z.string().optional(),
  plot: z.string().optional(),
});

/** `seqlab evaluate classifier`: per-class metrics, averages, confusion matrix, ROC-AUC, truncations; optionally beside a TF-IDF baseline. */
export function evaluateClassifierCommand(): Command {
  const cmd = new Command('classifier')
    .description('score a text classifier on a labelled CSV/TSV/JSONL: accuracy, per-class precision/recall/F1/support, macro/micro averages, confusion matrix, ROC-AUC (binary), subset accuracy (multi-label)')
    .option('--model <name|dir>', 'model name or directory (default: the committed sentiment model)')
    .requiredOption('--data <file>', 'labelled file, e.g. data/sst2/dev.tsv')
    .option('--text-col <name>', 'text column (default: detected)')
    .option('--no-header', 'the file has no header row: read every row as data (columns column1, column2, ...)')
    .option('--label-col <name>', 'label column (default: detected)')
    .option('--limit <n>', 'score N rows: a stratified, seeded sample')
    .option('--seed <n>', 'seed of --limit', '1')
    .option('--long-texts <how>', 'texts longer than the model reads: truncate | chunks (default: the model\'s setting)')
    .option('--baseline', 'also fit a TF-IDF logistic regression on the training data and print it beside the model')
    .option('--baseline-data <file>', 'training data of --baseline (default: the file the model was trained on)')
    .option('--plot <file>', 'draw the confusion matrix (.png or .svg)');
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    const plot = plotPath(o.plot);
    const rnn = await import('@seqlab/rnn');
    const { pipeline, describeModel, resolveModelDir } = await import('@seqlab/tasks');
    const columns = { ...(o.textCol ? { textColumn: o.textCol } : {}), ...(o.labelCol ? { labelColumn: o.labelCol } : {}) };
    const all = rnn.readLabelledTexts(data, { ...columns, ...(o.header === false ? { header: false } : {}) });
    requireHeaderDecision(data, all, o.header);
    const rows = o.limit ? rnn.selectRows(all, rnn.stratifiedSample(all.labels, o.limit, o.seed)) : all;
    const model = await pipeline('text-classification', modelSpec(o.model, 'text-classification'));
    let metrics;
    let truth: string[][];
    let thresholdsShown: number[] | undefined;
    const t0 = performance.now();
    try {
      truth = labelsForModel(rows.labels, model.classes);
      const results = await classifyWithProgress(model, rows.texts, o.longTexts ? { longTexts: o.longTexts } : {}, { what: 'scoring', quiet: o.json });
      metrics = rnn.classificationMetrics(model.classes, model.problem, truth, results);
      thresholdsShown = model.thresholds ? [...model.thresholds] : undefined;
    } finally {
      model.dispose();
    }
    const seconds = (performance.now() - t0) / 1000;
    let baseline: { data: string; l2: number | null; accuracy: number; macroF1: number; microF1: number; seconds: number } | null = null;
    if (o.baseline) {
      let trainFile = o.baselineData;
      if (!trainFile) {
        const config = await describeModel(resolveModelDir(modelSpec(o.model, 'text-classification')).dir);
        trainFile = (config.training as { data?: string } | undefined)?.data;
        if (!trainFile) throw new UsageError('--baseline: the model does not record its training data; pass --baseline-data FILE');
      }
      const trainData = rnn.readLabelledTexts(existingFile(trainFile, '--baseline-data'), { textColumn: all.textColumn, labelColumn: all.labelColumn });
      const b0 = performance.now();
      // The baseline a careful user would fit: its L2 penalty chosen on a stratified 10% of the
      // training rows (the right penalty moves by orders of magnitude between datasets), then
      // refitted on every row with it, as `train classifier` does for the kind.
      const labelled = { texts: trainData.texts, labels: labelsForModel(trainData.labels, model.classes) };
      const split = rnn.stratifiedSplit(labelled.labels, 0.1, 1);
      const pick = (idx: readonly number[]) => ({ texts: idx.map((i) => labelled.texts[i]!), labels: idx.map((i) => labelled.labels[i]!) });
      const common = { kind: 'tfidf-lr' as const, classes: [...model.classes], problem: model.problem, seed: 1 };
      const tuned = await rnn.fitLinearTextClassifier(pick(split.train), { ...common, validation: pick(split.holdout) });
      const l2 = tuned.config.training?.l2 as number | undefined;
      tuned.dispose();
      const lr = await rnn.fitLinearTextClassifier(labelled, { ...common, ...(l2 !== undefined ? { tfidf: { l2 } } : {}) });
      const m = rnn.classificationMetrics(model.classes, model.problem, truth, await classifyWithProgress(lr, rows.texts, {}, { what: 'scoring the baseline', quiet: o.json }));
      lr.dispose();
      baseline = { data: trainFile, l2: l2 ?? null, accuracy: m.accuracy, macroF1: m.macro.f1, microF1: m.micro.f1, seconds: (performance.now() - b0) / 1000 };
    }
    if (plot && metrics.confusionMatrix) {
      const { confusionChart, writeChart } = await import('../plots.js');
      await writeChart(confusionChart([...model.classes], metrics.confusionMatrix, { title: `${model.name.split('/').pop()} on ${data.split('/').pop()}` }), plot);
    }
    const { perClass, ...rest } = metrics;
    emit(
      o.json,
      { model: model.name, kind: model.kind, data, seconds, labels: model.classes, ...rest, perClass, thresholds: thresholdsShown ?? null, rocAuc: metrics.rocAuc ?? null, baseline, plot: plot && metrics.confusionMatrix ? plot : null },
      () => {
        println(`${model.name} (${model.kind}, ${model.problem}) on ${data} (${metrics.count} texts, ${(metrics.count / seconds).toFixed(0)} texts/s)`);
        const acc = model.problem === 'multi-label' ? 'subset accuracy' : 'accuracy';
        println(`${acc} ${fmt(metrics.accuracy)}  macro F1 ${fmt(metrics.macro.f1)}  micro F1 ${fmt(metrics.micro.f1)}${metrics.jaccard !== undefined ? `  Jaccard ${fmt(metrics.jaccard)}` : ''}${metrics.rocAuc !== undefined ? `  ROC-AUC ${fmt(metrics.rocAuc)}` : ''}`);
        if (metrics.truncated > 0) println(`${metrics.truncated} of ${metrics.count} texts were longer than the model reads at once (${model.maxLength} tokens) and were ${o.longTexts === 'chunks' ? 'read in chunks' : 'truncated'}`);
        const thresholds = thresholdsShown;
        println(
          table([
            ['class', 'precision', 'recall', 'F1', 'support', ...(thresholds ? ['threshold'] : [])],
            ...perClass.map((c, i) => [c.label, c.precision, c.recall, c.f1, c.support, ...(thresholds ? [thresholds[i]!] : [])]),
          ]),
        );
        if (metrics.confusionMatrix && model.classes.length <= 12) {
          println('confusion matrix (rows: actual, columns: predicted)');
          println(table([['', ...model.classes], ...model.classes.map((l, i) => [l, ...metrics.confusionMatrix![i]!.map(String)])]));
        }
        if (baseline) println(`baseline TF-IDF logistic regression (L2 ${baseline.l2 ?? 'default'} chosen on 10% of ${baseline.data}, refitted on all of it, ${baseline.seconds.toFixed(1)} s): ${acc} ${fmt(baseline.accuracy)}, macro F1 ${fmt(baseline.macroF1)}, micro F1 ${fmt(baseline.microF1)}`);
        if (plot && metrics.confusionMatrix) println(`plot written to ${plot}`);
        else if (plot) note('--plot: a confusion matrix needs a single-label model; none drawn');
      },
    );
  });
}
