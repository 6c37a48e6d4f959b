import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { sharedWeightsInUse, SHARED_WEIGHTS_FILE, saveModel, writeJsonAtomic, type WeightPrecision } from '@seqlab/core';
import type { TextVectorizer } from '@seqlab/tokenize';
import type { TextClassifierConfig } from './builders/text-classifier.js';
import { RnnArgumentError } from './errors.js';
import type { TruncationStrategy } from './classification/long-texts.js';

/**
 * `config.json` of a recurrent model directory in the older sentiment format (task `sentiment`,
 * kind `rnn`). Nothing writes it any more: binary sentiment models are text classifiers saved by
 * {@link saveRecurrentTextClassifier}. {@link loadRecurrentTextClassifier} still reads these
 * directories, as binary classifiers of negative/positive.
 */
export interface SentimentModelDirConfig {
  /** config.json header version (absent in directories saved before it existed). */
  version?: number;
  task: 'sentiment';
  /** Model kind: always `rnn` (absent in directories saved before it existed). */
  kind?: 'rnn';
  format: string;
  labels: ['negative', 'positive'];
  vectorizerFile: string;
  /** Tokens kept per text (longer texts are truncated as {@link truncation} says). */
  maxLength: number;
  /**
   * Which tokens of a longer text are kept: `head` (directories saved before this field existed),
   * `tail`, or `head+tail` (a quarter of the budget from the start, the rest from the end, where
   * reviews tend to conclude).
   */
  truncation?: TruncationStrategy;
  architecture: TextClassifierConfig;
  /**
   * An ensemble: subdirectories (relative to the model directory) that each hold one
   * classifier of this architecture trained on the same vocabulary. Predictions average the
   * members' probabilities and attention weights. Absent: one model in the directory itself.
   */
  members?: string[];
  [key: string]: unknown;
}

/**
 * Writes the LayersModel(s) and `vectorizer.json` of a recurrent classifier directory (a layout
 * the older sentiment format shares): one model in `dir`, or an ensemble as `member-1`,
 * `member-2`, ... Returns the member subdirectories, or undefined for one model. config.json,
 * which says what the directory is, is the caller's to write last, then {@link removeStaleMembers}.
 */
export async function writeClassifierMembers(
  dir: string,
  models: readonly tfl.LayersModel[],
  vectorizer: TextVectorizer,
  precision: WeightPrecision,
): Promise<string[] | undefined> {
  await fs.mkdir(dir, { recursive: true });
  const members = models.length > 1 ? models.map((_, i) => `member-${i + 1}`) : undefined;
  // Members trained over one frozen pre-trained embedding hold the same matrix, often most of
  // their bytes: it is stored once in the ensemble's directory.
  for (const [i, m] of models.entries()) await saveModel(m, members ? path.join(dir, members[i]!) : dir, { precision, ...(members ? { sharedWeights: {} } : {}) });
  await writeJsonAtomic(path.join(dir, 'vectorizer.json'), vectorizer.toJSON());
  // Shared files an earlier save left and no member uses any more.
  const used = await sharedWeightsInUse(dir, members ?? []);
  for (const name of await fs.readdir(dir)) if (SHARED_WEIGHTS_FILE.test(name) && !used.has(name)) await fs.rm(path.join(dir, name), { force: true });
  return members;
}

/**
 * The directories holding the LayersModel(s) of a recurrent classifier directory (either format): the directory itself,
 * or each ensemble member's subdirectory (checked to stay inside `dir`).
 */
export function sentimentMemberDirs(dir: string, config: Pick<SentimentModelDirConfig, 'members'>): string[] {
  if (config.members === undefined) return [dir];
  if (!Array.isArray(config.members) || config.members.length === 0 || config.members.some((m) => typeof m !== 'string')) {
    throw new RnnArgumentError(`${path.join(dir, 'config.json')}: members must be a non-empty array of subdirectory names`);
  }
  const root = path.resolve(dir);
  return config.members.map((m) => {
    const full = path.resolve(root, m);
    if (!full.startsWith(root + path.sep)) throw new RnnArgumentError(`${path.join(dir, 'config.json')}: member ${JSON.stringify(m)} is outside the model directory`);
    return full;
  });
}

/**
 * After config.json is written: removes what a previous save of the other shape (single model
 * <-> ensemble) left in `dir` and the new config no longer references. Run last, so a crash
 * part-way never leaves a config pointing at files already removed.
 */
export async function removeStaleMembers(dir: string, members: readonly string[] | undefined): Promise<void> {
  const keep = new Set(members ?? []);
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const memberDir = e.isDirectory() && /^member-\d+$/.test(e.name);
    const stale = members ? e.name === 'model.json' || /^weights\.[0-9a-f]{16}\.bin$/.test(e.name) || (memberDir && !keep.has(e.name)) : memberDir;
    if (stale) await fs.rm(path.join(dir, e.name), { recursive: true, force: true });
  }
}
