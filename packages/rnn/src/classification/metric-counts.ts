import type { ClassificationProblem, TextClassificationResult } from '@seqlab/core';
import { RnnArgumentError } from '../errors.js';
import type { TextClassificationMetrics } from './metrics.js';

/** Bins of the ROC-AUC histogram, over the positive class's log-odds in [-LOGIT_RANGE, LOGIT_RANGE]. */
const AUC_BINS = 1 << 16;
const LOGIT_RANGE = 20;

const f1Of = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/**
 * The metrics of `classificationMetrics`, accumulated batch by batch in memory that does not
 * grow with the number of texts: per-class counts, the confusion matrix, and for binary
 * problems a fixed histogram of the positive class's log-odds instead of every score. ROC-AUC
 * from the histogram counts two texts whose log-odds fall in one bin (width 0.0006) as a tie,
 * so it can differ from the exact figure in the fourth decimal at most on real score spreads;
 * everything else is exact.
 *
 * @example
 * ```ts
 * const counts = new ClassificationCounts(model.classes, model.problem);
 * for await (const batch of stream.batches(256)) counts.add(batch.labels, await model.predict(batch.texts));
 * console.log(counts.metrics().accuracy);
 * ```
 */
export class ClassificationCounts {
  private readonly index: Map<string, number>;
  private readonly tp: Float64Array;
  private readonly fp: Float64Array;
  private readonly fn: Float64Array;
  private readonly support: Float64Array;
  private readonly confusion: Float64Array | undefined;
  private readonly aucBins: { pos: Float64Array; neg: Float64Array } | undefined;
  private count = 0;
  private exact = 0;
  private jaccard = 0;
  private truncated = 0;

  constructor(
    readonly classes: readonly string[],
    readonly problem: ClassificationProblem,
  ) {
    const C = classes.length;
    this.index = new Map(classes.map((c, i) => [c, i]));
    [this.tp, this.fp, this.fn, this.support] = [0, 1, 2, 3].map(() => new Float64Array(C)) as [Float64Array, Float64Array, Float64Array, Float64Array];
    this.confusion = problem !== 'multi-label' ? new Float64Array(C * C) : undefined;
    this.aucBins = problem === 'binary' ? { pos: new Float64Array(AUC_BINS), neg: new Float64Array(AUC_BINS) } : undefined;
  }

  /** Texts counted so far. */
  get size(): number {
    return this.count;
  }

  /** Adds a batch: the true labels of each text and the model's results for them. */
  add(truth: readonly (readonly string[])[], results: readonly TextClassificationResult[]): void {
    if (truth.length !== results.length) throw new RnnArgumentError(`ClassificationCounts: ${truth.length} true label sets for ${results.length} results`);
    const single = this.problem !== 'multi-label';
    results.forEach((r, i) => {
      const row = this.count + i + 1;
      if (r.truncated) this.truncated++;
      const t = new Set(truth[i]);
      const p = new Set(single ? [r.label] : r.predicted);
      let both = 0;
      for (const l of t) {
        const c = this.classId(l, row);
        this.support[c]!++;
        if (p.has(l)) {
          this.tp[c]!++;
          both++;
        } else this.fn[c]!++;
      }
      for (const l of p) if (!t.has(l)) this.fp[this.index.get(l)!]!++;
      if (t.size === p.size && both === t.size) this.exact++;
      const union = t.size + p.size - both;
      this.jaccard += union === 0 ? 1 : both / union;
      if (this.confusion) this.confusion[this.classId(truth[i]![0]!, row) * this.classes.length + this.index.get(r.label)!]!++;
      if (this.aucBins) this.addScore(truth[i]![0] === this.classes[1], r.labels.find((l) => l.label === this.classes[1])!.score);
    });
    this.count += results.length;
  }

  /** The metrics of every text added, as `classificationMetrics` gives them. */
  metrics(): TextClassificationMetrics {
    if (this.count === 0) throw new RnnArgumentError('ClassificationCounts: no texts');
    const C = this.classes.length;
    const perClass = this.classes.map((label, c) => {
      const precision = this.tp[c]! + this.fp[c]! > 0 ? this.tp[c]! / (this.tp[c]! + this.fp[c]!) : 0;
      const recall = this.support[c]! > 0 ? this.tp[c]! / this.support[c]! : 0;
      return { label, precision, recall, f1: f1Of(precision, recall), support: this.support[c]! };
    });
    const mean = (k: 'precision' | 'recall' | 'f1') => perClass.reduce((s, m) => s + m[k], 0) / C;
    const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
    const [tp, fp, fn, support] = [sum(this.tp), sum(this.fp), sum(this.fn), sum(this.support)];
    const microP = tp + fp > 0 ? tp / (tp + fp) : 0;
    const microR = tp + fn > 0 ? tp / (tp + fn) : 0;
    const out: TextClassificationMetrics = {
      problem: this.problem,
      count: this.count,
      accuracy: this.exact / this.count,
      perClass,
      macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
      micro: { precision: microP, recall: microR, f1: f1Of(microP, microR) },
      weightedF1: support > 0 ? perClass.reduce((s, m) => s + m.f1 * m.support, 0) / support : 0,
      truncated: this.truncated,
    };
    if (this.confusion) out.confusionMatrix = Array.from({ length: C }, (_, r) => Array.from(this.confusion!.subarray(r * C, (r + 1) * C)));
    if (this.problem === 'multi-label') out.jaccard = this.jaccard / this.count;
    const auc = this.binnedAuc();
    if (auc !== undefined) out.rocAuc = auc;
    return out;
  }

  private classId(label: string, row: number): number {
    const c = this.index.get(label);
    if (c === undefined) throw new RnnArgumentError(`classificationMetrics: row ${row}: true label ${JSON.stringify(label)} is not one of the model's classes (${this.classes.join(', ')})`);
    return c;
  }

  private addScore(positive: boolean, score: number): void {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, score));
    const logit = Math.log(p / (1 - p));
    const bin = Math.min(AUC_BINS - 1, Math.max(0, Math.floor(((logit + LOGIT_RANGE) / (2 * LOGIT_RANGE)) * AUC_BINS)));
    (positive ? this.aucBins!.pos : this.aucBins!.neg)[bin]!++;
  }

  /** Mann-Whitney U over the histogram: pairs within one bin count a half. */
  private binnedAuc(): number | undefined {
    if (!this.aucBins) return undefined;
    const { pos, neg } = this.aucBins;
    let negBelow = 0;
    let wins = 0;
    let positives = 0;
    for (let b = 0; b < AUC_BINS; b++) {
      wins += pos[b]! * (negBelow + neg[b]! / 2);
      negBelow += neg[b]!;
      positives += pos[b]!;
    }
    return positives === 0 || negBelow === 0 ? undefined : wins / (positives * negBelow);
  }
}
