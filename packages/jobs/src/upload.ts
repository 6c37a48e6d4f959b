/**
 * Job data sent with the request: streamed to a file under a size limit, so the service never
 * holds an upload in memory and a worker on another machine can read it from the shared folder.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pipeline as pipeStreams } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { BadInputError, LimitExceededError } from '@seqlab/core';

/** Options of {@link saveUpload}. */
export interface SaveUploadOptions {
  /** The folder uploads go to (shared with the workers when jobs run on Redis). */
  dir: string;
  /** The largest upload accepted, in bytes. */
  maxBytes: number;
  /** The file's extension (`.csv`, `.txt`, `.jsonl`): the trainers read a file by it. Default none. */
  extension?: string;
}

/** A saved upload. */
export interface SavedUpload {
  path: string;
  bytes: number;
}

/**
 * Streams `source` (an HTTP request body) to a new file in `options.dir`. The file appears
 * under its final name only once complete; an upload over the limit is stopped, removed and
 * refused.
 *
 * @throws LimitExceededError (`details.limit` = `maxUploadBytes`) for an upload over the limit.
 * @throws BadInputError for an empty upload or a bad extension.
 */
export async function saveUpload(source: Readable | AsyncIterable<Uint8Array>, options: SaveUploadOptions): Promise<SavedUpload> {
  const extension = options.extension ?? '';
  if (extension !== '' && !/^\.[A-Za-z0-9]{1,10}$/.test(extension)) throw new BadInputError(`upload: bad file extension "${extension}"`);
  await fs.mkdir(options.dir, { recursive: true });
  const id = randomUUID();
  const partial = path.join(options.dir, `.${id}.part`);
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) {
        done(new LimitExceededError(`upload: data over the limit of ${options.maxBytes} bytes`, { details: { limit: 'maxUploadBytes', max: options.maxBytes } }));
        return;
      }
      done(null, chunk);
    },
  });
  try {
    await pipeStreams(source, limit, createWriteStream(partial, { flags: 'wx' }));
    if (bytes === 0) throw new BadInputError('upload: the data is empty');
  } catch (err) {
    await fs.rm(partial, { force: true });
    throw err;
  }
  const final = path.join(options.dir, `${id}${extension}`);
  await fs.rename(partial, final);
  return { path: final, bytes };
}
