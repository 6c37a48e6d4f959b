import type { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, println } from '../cli.js';
import { openEncoder } from '../encoder.js';
import { UsageError } from '../errors.js';
import { commonSchema, parseOptions, positiveInt } from '../options.js';
import { readTexts } from '../texts.js';
import { newCommand } from '../command-help.js';

const schema = commonSchema.extend({
  file: z.string().optional(),
  top: positiveInt.default(5),
  encoder: z.string().optional(),
});

/** `seqlab similar`: rank texts by semantic similarity to a query. */
export function similarCommand(): Command {
  const cmd = newCommand('similar')
    .argument('<query>', 'the text to compare against')
    .argument('[candidates...]', 'texts to rank')
    .option('--file <file>', 'read candidate texts from a file, one per line')
    .option('--top <k>', 'number of matches to show', '5')
    .option('--encoder <dir>', 'encoder model directory (default: the bundled USE-lite)');
  return defineAction(cmd, async ({ args, opts }) => {
    const o = parseOptions(schema, opts);
    const query = String(args[0] ?? '').trim();
    if (!query) throw new UsageError('the query must not be empty');
    const candidates = await readTexts((args[1] as string[] | undefined) ?? [], o.file, 'candidate text');
    const encoder = await openEncoder(o.encoder);
    try {
      await encoder.index(candidates);
      const hits = await encoder.search(query, Math.min(o.top, candidates.length));
      emit(o.json, { query, count: candidates.length, matches: hits }, () => {
        for (const h of hits) println(`${h.score.toFixed(3)}  ${h.text}`);
      });
    } finally {
      encoder.dispose();
    }
  });
}
