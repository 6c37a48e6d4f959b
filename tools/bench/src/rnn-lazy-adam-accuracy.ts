/**
 * Whether lazy embedding updates (`sparseEmbeddings`: gradients, clipping and Adam over only the
 * rows each batch uses) cost the recurrent text classifier accuracy: the same classifier
 * (`fitRecurrentTextClassifier`, BiLSTM-64 + attention pooling, the same seed, a few epochs)
 * trained with dense Adam and with lazy Adam, scored on held-out rows of
 * - the generated review-like corpus (textcls-corpus; made-up words, so a from-scratch embedding),
 * - TREC-6 (data/trec: train_5500 with a fixed 10% validation split, scored on TREC_10), over
 *   fine-tuned GloVe 6B 100-d when it is installed, else from scratch.
 * Prints a table and writes results/rnn-lazy-adam-accuracy.json with the training CPU seconds
 * of each run (this process's, so neighbours on a shared machine count less).
 *
 *   npx tsx --conditions=@seqlab/source tools/bench/src/rnn-lazy-adam-accuracy.ts [--docs 6000] [--epochs 3] [--seed 1] [--sets corpus,trec]
 */
import os from 'node:os';
import { initBackend } from '@seqlab/core';
import { loadWordVectors, type WordVectors } from '@seqlab/embeddings';
import { fitRecurrentTextClassifier, type FitRecurrentClassifierOptions, type LabelledRows } from '@seqlab/rnn';
import { arg, formatTable, writeResults } from './lib/report.js';
import { readTrec } from './lib/trec.js';
import { generateTextClassificationCorpus } from './textcls-corpus.js';

const DOCS = Number(arg('docs', '6000'));
const EPOCHS = Number(arg('epochs', '3'));
const SEED = Number(arg('seed', '1'));
const SETS = arg('sets', 'corpus,trec').split(',');

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Split {
  name: string;
  train: LabelledRows;
  validation: LabelledRows;
  test: LabelledRows;
  options: FitRecurrentClassifierOptions;
}

function rowsOf(items: { text: string; label: string }[]): LabelledRows {
  return { texts: items.map((r) => r.text), labels: items.map((r) => [r.label]) };
}

/** The generated corpus: 80% training, 10% validation, 10% test, in generation order (already random). */
function corpusSplit(): Split {
  const all = [...generateTextClassificationCorpus({ docs: DOCS, seed: SEED })];
  const a = Math.floor(all.length * 0.8);
  const b = Math.floor(all.length * 0.9);
  return { name: `corpus ${DOCS} docs`, train: rowsOf(all.slice(0, a)), validation: rowsOf(all.slice(a, b)), test: rowsOf(all.slice(b)), options: { embeddingDim: 100 } };
}

/** TREC-6 rows: the coarse label of each question. */
function trecRows(file: string): { text: string; label: string }[] {
  return readTrec(file).map(({ fine, text }) => ({ label: fine.slice(0, fine.indexOf(':')), text }));
}

async function trecSplit(): Promise<Split> {
  const train = trecRows('train_5500.label');
  // Every tenth question validates: a fixed split that keeps the class mix.
  const fit = train.filter((_, i) => i % 10 !== 0);
  const validation = train.filter((_, i) => i % 10 === 0);
  let vectors: WordVectors | undefined;
  try {
    vectors = await loadWordVectors('glove-6b-100d');
  } catch (err) {
    console.log(`TREC without GloVe: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    name: vectors ? 'TREC-6, GloVe 100-d fine-tuned' : 'TREC-6, from scratch',
    train: rowsOf(fit),
    validation: rowsOf(validation),
    test: rowsOf(trecRows('TREC_10.label')),
    options: vectors ? { wordVectors: vectors } : { embeddingDim: 100 },
  };
}

async function run(split: Split, sparse: boolean): Promise<Record<string, unknown>> {
  const started = cpuSeconds();
  const wall = performance.now();
  const { classifier, result } = await fitRecurrentTextClassifier(split.train, {
    ...split.options,
    validation: split.validation,
    epochs: EPOCHS,
    patience: 0,
    seed: SEED,
    sparseEmbeddings: sparse,
  });
  const trainCpuSeconds = cpuSeconds() - started;
  const predictions = await classifier.predict(split.test.texts);
  const correct = predictions.filter((p, i) => p.label === split.test.labels[i]![0]).length;
  classifier.dispose();
  const row = {
    data: split.name,
    adam: sparse ? 'lazy' : 'dense',
    epochs: result.history.length,
    valAccuracy: Number((result.history.at(-1)?.val_accuracy ?? NaN).toFixed(4)),
    testAccuracy: Number((correct / split.test.texts.length).toFixed(4)),
    trainCpuSeconds: Number(trainCpuSeconds.toFixed(1)),
    trainWallSeconds: Number(((performance.now() - wall) / 1000).toFixed(1)),
    loadAverage: os.loadavg()[0]!.toFixed(1),
  };
  console.log(JSON.stringify(row));
  return row;
}

async function main(): Promise<void> {
  const info = await initBackend({ backend: 'wasm' });
  const loadBefore = os.loadavg();
  console.log(`backend ${info.name}; load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`);
  const rows: Record<string, unknown>[] = [];
  const splits = [...(SETS.includes('corpus') ? [corpusSplit()] : []), ...(SETS.includes('trec') ? [await trecSplit()] : [])];
  for (const split of splits) for (const sparse of [false, true]) rows.push(await run(split, sparse));
  console.log(formatTable(rows));
  // The default sets are the headline run; a run of one set is a variant of its own.
  const name = SETS.join(',') === 'corpus,trec' ? 'rnn-lazy-adam-accuracy' : `rnn-lazy-adam-accuracy-${SETS.join('-')}`;
  const file = await writeResults(
    name,
    `npx tsx --conditions=@seqlab/source tools/bench/src/rnn-lazy-adam-accuracy.ts --docs ${DOCS} --epochs ${EPOCHS} --seed ${SEED} --sets ${SETS.join(',')}`,
    { backend: info.name, docs: DOCS, epochs: EPOCHS, seed: SEED, loadAverageBefore: loadBefore, loadAverageAfter: os.loadavg(), runs: rows },
  );
  console.log(`wrote ${file}`);
}

void main();
