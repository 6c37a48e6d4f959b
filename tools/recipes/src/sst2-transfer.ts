/**
 * recipe:sst2-transfer — SST-2 through the text-classification task's sentence-encoder kinds,
 * what `seqlab train classifier --encoder use` runs: `use` (a head on Universal Sentence Encoder
 * vectors, logistic regression or MLP chosen on validation) and `hybrid` (that head's
 * probabilities averaged with a TF-IDF n-gram logistic regression's, the weight chosen on
 * validation), beside TF-IDF logistic regression alone. Each is one `train('text-classification')`
 * call with the settings below; GLUE dev is scored by `evaluate()`.
 *
 * Rows as recipe:sst2 and recipe:sst2-use split them: the models fit on the training phrases
 * that are not tied to recipe:sst2's 500 held-out sentences; half of those sentences with their
 * phrases (the model-choice set of recipe:sst2-use) are the validation rows that choose the head,
 * its epochs, the hybrid's weight and tfidf-lr's L2 penalty. GLUE dev (872 sentences) only
 * reports. No refit: the choice set is 5% of the rows.
 *
 * `--limit N` fits on a seeded sample of N training phrases and `--val-limit M` chooses on M of
 * the validation rows (the 250 held-out sentences first, then their phrases), for a machine
 * where embedding all 64k phrases with USE-lite (about 20 texts/s on wasm) does not fit.
 *
 *   npm run recipe:sst2-transfer -- [--seed 1] [--hidden 0,256] [--holdout-seed 1] [--limit N] [--val-limit M]
 */
import path from 'node:path';
import { initBackend, SeededRandom } from '@seqlab/core';
import { describeModel, evaluate, train, type TextClassificationRow, type TextClassificationTrainOptions } from '@seqlab/tasks';
import { formatTable, readSst2, REPO_ROOT, sst2ChoiceRows, writeResults } from '@seqlab/tools';
import { arg } from './args.js';
import { SST2_USE_CACHE } from './paths.js';

const SEED = Number(arg('seed', '1'));
const HOLDOUT_SEED = Number(arg('holdout-seed', '1'));
const HIDDEN = arg('hidden', '0,256').split(',').map(Number);
const LIMIT = Number(arg('limit', '0'));
const VAL_LIMIT = Number(arg('val-limit', '0'));
const RUNS = path.join(REPO_ROOT, 'runs', 'sst2-transfer', `seed-${SEED}`);
const LABELS = ['negative', 'positive'];
const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

/** The recipe: what `train()` is told for each kind. */
const KINDS: Array<[string, Partial<TextClassificationTrainOptions>]> = [
  // The n-gram model alone, for reference (the hybrid's other half).
  ['tfidf-lr', { model: 'tfidf-lr' }],
  // Sixty thousand phrases: larger batches, fewer epochs than the defaults for a few thousand rows.
  // The rows' sentence vectors are embedded once for both kinds (and recipe:sst2-use's), kept in runs/cache/use.
  ['use', { model: 'use', headHidden: HIDDEN, headEpochs: 30, headPatience: 5, headBatchSize: 256, embeddingCache: SST2_USE_CACHE }],
  ['hybrid', { model: 'hybrid', headHidden: HIDDEN, headEpochs: 30, headPatience: 5, headBatchSize: 256, embeddingCache: SST2_USE_CACHE }],
];

const backend = await initBackend({ backend: 'wasm' });
const trainSplit = await readSst2('train');
const devSplit = await readSst2('dev');

// recipe:sst2-use's split: the model-choice sentences (and their phrases) are the validation rows.
const { split, sentenceIdx: selSentences, phraseIdx: selectionPhrases } = sst2ChoiceRows(trainSplit.sentences, { seed: SEED, holdoutSeed: HOLDOUT_SEED });
const sample = (idx: readonly number[], n: number, salt: string) =>
  n > 0 && n < idx.length ? Array.from(new SeededRandom(`sst2-transfer:${salt}:${SEED}`).permutation(idx.length).subarray(0, n), (j) => idx[j]!).sort((a, b) => a - b) : [...idx];
