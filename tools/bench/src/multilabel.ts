/**
 * bench:multilabel — recurrent multi-label classification against the TF-IDF logistic
 * regression baseline, on a multi-label set derived from TREC questions (data/ has no public
 * multi-label corpus): every question carries its coarse type and, when its fine type has at
 * least 100 training questions (16 of the 50), that fine type too, so label sets have one or two
 * members and several labels are rare.
 *
 * The training file is split (stratified by label set, seeded) into 80% fit, 10% validation
 * (early stopping, per-label thresholds) and 10% held-out rows from the same distribution;
 * TREC_10 is the second test set (its label mix differs: a quarter of it is DESC:def, 8% of the
 * training file). Each model is scored with its per-label F1 thresholds and with 0.5 for every
 * label, so the effect of the thresholds is seen apart from the model.
 *
 *   npm run bench:multilabel -- [--seed 1] [--epochs 20] [--units 64] [--lr 0.01] [--monitor val_accuracy|val_loss]
 */
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { initBackend, type TextClassificationPipeline } from '@seqlab/core';
import {
  chooseThresholds,
  classificationMetrics,
  decodeText,
  fitLinearTextClassifier,
  fitRecurrentTextClassifier,
  stratifiedSplit,
  type LabelledRows,
  type LabelThreshold,
  type LinearTextClassifier,
  type RecurrentTextClassifier,
} from '@seqlab/rnn';
import { arg, REPO_ROOT, dataPath, formatTable, writeResults } from './lib/report.js';

const SEED = Number(arg('seed', '1'));
const EPOCHS = Number(arg('epochs', '20'));
const UNITS = Number(arg('units', '64'));
const LR = Number(arg('lr', '0.01'));
const MONITOR = arg('monitor', 'val_accuracy') as 'val_loss' | 'val_accuracy';
const MIN_FINE = 100;

function lines(file: string): string[] {
  return decodeText(readFileSync(dataPath('trec', file)))
    .split('\n')
    .filter((l) => l.trim());
}

const trainLines = lines('train_5500.label');
const fineCounts = new Map<string, number>();
for (const l of trainLines) fineCounts.set(l.slice(0, l.indexOf(' ')), (fineCounts.get(l.slice(0, l.indexOf(' '))) ?? 0) + 1);
const commonFine = new Set([...fineCounts].filter(([, n]) => n >= MIN_FINE).map(([f]) => f));

function rowsOf(ls: string[]): LabelledRows {
  return {
    texts: ls.map((l) => l.slice(l.indexOf(' ') + 1).trim()),
    labels: ls.map((l) => {
      const fine = l.slice(0, l.indexOf(' '));
      return commonFine.has(fine) ? [fine.split(':')[0]!, fine] : [fine.split(':')[0]!];
    }),
  };
}

const all = rowsOf(trainLines);
const pick = (idx: number[]): LabelledRows => ({ texts: idx.map((i) => all.texts[i]!), labels: idx.map((i) => all.labels[i]!) });
const outer = stratifiedSplit(all.labels, 0.2, SEED);
const inner = stratifiedSplit(
  outer.holdout.map((i) => all.labels[i]!),
  0.5,
  SEED,
);
const fit = pick(outer.train);
const validation = pick(inner.train.map((j) => outer.holdout[j]!));
const heldOut = pick(inner.holdout.map((j) => outer.holdout[j]!));
const trec10 = rowsOf(lines('TREC_10.label'));
const classes = [...new Set(all.labels.flat())].sort();

const backend = await initBackend();
console.log(
  `derived TREC multi-label set: ${classes.length} labels (6 coarse + ${commonFine.size} fine with >= ${MIN_FINE} questions); ${fit.texts.length} fit / ${validation.texts.length} validation / ${heldOut.texts.length} held-out rows, TREC_10 ${trec10.texts.length}; backend ${backend.name}`,
);

