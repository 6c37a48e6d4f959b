import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, fmt, println } from '../cli.js';
import { InputError } from '../errors.js';
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
    const rnn = await import('@seqlab/rnn');
    const { pipeline } = await import('@seqlab/tasks');
    const lm = await pipeline('text-generation', modelSpec(o.model, 'text-generation'));
    const dir = lm.name;
    const vocab = lm.vocabulary;
    let text = readFileSync(data, 'utf8');
    if (o.maxChars) text = text.slice(0, o.maxChars);
    const unknown = new Set([...text].filter((c) => !vocab.chars.includes(c)));
    const ids = vocab.encode(text);
    if (ids.length < o.seqLen + 2) lm.dispose();
    if (ids.length < o.seqLen + 2) throw new InputError(`--data: ${ids.length} characters are fewer than --seq-len ${o.seqLen} + 2`);
    const model = lm.languageModel;
    try {
      const t0 = performance.now();
      const source = rnn.languageModelData(ids, { sequenceLength: o.seqLen, batchSize: 64, context: o.context, shuffle: false });
      const r = rnn.evaluate(model, source, { output: 'logits' });
      const result = {
        model: dir,
        data,
        characters: r.count,
        lossNats: r.loss,
        bitsPerChar: r.loss / Math.LN2,
        perplexity: Math.exp(r.loss),
        accuracy: r.accuracy,
        unknownCharacters: [...unknown],
        seconds: (performance.now() - t0) / 1000,
      };
      emit(o.json, result, () => {
        println(`${dir} on ${data} (${r.count} characters scored)`);
        println(`loss ${fmt(result.lossNats)} nats/char = ${fmt(result.bitsPerChar)} bits/char, perplexity ${fmt(result.perplexity)}, next-char accuracy ${fmt(result.accuracy)}`);
        if (unknown.size) println(`note: ${unknown.size} characters are not in the model's vocabulary and were mapped to a fallback`);
      });
    } finally {
      lm.dispose();
    }
  });
}
