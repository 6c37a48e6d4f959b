/**
 * bench:rnn: training and inference throughput of seqlab's fused recurrent layers against stock
 * tf.layers (with @seqlab/core's training kernels, i.e. the best stock path), on wasm and cpu,
 * for the shapes seqlab trains: a char-level language model (LSTM and GRU, H = 256 and 512,
 * batch 64 x 64), the SST-2 classifier (embedding + BiLSTM(64) + attention pooling, batch 32 x
 * 40) and a long-text classifier (BiLSTM(64), batch 32 x 400); plus brain.js's LSTM on the same
 * characters at the same hidden size. Ratios come from the same run.
 *
 *   npm run bench:rnn -- [--runs 3] [--seed 1] [--quick] [--cpu all|small] [--serving-only]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { getBackendInfo, initBackend, recurrentRuntime, SeededRandom, setGlobalSeed } from '@seqlab/core';
import { languageModel, loadRecurrentTextClassifier, loadTextGenerator, textClassifier, type CellType, type RecurrentImplementation } from '@seqlab/rnn';
import { dataPath, formatTable, median, REPO_ROOT, writeResults } from './lib/report.js';
import path from 'node:path';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    // Only the in-process serving figures (no results file): a quick check.
    'serving-only': { type: 'boolean', default: false },
    'max-seconds': { type: 'string', default: '25' },
    // 'all' measures every shape on cpu too; 'small' skips cpu for the H = 512 and L = 400 shapes,
    // whose stock cpu training step takes minutes per batch here.
    cpu: { type: 'string', default: 'all' },
  },
});
const RUNS = Number(args.runs);
const SEED = Number(args.seed);
// A measurement whose single training batch takes longer than this is reported, not repeated.
const MAX_SECONDS = Number(args['max-seconds']);

type Backend = 'wasm' | 'cpu';

interface Shape {
  name: string;
  kind: 'lm' | 'classifier';
  cell: CellType;
  units: number;
  batch: number;
  steps: number;
  bidirectional?: boolean;
  attention?: 'pooling' | 'none';
  vocab: number;
  embedding: number;
}

const SHAPES: Shape[] = [
  { name: 'char-LM LSTM 256', kind: 'lm', cell: 'lstm', units: 256, batch: 64, steps: 64, vocab: 65, embedding: 64 },
  { name: 'char-LM GRU 256', kind: 'lm', cell: 'gru', units: 256, batch: 64, steps: 64, vocab: 65, embedding: 64 },
  { name: 'char-LM LSTM 512', kind: 'lm', cell: 'lstm', units: 512, batch: 64, steps: 64, vocab: 65, embedding: 64 },
  { name: 'char-LM GRU 512', kind: 'lm', cell: 'gru', units: 512, batch: 64, steps: 64, vocab: 65, embedding: 64 },
  { name: 'SST-2 BiLSTM(64)+attention', kind: 'classifier', cell: 'lstm', units: 64, batch: 32, steps: 40, bidirectional: true, attention: 'pooling', vocab: 16000, embedding: 128 },
  { name: 'long text BiLSTM(64) L=400', kind: 'classifier', cell: 'lstm', units: 64, batch: 32, steps: 400, bidirectional: true, attention: 'pooling', vocab: 20000, embedding: 128 },
];

/** Multiply-adds x 2 of one forward pass, per sequence: recurrent layers, input projections and the output layer. */
function forwardFlopsPerSequence(s: Shape): number {
  const gates = s.cell === 'lstm' ? 4 : s.cell === 'gru' ? 3 : 1;
  const dirs = s.bidirectional ? 2 : 1;
  const rnn = 2 * s.steps * dirs * (s.embedding + s.units) * gates * s.units;
  const head = s.kind === 'lm' ? 2 * s.steps * s.units * s.vocab : 2 * s.steps * dirs * s.units * 64 + 2 * dirs * s.units * 2;
  return rnn + head;
}

function build(s: Shape, implementation: RecurrentImplementation): tfl.LayersModel {
  const model =
    s.kind === 'lm'
      ? languageModel({ vocabSize: s.vocab, cell: s.cell, units: s.units, embeddingDim: s.embedding, implementation })
      : textClassifier({ vocabSize: s.vocab, cell: s.cell, units: s.units, embeddingDim: s.embedding, bidirectional: s.bidirectional ?? true, attention: s.attention ?? 'pooling', implementation });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
  return model;
}

