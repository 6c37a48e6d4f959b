import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  BadInputError,
  findModelByDigest,
  modelDigest,
  NotFoundError,
  classificationResult,
  classScores,
  ModelFileError,
  readModelConfig,
  SeededRandom,
  sharedTokens,
  withSideWork,
  writeModelConfig,
  type AttributedToken,
  type ClassificationProblem,
  type ClassifyOptions,
  type TextClassificationPipeline,
  type TextClassificationResult,
} from '@seqlab/core/base';
import { modelsDir as defaultModelsDir, resolveModelDir, type ResolveModelOptions } from './models.js';

/** Texts per shared tokenization in {@link TextClassifierEnsemble.predict}. */
const SHARED_SLICE = 4096;

/** The `kind` of an ensemble's config.json. */
export const ENSEMBLE_KIND = 'ensemble';
const FORMAT = 'seqlab-tasks/text-classifier-ensemble@1';
const MEMBERS_DIR = 'members';

/** One member of a {@link TextClassifierEnsemble} and its share of the vote. */
export interface EnsembleMember {
  model: TextClassificationPipeline;
  /** Non-negative; the weights are normalised to sum to 1. */
  weight: number;
  /**
   * A model name in the models folder that holds this member. The saved ensemble then refers to
   * it by its content digest (see `modelDigest`), with this name as a hint, instead of copying
   * it (large members, or members that read sibling models); loading finds the member by digest
   * and refuses one whose files changed.
   */
  ref?: string;
  /** The directory of `ref` when it is not in the default models folder (used to compute its digest on save). */
  refDir?: string;
}

/** How an ensemble refers to a member model of the models folder: by content digest, the name a hint. */
export interface MemberReference {
  /** The member's name when the ensemble was saved. */
  model: string;
  /** `sha256:` content digest of the member's directory; absent in ensembles saved before digests. */
  digest?: string;
}

/** How a saved ensemble lists its members in config.json: a directory inside it, or a model reference. */
type MemberRecord = { dir: string; kind: string; weight: number } | (MemberReference & { kind: string; weight: number });

/**
 * Text classifiers of any kinds (e.g. a hybrid on sentence-encoder vectors and a recurrent
 * network on pre-trained word vectors) combined by a weighted mean of their class
 * probabilities: models that read text differently make different mistakes, so the mean is
 * usually better than its best member. Members must share the problem and the class set (in any
 * order). Explanations (attention weights) come from the first member that gives them.
 *
 * Multi-label members are refused: a mean of probabilities would need decision thresholds of
 * its own, chosen on validation rows, which this kind does not fit.
 *
 * @example
 * ```ts
 * const ensemble = new TextClassifierEnsemble([{ model: hybrid, weight: 0.8 }, { model: rnn, weight: 0.2 }]);
 * await ensemble.save('models/question-type');   // members/1-hybrid, members/2-rnn, config.json
 * ```
 */
export class TextClassifierEnsemble implements TextClassificationPipeline {
  readonly task = 'text-classification' as const;
  readonly kind = ENSEMBLE_KIND;
  readonly problem: ClassificationProblem;
  readonly classes: readonly string[];
  readonly explains: boolean;
  /** The shortest length any member reads at once (a longer text is cut or chunked by that member). */
  readonly maxLength: number;
  readonly weights: readonly number[];
  private disposed = false;

