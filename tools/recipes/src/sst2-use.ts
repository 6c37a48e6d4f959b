/**
 * recipe:sst2-use — SST-2 on Universal Sentence Encoder (lite) vectors, and their fusion with a
 * BiLSTM of recipe:sst2:
 *
 * 1. `use`: a head on frozen USE vectors (logistic regression or an MLP of 256, chosen with its
 *    epochs on the validation rows), one `train('text-classification')` call. The rows as
 *    recipe:sst2 splits them: fit on its training phrases; validation = half of its 500 held-out
 *    sentences and the phrases tied to them (recipe:sst2-use's model-choice set). The vectors are
 *    kept in runs/cache/use (`embeddingCache`), shared with recipe:sst2-transfer's use/hybrid
 *    kinds, so SST-2 is embedded once (about an hour of USE-lite on wasm) for all of them.
 * 2. `fusion`: `ensembleOf()` the USE head and the BiLSTM model (`--rnn-model`, default the
 *    shipped models/sentiment-glove), the weights chosen on the other half of the held-out
 *    sentences and their phrases, which neither member fitted or stopped on.
 *
 * GLUE dev is scored once per model by `evaluate()`; the kind reported is the one best on the
 * model-choice rows.
 *
 *   npm run recipe:sst2-use -- [--seed 1] [--hidden 0,256] [--epochs 30] [--rnn-model models/sentiment-glove] [--results-name sst2-use]
 */
import path from 'node:path';
import { initBackend } from '@seqlab/core';
import { ensembleOf, evaluate, train, type TextClassificationRow, type TextClassificationTrainOptions } from '@seqlab/tasks';
import { formatTable, readSst2, REPO_ROOT, sst2ChoiceRows, writeResults } from '@seqlab/tools';
import { arg, numberArg } from './args.js';
import { SST2_USE_CACHE } from './paths.js';

