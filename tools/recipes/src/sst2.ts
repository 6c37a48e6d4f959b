/**
 * recipe:sst2 — SST-2 sentiment with the BiLSTM + attention kind (`rnn`) of the text-classification
 * task: a list of named settings, each one `train('text-classification')` call, scored once on the
 * GLUE dev set by `evaluate()`.
 *
 * Every variant is a seed-averaged ensemble (`members`: seeds seed, seed+1, ... on one vocabulary,
 * probabilities averaged, float16 weights) early-stopped on recipe:sst2's holdout: 500
 * sentence-like training phrases, with every training phrase that is a span of one of them or
 * contains one left out (`sst2Holdout`), so the holdout shares no phrase with training. The
 * learning rate halves on a holdout plateau. Budgets are epochs (8 per member, patience 2), so a
 * figure reproduces on any machine, only slower or faster.
 *
 *   npm run recipe:sst2 -- [--variant sst2-glove] [--seed 1] [--members 3] [--epochs 8] [--tokenizer word|wordpiece|bpe] [--resume]
 *                          [--out runs/sst2/NAME] [--results-name NAME] [--save]
 *
 * Variants: sst2 (from scratch, 96-d embedding), sst2-glove (frozen GloVe 6B 100-d with 40,000
 * more of its words carried: the shipped models/sentiment-glove), sst2-gru, sst2-lstm2 (more
 * from-scratch members for recipe:sst2-ensemble --from-scratch), sst2-glove-gru. `--save` copies
 * the model to its models/ folder (only sst2-glove has one).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { initBackend } from '@seqlab/core';
import { evaluate, train, type TextClassificationRow, type TextClassificationTrainOptions, type TrainEvent } from '@seqlab/tasks';
import { formatTable, readSst2, REPO_ROOT, sst2Holdout, writeResults } from '@seqlab/tools';
import { arg, flag, numberArg } from './args.js';
import { sst2Card } from './sst2-card.js';

/** What every variant shares: the settings of the committed figures. */
const BILSTM: Partial<TextClassificationTrainOptions> = {
  model: 'rnn',
  cell: 'lstm',
  units: 64,
  layers: 1,
  attention: 'pooling',
  dropout: 0.4,
  batchSize: 64,
  learningRate: 0.002,
  clipNorm: 5,
  epochs: 8,
  patience: 2,
  reduceLrOnPlateau: true,
  vocabSize: 16_000,
  maxLength: 64,
  truncation: 'head',
  members: 3,
  precision: 'float16',
  // Dense Adam over the embedding, as the committed figures were trained.
  sparseEmbeddings: false,
};
const SCRATCH: Partial<TextClassificationTrainOptions> = { ...BILSTM, wordVectors: 'none', embeddingDim: 96 };
const GLOVE: Partial<TextClassificationTrainOptions> = { ...BILSTM, wordVectors: 'glove-6b-100d', freezeEmbeddings: true };

/** The recipe: each variant's settings, its seed and the models/ folder it is shipped as (if any). */
const VARIANTS: Record<string, { seed: number; settings: Partial<TextClassificationTrainOptions>; model?: string }> = {
  sst2: { seed: 1, settings: { ...SCRATCH, openVocabulary: 0 } },
  'sst2-glove': { seed: 1, settings: { ...GLOVE, openVocabulary: 40_000 }, model: 'sentiment-glove' },
  'sst2-gru': { seed: 4, settings: { ...SCRATCH, cell: 'gru' } },
  'sst2-lstm2': { seed: 7, settings: SCRATCH },
  'sst2-glove-gru': { seed: 1, settings: { ...GLOVE, cell: 'gru', openVocabulary: 0 } },
};

const VARIANT = arg('variant', 'sst2');
const variant = VARIANTS[VARIANT];
if (!variant) throw new Error(`--variant: unknown "${VARIANT}"; valid: ${Object.keys(VARIANTS).join(', ')}`);
const SEED = numberArg('seed', variant.seed);
const overrides: Partial<TextClassificationTrainOptions> = {
  ...(flag('members') ? { members: numberArg('members', 3) } : {}),
  ...(flag('epochs') ? { epochs: numberArg('epochs', 8) } : {}),
  ...(flag('tokenizer') ? { tokenizer: arg('tokenizer', 'word') as TextClassificationTrainOptions['tokenizer'], wordVectors: 'none' } : {}),
};
const settings = { ...variant.settings, ...overrides };
const RESULTS_NAME = arg('results-name', VARIANT);
const OUT = path.resolve(REPO_ROOT, arg('out', path.join('runs', 'sst2', RESULTS_NAME)));
const SAVE = flag('save');
if (SAVE && !variant.model) throw new Error(`--save: variant ${VARIANT} is not shipped under models/`);
const CLASSES = ['negative', 'positive'];
const extra = process.argv.slice(2).filter((a) => a !== '--save' && a !== '--resume');
const command = ['npm run recipe:sst2 --', ...(extra.includes('--variant') ? [] : ['--variant', VARIANT]), ...extra].join(' ');

