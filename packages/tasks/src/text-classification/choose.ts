import { classScores } from '@seqlab/core';
import { classificationMetrics } from '@seqlab/rnn';
import { chooseEnsembleWeights, crossFittedEnsembleAccuracy, TextClassifierEnsemble } from '../ensemble.js';
import type { Candidate, FitContext } from './candidates.js';

/** The ensemble tried under `auto` on one-label data, whether kept or not. */
export interface EnsembleTrial {
  /** The kinds pooled (the three best alone) and the weights chosen on the validation rows. */
  pool: string[];
  weights: Record<string, number>;
  /** Validation accuracy with weights chosen on those same rows (flattering). */
  inSampleAccuracy: number;
  /** Validation accuracy with each fold's weights chosen on the other 4 folds; null under 5 rows. */
  crossFittedAccuracy: number | null;
  /** The best single kind's validation accuracy. */
  bestAloneAccuracy: number;
  kept: boolean;
}

/** What {@link chooseCandidate} decided. */
export interface Choice {
  chosen: Candidate;
  reason: string;
  ensemble: EnsembleTrial | null;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/**
 * Keeps the best candidate on validation accuracy (subset accuracy for multi-label), the cheaper
 * (listed first) on a tie. Under `auto` on one-label data it also tries the weighted mean of the
 * three best kinds' probabilities, and keeps it only when its cross-fitted accuracy (weights chosen
 * on other rows than those scored) beats the best kind alone: its accuracy on the rows that chose
 * its weights can only flatter it, so that figure never decides. The ensemble, when it puts weight
 * on two or more kinds, is pushed onto `candidates` either way, so the report shows what was tried.
 */
export function chooseCandidate(candidates: Candidate[], ctx: FitContext): Choice {
  const best = candidates.reduce((b, c) => (c.metrics.accuracy > b.metrics.accuracy ? c : b));
  const measure = ctx.problem === 'multi-label' ? 'validation subset accuracy' : 'validation accuracy';
  const alone = `${best.kind} has the best ${measure} (${pct(best.metrics.accuracy)})`;
  if (candidates.length === 1) return { chosen: best, reason: `${best.kind} was the only kind asked for`, ensemble: null };
  if (ctx.o.model !== 'auto' || ctx.problem === 'multi-label') {
    return { chosen: best, reason: `${alone}${ctx.problem === 'multi-label' ? '; ensembles are not fitted for multi-label data' : ''}`, ensemble: null };
  }
  const trial = tryEnsemble(candidates, ctx);
  if (!trial) return { chosen: best, reason: `${alone}; no weighting of the kinds put weight on two or more of them`, ensemble: null };
  const { candidate, ensemble } = trial;
  candidates.push(candidate);
  const cf = ensemble.crossFittedAccuracy;
  if (cf !== null && cf > best.metrics.accuracy) {
    ensemble.kept = true;
    return { chosen: candidate, reason: `the ensemble of ${describeWeights(ensemble.weights)} scores ${pct(cf)} cross-fitted on validation (weights chosen on other folds), above ${alone}`, ensemble };
  }
  const why = cf === null ? 'too few validation rows to check the ensemble on rows that did not choose its weights' : `the ensemble's cross-fitted validation accuracy ${pct(cf)} does not beat it (${pct(ensemble.inSampleAccuracy)} on the rows that chose its weights)`;
  return { chosen: best, reason: `${alone}; ${why}`, ensemble };
}

/** The ensemble of the three best kinds, or undefined when the weights put everything on one. */
function tryEnsemble(candidates: Candidate[], ctx: FitContext): { candidate: Candidate; ensemble: EnsembleTrial } | undefined {
  const t0 = performance.now();
  const { classes, validation } = ctx;
  const truth = validation.labels.map((l) => classes.indexOf(l[0]!));
  // The three kinds best on validation: a finer search over more members would fit the
  // validation rows rather than the data.
  const pool = [...candidates].sort((a, b) => b.metrics.accuracy - a.metrics.accuracy).slice(0, 3);
  const poolScores = pool.map((c) => c.results.map((r) => classScores(r, classes)));
  const choice = chooseEnsembleWeights(poolScores, truth);
  const used = pool.map((c, i) => ({ c, weight: choice.weights[i]! })).filter((m) => m.weight > 0);
  if (used.length < 2) return undefined;
  const crossFitted = truth.length >= 5 ? crossFittedEnsembleAccuracy(poolScores, truth, { folds: 5, seed: ctx.o.seed }) : null;
  const bestAlone = Math.max(...candidates.map((c) => c.metrics.accuracy));
  // The members stay their own candidates' to dispose: the ensemble candidate is never disposed.
  const model = new TextClassifierEnsemble(
    used.map((m) => ({ model: m.c.model, weight: m.weight })),
    'classifier',
    { ...ctx.training, weights: 'chosen on the validation rows', validationAccuracy: choice.accuracy, crossFittedAccuracy: crossFitted },
  );
  const results = model.combine(used.map((m) => m.c.results));
  const metrics = classificationMetrics(classes, ctx.problem, validation.labels, results);
  const weights = Object.fromEntries(used.map((m) => [m.c.kind, m.weight]));
  const ensemble: EnsembleTrial = { pool: pool.map((c) => c.kind), weights, inSampleAccuracy: choice.accuracy, crossFittedAccuracy: crossFitted, bestAloneAccuracy: bestAlone, kept: false };
  const seconds = (performance.now() - t0) / 1000;
  return { candidate: { kind: 'ensemble', seconds, model, metrics, results, settings: { weights, crossFittedAccuracy: crossFitted } }, ensemble };
}

function describeWeights(weights: Record<string, number>): string {
  return Object.entries(weights)
    .map(([k, w]) => `${k} ${w}`)
    .join(' + ');
}
