/*
 * SST-2 rows and the splits the SST-2 recipes share: GLUE's files, recipe:sst2's early-stopping
 * holdout and recipe:sst2-use's model-choice rows (the rows every SST-2 model is chosen on).
 */
import { promises as fs } from 'node:fs';
import { SeededRandom } from '@seqlab/core';
import { dataPath } from './report.js';

/** Tokens a held-out phrase must have to count as sentence-like. */
export const HOLDOUT_MIN_TOKENS = 8;

/** How recipe:sst2 splits the SST-2 training phrases for early stopping. */
export interface Sst2Holdout {
  /** Held-out phrases, in seeded order. */
  holdIdx: number[];
  /** Training phrases (seeded order). */
  trainIdx: number[];
  /**
   * Phrases left out of both: with `mode: 'sentences'`, every training phrase that is a span of
   * a held-out phrase or contains one (the model never sees them, so they are out-of-sample).
   */
  droppedIdx: number[];
}

/**
 * The early-stopping split of SST-2 train shared by recipe:sst2 and recipe:sst2-use.
 * `'phrases'`: a random fraction of the phrases. These leak: SST-2 trains on every sub-phrase
 * of every sentence, so most held-out phrases overlap training phrases and the holdout rewards
 * memorisation. `'sentences'`: `count` sentence-like phrases (>= 8 tokens) held out, and every
 * phrase that is a span of one of them or contains one dropped from training.
 */
export function sst2Holdout(texts: string[], options: { seed: number; mode?: 'phrases' | 'sentences'; fraction?: number; count?: number }): Sst2Holdout {
  const n = texts.length;
  const perm = new SeededRandom(`sst2-holdout:${options.seed}`).permutation(n);
  const mode = options.mode ?? 'sentences';
  if (mode === 'phrases') {
    const nHold = Math.round(n * (options.fraction ?? 0.05));
    return { holdIdx: Array.from(perm.subarray(0, nHold)), trainIdx: Array.from(perm.subarray(nHold)), droppedIdx: [] };
  }
  if (mode !== 'sentences') throw new Error(`holdout mode must be phrases or sentences, got ${String(mode)}`);
  const toks = texts.map((t) => t.split(' ').filter(Boolean));
  const MIN = HOLDOUT_MIN_TOKENS;
  const holdIdx = Array.from(perm).filter((i) => toks[i]!.length >= MIN).slice(0, options.count ?? 500);
  const tied = tiedTo(toks, holdIdx);
  const held = new Set(holdIdx);
  const trainIdx: number[] = [];
  const droppedIdx: number[] = [];
  for (const i of Array.from(perm)) {
    if (held.has(i)) continue;
    if (tied(i)) droppedIdx.push(i);
    else trainIdx.push(i);
  }
  return { holdIdx, trainIdx, droppedIdx };
}

/**
 * A test for "phrase i is tied to one of the `rootIdx` phrases": it is a span of one of them, or
 * one of them (>= HOLDOUT_MIN_TOKENS tokens) is a span of it. `toks[i]` are phrase i's tokens.
 */
export function tiedTo(toks: string[][], rootIdx: readonly number[]): (i: number) => boolean {
  const roots = new Set(rootIdx.map((i) => toks[i]!.join(' ')));
  const spans = new Set<string>();
  for (const i of rootIdx) {
    const t = toks[i]!;
    for (let a = 0; a < t.length; a++) for (let b = a + 1; b <= t.length; b++) spans.add(t.slice(a, b).join(' '));
  }
  return (i) => {
    const t = toks[i]!;
    if (spans.has(t.join(' '))) return true;
    for (let a = 0; a + HOLDOUT_MIN_TOKENS <= t.length; a++) {
      for (let b = a + HOLDOUT_MIN_TOKENS; b <= t.length; b++) if (roots.has(t.slice(a, b).join(' '))) return true;
    }
    return false;
  };
}

/** recipe:sst2-use's split of recipe:sst2's held-out sentences (see {@link sst2ChoiceRows}). */
export interface Sst2ChoiceRows {
  /** recipe:sst2's holdout. */
  split: Sst2Holdout;
  /** The model-choice sentences: the first half of the held-out ones, by a seeded permutation. */
  sentenceIdx: number[];
  /** The dropped training phrases tied to them. */
  phraseIdx: number[];
  /** `sentenceIdx` then `phraseIdx`: every model-choice row. */
  idx: number[];
  /** The other half of the held-out sentences, then the dropped phrases not tied to the first half. */
  restIdx: number[];
}

/**
 * recipe:sst2-use's model-choice rows: the first half (by a seeded permutation) of recipe:sst2's
 * 500 held-out sentences, with the training phrases tied to them. No committed SST-2 model
 * trained on them, so recipes choose models, heads and ensemble weights there.
 */
export function sst2ChoiceRows(texts: string[], options: { seed?: number; holdoutSeed?: number } = {}): Sst2ChoiceRows {
  const split = sst2Holdout(texts, { seed: options.holdoutSeed ?? 1 });
  const perm = new SeededRandom(`sst2-use-inner:${options.seed ?? 1}`).permutation(split.holdIdx.length);
  const half = Math.round(split.holdIdx.length / 2);
  const sentenceIdx = Array.from(perm.subarray(0, half), (j) => split.holdIdx[j]!);
  const otherSentences = Array.from(perm.subarray(half), (j) => split.holdIdx[j]!);
  const tied = tiedTo(texts.map((t) => t.split(' ').filter(Boolean)), sentenceIdx);
  const phraseIdx = split.droppedIdx.filter(tied);
  return { split, sentenceIdx, phraseIdx, idx: [...sentenceIdx, ...phraseIdx], restIdx: [...otherSentences, ...split.droppedIdx.filter((i) => !tied(i))] };
}

/** One labelled SST-2 split (GLUE layout: `sentence<TAB>label`, header row). */
export interface Sst2Split {
  sentences: string[];
  labels: number[];
}

/** Reads `data/sst2/<split>.tsv`, naming file and line on malformed rows. */
export async function readSst2(split: 'train' | 'dev'): Promise<Sst2Split> {
  const file = dataPath('sst2', `${split}.tsv`);
  const lines = (await fs.readFile(file, 'utf8')).split('\n');
  const sentences: string[] = [];
  const labels: number[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '') return;
    const tab = line.lastIndexOf('\t');
    const label = Number(line.slice(tab + 1));
    if (tab < 0 || (label !== 0 && label !== 1)) throw new Error(`${file}:${i + 2}: expected "sentence<TAB>0|1", got ${JSON.stringify(line.slice(0, 80))}`);
    // GLUE's SST-2 sentences end with a space; trimming keeps the cache key stable.
    sentences.push(line.slice(0, tab).trim());
    labels.push(label);
  });
  return { sentences, labels };
}
