import { resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, println } from '../cli.js';
import { openEncoder } from '../encoder.js';
import { commonSchema, int, parseOptions } from '../options.js';
import { readTexts } from '../texts.js';

const schema = commonSchema.extend({
  file: z.string().optional(),
  out: z.string().optional(),
  encoder: z.string().optional(),
  digits: int(1, 9).default(6),
});

/** `seqlab embed`: sentence embeddings (Universal Sentence Encoder lite, 512-d, unit length). */
export function embedCommand(): Command {
  const cmd = new Command('embed')
    .description('embed texts as 512-d unit vectors with the Universal Sentence Encoder (offline)')
    .argument('[text...]', 'texts to embed')
    .option('--file <file>', 'read texts from a file, one per line')
    .option('--out <file>', 'write one JSON line {text, vector} per text to this file')
    .option('--encoder <dir>', 'encoder model directory (default: the bundled USE-lite)')
    .option('--digits <n>', 'decimal digits kept in printed vectors', '6');
  return defineAction(cmd, async ({ args, opts }) => {
    const o = parseOptions(schema, opts);
    const texts = await readTexts((args[0] as string[] | undefined) ?? [], o.file);
    const encoder = await openEncoder(o.encoder);
    try {
      const vectors = await encoder.embed(texts);
      const round = (v: Float32Array) => Array.from(v, (x) => Number(x.toFixed(o.digits)));
      if (o.out) {
        const { writeFileAtomic } = await import('@seqlab/core');
        const body = texts.map((text, i) => JSON.stringify({ text, vector: round(vectors[i]!) })).join('\n');
        await writeFileAtomic(resolve(o.out), `${body}\n`);
      }
      const dim = vectors[0]?.length ?? 0;
      emit(
        o.json,
        {
          dim,
          count: texts.length,
          out: o.out ? resolve(o.out) : null,
          ...(o.out ? {} : { embeddings: texts.map((text, i) => ({ text, vector: round(vectors[i]!) })) }),
        },
        () => {
          for (let i = 0; i < texts.length; i++) {
            const v = vectors[i]!;
            const head = Array.from(v.subarray(0, 6), (x) => x.toFixed(4)).join(', ');
            println(`${texts[i]}\n  [${head}, ...] (${dim} values)`);
          }
          if (o.out) println(`wrote ${texts.length} embeddings to ${resolve(o.out)}`);
        },
      );
    } finally {
      encoder.dispose();
    }
  });
}
