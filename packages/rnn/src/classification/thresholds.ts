import type { TextClassificationResult } from '@seqlab/core/base';
import { RnnArgumentError } from '../errors.js';

/** The threshold a multi-label class gets when nothing better is known (no validation positives). */
export const DEFAULT_THRESHOLD = 0.5;

/** How one class's decision threshold was chosen. */
export interface LabelThreshold {
  label: string;
  /** Predict the class when its score is at least this. */
  threshold: number;
  /** F1 of the class on the rows the threshold was chosen on (at that threshold). */
  f1: number;
  /** Rows of those that have the class; 0 means the default threshold was kept. */
  support: number;
}

/**
 * Per-class decision thresholds of a multi-label classifier, each maximising that class's F1 on
 * held-out rows (`results` of the model on them, `truth` their true label sets). Independent
 * sigmoids are rarely calibrated for rare labels, whose scores seldom reach 0.5, so a threshold
 * per class is the usual fix (Fan & Lin 2007, "SCut"). A class with no positive row keeps
 * {@link DEFAULT_THRESHOLD}. Each threshold sits halfway between the lowest score predicted
 * positive and the next score below it, so a slightly lower score on new text still counts;
 * among equally good cuts the one nearest 0.5 wins (the least tuned).
 */
export function chooseThresholds(
  classes: readonly string[],
  truth: readonly (readonly string[])[],
  results: readonly TextClassificationResult[],
): LabelThreshold[] {
  if (truth.length !== results.length) throw new RnnArgumentError(`chooseThresholds: ${truth.length} true label sets for ${results.length} results`);
  return classes.map((label) => {
    const scored = results.map((r, i) => {
      const s = r.labels.find((l) => l.label === label);
      if (!s) throw new RnnArgumentError(`chooseThresholds: result ${i + 1} has no score for class ${JSON.stringify(label)}`);
      return { score: s.score, positive: truth[i]!.includes(label) };
    });
    const support = scored.filter((s) => s.positive).length;
    if (support === 0) return { label, threshold: DEFAULT_THRESHOLD, f1: 0, support };
    scored.sort((a, b) => b.score - a.score);
    let best = { threshold: DEFAULT_THRESHOLD, f1: -1 };
    let tp = 0;
    for (let k = 1; k <= scored.length; k++) {
      if (scored[k - 1]!.positive) tp++;
      // Only cut between distinct scores: equal scores are predicted alike.
      const next = k < scored.length ? scored[k]!.score : 0;
      if (next === scored[k - 1]!.score) continue;
      const f1 = (2 * tp) / (k + support);
      // Kept inside [0.01, 0.99]: a cut beyond is fitted to a handful of held-out scores.
      const threshold = Math.min(0.99, Math.max(0.01, (scored[k - 1]!.score + next) / 2));
      if (f1 > best.f1 + 1e-12 || (Math.abs(f1 - best.f1) <= 1e-12 && Math.abs(threshold - 0.5) < Math.abs(best.threshold - 0.5))) best = { threshold, f1 };
    }
    return { label, threshold: best.threshold, f1: best.f1, support };
  });
}

/** Checks stored per-class thresholds: one number in (0, 1) per class. */
export function checkThresholds(thresholds: unknown, classes: number, what: string): number[] {
  if (!Array.isArray(thresholds) || thresholds.length !== classes) {
    throw new RnnArgumentError(`${what} must list ${classes} thresholds (one per class), got ${Array.isArray(thresholds) ? thresholds.length : JSON.stringify(thresholds)}`);
  }
  thresholds.forEach((t, i) => {
    if (typeof t !== 'number' || !(t > 0 && t < 1)) throw new RnnArgumentError(`${what}[${i}] must be a number between 0 and 1, got ${JSON.stringify(t)}`);
  });
  return [...(thresholds as number[])];
}
