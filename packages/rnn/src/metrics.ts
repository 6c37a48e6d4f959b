import { RnnArgumentError } from './errors.js';

function checkPairs(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, what: string): void {
  if (yTrue.length !== yPred.length) throw new RnnArgumentError(`${what}: yTrue has ${yTrue.length} entries, yPred ${yPred.length}`);
  if (yTrue.length === 0) throw new RnnArgumentError(`${what}: no samples`);
}

/** Fraction of predictions equal to the labels. */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  checkPairs(yTrue, yPred, 'accuracy');
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

/** `matrix[true][predicted]` counts for classes `0..numClasses-1`. */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses?: number): number[][] {
  checkPairs(yTrue, yPred, 'confusionMatrix');
  let k = numClasses ?? 0;
  if (numClasses === undefined) for (let i = 0; i < yTrue.length; i++) k = Math.max(k, yTrue[i]! + 1, yPred[i]! + 1);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!Number.isInteger(t) || !Number.isInteger(p) || t < 0 || p < 0 || t >= k || p >= k) {
      throw new RnnArgumentError(`confusionMatrix: sample ${i} has label ${t} / prediction ${p} outside 0..${k - 1}`);
    }
    m[t]![p]!++;
  }
  return m;
}

/** Per-class and macro-averaged precision, recall and F1. */
export interface ClassificationReport {
  accuracy: number;
  precision: number[];
  recall: number[];
  f1: number[];
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  confusionMatrix: number[][];
}

/** Accuracy, per-class and macro precision/recall/F1, and the confusion matrix. */
export function classificationReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses?: number): ClassificationReport {
  const m = confusionMatrix(yTrue, yPred, numClasses);
  const k = m.length;
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  for (let c = 0; c < k; c++) {
    const tp = m[c]![c]!;
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < k; j++) {
      predicted += m[j]![c]!;
      actual += m[c]![j]!;
    }
    const p = predicted ? tp / predicted : 0;
    const r = actual ? tp / actual : 0;
    precision.push(p);
    recall.push(r);
    f1.push(p + r ? (2 * p * r) / (p + r) : 0);
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return {
    accuracy: accuracy(yTrue, yPred),
    precision,
    recall,
    f1,
    macroPrecision: mean(precision),
    macroRecall: mean(recall),
    macroF1: mean(f1),
    confusionMatrix: m,
  };
}

/**
 * Area under the ROC curve for binary labels (1 = positive) and scores: the probability that a
 * random positive scores above a random negative (ties count half).
 */
export function rocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkPairs(yTrue, scores, 'rocAuc');
  const idx = Array.from({ length: yTrue.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < yTrue.length; i++) {
    if (yTrue[i] === 1) pos++;
    else if (yTrue[i] === 0) neg++;
    else throw new RnnArgumentError(`rocAuc: labels must be 0 or 1, sample ${i} is ${yTrue[i]}`);
  }
  if (pos === 0 || neg === 0) throw new RnnArgumentError('rocAuc: needs at least one positive and one negative sample');
  // Mann-Whitney U with average ranks for ties.
  let rankSumPos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (yTrue[idx[t]!] === 1) rankSumPos += avgRank;
    i = j + 1;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Perplexity from a mean negative log-likelihood in nats. */
export function perplexity(meanNllNats: number): number {
  return Math.exp(meanNllNats);
}

/** Bits per character (or token) from a mean negative log-likelihood in nats. */
export function bitsPerCharacter(meanNllNats: number): number {
  return meanNllNats / Math.LN2;
}