  constructor(
    private readonly members: readonly EnsembleMember[],
    readonly name = 'ensemble',
    /** Stored in config.json (`training`). */
    readonly training?: Record<string, unknown>,
  ) {
    if (!Array.isArray(members) || members.length < 2) throw new BadInputError(`an ensemble needs at least two members, got ${Array.isArray(members) ? members.length : typeof members}`);
    const first = members[0]!.model;
    members.forEach((m, i) => {
      if (!(Number.isFinite(m.weight) && m.weight >= 0)) throw new BadInputError(`ensemble member ${i + 1} (${m.model.kind}): weight must be a non-negative number, got ${m.weight}`);
      if (m.model.task !== 'text-classification') throw new BadInputError(`ensemble member ${i + 1} is a ${String(m.model.task)} model, not a text classifier`);
      if (m.model.problem === 'multi-label') throw new BadInputError(`ensemble member ${i + 1} (${m.model.kind}) is multi-label; ensembles combine binary or multi-class classifiers`);
      if (m.model.problem !== first.problem) throw new BadInputError(`ensemble member ${i + 1} (${m.model.kind}) is ${m.model.problem}, member 1 is ${first.problem}`);
      const same = m.model.classes.length === first.classes.length && m.model.classes.every((c: string) => first.classes.includes(c));
      if (!same) throw new BadInputError(`ensemble member ${i + 1} (${m.model.kind}) has classes ${m.model.classes.join(', ')}; member 1 has ${first.classes.join(', ')}`);
    });
    const total = members.reduce((s, m) => s + m.weight, 0);
    if (!(total > 0)) throw new BadInputError('ensemble weights are all zero');
    // Rounded so grid weights (0.7, 0.2, 0.1) stay those numbers after a division by 0.9999...
    this.weights = Object.freeze(members.map((m) => Math.round((m.weight / total) * 1e12) / 1e12));
    this.problem = first.problem;
    this.classes = Object.freeze([...first.classes]);
    this.explains = members.some((m) => m.model.explains);
    // A text is truncated when any member cuts it, so the ensemble's length is its shortest
    // reader's (linear members read whole texts: Infinity).
    this.maxLength = Math.min(...members.map((m) => m.model.maxLength));
  }

  /** The member models (owned by the ensemble: disposed with it). */
  get models(): readonly TextClassificationPipeline[] {
    return this.members.map((m) => m.model);
  }

  async predict(texts: string[], options: ClassifyOptions = {}): Promise<TextClassificationResult[]> {
    if (this.disposed) throw new BadInputError(`model "${this.name}" has been disposed`);
    // Members share one tokenization of each slice (members that tokenize alike read it once);
    // slices bound the tokens held at once when a caller passes a very long list.
    const results: TextClassificationResult[] = [];
    // One slice keeps the caller's shared tokens (a scoring loop may have tokenized it already, see `lookahead`).
    if (texts.length <= SHARED_SLICE) return this.combine(await this.predictMembers(texts, { ...options, sharedTokens: options.sharedTokens ?? sharedTokens() }));
    const slices = Array.from({ length: Math.ceil(texts.length / SHARED_SLICE) }, (_, k) => texts.slice(k * SHARED_SLICE, (k + 1) * SHARED_SLICE));
    const { lookahead: _next, ...rest } = options;
    for (const slice of slices) results.push(...this.combine(await this.predictMembers(slice, { ...rest, sharedTokens: sharedTokens() })));
    return results;
  }

  /**
   * Every member's results on one slice. Members that score text by text on plain arrays
   * (`predictEach`) run as side work of the others: while a recurrent member's kernels run on
   * the helper thread, this thread scores their texts instead of waiting (see `withSideWork`);
   * what is left when the others are done is scored then. Otherwise members run one after another.
   */
  private async predictMembers(slice: string[], options: ClassifyOptions): Promise<TextClassificationResult[][]> {
    const outputs: TextClassificationResult[][] = this.members.map(() => []);
    const eager = this.members.flatMap((m, k) => (m.model.predictEach ? [k] : []));
    if (eager.length === 0 || eager.length === this.members.length) {
      for (const [k, m] of this.members.entries()) outputs[k] = await m.model.predict(slice, options);
      return outputs;
    }
    // Started lazily: a member's first pull tokenizes the slice, after the others have shared theirs.
    const pending = eager.map((k) => ({ k, each: undefined as Iterator<TextClassificationResult> | undefined }));
    let failure: unknown;
    const step = (): boolean => {
      const p = pending[0];
      if (!p || failure !== undefined) return false;
      try {
        p.each ??= this.members[p.k]!.model.predictEach!(slice, options);
        const r = p.each.next();
        if (r.done) pending.shift();
        else outputs[p.k]!.push(r.value);
      } catch (err) {
        failure = err;
        return false;
      }
      return true;
    };
    await withSideWork(step, async () => {
      for (const [k, m] of this.members.entries()) if (!m.model.predictEach) outputs[k] = await m.model.predict(slice, options);
    });
    while (step());
    if (failure !== undefined) throw failure;
    return outputs;
  }

