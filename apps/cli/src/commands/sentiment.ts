import type { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, println } from '../cli.js';
import { UsageError } from '../errors.js';
import { modelSpec } from '../models.js';
import { commonSchema, int, parseOptions } from '../options.js';
import { readTexts } from '../texts.js';
import { newCommand } from '../command-help.js';

const schema = commonSchema.extend({
  model: z.string().optional(),
  file: z.string().optional(),
  explain: z.boolean().default(false),
  top: int(1, 100).default(5),
});

interface TokenWeight {
  text: string;
  start: number;
  end: number;
  weight: number;
}

/** The `top` tokens with the most attention weight, merged by word. */
export function topWords(tokens: TokenWeight[], top: number): { word: string; weight: number }[] {
  const byWord = new Map<string, number>();
  for (const t of tokens) {
    const word = t.text.trim();
    if (!word || !/[\p{L}\p{N}]/u.test(word)) continue;
    byWord.set(word, (byWord.get(word) ?? 0) + t.weight);
  }
  return [...byWord.entries()]
    .map(([word, weight]) => ({ word, weight }))
    .sort((a, b) => b.weight - a.weight)
    .slice(0, top);
}

/** `seqlab sentiment`: label texts as positive or negative. */
export function sentimentCommand(): Command {
  const cmd = newCommand('sentiment')
    .argument('[text...]', 'texts to classify')
    .option('--model <name|dir>', 'model name or directory (default: the committed sentiment model)')
    .option('--file <file>', 'read texts from a file, one per line')
    .option('--explain', 'show the words the attention layer weighed most')
    .option('--top <n>', 'words shown by --explain', '5');
  return defineAction(cmd, async ({ args, opts }) => {
    const o = parseOptions(schema, opts);
    const texts = await readTexts((args[0] as string[] | undefined) ?? [], o.file);
    const { pipeline } = await import('@seqlab/tasks');
    const model = await pipeline('sentiment', modelSpec(o.model, 'sentiment'));
    if (o.explain && !model.explains) {
      model.dispose();
      throw new UsageError(`--explain needs a recurrent attention model; "${model.name}" is a ${model.kind} model without attention weights`);
    }
    try {
      const predictions = await model.predict(texts);
      const results = predictions.map((p, i) => ({
        text: texts[i]!,
        label: p.label,
        score: p.score,
        probabilities: p.probabilities,
        ...(o.explain ? { explanation: topWords(p.tokens ?? [], o.top) } : {}),
      }));
      emit(o.json, { model: model.name, kind: model.kind, results }, () => {
        const width = Math.max(...results.map((r) => r.label.length));
        for (const r of results) {
          println(`${r.label.padEnd(width)}  ${r.score.toFixed(3)}  ${r.text}`);
          if (r.explanation) println(`${' '.repeat(width + 9)}weighed most: ${r.explanation.map((w) => `${w.word} (${w.weight.toFixed(2)})`).join(', ')}`);
        }
      });
    } finally {
      model.dispose();
    }
  });
}
