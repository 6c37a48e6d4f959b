import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import type { TextClassificationPipeline, TextClassificationResult } from '@seqlab/tasks';
import { defineAction, note, println } from '../cli.js';
import { InputError, UsageError } from '../errors.js';
import { classifyWithProgress } from '../classifying.js';
import { modelSpec } from '../models.js';
import { commonSchema, existingFile, int, oneOf, parseOptions } from '../options.js';
import { ItemProgress } from '../progress.js';
import { countTextLines, textLineBatches } from '../text-lines.js';
import { readTexts } from '../texts.js';
import { topWords } from './sentiment.js';
import { newCommand } from '../command-help.js';

const schema = commonSchema.extend({
  model: z.string().optional(),
  file: z.string().optional(),
  explain: z.boolean().default(false),
  top: int(1, 100).default(5),
  labels: int(1, 1000).default(3),
  longTexts: oneOf(['truncate', 'chunks'] as const, 'one of').optional(),
});
type Options = z.infer<typeof schema>;

/** Texts per prediction call when a file or stdin is streamed. */
const SLICE = 256;

/** `seqlab classify`: label texts with any text classifier (multi-class, multi-label, sentiment). */
export function classifyCommand(): Command {
  const cmd = newCommand('classify')
    .argument('[text...]', 'texts to classify')
    .option('--model <name|dir>', 'model name or directory (default: the committed sentiment model)')
    .option('--file <file>', 'read texts from a file, one per line')
    .option('--labels <n>', 'classes shown per text with their scores', '3')
    .option('--long-texts <how>', "texts longer than the model reads: truncate | chunks (default: the model's setting)")
    .option('--explain', 'show the words the attention layer weighed most (recurrent models; multi-label: also the words that raised each predicted label most)')
    .option('--top <n>', 'words shown by --explain', '5');
  return defineAction(cmd, async ({ args, opts }) => {
    const o = parseOptions(schema, opts);
    const texts = (args[0] as string[] | undefined) ?? [];
    if (texts.length > 0 && o.file) throw new UsageError('give texts as arguments or with --file, not both');
    if (texts.length === 0 && !o.file && process.stdin.isTTY) throw new UsageError('no text given: pass it as an argument, with --file F, or on stdin');
    const file = o.file ? existingFile(o.file, '--file') : undefined;
    // The pipeline entry alone: a linear model then classifies without TensorFlow.js being loaded.
    const { pipeline } = await import('@seqlab/tasks/pipeline');
    const model = await pipeline('text-classification', modelSpec(o.model, 'text-classification'));
    try {
      if (o.explain && !model.explains) throw new UsageError(`--explain needs a recurrent attention model; "${model.name}" is a ${model.kind} model without attention weights`);
      const out = resultWriter(model, o);
      const predictOptions = o.longTexts ? { longTexts: o.longTexts } : {};
      if (texts.length > 0) {
        const given = await readTexts(texts, undefined);
        out.write(given, await classifyWithProgress(model, given, predictOptions, { what: 'classifying', quiet: o.json }));
      } else await classifyStream(model, file, o, (batch, predictions) => out.write(batch, predictions));
      out.end();
    } finally {
      model.dispose();
    }
  });
}

/** Classifies the lines of `file` (or stdin) slice by slice, each slice's results written before the next is read. */
async function classifyStream(
  model: TextClassificationPipeline,
  file: string | undefined,
  o: Options,
  write: (texts: string[], predictions: TextClassificationResult[]) => void,
): Promise<void> {
  const total = file ? await countTextLines(file) : 0;
  const bar = total > SLICE ? new ItemProgress('classifying', total, { quiet: o.json }) : undefined;
  let done = 0;
  try {
    const input = file ? createReadStream(file) : process.stdin;
    for await (const batch of textLineBatches(input, file ? `--file ${file}` : 'stdin', SLICE)) {
      write(batch, await model.predict(batch, o.longTexts ? { longTexts: o.longTexts } : {}));
      done += batch.length;
      bar?.update(done);
    }
  } finally {
    bar?.stop();
  }
}

/** One text's result as printed (and as `--json` lists it). */
function resultRow(text: string, p: TextClassificationResult, o: Options) {
  return {
    text,
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
  };
}

/**
 * Writes results as they come: human lines, or one JSON document whose `results` list is
 * written row by row (so memory does not hold them all); `end` closes it, or reports empty input.
 */
function resultWriter(model: TextClassificationPipeline, o: Options): { write: (texts: string[], predictions: TextClassificationResult[]) => void; end: () => void } {
  let count = 0;
  let truncated = 0;
  const thresholds = model.thresholds ? Object.fromEntries(model.classes.map((c, i) => [c, model.thresholds![i]!])) : null;
  const write = (texts: string[], predictions: TextClassificationResult[]): void => {
    const rows = predictions.map((p, i) => resultRow(texts[i]!, p, o));
    if (o.json) {
      if (count === 0) {
        const head = JSON.stringify({ model: model.name, kind: model.kind, problem: model.problem, classes: model.classes, thresholds }, null, 2);
        process.stdout.write(`${head.slice(0, -2)},\n  "results": [\n`);
      }
      const body = rows.map((r) => JSON.stringify(r, null, 2).replace(/^/gm, '    ')).join(',\n');
      process.stdout.write(`${count > 0 ? ',\n' : ''}${body}`);
    } else printRows(rows, model);
    count += rows.length;
    truncated += rows.filter((r) => r.truncated).length;
  };
  const end = (): void => {
    if (count === 0) throw new InputError('no text found: the input is empty');
    if (o.json) process.stdout.write(`\n  ],\n  "truncated": ${truncated}\n}\n`);
    else if (truncated > 0) {
      note(`${truncated} of ${count} texts were longer than the model reads at once (${model.maxLength} tokens) and were ${o.longTexts === 'chunks' ? 'read in chunks whose scores were averaged' : 'truncated; --long-texts chunks reads them whole'}`);
    }
  };
  return { write, end };
}

function printRows(rows: ReturnType<typeof resultRow>[], model: TextClassificationPipeline): void {
  const shown = (r: ReturnType<typeof resultRow>) => (model.problem === 'multi-label' ? r.predicted.join(',') || '(none)' : r.label);
  const width = Math.max(...rows.map((r) => (model.problem === 'multi-label' ? r.predicted.join(',') : r.label).length), 1);
  for (const r of rows) {
    const others = r.labels.filter((l) => l.label !== r.label).map((l) => `${l.label} ${l.score.toFixed(3)}`);
    println(`${shown(r).padEnd(width)}  ${r.score.toFixed(3)}  ${r.truncated ? '[truncated] ' : ''}${r.text}${others.length ? `   (${others.join(', ')})` : ''}`);
    if (r.explanation) println(`${' '.repeat(width + 9)}weighed most: ${r.explanation.map((w) => `${w.word} (${w.weight.toFixed(2)})`).join(', ')}`);
    for (const l of r.labelExplanations ?? []) println(`${' '.repeat(width + 9)}${l.label}: ${l.words.map((w) => `${w.word} (${w.contribution >= 0 ? '+' : ''}${w.contribution.toFixed(2)})`).join(', ')}`);
  }
}
