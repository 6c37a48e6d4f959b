import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, fmt, println, table } from '../cli.js';
import { LABELS, readLabelledTsv } from '../labelled.js';
import { modelSpec } from '../models.js';
import { commonSchema, existingFile, parseOptions, plotPath, positiveInt } from '../options.js';

const schema = commonSchema.extend({
  model: z.string().optional(),
  data: z.string(),
  textCol: z.string().default('sentence'),
  labelCol: z.string().default('label'),
  limit: positiveInt.optional(),
  plot: z.string().optional(),
});

/** `seqlab evaluate classifier`: accuracy, precision/recall/F1, ROC-AUC and the confusion matrix. */
export function evaluateClassifierCommand(): Command {
  const cmd = new Command('classifier')
    .description('score a sentiment classifier on a labelled TSV: accuracy, per-class precision/recall/F1, ROC-AUC, confusion matrix')
    .option('--model <name|dir>', 'model name or directory (default: the committed sentiment model)')
    .requiredOption('--data <file>', 'TSV with a header row, e.g. data/sst2/dev.tsv')
    .option('--text-col <name>', 'text column', 'sentence')
    .option('--label-col <name>', 'label column (0/1 or negative/positive)', 'label')
    .option('--limit <n>', 'score the first N rows only')
    .option('--plot <file>', 'draw the confusion matrix (.png or .svg)');
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    const plot = plotPath(o.plot);
    const rnn = await import('@seqlab/rnn');
    let { texts, labels } = readLabelledTsv(data, o.textCol, o.labelCol);
    if (o.limit) {
      texts = texts.slice(0, o.limit);
      labels = labels.slice(0, o.limit);
    }
    const { pipeline } = await import('@seqlab/tasks');
    const model = await pipeline('sentiment', modelSpec(o.model, 'sentiment'));
    const dir = model.name;
    let preds;
    const t0 = performance.now();
    try {
      preds = await model.predict(texts);
    } finally {
      model.dispose();
    }
    const seconds = (performance.now() - t0) / 1000;
    const yPred = preds.map((p) => (p.label === 'positive' ? 1 : 0));
    const report = rnn.classificationReport(labels, yPred, 2);
    const auc = new Set(labels).size === 2 ? rnn.rocAuc(labels, preds.map((p) => p.probabilities[1]!)) : null;
    if (plot) {
      const { confusionChart, writeChart } = await import('../plots.js');
      await writeChart(confusionChart([...LABELS], report.confusionMatrix, { title: `${dir.split('/').pop()} on ${data.split('/').pop()}` }), plot);
    }
    emit(
      o.json,
      { model: dir, data, count: texts.length, seconds, labels: LABELS, ...report, rocAuc: auc, plot: plot ?? null },
      () => {
        println(`${dir} on ${data} (${texts.length} texts, ${(texts.length / seconds).toFixed(0)} texts/s)`);
        println(`accuracy ${fmt(report.accuracy)}  macro F1 ${fmt(report.macroF1)}${auc !== null ? `  ROC-AUC ${fmt(auc)}` : ''}`);
        println(table([['class', 'precision', 'recall', 'F1'], ...LABELS.map((l, i) => [l, report.precision[i]!, report.recall[i]!, report.f1[i]!])]));
        println('confusion matrix (rows: actual, columns: predicted)');
        println(table([['', ...LABELS], ...LABELS.map((l, i) => [l, ...report.confusionMatrix[i]!.map(String)])]));
        if (plot) println(`plot written to ${plot}`);
      },
    );
  });
}