// Character ids of tiny-shakespeare for the LMs, word-like ids with padded tails for classifiers
// (lengths vary, as in real batches, so masks are exercised).
function batchFor(s: Shape, rng: SeededRandom, text: string): [tf.Tensor, tf.Tensor] {
  if (s.kind === 'lm') {
    const ids = new Int32Array(s.batch * s.steps);
    const next = new Float32Array(s.batch * s.steps);
    for (let b = 0; b < s.batch; b++) {
      const at = rng.int(text.length - s.steps - 1);
      for (let t = 0; t < s.steps; t++) {
        ids[b * s.steps + t] = text.charCodeAt(at + t) % s.vocab;
        next[b * s.steps + t] = text.charCodeAt(at + t + 1) % s.vocab;
      }
    }
    return [tf.tensor2d(ids, [s.batch, s.steps], 'int32'), tf.tensor3d(next, [s.batch, s.steps, 1])];
  }
  const ids = new Int32Array(s.batch * s.steps);
  for (let b = 0; b < s.batch; b++) {
    const len = Math.max(4, Math.round(s.steps * (0.5 + 0.5 * rng.next())));
    for (let t = 0; t < len; t++) ids[b * s.steps + t] = 1 + rng.int(s.vocab - 1);
  }
  const labels = Float32Array.from({ length: s.batch }, () => rng.int(2));
  return [tf.tensor2d(ids, [s.batch, s.steps], 'int32'), tf.tensor2d(labels, [s.batch, 1])];
}

type Row = {
  shape: string;
  backend: Backend | 'js';
  implementation: string;
  trainSeqPerS: number | string;
  trainMsPerBatch: number | string;
  trainGflops: number | string;
  inferSeqPerS: number | string;
  trainSpeedup?: number | string;
};

