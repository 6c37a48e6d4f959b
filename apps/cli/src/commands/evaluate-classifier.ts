import { basename } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, fmt, note, println, table } from '../cli.js';
import { requireHeaderDecision } from '../labelled.js';
import { modelSpec } from '../models.js';
import { commonSchema, existingFile, oneOf, parseOptions, plotPath, positiveInt, seed } from '../options.js';
import { ItemProgress } from '../progress.js';

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

/** `seqlab evaluate classifier`: evaluate('text-classification') printed: per-class metrics, averages, confusion matrix, ROC-AUC, truncations; optionally beside a TF-IDF baseline. */
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
    .option('--long-texts <how>', "texts longer than the model reads: truncate | chunks (default: the model's setting)")
    .option('--baseline', 'also fit a TF-IDF logistic regression on the training data and print it beside the model')
    .option('--baseline-data <file>', 'training data of --baseline (default: the file the model was trained on)')
    .option('--plot <file>', 'draw the confusion matrix (.png or .svg)');
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    const plot = plotPath(o.plot);
    const { evaluate, peekLabelledFile } = await import('@seqlab/tasks');
    const columns = { ...(o.textCol ? { textColumn: o.textCol } : {}), ...(o.labelCol ? { labelColumn: o.labelCol } : {}) };
    const header = o.header === false ? { header: false } : {};
    // Only the first rows: the file itself is streamed by evaluate().
    requireHeaderDecision(data, await peekLabelledFile(data, { ...columns, ...header }), o.header);
    const baseline = o.baselineData ? existingFile(o.baselineData, '--baseline-data') : o.baseline;
    let bar: ItemProgress | undefined;
    let e;
    try {
      e = await evaluate('text-classification', modelSpec(o.model, 'text-classification'), data, {
        ...columns,
        ...header,
        ...(o.limit ? { limit: o.limit, seed: o.seed } : {}),
        ...(o.longTexts ? { longTexts: o.longTexts } : {}),
        ...(baseline ? { baseline } : {}),
        onProgress: (p) => {
          // A bar only for long files: short ones finish before it would draw.
          if (p.type !== 'items' || p.total <= 256) return;
          bar ??= new ItemProgress('scoring', p.total, { quiet: o.json });
          bar.update(p.done);
        },
      });
    } finally {
      bar?.stop();
    }
    const m = e.metrics;
    const cm = m.confusionMatrix;
    if (plot && cm) {
      const { confusionChart, writeChart } = await import('../plots.js');
      await writeChart(confusionChart(e.classes, cm, { title: `${basename(e.model)} on ${basename(data)}` }), plot);
    }
    const { perClass, ...rest } = m;
    const json = { model: e.model, kind: e.kind, data, seconds: e.seconds, labels: e.classes, ...rest, perClass, thresholds: e.thresholds, rocAuc: m.rocAuc ?? null, baseline: e.baseline, plot: plot && cm ? plot : null };
    emit(o.json, json, () => {
      println(`${e.model} (${e.kind}, ${e.problem}) on ${data} (${m.count} texts, ${(m.count / e.seconds).toFixed(0)} texts/s)`);
      const acc = e.problem === 'multi-label' ? 'subset accuracy' : 'accuracy';
      const extra = `${m.jaccard !== undefined ? `  Jaccard ${fmt(m.jaccard)}` : ''}${m.rocAuc !== undefined ? `  ROC-AUC ${fmt(m.rocAuc)}` : ''}`;
      println(`${acc} ${fmt(m.accuracy)}  macro F1 ${fmt(m.macro.f1)}  micro F1 ${fmt(m.micro.f1)}${extra}`);
      if (m.truncated > 0) println(`${m.truncated} of ${m.count} texts were longer than the model reads at once (${e.maxLength} tokens) and were ${o.longTexts === 'chunks' ? 'read in chunks' : 'truncated'}`);
      const t = e.thresholds;
      println(table([['class', 'precision', 'recall', 'F1', 'support', ...(t ? ['threshold'] : [])], ...perClass.map((c, i) => [c.label, c.precision, c.recall, c.f1, c.support, ...(t ? [t[i]!] : [])])]));
      if (cm && e.classes.length <= 12) {
        println('confusion matrix (rows: actual, columns: predicted)');
        println(table([['', ...e.classes], ...e.classes.map((l, i) => [l, ...cm[i]!.map(String)])]));
      }
      const b = e.baseline;
      if (b) println(`baseline TF-IDF logistic regression (L2 ${b.l2 ?? 'default'} chosen on 10% of ${b.data}, refitted on all of it, ${b.seconds.toFixed(1)} s): ${acc} ${fmt(b.accuracy)}, macro F1 ${fmt(b.macroF1)}, micro F1 ${fmt(b.microF1)}`);
      if (plot && cm) println(`plot written to ${plot}`);
      else if (plot) note('--plot: a confusion matrix needs a single-label model; none drawn');
    });
  });
}
