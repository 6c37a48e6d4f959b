/**
 * Where a recurrent text-classifier epoch on long documents spends its time: the generated
 * review-like corpus (textcls-corpus), a 20k vocabulary, 100-d embedding, BiLSTM(64) + attention
 * pooling, maxLength 256 (head+tail), length-bucketed batches of 32, Adam with clipping at 5,
 * on wasm. Each variant runs a sample of batches and is extrapolated to a whole epoch in CPU
 * seconds of this process (wasm runs on one thread, and the machine is shared, so wall time
 * says more about the neighbours than about the code); variants are interleaved round by round
 * and the median is reported, printed and written to results/rnn-epoch-profile.json.
 *
 * Variants: the wasm backend's own Reverse/GatherV2/Slice ("stock wasm copies"), seqlab's
 * Reverse/GatherV2 with the stock Slice and dense Adam ("dense Adam, stock Slice": the default
 * before lazy updates), seqlab's block copies with dense Adam over the whole embedding ("dense Adam"), and
 * the lazy embedding update that `train({ sparseEmbeddings: true })` runs ("lazy Adam": the
 * gradient over the rows each batch uses, clipping over those rows and the dense weights, Adam on
 * those rows only); with `--parts yes` also without clipping, with a frozen embedding, without
 * attention pooling and with every row padded to 256 (each on the lazy step), which bound what
 * each part costs.
 *
 *   npx tsx --conditions=@seqlab/source tools/bench/src/rnn-epoch-profile.ts [--docs 22500] [--batches 12] [--rounds 5] [--parts yes] [--clock wall]
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { GatherV2, Reverse, Slice } from '@tensorflow/tfjs-core';
import { initBackend, setGlobalSeed, writeJsonAtomic } from '@seqlab/core';
import { TextVectorizer } from '@seqlab/tokenize';
import { applySparseStep, bucketedData, keptPositions, lazyAdamFor, sparseEmbeddingOf, sparseGradients, textClassifier, touchedRows, type Batch } from '@seqlab/rnn';
import { generateTextClassificationCorpus } from './textcls-corpus.js';

// Own argument parsing: lib/report.js pulls in @seqlab/tasks, which this profile does not need.
function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1]! : fallback;
}
const median = (v: readonly number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

const DOCS = Number(arg('docs', '22500'));
const BATCHES = Number(arg('batches', '24'));
const ROUNDS = Number(arg('rounds', '3'));
const MAX_LENGTH = 256;
// The machine is shared: CPU seconds of this (single-threaded wasm) process, not wall time.
const CLOCK = arg('clock', 'cpu');
const now = (): number => {
  if (CLOCK === 'wall') return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Variant {
  name: string;
  /** The wasm backend's own Reverse, GatherV2 and Slice instead of seqlab's block copies. */
  stockCopies?: boolean;
  /** Only the wasm backend's own Slice (seqlab's block-copy Slice came with the lazy Adam). */
  stockSlice?: boolean;
  /** Lazy Adam on the rows each batch uses instead of dense Adam over the whole embedding. */
  lazy: boolean;

  embeddingTrainable: boolean;
  clip: boolean;
  attention: 'pooling' | 'none';
  bucketed: boolean;
}

// Captured before initBackend installs seqlab's kernels, so a variant can run the stock ones.
const STOCK = new Map([Reverse, GatherV2, Slice].map((name) => [name, tf.getKernel(name, 'wasm')!]));
let seqlabKernels: Map<string, tf.KernelConfig> | undefined;