  /**
   * The ensemble's results from its members' results on the same texts (`outputs[k]` from member
   * k): what {@link predict} returns, for callers that already hold the members' predictions.
   */
  combine(outputs: readonly (readonly TextClassificationResult[])[]): TextClassificationResult[] {
    if (outputs.length !== this.members.length) throw new BadInputError(`combine: ${outputs.length} result lists for ${this.members.length} members`);
    const rows = outputs[0]!.length;
    outputs.forEach((out, k) => {
      if (out.length !== rows) throw new BadInputError(`combine: member ${k + 1} has ${out.length} results, member 1 has ${rows}`);
    });
    const explainer = this.members.findIndex((m) => m.model.explains);
    return Array.from({ length: rows }, (_, row) => {
      const mean = new Float64Array(this.classes.length);
      let truncated = false;
      outputs.forEach((out, k) => {
        const r = out[row]!;
        truncated ||= r.truncated;
        classScores(r, this.classes).forEach((s, i) => (mean[i] += this.weights[k]! * s));
      });
      const tokens: AttributedToken[] | undefined = explainer >= 0 ? outputs[explainer]![row]!.tokens : undefined;
      return classificationResult(this.classes, mean, this.problem, { truncated, ...(tokens ? { tokens } : {}) });
    });
  }

