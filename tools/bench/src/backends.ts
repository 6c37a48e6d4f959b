/**
 * bench:backends: training and inference throughput of two reference models with stock
 * tf.layers on every available backend, with TensorFlow.js's stock kernels and with seqlab's
 * training kernels, plus the embedding-gradient kernel alone.
 *
 *   npm run bench:backends -- [--runs 5] [--seed 1]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, registerTrainingKernels, restoreStockKernels, SeededRandom, setGlobalSeed } from '@seqlab/core';
import { formatTable, median, writeResults } from './lib/report.js';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, seed: { type: 'string', default: '1' } },
});
const RUNS = Number(args.runs);
const SEED = Number(args.seed);
const BATCH = 32;
const STEPS = 40;
const VOCAB = 2000;
const FEATURES = 16;
const UNITS = 32;

type Backend = 'cpu' | 'wasm' | 'tensorflow';
type Kernels = 'stock' | 'seqlab';

// A type alias (not an interface) so rows are assignable to Record<string, unknown>.
type Row = {
  model: string;
  backend: Backend;
  kernels: Kernels;
  trainSeqPerS: number | string;
  trainMsPerBatch: number | string;
  inferSeqPerS: number | string;
  inferMsPerBatch: number | string;
};

function bilstmClassifier(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.embedding({ inputDim: VOCAB, outputDim: 32, inputLength: STEPS }));
  m.add(tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: UNITS }) as tfl.RNN, mergeMode: 'concat' }));
  m.add(tfl.layers.dense({ units: 2, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

function lstmForecaster(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.lstm({ units: UNITS, inputShape: [STEPS, FEATURES] }));
  m.add(tfl.layers.dense({ units: 1 }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
  return m;
}

function batchFor(model: 'bilstm-classifier' | 'lstm-forecaster', rng: SeededRandom): [tf.Tensor, tf.Tensor] {
  if (model === 'bilstm-classifier') {
    const ids = Int32Array.from({ length: BATCH * STEPS }, () => rng.int(VOCAB));
    const labels = Int32Array.from({ length: BATCH }, () => rng.int(2));
    return [tf.tensor2d(ids, [BATCH, STEPS], 'int32'), tf.oneHot(tf.tensor1d(labels, 'int32'), 2)];
  }
  const x = Float32Array.from({ length: BATCH * STEPS * FEATURES }, () => rng.normal());
  const y = Float32Array.from({ length: BATCH }, () => rng.normal());
  return [tf.tensor3d(x, [BATCH, STEPS, FEATURES]), tf.tensor2d(y, [BATCH, 1])];
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function measure(modelName: 'bilstm-classifier' | 'lstm-forecaster', backend: Backend, kernels: Kernels): Promise<Row> {
  await tf.setBackend(backend);
  if (kernels === 'stock') restoreStockKernels();
  else registerTrainingKernels();
  setGlobalSeed(SEED);
  const rng = new SeededRandom(SEED);
  const model = modelName === 'bilstm-classifier' ? bilstmClassifier() : lstmForecaster();
  const [x, y] = batchFor(modelName, rng);
  const row: Row = { model: modelName, backend, kernels, trainSeqPerS: '', trainMsPerBatch: '', inferSeqPerS: '', inferMsPerBatch: '' };
  try {
    // Stock cpu embedding gradients take seconds per batch: one batch per run is enough there.
    const slow = backend === 'cpu' && kernels === 'stock' && modelName === 'bilstm-classifier';
    const trainBatches = slow ? 1 : 3;
    await model.trainOnBatch(x, y); // warm-up: kernel set-up, optimizer slots
    const train: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      train.push(
        (await time(async () => {
          for (let b = 0; b < trainBatches; b++) await model.trainOnBatch(x, y);
        })) / trainBatches,
      );
    }
    const infer: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      infer.push(
        (await time(async () => {
          for (let b = 0; b < 5; b++) {
            const out = model.predict(x) as tf.Tensor;
            await out.data();
            out.dispose();
          }
        })) / 5,
      );
    }
    row.trainMsPerBatch = median(train);
    row.trainSeqPerS = (BATCH * 1000) / median(train);
    row.inferMsPerBatch = median(infer);
    row.inferSeqPerS = (BATCH * 1000) / median(infer);
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 90);
    row.trainSeqPerS = `fails: ${msg}`;
  } finally {
    tf.dispose([x, y]);
    model.dispose();
    registerTrainingKernels();
  }
  return row;
}

/** The embedding gradient alone: scatter-add of [batch*steps, dim] rows into VOCAB segments. */
async function segmentSum(backend: Backend, kernels: Kernels): Promise<Record<string, unknown>> {
  await tf.setBackend(backend);
  if (kernels === 'stock') restoreStockKernels();
  else registerTrainingKernels();
  const rng = new SeededRandom(SEED);
  const x = tf.randomNormal([BATCH * STEPS, 32], 0, 1, 'float32', SEED);
  const ids = tf.tensor1d(Int32Array.from({ length: BATCH * STEPS }, () => rng.int(VOCAB)), 'int32');
  const times: number[] = [];
  let error: string | undefined;
  try {
    for (let r = 0; r < RUNS + 1; r++) {
      const ms = await time(async () => {
        const out = tf.unsortedSegmentSum(x, ids, VOCAB);
        await out.data();
        out.dispose();
      });
      if (r > 0) times.push(ms);
    }
  } catch (err) {
    error = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  } finally {
    tf.dispose([x, ids]);
    registerTrainingKernels();
  }
  return { backend, kernels, msPerCall: error ? `fails: ${error}` : median(times) };
}