async function timeIt(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function measure(s: Shape, backend: Backend, implementation: RecurrentImplementation, text: string): Promise<Row> {
  await tf.setBackend(backend);
  setGlobalSeed(SEED);
  const rng = new SeededRandom(SEED);
  const model = build(s, implementation);
  const [x, y] = batchFor(s, rng, text);
  const row: Row = { shape: s.name, backend, implementation, trainSeqPerS: '', trainMsPerBatch: '', trainGflops: '', inferSeqPerS: '' };
  try {
    const first = await timeIt(() => model.trainOnBatch(x, y)); // warm-up: kernels, optimizer slots
    const train: number[] = [];
    const runs = first / 1000 > MAX_SECONDS ? 1 : RUNS;
    if (first / 1000 > MAX_SECONDS) train.push(first);
    else for (let r = 0; r < runs; r++) train.push(await timeIt(() => model.trainOnBatch(x, y)));
    const infer: number[] = [];
    for (let r = 0; r < runs; r++) {
      infer.push(
        await timeIt(async () => {
          const out = model.predict(x) as tf.Tensor;
          await out.data();
          out.dispose();
        }),
      );
    }
    const ms = median(train);
    row.trainMsPerBatch = ms;
    row.trainSeqPerS = (s.batch * 1000) / ms;
    row.trainGflops = (3 * forwardFlopsPerSequence(s) * s.batch) / (ms * 1e6);
    row.inferSeqPerS = (s.batch * 1000) / median(infer);
  } catch (err) {
    row.trainSeqPerS = `fails: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 80)}`;
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
  return row;
}

// brain.js's LSTM trains on strings one character at a time in plain JavaScript: one iteration
// over `count` sequences of the char-LM's length, characters per second.
async function measureBrain(s: Shape, text: string, rng: SeededRandom): Promise<Row> {
  const brain = (await import('brain.js')).default as unknown as {
    recurrent: { LSTM: new (o: { hiddenLayers: number[] }) => { train(data: string[], o: { iterations: number; log: boolean }): unknown } };
  };
  const count = 4;
  const seqs = Array.from({ length: count }, () => {
    const at = rng.int(text.length - s.steps);
    return text.slice(at, at + s.steps);
  });
  const net = new brain.recurrent.LSTM({ hiddenLayers: [s.units] });
  const ms = await timeIt(() => net.train(seqs, { iterations: 1, log: false }));
  const perSeq = ms / count;
  return {
    shape: s.name,
    backend: 'js',
    implementation: 'brain.js LSTM',
    trainSeqPerS: 1000 / perSeq,
    trainMsPerBatch: perSeq * s.batch,
    trainGflops: (3 * forwardFlopsPerSequence(s)) / (perSeq * 1e6),
    inferSeqPerS: '',
  };
}

// Serving in-process with the default models: one sentence through the sentiment ensemble
// (models/sentiment-glove, a binary text classifier; median of 200 calls) and 500 generated characters, on the inference fast path and through
// tf.layers, alternating so that load affects both alike.
async function measureServing(): Promise<Record<string, unknown>> {
  const sentiment = await loadRecurrentTextClassifier(path.join(REPO_ROOT, 'models', 'sentiment-glove'));
  const text = ['a gorgeous, witty, seductive movie that never loses its footing'];
  const times: Record<'fast' | 'layers', number[]> = { fast: [], layers: [] };
  for (const mode of ['fast', 'layers'] as const) {
    sentiment.setFastPath(mode === 'fast');
    for (let i = 0; i < 20; i++) await sentiment.predict(text);
  }
  for (let i = 0; i < 200; i++) {
    for (const mode of ['fast', 'layers'] as const) {
      sentiment.setFastPath(mode === 'fast');
      const t0 = performance.now();
      await sentiment.predict(text);
      times[mode].push(performance.now() - t0);
    }
  }
  sentiment.dispose();
  const tokensPerS: Record<'fast' | 'layers', number[]> = { fast: [], layers: [] };
  const generators = {
    fast: await loadTextGenerator(path.join(REPO_ROOT, 'models', 'shakespeare-char')),
    layers: await loadTextGenerator(path.join(REPO_ROOT, 'models', 'shakespeare-char'), { fastPath: false }),
  };
  for (let r = 0; r < RUNS; r++) {
    for (const mode of ['fast', 'layers'] as const) {
      const t0 = performance.now();
      const out = await generators[mode].generate('ROMEO:\n', { maxTokens: 500, seed: SEED + r });
      tokensPerS[mode].push((out.tokens * 1000) / (performance.now() - t0));
    }
  }
  generators.fast.dispose();
  generators.layers.dispose();
  return {
    backend: tf.getBackend(),
    sentimentFastMs: median(times.fast),
    sentimentLayersMs: median(times.layers),
    sentimentFastP90Ms: [...times.fast].sort((a, b) => a - b)[Math.floor(times.fast.length * 0.9)],
    generationFastTokensPerS: median(tokensPerS.fast),
    generationLayersTokensPerS: median(tokensPerS.layers),
  };
}

async function main(): Promise<void> {
  const info = await initBackend();
  const threads = recurrentRuntime().threads;
  const text = readFileSync(dataPath('tiny_shakespeare', 'input.txt'), 'utf8');
  const command = `npm run bench:rnn -- --runs ${RUNS} --seed ${SEED}${args.quick ? ' --quick' : ''}${args.cpu !== 'all' ? ` --cpu ${args.cpu}` : ''}`;
  console.log(`# ${command}\n# default backend: ${info.name} (${info.reason}); fused kernels use ${threads} thread(s)`);
  if (args['serving-only']) {
    console.log(JSON.stringify(await measureServing(), null, 2));
    return;
  }
  const rng = new SeededRandom(SEED);
  const shapes = args.quick ? SHAPES.filter((s) => s.units <= 256) : SHAPES;
  const rows: Row[] = [];
  const partial = async (rows: Row[], latency?: Record<string, unknown>) =>
    writeResults('rnn', command, { backend: getBackendInfo()?.name ?? info.name, fusedThreads: threads, config: { runs: RUNS, seed: SEED, shapes }, rows, ...(latency ? { latency } : { partial: true }) });
  for (const s of shapes) {
    const backends = args.cpu === 'small' && (s.units > 256 || s.steps > 64) ? (['wasm'] as const) : (['wasm', 'cpu'] as const);
    for (const backend of backends) {
      const fused = await measure(s, backend, 'fused', text);
      console.error(`  ${s.name} on ${backend}: fused ${fmt(fused.trainSeqPerS)} seq/s`);
      const stock = await measure(s, backend, 'stock', text);
      console.error(`  ${s.name} on ${backend}: stock ${fmt(stock.trainSeqPerS)} seq/s`);
      if (typeof fused.trainSeqPerS === 'number' && typeof stock.trainSeqPerS === 'number') fused.trainSpeedup = fused.trainSeqPerS / stock.trainSeqPerS;
      rows.push(fused, stock);
    }
    if (s.kind === 'lm' && s.cell === 'lstm' && s.units === 256) rows.push(await measureBrain(s, text, rng));
    // Written after every shape, so an interrupted run keeps what it measured.
    await partial(rows);
  }
  await tf.setBackend(info.name);
  const latency = await measureServing();
  console.log(`\nServing in-process: ${JSON.stringify(latency)}`);
  console.log(`\nTraining and inference, median of ${RUNS} batches; GFLOP/s counts forward x 3 (forward + backward) of the recurrent layers, input projections and output layer`);
  console.log(formatTable(rows));
  const file = await partial(rows, latency);
  console.log(`\nwrote ${file}`);
}

function fmt(v: number | string): string {
  return typeof v === 'number' ? v.toFixed(1) : v;
}

await main();
