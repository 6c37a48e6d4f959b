import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { defineAction, emit, println } from '../cli.js';
import { openEncoder } from '../encoder.js';
import { commonSchema, int, parseOptions } from '../options.js';
import { ItemProgress } from '../progress.js';
import { readTexts } from '../texts.js';
import { newCommand } from '../command-help.js';

/** Texts embedded per call: bounds memory and paces the progress bar. */
const SLICE = 256;

/**
 * Streams `{text, vector}` lines to `out` slice by slice, so memory stays bounded by one slice on
 * any number of texts. The lines go to a temporary file beside `out`, renamed over it only when
 * every text is written: an interrupted run never leaves a truncated file under the real name.
 */
async function embedToFile(
  encoder: Awaited<ReturnType<typeof openEncoder>>,
  texts: string[],
  out: string,
  round: (v: Float32Array) => number[],
  quiet: boolean,
): Promise<number> {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  const file = await open(tmp, 'w');
  const bar = new ItemProgress('embedding', texts.length, { quiet });
  let dim = 0;
  try {
    for (let s = 0; s < texts.length; s += SLICE) {
      const slice = texts.slice(s, s + SLICE);
      const vectors = await encoder.embed(slice);
      dim = vectors[0]?.length ?? dim;
      await file.write(slice.map((text, i) => `${JSON.stringify({ text, vector: round(vectors[i]!) })}\n`).join(''));
      bar.update(Math.min(texts.length, s + SLICE));
    }
    await file.sync();
    await file.close();
    await rename(tmp, out);
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  } finally {
    bar.stop();
  }
  return dim;
}

const schema = commonSchema.extend({
  file: z.string().optional(),
  out: z.string().optional(),
  encoder: z.string().optional(),
  digits: int(1, 9).default(6),
});

/** `seqlab embed`: sentence embeddings (Universal Sentence Encoder lite, 512-d, unit length). */
export function embedCommand(): Command {
  const cmd = newCommand('embed')
    .argument('[text...]', 'texts to embed')
    .option('--file <file>', 'read texts from a file, one per line')
    .option('--out <file>', 'stream one JSON line {text, vector} per text to this file (any number of texts; progress on stderr)')
    .option('--encoder <dir>', 'encoder model directory (default: the bundled USE-lite)')
    .option('--digits <n>', 'decimal digits kept in printed vectors', '6');
  return defineAction(cmd, async ({ args, opts }) => {
    const o = parseOptions(schema, opts);
    const texts = await readTexts((args[0] as string[] | undefined) ?? [], o.file);
    const encoder = await openEncoder(o.encoder);
    try {
      const round = (v: Float32Array) => Array.from(v, (x) => Number(x.toFixed(o.digits)));
      if (o.out) {
        const out = resolve(o.out);
        const dim = await embedToFile(encoder, texts, out, round, o.json);
        emit(o.json, { dim, count: texts.length, out }, () => println(`wrote ${texts.length} embeddings (${dim} values each) to ${out}`));
        return;
      }
      const vectors = await encoder.embed(texts);
      const dim = vectors[0]?.length ?? 0;
      emit(
        o.json,
        { dim, count: texts.length, out: null, embeddings: texts.map((text, i) => ({ text, vector: round(vectors[i]!) })) },
        () => {
          for (let i = 0; i < texts.length; i++) {
            const v = vectors[i]!;
            const head = Array.from(v.subarray(0, 6), (x) => x.toFixed(4)).join(', ');
            println(`${texts[i]}\n  [${head}, ...] (${dim} values)`);
          }
        },
      );
    } finally {
      encoder.dispose();
    }
  });
}