/** Puts the stock wasm kernels named in `stock` in place, and seqlab's block copies for the others. */
function useStockCopies(stock: ReadonlySet<string>): void {
  seqlabKernels ??= new Map([...STOCK.keys()].map((name) => [name, tf.getKernel(name, 'wasm')!]));
  for (const name of STOCK.keys()) {
    const config = (stock.has(name) ? STOCK : seqlabKernels).get(name)!;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
}

async function main(): Promise<void> {
  const info = await initBackend({ backend: 'wasm' });
  const loadBefore = os.loadavg();
  console.log(`backend ${info.name}; load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`);
  const texts: string[] = [];
  const labels: number[] = [];
  for (const row of generateTextClassificationCorpus({ docs: DOCS, seed: 1 })) {
    texts.push(row.text);
    labels.push(row.label === 'pos' ? 1 : 0);
  }
  const vectorizer = await new TextVectorizer({ tokenizer: 'word', maxTokens: 20_000 }).adapt(texts);
  const rows = texts.map((t) => {
    const ids = vectorizer.encodeIds(t);
    return keptPositions(ids.length, MAX_LENGTH, 'head+tail').map((p) => ids[p]!);
  });
  const meanLength = rows.reduce((s, r) => s + r.length, 0) / rows.length;
  console.log(`${DOCS} docs, vocabulary ${vectorizer.vocabSize}, mean kept length ${meanLength.toFixed(1)}, ${rows.filter((r) => r.length === MAX_LENGTH).length} at ${MAX_LENGTH}`);
  const dense = { embeddingTrainable: true, clip: true, attention: 'pooling' as const, bucketed: true, lazy: false };
  const shipped = { ...dense, lazy: true };
  const variants: Variant[] = [
    { name: 'stock wasm copies', ...dense, stockCopies: true },
    { name: 'dense Adam, stock Slice', ...dense, stockSlice: true },
    { name: 'dense Adam', ...dense },
    { name: 'lazy Adam', ...shipped },
    ...(arg('parts', 'no') === 'yes'
      ? [
          { name: 'no clipping', ...shipped, clip: false },
          { name: 'frozen embedding', ...shipped, embeddingTrainable: false },
          { name: 'last state (no pooling)', ...shipped, attention: 'none' as const },
          { name: 'padded to 256', ...shipped, bucketed: false },
        ]
      : []),
  ];
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const parts = new Map<string, number[]>();
  const batchesPerEpoch = Math.ceil(DOCS / 32);
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      const { seconds, split } = await timeVariant(v, rows, labels, vectorizer.vocabSize, round);
      times.get(v.name)!.push((seconds / BATCHES) * batchesPerEpoch);
      console.log(`round ${round + 1} ${v.name}: ${((seconds / BATCHES) * batchesPerEpoch).toFixed(1)} s per epoch`);
      if (v.name === 'dense Adam' || v.name === 'lazy Adam') {
        for (const [k, s] of Object.entries(split)) {
          const key = `${v.name}: ${k}`;
          (parts.get(key) ?? parts.set(key, []).get(key)!).push((s / BATCHES) * batchesPerEpoch);
        }
      }
    }
  }
  console.log(`\n${CLOCK} seconds per epoch (${batchesPerEpoch} batches), extrapolated from ${BATCHES} batches, median of ${ROUNDS}`);
  for (const [name, t] of times) console.log(`${name.padEnd(26)} ${median(t).toFixed(1).padStart(7)}   [${t.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log('\nby part (lazy Adam: clipping is inside the adam part):');
  for (const [name, t] of parts) console.log(`${name.padEnd(34)} ${median(t).toFixed(1).padStart(7)}`);
  const loadAfter = os.loadavg();
  console.log(`load average at the end ${loadAfter.map((l) => l.toFixed(1)).join(' ')}`);
  const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../results/rnn-epoch-profile.json');
  await writeJsonAtomic(file, {
    name: 'rnn-epoch-profile',
    command: `npx tsx --conditions=@seqlab/source tools/bench/src/rnn-epoch-profile.ts ${process.argv.slice(2).join(' ')}`.trim(),
    environment: { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown' },
    backend: info.name,
    clock: CLOCK,
    docs: DOCS,
    batchesPerEpoch,
    batchesTimed: BATCHES,
    rounds: ROUNDS,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAfter,
    secondsPerEpoch: Object.fromEntries([...times].map(([name, t]) => [name, { median: median(t), rounds: t }])),
    partsSecondsPerEpoch: Object.fromEntries([...parts].map(([name, t]) => [name, median(t)])),
  });
  console.log(`wrote ${file}`);
}

/** Runs BATCHES train steps of one variant; returns their seconds and a split by part. */
async function timeVariant(v: Variant, rows: number[][], labels: number[], vocabSize: number, round: number): Promise<{ seconds: number; split: Record<string, number> }> {
  useStockCopies(new Set(v.stockCopies ? STOCK.keys() : v.stockSlice ? [Slice] : []));
  setGlobalSeed(1);
  const model = textClassifier({ vocabSize, embeddingDim: 100, units: 64, attention: v.attention, dropout: 0.3, numClasses: 2 });
  if (!v.embeddingTrainable) model.getLayer('embedding').trainable = false;
  const lazy = v.lazy && v.embeddingTrainable ? lazyAdamFor(model, 0.002) : undefined;
  const layer = lazy ? sparseEmbeddingOf(model) : undefined;
  const slot = new Int32Array(vocabSize).fill(-1);
  const optimizer = lazy ?? tf.train.adam(0.002);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const padded = v.bucketed ? rows : rows.map((r) => [...r, ...new Array<number>(MAX_LENGTH - r.length).fill(0)]);
  const source = bucketedData(padded, labels, { batchSize: 32, seed: 7 + round });
  const split = { data: 0, 'forward+backward': 0, clip: 0, adam: 0 };
  let total = 0;
  let n = -1; // one warm-up batch
  const iterator = source.batches(round)[Symbol.iterator]();
  while (n < BATCHES) {
    let t = now();
    const next = iterator.next();
    if (next.done) break;
    const batch: Batch = next.value;
    const tData = now() - t;
    t = now();
    const lossOf = (x: tf.Tensor): tf.Scalar => {
      const out = model.apply(x, { training: true }) as tf.Tensor;
      return tf.tidy(() => tf.neg(tf.mean(tf.log(tf.add(tf.sum(tf.mul(out, tf.oneHot(batch.y as tf.Tensor1D, 2)), -1), 1e-7))))) as tf.Scalar;
    };
    if (lazy && layer) {
      const step = lazyStep(model, batch, lossOf, lazy, layer, slot, v.clip);
      tf.dispose([batch.x, batch.y]);
      if (n >= 0) {
        split.data += tData / 1000;
        split['forward+backward'] += step.grad / 1000;
        split.adam += step.adam / 1000;
        total += (tData + step.grad + step.adam) / 1000;
      }
      n++;
      continue;
    }
    const { value, grads } = tf.variableGrads(() => lossOf(batch.x), vars);
    await value.data();
    const tGrad = now() - t;
    t = now();
    const clipped = v.clip ? clip(grads, 5) : grads;
    if (v.clip) await Object.values(clipped)[0]!.data();
    const tClip = now() - t;
    t = now();
    (optimizer as tf.AdamOptimizer).applyGradients(clipped as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
    await vars[vars.length - 1]!.data();
    const tAdam = now() - t;
    tf.dispose([value, batch.x, batch.y, ...Object.values(grads), ...(v.clip ? Object.values(clipped) : [])]);
    if (n >= 0) {
      split.data += tData / 1000;
      split['forward+backward'] += tGrad / 1000;
      split.clip += tClip / 1000;
      split.adam += tAdam / 1000;
      total += (tData + tGrad + tClip + tAdam) / 1000;
    }
    n++;
  }
  optimizer.dispose();
  model.dispose();
  return { seconds: total, split };
}

/** One lazy step as train() takes it; returns the milliseconds of its gradient and of its clipping + update. */
function lazyStep(
  model: ReturnType<typeof textClassifier>,
  batch: Batch,
  lossOf: (x: tf.Tensor) => tf.Scalar,
  optimizer: NonNullable<ReturnType<typeof lazyAdamFor>>,
  layer: NonNullable<ReturnType<typeof sparseEmbeddingOf>>,
  slot: Int32Array,
  clipping: boolean,
): { grad: number; adam: number } {
  return tf.tidy(() => {
    let t = now();
    const rows = touchedRows(batch.x.dataSync(), slot);
    const grads = sparseGradients(model, layer, batch.x, rows, lossOf);
    grads.value.dataSync();
    const grad = now() - t;
    t = now();
    applySparseStep(optimizer, layer, rows, grads, clipping ? 5 : undefined);
    return { grad, adam: now() - t };
  });
}

function clip(grads: tf.NamedTensorMap, clipNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((t) => tf.sum(tf.square(t)))));
    const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
    return Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, tf.mul(t, scale)]));
  });
}

void main();
