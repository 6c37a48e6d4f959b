import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, note, println } from '../cli.js';
import { UsageError } from '../errors.js';
import { classifyWithProgress } from '../classifying.js';
import { modelSpec } from '../models.js';
import { commonSchema, int, oneOf, parseOptions } from '../options.js';
import { readTexts } from '../texts.js';
import { topWords } from './sentiment.js';

const schema = commonSchema.extend({
  model: z.string().optional(),
  file: z.string().optional(),
  explain: z.boolean().default(false),
  top: int(1, 100).default(5),
  labels: int(1, 1000).default(3),
  longTexts: oneOf(['truncate', 'chunks'] as const, 'one of').optional(),
});

/** `seqlab classify`: label texts with any text classifier (multi-class, multi-label, sentiment). */
export function classifyCommand(): Command {
  const cmd = new Command('classify')
    .description('classify texts with any text classifier (arguments, --file, or stdin; one text per line)')
    .argument('[text...]', 'texts to classify')
    .option('--model <name|dir>', 'model name or directory (default: the committed sentiment model)')
    .option('--file <file>', 'read texts from a file, one per line')
    .option('--labels <n>', 'classes shown per text with their scores', '3')
    .option('--long-texts <how>', "texts longer than the model reads: truncate | chunks (default: the model's setting)")
    .option('--explain', 'show the words the attention layer weighed most (recurrent models; multi-label: also the words that raised each predicted label most)')
    .option('--top <n>', 'words shown by --explain', '5');
  return defineAction(cmd, async ({ args, opts }) => {
    const o = parseOptions(schema, opts);
    const texts = await readTexts((args[0] as string[] | undefined) ?? [], o.file);
    const { pipeline } = await import('@seqlab/tasks');
    const model = await pipeline('text-classification', modelSpec(o.model, 'text-classification'));
    try {
      if (o.explain && !model.explains) throw new UsageError(`--explain needs a recurrent attention model; "${model.name}" is a ${model.kind} model without attention weights`);
      const predictions = await classifyWithProgress(model, texts, o.longTexts ? { longTexts: o.longTexts } : {}, { what: 'classifying', quiet: o.json });
      const results = predictions.map((p, i) => ({
        text: texts[i]!,
        label: p.label,
        score: p.score,
        predicted: p.predicted,
        labels: p.labels.slice(0, o.labels),
        truncated: p.truncated,
        ...(o.explain ? { explanation: topWords(p.tokens ?? [], o.top) } : {}),
        // Multi-label: the words that pushed each predicted label up most (shares of its logit).
        ...(o.explain && p.labelTokens
          ? { labelExplanations: p.labelTokens.map((l) => ({ label: l.label, words: topWords(l.tokens.map((t) => ({ ...t, weight: t.contribution })), o.top).map((w) => ({ word: w.word, contribution: w.weight })) })) }
          : {}),
      }));
      const truncated = results.filter((r) => r.truncated).length;
      const thresholds = model.thresholds ? Object.fromEntries(model.classes.map((c, i) => [c, model.thresholds![i]!])) : null;
      emit(o.json, { model: model.name, kind: model.kind, problem: model.problem, classes: model.classes, thresholds, truncated, results }, () => {
        const width = Math.max(...results.map((r) => (model.problem === 'multi-label' ? r.predicted.join(',') : r.label).length), 1);
        for (const r of results) {
          const shown = model.problem === 'multi-label' ? r.predicted.join(',') || '(none)' : r.label;
          const others = r.labels.filter((l) => l.label !== r.label).map((l) => `${l.label} ${l.score.toFixed(3)}`);
          println(`${shown.padEnd(width)}  ${r.score.toFixed(3)}  ${r.truncated ? '[truncated] ' : ''}${r.text}${others.length ? `   (${others.join(', ')})` : ''}`);
          if (r.explanation) println(`${' '.repeat(width + 9)}weighed most: ${r.explanation.map((w) => `${w.word} (${w.weight.toFixed(2)})`).join(', ')}`);
          for (const l of r.labelExplanations ?? []) println(`${' '.repeat(width + 9)}${l.label}: ${l.words.map((w) => `${w.word} (${w.contribution >= 0 ? '+' : ''}${w.contribution.toFixed(2)})`).join(', ')}`);
        }
        if (truncated > 0) {
          note(`${truncated} of ${results.length} texts were longer than the model reads at once (${model.maxLength} tokens) and were ${o.longTexts === 'chunks' ? 'read in chunks whose scores were averaged' : 'truncated; --long-texts chunks reads them whole'}`);
        }
      });
    } finally {
      model.dispose();
    }
  });
}
