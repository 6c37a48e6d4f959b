import type { Command } from 'commander';
import { z } from 'zod';
import { collect, defineAction, emit, note } from '../cli.js';
import { InterruptedError } from '../errors.js';
import { modelSpec } from '../models.js';
import { promptSchema } from '../texts.js';
import { commonSchema, int, nonNegative, parseOptions, positive, positiveInt, probability, seed } from '../options.js';
import { newCommand } from '../command-help.js';

const schema = commonSchema.extend({
  model: z.string().optional(),
  prompt: promptSchema,
  maxTokens: int(1, 100_000).default(200),
  temperature: nonNegative.default(0.8),
  topK: positiveInt.optional(),
  topP: probability.optional(),
  beam: int(1, 64).default(1),
  repetitionPenalty: positive.optional(),
  stop: z.array(z.string()).optional(),
  seed: seed.optional(),
  echo: z.boolean().default(false),
});

/** `seqlab generate`: stream text from a language model. */
export function generateCommand(): Command {
  const cmd = newCommand('generate')
    .option('--model <name|dir>', 'model name or directory (default: the committed character model)')
    .requiredOption('--prompt <text>', 'text to continue')
    .option('--max-tokens <n>', 'tokens to generate', '200')
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', '0.8')
    .option('--top-k <k>', 'sample only from the k most likely tokens')
    .option('--top-p <p>', 'nucleus sampling: smallest set of tokens with probability >= p')
    .option('--beam <b>', 'beam-search width (1 = sampling; >1 prints the best beam when done)', '1')
    .option('--repetition-penalty <r>', 'divide logits of already generated tokens by r (>1 discourages repeats)')
    .option('--stop <text>', 'stop when this text is generated (repeatable)', collect)
    .option('--seed <n>', 'random seed; the same seed gives the same text')
    .option('--echo', 'print the prompt before the generated text');
  return defineAction(cmd, async ({ opts }) => {
    const o = parseOptions(schema, opts);
    const { pipeline } = await import('@seqlab/tasks');
    const generator = await pipeline('text-generation', modelSpec(o.model, 'text-generation'));
    const dir = generator.name;
    const options = {
      maxTokens: o.maxTokens,
      temperature: o.temperature,
      topK: o.topK,
      topP: o.topP,
      beam: o.beam,
      repetitionPenalty: o.repetitionPenalty,
      stop: o.stop,
      // A seed is always used (and reported with --json / --verbose) so any output can be reproduced.
      seed: o.seed ?? Math.floor(Math.random() * 2 ** 31),
    };
    try {
      if (o.json) {
        const t0 = performance.now();
        const out = await generator.generate(o.prompt, options);
        const seconds = (performance.now() - t0) / 1000;
        emit(true, { model: dir, prompt: o.prompt, text: out.text, tokens: out.tokens, seconds, options }, () => {});
        return;
      }
      // Ctrl-C stops generation between tokens; what was printed stays printed.
      let interrupted = false;
      const onSigint = () => (interrupted = true);
      process.once('SIGINT', onSigint);
      try {
        if (o.echo) process.stdout.write(o.prompt);
        let count = 0;
        const t0 = performance.now();
        for await (const piece of generator.stream(o.prompt, options)) {
          process.stdout.write(piece);
          count++;
          if (interrupted) break;
        }
        process.stdout.write('\n');
        if (o.verbose) {
          const s = (performance.now() - t0) / 1000;
          note(`${count} pieces in ${s.toFixed(2)}s (${(count / s).toFixed(1)}/s) from ${dir}, seed ${options.seed}`);
        }
        if (interrupted) throw new InterruptedError('generation interrupted');
      } finally {
        process.off('SIGINT', onSigint);
      }
    } finally {
      generator.dispose();
    }
  });
}