  /**
   * Writes each member to `members/K-kind/` and then config.json (written last, atomically, so
   * an interrupted save never leaves a directory that loads as a different model).
   */
  async save(dir: string): Promise<void> {
    const records: MemberRecord[] = [];
    await fs.rm(path.join(dir, MEMBERS_DIR), { recursive: true, force: true });
    for (const [i, m] of this.members.entries()) {
      if (m.ref !== undefined) {
        const refDir = m.refDir ?? resolveModelDir(m.ref, { allowPaths: false }).dir;
        records.push({ model: m.ref, digest: await modelDigest(refDir), kind: m.model.kind, weight: this.weights[i]! });
        continue;
      }
      const sub = `${MEMBERS_DIR}/${i + 1}-${m.model.kind}`;
      await m.model.save(path.join(dir, sub));
      records.push({ dir: sub, kind: m.model.kind, weight: this.weights[i]! });
    }
    await writeModelConfig(dir, { task: 'text-classification', kind: ENSEMBLE_KIND }, {
      format: FORMAT,
      problem: this.problem,
      classes: this.classes,
      members: records,
      ...(this.training ? { training: this.training } : {}),
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.members) m.model.dispose();
  }
}

/**
 * Reads a saved {@link TextClassifierEnsemble}: its config.json, then each member through
 * `loadMember` (the task layer's loader of any kind). Member directories must lie inside `dir`;
 * members saved by reference go to `loadNamed` (which resolves them in the models folder only,
 * see {@link resolveMemberReference}).
 */
export async function loadTextClassifierEnsemble(
  dir: string,
  name: string,
  loadMember: (memberDir: string, memberName: string) => Promise<TextClassificationPipeline>,
  loadNamed?: (reference: MemberReference) => Promise<TextClassificationPipeline>,
): Promise<TextClassifierEnsemble> {
  const file = path.join(dir, 'config.json');
  const config = await readModelConfig(dir);
  if (config.kind !== ENSEMBLE_KIND || config['format'] !== FORMAT) throw new ModelFileError(file, `is not a text-classifier ensemble (${FORMAT})`);
  const records = config['members'];
  if (!Array.isArray(records) || records.length < 2) throw new ModelFileError(file, 'members must list at least two member directories');
  const root = path.resolve(dir);
  const loaded: EnsembleMember[] = [];
  try {
    for (const [i, r] of (records as MemberRecord[]).entries()) {
      if (!r || typeof r !== 'object' || typeof r.weight !== 'number') throw new ModelFileError(file, `members[${i}] needs a weight and a dir or a model name`);
      if ('model' in r && typeof r.model === 'string') {
        if (!loadNamed) throw new ModelFileError(file, `members[${i}] names model ${JSON.stringify(r.model)}, and no models folder is known here`);
        if (r.digest !== undefined && typeof r.digest !== 'string') throw new ModelFileError(file, `members[${i}].digest must be a string`);
        const model = await loadNamed({ model: r.model, ...(r.digest ? { digest: r.digest } : {}) });
        loaded.push({ model, weight: r.weight, ref: model.name });
        continue;
      }
      if (!('dir' in r) || typeof r.dir !== 'string') throw new ModelFileError(file, `members[${i}] needs a dir or a model name`);
      const full = path.resolve(dir, r.dir);
      if (!full.startsWith(root + path.sep)) throw new ModelFileError(file, `members[${i}].dir ${JSON.stringify(r.dir)} is outside the model directory`);
      loaded.push({ model: await loadMember(full, `${name}/${r.dir}`), weight: r.weight });
    }
    const training = config['training'];
    return new TextClassifierEnsemble(loaded, name, training && typeof training === 'object' ? (training as Record<string, unknown>) : undefined);
  } catch (err) {
    for (const m of loaded) m.model.dispose();
    throw err;
  }
}

/**
 * The directory of a member an ensemble refers to. With a digest, the member is the model of
 * the models folder with that content digest: the named one when it matches, else any other
 * (a renamed copy); without one (ensembles saved before digests), the named model.
 *
 * @throws BadInputError naming the ensemble, the member and both digests when the named member
 *   changed and no model in the folder has the recorded content.
 * @throws NotFoundError when the member is gone and no model has its digest.
 */
export async function resolveMemberReference(ensemble: string, reference: MemberReference, options: ResolveModelOptions = {}): Promise<{ dir: string; name: string }> {
  let named: { dir: string; name: string } | undefined;
  try {
    named = resolveModelDir(reference.model, { ...options, allowPaths: false });
  } catch (err) {
    if (!(err instanceof NotFoundError) || reference.digest === undefined) throw err;
  }
  if (reference.digest === undefined) return named!;
  const found = named ? await modelDigest(named.dir) : undefined;
  if (named && found === reference.digest) return named;
  const renamed = await findModelByDigest(options.modelsDir ?? defaultModelsDir(), reference.digest, reference.model);
  if (renamed) return { dir: renamed, name: path.basename(renamed) };
  if (!named) throw new NotFoundError(`model "${ensemble}": member "${reference.model}" (${reference.digest}) is not in the models folder under that name or any other; re-create it with its recipe`);
  throw new BadInputError(
    `model "${ensemble}": member "${reference.model}" has changed since the ensemble was saved (digest ${found}, the ensemble expects ${reference.digest}); re-create the member or re-run the ensemble's recipe`,
  );
}

/** What {@link chooseEnsembleWeights} found. */
export interface EnsembleWeightChoice {
  /** One per member, summing to 1. */
  weights: number[];
  /** Accuracy of the weighted mean on the rows the weights were chosen on. */
  accuracy: number;
  /** Every grid point tried with its accuracy (for reports). */
  tried: { weights: number[]; accuracy: number }[];
}

/**
 * Chooses ensemble weights on held-out rows: every point of the grid of weights in steps of
 * `step` that sum to 1, scored by the accuracy of the weighted mean of the members'
 * probabilities. Ties go to the point nearest equal weights (the least committed choice), so
 * a flat optimum does not lean on one member by chance.
 *
 * @param probabilities `[member][row][class]`, classes in one order for every member.
 * @param truth the class index of each row.
 */
export function chooseEnsembleWeights(probabilities: readonly (readonly (readonly number[])[])[], truth: readonly number[], step = 0.1): EnsembleWeightChoice {
  const M = probabilities.length;
  if (M < 2) throw new BadInputError(`chooseEnsembleWeights: needs at least two members, got ${M}`);
  if (!(step > 0 && step <= 0.5)) throw new BadInputError(`chooseEnsembleWeights: step must be in (0, 0.5], got ${step}`);
  for (const [k, p] of probabilities.entries()) {
    if (p.length !== truth.length) throw new BadInputError(`chooseEnsembleWeights: member ${k + 1} has ${p.length} rows of probabilities, truth has ${truth.length}`);
  }
  const units = Math.round(1 / step);
  const tried: { weights: number[]; accuracy: number }[] = [];
  const visit = (prefix: number[], left: number) => {
    if (prefix.length === M - 1) {
      const weights = [...prefix, left].map((u) => u / units);
      tried.push({ weights, accuracy: accuracyOf(probabilities, truth, weights) });
      return;
    }
    for (let u = 0; u <= left; u++) visit([...prefix, u], left - u);
  };
  visit([], units);
  const spread = (w: number[]) => w.reduce((s, x) => s + (x - 1 / M) ** 2, 0);
  const best = tried.reduce((a, b) => (b.accuracy > a.accuracy + 1e-12 || (Math.abs(b.accuracy - a.accuracy) <= 1e-12 && spread(b.weights) < spread(a.weights)) ? b : a));
  return { weights: best.weights, accuracy: best.accuracy, tried };
}

/**
 * An honest estimate of what {@link chooseEnsembleWeights} is worth on new rows. The accuracy
 * it reports is measured on the rows that chose the weights, so it is biased upwards, most on few
 * rows and many members: picking an ensemble because it beats each member there can pick noise.
 * Here the rows are dealt into `folds` seeded folds; each fold is scored with the weights chosen
 * on the other folds, and the accuracy over all rows is returned. A member alone needs no
 * fitting, so its accuracy on the same rows compares fairly with this one.
 *
 * @param probabilities `[member][row][class]`, as for {@link chooseEnsembleWeights}.
 * @param truth the class index of each row.
 */
export function crossFittedEnsembleAccuracy(
  probabilities: readonly (readonly (readonly number[])[])[],
  truth: readonly number[],
  options: { folds?: number; seed?: number; step?: number } = {},
): number {
  const folds = options.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 2) throw new BadInputError(`crossFittedEnsembleAccuracy: folds must be an integer >= 2, got ${folds}`);
  const n = truth.length;
  if (n < folds) throw new BadInputError(`crossFittedEnsembleAccuracy: ${n} rows cannot make ${folds} folds`);
  const order = new SeededRandom(`ensemble-folds:${options.seed ?? 0}`).permutation(n);
  const foldOf = new Int32Array(n);
  order.forEach((row, i) => (foldOf[row] = i % folds));
  let correct = 0;
  for (let f = 0; f < folds; f++) {
    const fit: number[] = [];
    const held: number[] = [];
    for (let r = 0; r < n; r++) (foldOf[r] === f ? held : fit).push(r);
    const pick = (rows: number[]) => probabilities.map((p) => rows.map((r) => p[r]!));
    const { weights } = chooseEnsembleWeights(pick(fit), fit.map((r) => truth[r]!), options.step);
    correct += Math.round(accuracyOf(pick(held), held.map((r) => truth[r]!), weights) * held.length);
  }
  return correct / n;
}

function accuracyOf(probabilities: readonly (readonly (readonly number[])[])[], truth: readonly number[], weights: readonly number[]): number {
  let correct = 0;
  truth.forEach((t, row) => {
    const C = probabilities[0]![row]!.length;
    let best = -1;
    let bestScore = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k]! * probabilities[k]![row]![c]!;
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (best === t) correct++;
  });
  return truth.length > 0 ? correct / truth.length : 0;
}
