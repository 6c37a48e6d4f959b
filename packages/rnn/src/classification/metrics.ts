import type { ClassificationProblem, TextClassificationResult } from '@seqlab/core/base';
import { RnnArgumentError } from '../errors.js';
import { rocAuc } from '../metrics.js';

/** Precision, recall, F1 and support of one class. */
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Texts that truly have the class. */
  support: number;
}

/** Scores of a classifier's results against the true labels, for any problem type. */
export interface TextClassificationMetrics {
  problem: ClassificationProblem;
  count: number;
  /** Single-label: top class right. Multi-label: the predicted set equals the true set (subset accuracy). */
  accuracy: number;
  perClass: ClassMetrics[];
  macro: { precision: number; recall: number; f1: number };
  /** Pooled over classes (single-label: micro precision = recall = F1 = accuracy). */
  micro: { precision: number; recall: number; f1: number };
  /** Support-weighted mean F1. */
  weightedF1: number;
  /** Rows: true class, columns: predicted class, in class order (single-label only). */
  confusionMatrix?: number[][];
  /** Binary only: ROC-AUC of the second class's score. */
  rocAuc?: number;
  /** Multi-label only: the mean per text of |true ∩ predicted| / |true ∪ predicted|. */
  jaccard?: number;
  /** Texts longer than the model reads at once. */
  truncated: number;
}

const f1Of = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/**
 * Per-class precision / recall / F1 / support, macro, micro and weighted averages, the
 * confusion matrix (single-label), ROC-AUC (binary) and subset accuracy + Jaccard (multi-label)
 * of `results` against `truth` (the true labels of each text).
 */
export function classificationMetrics(
  classes: readonly string[],
  problem: ClassificationProblem,
  truth: readonly (readonly string[])[],
  results: readonly TextClassificationResult[],
): TextClassificationMetrics {
  if (truth.length !== results.length) throw new RnnArgumentError(`classificationMetrics: ${truth.length} true label sets for ${results.length} results`);
  if (truth.length === 0) throw new RnnArgumentError('classificationMetrics: no texts');
  const C = classes.length;
  const index = new Map(classes.map((c, i) => [c, i]));
  const tp = new Array<number>(C).fill(0);
  const fp = new Array<number>(C).fill(0);
  const fn = new Array<number>(C).fill(0);
  const support = new Array<number>(C).fill(0);
  const single = problem !== 'multi-label';
  const cm = single ? Array.from({ length: C }, () => new Array<number>(C).fill(0)) : undefined;
  let exact = 0;
  let jaccard = 0;
  let truncated = 0;
  results.forEach((r, i) => {
    if (r.truncated) truncated++;
    const t = new Set(truth[i]);
    const p = new Set(single ? [r.label] : r.predicted);
    for (const l of t) {
      const c = index.get(l);
      if (c === undefined) throw new RnnArgumentError(`classificationMetrics: row ${i + 1}: true label ${JSON.stringify(l)} is not one of the model's classes (${classes.join(', ')})`);
      support[c]!++;
      if (p.has(l)) tp[c]!++;
      else fn[c]!++;
    }
    for (const l of p) if (!t.has(l)) fp[index.get(l)!]!++;
    if (t.size === p.size && [...t].every((l) => p.has(l))) exact++;
    const union = new Set([...t, ...p]).size;
    jaccard += union === 0 ? 1 : [...t].filter((l) => p.has(l)).length / union;
    if (cm) cm[index.get(truth[i]![0]!)!]![index.get(r.label)!]!++;
  });
  const perClass = classes.map((label, c) => {
    const precision = tp[c]! + fp[c]! > 0 ? tp[c]! / (tp[c]! + fp[c]!) : 0;
    const recall = support[c]! > 0 ? tp[c]! / support[c]! : 0;
    return { label, precision, recall, f1: f1Of(precision, recall), support: support[c]! };
  });
  const mean = (k: 'precision' | 'recall' | 'f1') => perClass.reduce((s, m) => s + m[k], 0) / C;
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  const microP = sum(tp) + sum(fp) > 0 ? sum(tp) / (sum(tp) + sum(fp)) : 0;
  const microR = sum(tp) + sum(fn) > 0 ? sum(tp) / (sum(tp) + sum(fn)) : 0;
  const totalSupport = sum(support);
  const out: TextClassificationMetrics = {
    problem,
    count: results.length,
    accuracy: exact / results.length,
    perClass,
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
    micro: { precision: microP, recall: microR, f1: f1Of(microP, microR) },
    weightedF1: totalSupport > 0 ? perClass.reduce((s, m) => s + m.f1 * m.support, 0) / totalSupport : 0,
    truncated,
  };
  if (cm) out.confusionMatrix = cm;
  if (!single) out.jaccard = jaccard / results.length;
  if (problem === 'binary') {
    const y = truth.map((t) => (t[0] === classes[1] ? 1 : 0));
    if (y.some((v) => v === 1) && y.some((v) => v === 0)) {
      out.rocAuc = rocAuc(
        y,
        results.map((r) => r.labels.find((l) => l.label === classes[1])!.score),
      );
    }
  }
  return out;
}
