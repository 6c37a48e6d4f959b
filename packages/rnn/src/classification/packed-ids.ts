/**
 * A recurrent classifier's training rows as ids packed in one typed array. Rows as `number[]`
 * cost 8 bytes an id plus an array per row: a 250,000-review corpus held them twice (whole and
 * cut to the model's length), about 800 MB, where packed int32 rows cut once take 180 MB.
 */
import type { TextVectorizer } from '@seqlab/tokenize';
import { keptRanges, type TruncationStrategy } from './long-texts.js';
import type { PackedCorpus } from './sparse.js';

/** Rows of ids: row `r` is `ids[offsets[r]..offsets[r+1])`. */
export interface PackedIds {
  ids: Int32Array;
  offsets: Int32Array;
}

/** The vectorizer's ids of every text (no BOS/EOS, no truncation), packed. */
export function encodePacked(vectorizer: TextVectorizer, texts: readonly string[]): PackedIds {
  const offsets = new Int32Array(texts.length + 1);
  let ids = new Int32Array(Math.max(16, texts.length * 64));
  let n = 0;
  for (let r = 0; r < texts.length; r++) {
    const row = vectorizer.encodeIds(texts[r]!);
    if (n + row.length > ids.length) {
      const grown = new Int32Array(Math.max(n + row.length, ids.length * 2));
      grown.set(ids.subarray(0, n));
      ids = grown;
    }
    for (let k = 0; k < row.length; k++) ids[n + k] = row[k]!;
    n += row.length;
    offsets[r + 1] = n;
  }
  return { ids, offsets };
}

/**
 * For each word of a packed corpus, its id in the vectorizer's vocabulary (UNK for words outside
 * it, and for text that spells a special token, as `encodeIds` reads them).
 */
export function vocabularyIds(corpus: PackedCorpus, vectorizer: TextVectorizer): Int32Array {
  const vocab = vectorizer.vocabulary;
  return Int32Array.from(corpus.words, (w) => {
    const id = vocab.tokenToId(w);
    return vocab.isSpecialId(id) ? vocab.unkId : id;
  });
}

/** Tokens per row. */
export function rowLengths(offsets: Int32Array): number[] {
  return Array.from({ length: offsets.length - 1 }, (_, r) => offsets[r + 1]! - offsets[r]!);
}

/**
 * Every row cut to `maxLength` as `truncation` keeps it ({@link keptRanges}), into an array of
 * exactly the kept ids; `rename` maps each id on the way (a corpus's word ids to vocabulary ids).
 */
export function cutRows(rows: PackedIds, maxLength: number, truncation: TruncationStrategy, rename?: Int32Array): PackedIds {
  const count = rows.offsets.length - 1;
  const offsets = new Int32Array(count + 1);
  for (let r = 0; r < count; r++) offsets[r + 1] = offsets[r]! + Math.min(maxLength, rows.offsets[r + 1]! - rows.offsets[r]!);
  const ids = new Int32Array(offsets[count]!);
  let at = 0;
  for (let r = 0; r < count; r++) {
    const start = rows.offsets[r]!;
    for (const [from, to] of keptRanges(rows.offsets[r + 1]! - start, maxLength, truncation)) {
      if (rename) for (let p = start + from; p < start + to; p++) ids[at++] = rename[rows.ids[p]!]!;
      else {
        ids.set(rows.ids.subarray(start + from, start + to), at);
        at += to - from;
      }
    }
  }
  return { ids, offsets };
}

/** Each row as a view into the packed ids (no copy), as `bucketedData` reads rows. */
export function rowViews(rows: PackedIds): Int32Array[] {
  return Array.from({ length: rows.offsets.length - 1 }, (_, r) => rows.ids.subarray(rows.offsets[r]!, rows.offsets[r + 1]!));
}
