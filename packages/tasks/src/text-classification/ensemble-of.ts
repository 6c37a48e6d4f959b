import path from 'node:path';
import { existsSync } from 'node:fs';
import { BadInputError, classScores, modelDigest, type TextClassificationPipeline } from '@seqlab/core';
import { chooseEnsembleWeights, TextClassifierEnsemble } from '../ensemble.js';
import { checkOptionKeys } from '../training/types.js';
import { readRows } from './data.js';
import type { TextClassificationData } from './options.js';
import { labelsForClasses } from './train.js';

/** One model an {@link ensembleOf} combines. */
export interface EnsembleOfMember {
  /** A saved text classifier: a model name or a folder (e.g. the `dir` that `train()` returned). */
  model: string;
  /**
   * Its class probabilities on the validation rows, in the order of the model's `classes`, when
   * its predictions there would flatter it: a model refitted on those rows gives the scores of its
   * fit before (`train()` reports them as `details.validationScores`). Default: it predicts them.
   */
  validationScores?: readonly (readonly number[])[];
}

/** Options of {@link ensembleOf}. */
export interface EnsembleOfOptions {
  /** The folder the ensemble is saved to (its members copied into `members/`). */
  out: string;
  /** The ensemble's name in messages. Default: the folder's name. */
  name?: string;
  /** Grid step of the weights. Default 0.1. */
  step?: number;
  /** Stored in the ensemble's config.json (`training`), beside the weights and how they were chosen. */
  training?: Record<string, unknown>;
}

/** What {@link ensembleOf} returns. */
export interface EnsembleOfResult {
  dir: string;
  /** One per member, in the order given, summing to 1. */
  weights: number[];
  /** Accuracy of the weighted mean on the validation rows that chose the weights (flattering). */
  validationAccuracy: number;
  classes: string[];
}

const KEYS = ['out', 'name', 'step', 'training'] as const;

/**
 * Combines already-trained text classifiers into one {@link TextClassifierEnsemble}: the weight
 * of each member is chosen on the given validation rows by {@link chooseEnsembleWeights} (the
 * grid point of best accuracy, ties to the most even), and the ensemble is saved to
 * `options.out`, loadable by `pipeline('text-classification', out)`. One-label data only.
 *
 * @example
 * ```ts
 * const hybrid = await train('text-classification', rows, { out: 'runs/hybrid', model: 'hybrid' });
 * const rnn = await train('text-classification', rows, { out: 'runs/rnn', model: 'rnn' });
 * const { weights } = await ensembleOf([{ model: hybrid.dir }, { model: rnn.dir }], validationRows, { out: 'runs/ensemble' });
 * ```
 * @throws BadInputError for fewer than two members, unknown options, bad rows, members of other
 * classes, or validation scores of the wrong shape (each named).
 */
export async function ensembleOf(members: readonly EnsembleOfMember[], validation: TextClassificationData, options: EnsembleOfOptions): Promise<EnsembleOfResult> {
  checkOptionKeys('ensembleOf', options, KEYS);
  if (typeof options.out !== 'string' || options.out === '') throw new BadInputError('ensembleOf: options.out (the ensemble folder) is required');
  if (!Array.isArray(members) || members.length < 2) throw new BadInputError(`ensembleOf: members must list at least two models, got ${Array.isArray(members) ? members.length : typeof members}`);
  const rows = await readRows(validation, {}, 'validation');
  if (rows.labels.some((l) => l.length !== 1)) throw new BadInputError('ensembleOf: validation rows must have one label each (ensembles combine binary or multi-class classifiers)');
  const { pipeline } = await import('../pipeline.js');
  const loaded: TextClassificationPipeline[] = [];
  try {
    for (const m of members) loaded.push(await pipeline('text-classification', m.model));
    const classes = [...loaded[0]!.classes];
    const truth = labelsForClasses(rows.labels, classes).map(([l], i) => {
      const k = classes.indexOf(l!);
      if (k < 0) throw new BadInputError(`validation[${i}].label: "${l}" is not a class of ${members[0]!.model} (classes: ${classes.join(', ')})`);
      return k;
    });
    const scores: number[][][] = [];
    for (const [i, m] of members.entries()) scores.push(await memberScores(m, i, loaded[i]!, classes, rows.texts));
    const choice = chooseEnsembleWeights(scores, truth, options.step ?? 0.1);
    const out = path.resolve(options.out);
    const name = options.name ?? path.basename(out);
    const training = { ...options.training, members: await memberProvenance(members), weights: 'chosen on the validation rows', validationRows: rows.texts.length, validationAccuracy: choice.accuracy };
    const ensemble = new TextClassifierEnsemble(loaded.map((model, i) => ({ model, weight: choice.weights[i]! })), name, training);
    loaded.length = 0; // the ensemble owns its members now
    try {
      await ensemble.save(out);
    } finally {
      ensemble.dispose();
    }
    return { dir: out, weights: choice.weights, validationAccuracy: choice.accuracy, classes };
  } finally {
    for (const m of loaded) m.dispose();
  }
}

/**
 * Where each member came from, as the model card keeps it: a folder by its name and content
 * digest (never the path, which belongs to the machine that trained it), a model name as given.
 */
async function memberProvenance(members: readonly EnsembleOfMember[]): Promise<Array<{ name: string; digest?: string }>> {
  return Promise.all(members.map(async (m) => (existsSync(m.model) ? { name: path.basename(path.resolve(m.model)), digest: await modelDigest(m.model) } : { name: m.model })));
}

/** A member's probabilities on the validation rows in the ensemble's class order: given (checked) or predicted. */
async function memberScores(member: EnsembleOfMember, i: number, model: TextClassificationPipeline, classes: readonly string[], texts: string[]): Promise<number[][]> {
  const given = member.validationScores;
  if (given === undefined) return (await model.predict(texts)).map((r) => classScores(r, classes));
  const width = model.classes.length;
  if (!Array.isArray(given) || given.length !== texts.length || given.some((row) => !Array.isArray(row) || row.length !== width || row.some((x) => !Number.isFinite(x)))) {
    throw new BadInputError(`members[${i}].validationScores: expected ${texts.length} rows (one per validation row) of ${width} finite probabilities (${model.classes.join(', ')})`);
  }
  const order = classes.map((c) => model.classes.indexOf(c));
  return given.map((row) => order.map((k) => row[k]!));
}