interface Row {
  model: string;
  thresholds: string;
  testSet: string;
  subsetAccuracy: number;
  microF1: number;
  macroF1: number;
  jaccard: number;
  trainSeconds: number;
}
const rows: Row[] = [];

async function score(name: string, model: TextClassificationPipeline & { setThresholds(t: readonly number[]): void }, tuned: LabelThreshold[], seconds: number): Promise<void> {
  for (const [rule, thresholds] of [
    ['per-label F1', tuned.map((t) => t.threshold)],
    ['0.5', classes.map(() => 0.5)],
  ] as const) {
    model.setThresholds(thresholds);
    for (const [set, data] of [
      ['held-out 10%', heldOut],
      ['TREC_10', trec10],
    ] as const) {
      const m = classificationMetrics(classes, 'multi-label', data.labels, await model.predict(data.texts));
      rows.push({ model: name, thresholds: rule, testSet: set, subsetAccuracy: m.accuracy, microF1: m.micro.f1, macroF1: m.macro.f1, jaccard: m.jaccard!, trainSeconds: seconds });
    }
  }
}

for (const kind of ['tfidf-lr', 'fasttext'] as const) {
  const t0 = performance.now();
  // tfidf-lr chooses its L2 penalty on the validation rows, as `train classifier` does.
  const model: LinearTextClassifier = await fitLinearTextClassifier(fit, { kind, classes, seed: SEED, ...(kind === 'tfidf-lr' ? { validation } : {}) });
  const seconds = (performance.now() - t0) / 1000;
  const tuned = chooseThresholds(classes, validation.labels, await model.predict(validation.texts));
  await score(kind, model, tuned, seconds);
  model.dispose();
}

const t0 = performance.now();
const fitted = await fitRecurrentTextClassifier(fit, {
  classes,
  validation,
  embeddingDim: 100,
  units: UNITS,
  dropout: 0.3,
  epochs: EPOCHS,
  patience: 3,
  monitor: MONITOR,
  learningRate: LR,
  seed: SEED,
  onProgress: (e) => {
    if (e.type === 'epoch') console.log(`  rnn epoch ${e.epoch + 1}: loss ${e.loss.toFixed(4)}, val loss ${e.metrics.val_loss?.toFixed(4)}, val subset accuracy ${e.metrics.val_accuracy?.toFixed(4)}`);
  },
});
const rnnSeconds = (performance.now() - t0) / 1000;
const rnn: RecurrentTextClassifier = fitted.classifier;
await score('rnn (BiLSTM + attention)', rnn, fitted.thresholds!, rnnSeconds);
rnn.dispose();

console.log(
  formatTable(
    rows.map((r) => ({
      ...r,
      subsetAccuracy: r.subsetAccuracy.toFixed(4),
      microF1: r.microF1.toFixed(4),
      macroF1: r.macroF1.toFixed(4),
      jaccard: r.jaccard.toFixed(4),
      trainSeconds: r.trainSeconds.toFixed(1),
    })),
  ),
);
const file = await writeResults('multilabel', `npm run bench:multilabel -- --seed ${SEED} --epochs ${EPOCHS} --units ${UNITS} --lr ${LR} --monitor ${MONITOR}`, {
  backend: backend.name,
  data: {
    derivedFrom: 'data/trec/train_5500.label and TREC_10.label: coarse type, plus the fine type when it has >= 100 training questions',
    labels: classes.length,
    fitRows: fit.texts.length,
    validationRows: validation.texts.length,
    heldOutRows: heldOut.texts.length,
    trec10Rows: trec10.texts.length,
  },
  rnn: { epochs: fitted.result.history.length, bestEpoch: fitted.result.bestEpoch + 1, stopReason: fitted.result.stopReason, embeddingDim: 100, units: UNITS, learningRate: LR, monitor: MONITOR },
  rows,
});
console.log(`results written to ${path.relative(REPO_ROOT, file)}`);
