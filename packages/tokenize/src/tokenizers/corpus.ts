import { describe } from '../normalize.js';
import { BadInputError } from '@seqlab/core/base';

/** Iterates lines of a sync or async iterable, rejecting non-strings with their position. */
export async function* lines(corpus: Iterable<string> | AsyncIterable<string>, what: string): AsyncGenerator<string> {
  if (typeof corpus === 'string') throw new BadInputError(`${what}: corpus must be an iterable of lines, not a single string`);
  if (corpus === null || typeof corpus !== 'object' || !(Symbol.iterator in corpus || Symbol.asyncIterator in corpus)) {
    throw new BadInputError(`${what}: corpus must be an iterable or async iterable of strings, got ${describe(corpus)}`);
  }
  let k = 0;
  for await (const line of corpus as AsyncIterable<string>) {
    if (typeof line !== 'string') throw new BadInputError(`${what}: corpus item ${k} must be a string, got ${describe(line)}`);
    yield line;
    k++;
  }
}

/** Splits code points of `word` (surrogate pairs kept whole). */
export function codePoints(word: string): string[] {
  return Array.from(word);
}
