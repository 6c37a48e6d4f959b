import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, fmt, println } from '../cli.js';
import { modelSpec } from '../models.js';
import { commonSchema, existingFile, int, parseOptions, positiveInt } from '../options.js';

const schema = commonSchema.extend({
  model: z.string().optional(),
  data: z.string(),
  seqLen: int(2, 10_000).default(100),
  context: int(0, 10_000).default(50),
  maxChars: positiveInt.optional(),
});

/** `seqlab evaluate lm`: per-character loss, bits per character and perplexity of a text. */
export function evaluateLmCommand(): Command {
  const cmd = new Command('lm')
    .description('score a character language model on a text file: nats and bits per character, perplexity, accuracy')
    .option('--model <name|dir>', 'model name or directory (default: the committed character model)')
    .requiredOption('--data <file>', 'UTF-8 text file')
    .option('--seq-len <n>', 'characters scored per window', '100')
    .option('--context <n>', 'characters of unscored history before each window', '50')
    .option('--max-chars <n>', 'score only the first N characters');
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const data = existingFile(o.data, '--data');
    const { evaluate } = await import('@seqlab/tasks');
    const model = modelSpec(o.model, 'text-generation');
    const r = await evaluate('text-generation', model, data, { seqLength: o.seqLen, context: o.context, ...(o.maxChars !== undefined ? { maxChars: o.maxChars } : {}) });
    const result = {
      model: r.model,
      data,
      characters: r.characters,
      lossNats: r.lossNats,
      bitsPerChar: r.bitsPerChar,
      perplexity: r.perplexity,
      accuracy: r.accuracy,
      unknownCharacters: r.unknownCharacters,
      seconds: r.seconds,
    };
    emit(o.json, result, () => {
      println(`${r.model} on ${data} (${r.characters} characters scored)`);
      println(`loss ${fmt(r.lossNats)} nats/char = ${fmt(r.bitsPerChar)} bits/char, perplexity ${fmt(r.perplexity)}, next-char accuracy ${fmt(r.accuracy)}`);
      if (r.unknownCharacters.length) println(`note: ${r.unknownCharacters.length} characters are not in the model's vocabulary and were mapped to a fallback`);
    });
  });
}
