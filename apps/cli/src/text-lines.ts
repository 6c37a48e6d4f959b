import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { InputError } from './errors.js';

/**
 * The non-empty lines of a stream (a `--file` or stdin), trimmed, `batchSize` at a time, read as
 * they are consumed, so a file of any size is worked through in flat memory. A NUL byte (a
 * binary file) is refused naming the line.
 */
export async function* textLineBatches(input: Readable, source: string, batchSize: number, what = 'text'): AsyncGenerator<string[]> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let batch: string[] = [];
  let n = 0;
  try {
    for await (const raw of lines) {
      n++;
      if (raw.includes('\u0000')) throw new InputError(`${source}: line ${n}: looks like a binary file (it contains NUL bytes); give a text file with one ${what} per line`);
      const line = raw.trim();
      if (line.length === 0) continue;
      batch.push(line);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    lines.close();
  }
}

/** Non-empty lines of a file, counted in chunks without keeping them (the total of a progress bar). */
export async function countTextLines(file: string): Promise<number> {
  let n = 0;
  let blank = true;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (const byte of chunk) {
      if (byte === 10) {
        if (!blank) n++;
        blank = true;
      } else if (byte !== 13 && byte !== 32 && byte !== 9) blank = false;
    }
  }
  return blank ? n : n + 1;
}