async function main(): Promise<void> {
  const info = await initBackend();
  const backends: Backend[] = info.name === 'tensorflow' ? ['tensorflow', 'wasm', 'cpu'] : ['wasm', 'cpu'];
  const command = `npm run bench:backends -- --runs ${RUNS} --seed ${SEED}`;
  console.log(`# ${command}\n# default backend: ${info.name} (${info.reason})`);

  const kernelRows: Record<string, unknown>[] = [];
  for (const b of backends) for (const k of ['stock', 'seqlab'] as Kernels[]) kernelRows.push(await segmentSum(b, k));
  console.log('\nEmbedding gradient (UnsortedSegmentSum, 1280 x 32 rows into 2000 segments), median ms per call');
  console.log(formatTable(kernelRows));

  const rows: Row[] = [];
  for (const model of ['bilstm-classifier', 'lstm-forecaster'] as const) {
    for (const b of backends) {
      for (const k of ['stock', 'seqlab'] as Kernels[]) {
        const row = await measure(model, b, k);
        console.error(`  measured ${model} on ${b} (${k})`);
        rows.push(row);
      }
    }
  }
  console.log(`\nReference models, batch ${BATCH}, ${STEPS} steps, median of ${RUNS} runs (sequences/s; ms per batch)`);
  console.log(formatTable(rows));

  const cpuStock = rows.find((r) => r.model === 'bilstm-classifier' && r.backend === 'cpu' && r.kernels === 'stock');
  const cpuOurs = rows.find((r) => r.model === 'bilstm-classifier' && r.backend === 'cpu' && r.kernels === 'seqlab');
  const speedup =
    typeof cpuStock?.trainMsPerBatch === 'number' && typeof cpuOurs?.trainMsPerBatch === 'number'
      ? cpuStock.trainMsPerBatch / cpuOurs.trainMsPerBatch
      : undefined;
  if (speedup) console.log(`\ncpu BiLSTM classifier training step: ${speedup.toFixed(1)}x faster with seqlab kernels than stock`);
  const file = await writeResults('backends', command, {
    defaultBackend: { name: info.name, reason: info.reason, simd: info.simd },
    config: { batch: BATCH, steps: STEPS, vocab: VOCAB, features: FEATURES, units: UNITS, runs: RUNS, seed: SEED },
    embeddingGradient: kernelRows,
    models: rows,
    cpuTrainSpeedupSeqlabOverStock: speedup,
  });
  console.log(`\nwrote ${file}`);
}

await main();