// Whole sentences are what dev holds: they go first into a limited validation set.
const selectionIdx = [...selSentences, ...(VAL_LIMIT <= 0 ? selectionPhrases : VAL_LIMIT > selSentences.length ? sample(selectionPhrases, VAL_LIMIT - selSentences.length, 'val') : [])];
const rows = (idx: readonly number[]): TextClassificationRow[] => idx.map((i) => ({ text: trainSplit.sentences[i]!, label: LABELS[trainSplit.labels[i]!]! }));
const fitRows = rows(sample(Array.from(split.trainIdx), LIMIT, 'fit'));
const valRows = rows(selectionIdx);
const devRows = devSplit.sentences.map((text, i) => ({ text, label: LABELS[devSplit.labels[i]!]! }));
log(`SST-2: fit ${fitRows.length} phrases, choose on ${valRows.length} (${selSentences.length} held-out sentences + their phrases), report on dev ${devRows.length}; backend ${backend.name}`);

interface Row {
  kind: string;
  validationAccuracy: number;
  devAccuracy: number;
  devMacroF1: number;
  trainSeconds: number;
  chosen?: { hidden: number; headEpochs: number; useWeight?: number };
  heads?: unknown;
  ngramValidationAccuracy?: number;
  l2?: number;
}
const results: Row[] = [];
let encoder: unknown = null;
for (const [kind, settings] of KINDS) {
  const t0 = performance.now();
  const { dir, report } = await train('text-classification', fitRows, {
    out: path.join(RUNS, kind),
    seed: SEED,
    validation: valRows,
    ...settings,
    onProgress: (e) => {
      if (e.type === 'stage') log(`${kind}: ${e.message}`);
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const s = report.candidates[0]!.settings ?? {};
  const { metrics } = await evaluate('text-classification', dir, devRows);
  const row: Row = { kind, validationAccuracy: report.candidates[0]!.metrics.accuracy!, devAccuracy: metrics.accuracy, devMacroF1: metrics.macro.f1, trainSeconds };
  if (kind === 'tfidf-lr') row.l2 = s.l2 as number;
  else {
    row.chosen = { hidden: s.chosenHidden as number, headEpochs: s.headEpochs as number, ...(s.useWeight !== undefined ? { useWeight: s.useWeight as number } : {}) };
    row.heads = s.heads;
    if (s.ngramValidationAccuracy !== undefined) row.ngramValidationAccuracy = s.ngramValidationAccuracy as number;
    encoder ??= ((await describeModel(dir)) as { encoder?: unknown }).encoder ?? null;
  }
  results.push(row);
  log(`${kind}: validation ${row.validationAccuracy.toFixed(4)}, dev ${row.devAccuracy.toFixed(4)} (${trainSeconds.toFixed(1)} s)`);
}

console.log(formatTable(results.map((r) => ({ kind: r.kind, validation: r.validationAccuracy, dev: r.devAccuracy, 'dev macro F1': r.devMacroF1, 'train s': r.trainSeconds }))));
// The kind reported is the one validation prefers; dev only reports.
const chosen = results.reduce((a, b) => (b.validationAccuracy > a.validationAccuracy ? b : a));
console.log(`chosen on validation: ${chosen.kind}, dev ${(chosen.devAccuracy * 100).toFixed(2)}% (goal with transfer >= 88%: ${chosen.devAccuracy >= 0.88 ? 'met' : 'not met'})`);
const command = ['npm run recipe:sst2-transfer', '--', '--seed', String(SEED), '--hidden', HIDDEN.join(','), ...(LIMIT ? ['--limit', String(LIMIT)] : []), ...(VAL_LIMIT ? ['--val-limit', String(VAL_LIMIT)] : [])].join(' ');
const file = await writeResults('sst2-transfer', command, {
  backend: { name: backend.name, simd: backend.simd },
  data: {
    fit: fitRows.length,
    fitOf: split.trainIdx.length,
    validation: valRows.length,
    dev: devRows.length,
    source: 'data/sst2 (GLUE SST-2)',
    split: `recipe:sst2's holdout (seed ${HOLDOUT_SEED}); validation = recipe:sst2-use's model-choice set (${selSentences.length} held-out sentences and their phrases)`,
  },
  encoder,
  rows: results,
  chosen: { kind: chosen.kind, validationAccuracy: chosen.validationAccuracy, devAccuracy: chosen.devAccuracy },
  goal: { metric: 'GLUE SST-2 dev accuracy', target: 0.88, met: chosen.devAccuracy >= 0.88 },
});
console.log(`results written to ${path.relative(REPO_ROOT, file)}`);
console.log(`reproduce: ${command}`);