const SEED = numberArg('seed', 1);
const HIDDEN = arg('hidden', '0,256').split(',').map(Number);
const EPOCHS = numberArg('epochs', 30);
const RNN_MODEL = arg('rnn-model', 'models/sentiment-glove');
const RESULTS = arg('results-name', 'sst2-use');
const RUNS = path.join(REPO_ROOT, 'runs', 'sst2-use', `seed-${SEED}`);
const CLASSES = ['negative', 'positive'];
const command = `npm run recipe:sst2-use -- --seed ${SEED} --hidden ${HIDDEN.join(',')} --epochs ${EPOCHS} --rnn-model ${RNN_MODEL}${RESULTS !== 'sst2-use' ? ` --results-name ${RESULTS}` : ''}`;
const log = (msg: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${msg}`);

/** The recipe: what `train()` is told for the USE head (sixty thousand phrases: larger batches, fewer epochs than the defaults). */
const USE: Partial<TextClassificationTrainOptions> = { model: 'use', headHidden: HIDDEN, headEpochs: EPOCHS, headPatience: 5, headBatchSize: 256, embeddingCache: SST2_USE_CACHE };

const backend = await initBackend({ backend: 'wasm' });
const trainSplit = await readSst2('train');
const devSplit = await readSst2('dev');
const choice = sst2ChoiceRows(trainSplit.sentences, { seed: SEED });
const rows = (idx: readonly number[]): TextClassificationRow[] => idx.map((i) => ({ text: trainSplit.sentences[i]!, label: CLASSES[trainSplit.labels[i]!]! }));
const fitRows = rows(choice.split.trainIdx);
const chooseRows = rows(choice.idx);
const fusionRows = rows(choice.restIdx);
const devRows = devSplit.sentences.map((text, i) => ({ text, label: CLASSES[devSplit.labels[i]!]! }));
log(`SST-2: fit ${fitRows.length}, model choice ${chooseRows.length} (${choice.sentenceIdx.length} sentences + their phrases), fusion weights on ${fusionRows.length} out-of-sample rows, dev ${devRows.length}; backend ${backend.name}`);

interface Row {
  model: string;
  choiceAccuracy: number;
  devAccuracy: number;
  devMacroF1: number;
  seconds: number;
  settings?: Record<string, unknown>;
}
const results: Row[] = [];
/** Scores a model on the choice rows (unless `train()` already did: they were its validation rows) and on dev. */
async function score(model: string, dir: string, seconds: number, settings?: Record<string, unknown>, choiceAccuracy?: number): Promise<void> {
  const onChoice = choiceAccuracy ?? (await evaluate('text-classification', dir, chooseRows)).metrics.accuracy;
  const onDev = await evaluate('text-classification', dir, devRows);
  results.push({ model, choiceAccuracy: onChoice, devAccuracy: onDev.metrics.accuracy, devMacroF1: onDev.metrics.macro.f1, seconds, ...(settings ? { settings } : {}) });
  log(`${model}: choice rows ${onChoice.toFixed(4)}, dev ${onDev.metrics.accuracy.toFixed(4)}`);
}

let t0 = performance.now();
const use = await train('text-classification', fitRows, {
  out: path.join(RUNS, 'use'),
  seed: SEED,
  validation: chooseRows,
  overwrite: true,
  ...USE,
  onProgress: (e) => {
    if (e.type === 'stage') log(`use: ${e.message}`);
  },
});
const s = use.report.candidates[0]!.settings ?? {};
await score('use', use.dir, (performance.now() - t0) / 1000, { chosenHidden: s.chosenHidden, headEpochs: s.headEpochs, heads: s.heads }, use.report.details.validationMetrics.accuracy);

const rnnDir = path.resolve(REPO_ROOT, RNN_MODEL);
await score(RNN_MODEL, rnnDir, 0);
t0 = performance.now();
const fusion = await ensembleOf([{ model: use.dir }, { model: rnnDir }], fusionRows, {
  out: path.join(RUNS, 'fusion'),
  name: 'sentiment-use-fusion',
  training: { recipe: command, weights: `chosen on ${fusionRows.length} held-out rows neither member fitted or stopped on` },
});
await score('fusion', fusion.dir, (performance.now() - t0) / 1000, { weights: { use: fusion.weights[0], [RNN_MODEL]: fusion.weights[1] }, fusionRowsAccuracy: fusion.validationAccuracy });

console.log(formatTable(results.map((r) => ({ model: r.model, choice: r.choiceAccuracy.toFixed(4), dev: r.devAccuracy.toFixed(4), 'dev macro F1': r.devMacroF1.toFixed(4), seconds: r.seconds.toFixed(0) }))));
const fitted = results.filter((r) => r.model !== RNN_MODEL);
// Chosen on the model-choice rows; dev only reports.
const chosen = fitted.reduce((a, b) => (b.choiceAccuracy > a.choiceAccuracy ? b : a));
log(`chosen on the model-choice rows: ${chosen.model}, dev ${(chosen.devAccuracy * 100).toFixed(2)}%`);
const file = await writeResults(
  RESULTS,
  command,
  {
    backend: { name: backend.name, simd: backend.simd },
    data: {
      fit: fitRows.length,
      modelChoice: chooseRows.length,
      modelChoiceSentences: choice.sentenceIdx.length,
      fusionRows: fusionRows.length,
      dev: devRows.length,
      split: `recipe:sst2's holdout (seed 1): ${choice.split.holdIdx.length} sentences held out, ${choice.split.droppedIdx.length} phrases tied to them left out of training`,
    },
    rows: results,
    chosen: { model: chosen.model, choiceAccuracy: chosen.choiceAccuracy, devAccuracy: chosen.devAccuracy },
    models: { use: path.relative(REPO_ROOT, use.dir), fusion: path.relative(REPO_ROOT, fusion.dir) },
  },
  { file: 'sst2-use' },
);
log(`results written to ${path.relative(REPO_ROOT, file)}`);