const backend = await initBackend({ backend: 'wasm' });
const trainSplit = await readSst2('train');
const devSplit = await readSst2('dev');
const split = sst2Holdout(trainSplit.sentences, { seed: 1, mode: 'sentences', count: 500 });
const rows = (idx: readonly number[]): TextClassificationRow[] => idx.map((i) => ({ text: trainSplit.sentences[i]!, label: CLASSES[trainSplit.labels[i]!]! }));
const fitRows = rows(split.trainIdx);
const holdout = rows(split.holdIdx);
const devRows = devSplit.sentences.map((text, i) => ({ text, label: CLASSES[devSplit.labels[i]!]! }));
console.log(`SST-2 ${VARIANT}: train ${fitRows.length}, early-stopping holdout ${holdout.length} (${split.droppedIdx.length} tied phrases left out), GLUE dev ${devRows.length}; backend ${backend.name}`);
console.log(`reproduce: ${command}`);

let lastBatchLog = 0;
const progress = (e: TrainEvent) => {
  if (e.type === 'stage') console.log(`${new Date().toISOString().slice(11, 19)} ${e.message}`);
  else if (e.type === 'epoch') console.log(`  epoch ${e.epoch}: loss ${e.metrics.loss?.toFixed(4)}, holdout acc ${e.metrics.val_accuracy?.toFixed(4)} (${e.seconds.toFixed(0)} s)`);
  else if (e.type === 'batch' && performance.now() - lastBatchLog > 60_000) {
    lastBatchLog = performance.now();
    console.log(`  epoch ${e.epoch} batch ${e.batch}/${e.batches} loss ${e.metrics.loss?.toFixed(4)}`);
  }
};
const { dir, report } = await train('text-classification', fitRows, {
  out: OUT,
  seed: SEED,
  validation: holdout,
  overwrite: !flag('resume'),
  resume: flag('resume'),
  ...settings,
  onProgress: progress,
});
const { metrics } = await evaluate('text-classification', dir, devRows);
const rnn = report.candidates.find((c) => c.kind === 'rnn')!;
const members = (rnn.settings?.members as Array<Record<string, unknown>> | undefined) ?? [{ member: 1, seed: SEED, epochs: report.details.epochsCompleted, bestEpoch: report.details.bestEpoch, stopReason: report.details.stopReason }];
let bytes = 0;
for (const f of await fs.readdir(dir, { recursive: true })) {
  const stat = await fs.stat(path.join(dir, f));
  if (stat.isFile()) bytes += stat.size;
}
console.log(formatTable(members.map((m) => ({ ...m, bestMetric: typeof m.bestMetric === 'number' ? m.bestMetric.toFixed(4) : '' }))));
console.log(`GLUE dev: accuracy ${(metrics.accuracy * 100).toFixed(2)}%, macro F1 ${metrics.macro.f1.toFixed(4)}, ROC-AUC ${metrics.rocAuc?.toFixed(4)}; holdout ${rnn.metrics.accuracy?.toFixed(4)}; ${(bytes / 1e6).toFixed(2)} MB; training ${report.seconds.toFixed(0)} s`);

const goal = settings.wordVectors === 'none' ? 0.84 : 0.88;
const payload = {
  backend: { name: backend.name, simd: backend.simd },
  data: {
    train: fitRows.length,
    earlyStoppingHoldout: `${holdout.length} sentence-like phrases (>= 8 tokens) held out of data/sst2/train.tsv (seed 1), with every training phrase that is a span of one of them or contains one removed; used for early stopping and LR plateaus`,
    trainPhrasesDropped: split.droppedIdx.length,
    evaluation: `GLUE dev (data/sst2/dev.tsv, ${devRows.length} sentences), scored once after training`,
  },
  settings: { seed: SEED, ...settings },
  ...(report.details.rnnWordVectors ? { wordVectors: report.details.rnnWordVectors } : {}),
  metrics: { devAccuracy: metrics.accuracy, macroF1: metrics.macro.f1, rocAuc: metrics.rocAuc, confusionMatrix: metrics.confusionMatrix, holdoutAccuracy: rnn.metrics.accuracy },
  goal: { devAccuracy: goal, baseline: 'CNN with random embeddings 82.7%, fine-tuned word2vec 87.2% (Kim 2014)' },
  reachedGoal: metrics.accuracy >= goal,
  training: { seconds: report.seconds, stages: report.stages, members },
  modelSizeBytes: bytes,
  savedModel: SAVE ? `models/${variant.model}` : null,
};
const file = await writeResults(RESULTS_NAME, command, payload, { file: 'sst2' });
console.log(`results: ${path.relative(REPO_ROOT, file)} (run ${RESULTS_NAME}); model: ${path.relative(REPO_ROOT, dir)}`);
if (SAVE) {
  const target = path.join(REPO_ROOT, 'models', variant.model!);
  await fs.rm(target, { recursive: true, force: true });
  await fs.cp(dir, target, { recursive: true });
  await fs.writeFile(path.join(target, 'README.md'), sst2Card({ name: variant.model!, command, seed: SEED, settings, metrics, holdoutAccuracy: rnn.metrics.accuracy ?? NaN, members, bytes, backend: backend.name, trainRows: fitRows.length }));
  console.log(`saved models/${variant.model}`);
}
