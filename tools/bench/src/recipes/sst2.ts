/**
 * SST-2 sentiment from scratch: word vectorizer + BiLSTM + attention pooling, early-stopped on a
 * held-out 5% of the training phrases, scored once on the GLUE dev set.
 * Goal: >= 84% dev accuracy (random-embedding CNN: 82.7%).
 *
 *   npm run recipe:sst2 -- --seed 1 [--minutes 50] [--resume] [--finalize-only]
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadLayersModel, saveModel, SeededRandom, setGlobalSeed, writeJsonAtomic } from '@seqlab/core';
import { TextVectorizer } from '@seqlab/tokenize';
import * as rnn from '@seqlab/rnn';
import { REPO_ROOT, dataPath, writeResults } from '../lib/report.js';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    // Members of an ensemble share one holdout (and so one vocabulary) but not their seeds.
    'holdout-seed': { type: 'string', default: '1' },
    'results-name': { type: 'string', default: 'sst2' },
    cell: { type: 'string', default: 'lstm' },
    units: { type: 'string', default: '64' },
    layers: { type: 'string', default: '1' },
    embedding: { type: 'string', default: '96' },
    attention: { type: 'string', default: 'pooling' },
    dropout: { type: 'string', default: '0.4' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', default: '0.002' },
    clip: { type: 'string', default: '5' },
    epochs: { type: 'string', default: '8' },
    patience: { type: 'string', default: '2' },
    'vocab-size': { type: 'string', default: '16000' },
    'max-length': { type: 'string', default: '64' },
    holdout: { type: 'string', default: '0.05' },
    'holdout-mode': { type: 'string', default: 'sentences' },
    'holdout-sentences': { type: 'string', default: '500' },
    minutes: { type: 'string', default: '30' },
    'train-limit': { type: 'string', default: '0' },
    resume: { type: 'boolean', default: false },
    'finalize-only': { type: 'boolean', default: false },
    checkpoints: { type: 'string', default: path.join(REPO_ROOT, 'checkpoints', 'sst2') },
    out: { type: 'string', default: path.join(REPO_ROOT, 'models', 'sentiment') },
  },
});
const num = (k: keyof typeof args): number => {
  const v = Number(args[k]);
  if (!Number.isFinite(v)) throw new Error(`--${String(k)} must be a number, got ${String(args[k])}`);
  return v;
};
const seed = num('seed');
const command =
  `npm run recipe:sst2 -- --seed ${seed} --cell ${args.cell} --units ${args.units} --layers ${args.layers} --embedding ${args.embedding} ` +
  `--attention ${args.attention} --dropout ${args.dropout} --batch ${args.batch} --lr ${args.lr} --clip ${args.clip} --epochs ${args.epochs} ` +
  `--patience ${args.patience} --vocab-size ${args['vocab-size']} --max-length ${args['max-length']} --holdout ${args.holdout} --holdout-mode ${args['holdout-mode']} --holdout-sentences ${args['holdout-sentences']} --minutes ${args.minutes}` +
  (args['holdout-seed'] !== String(seed) ? ` --holdout-seed ${args['holdout-seed']}` : '');

const backend = await initBackend();
console.log(`backend: ${backend.name} (${backend.reason})`);
console.log(`reproduce: ${command}`);

async function readTsv(file: string): Promise<{ texts: string[]; labels: number[] }> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const header = lines[0]!.split('\t');
  const si = header.indexOf('sentence');
  const li = header.indexOf('label');
  if (si < 0 || li < 0) throw new Error(`${file}: expected columns sentence and label, got ${header.join(', ')}`);
  const texts: string[] = [];
  const labels: number[] = [];
  lines.slice(1).forEach((line, i) => {
    if (!line.trim()) return;
    const cols = line.split('\t');
    const label = Number(cols[li]);
    if (label !== 0 && label !== 1) throw new Error(`${file}: row ${i + 2} has label ${cols[li]}, expected 0 or 1`);
    texts.push(cols[si]!.trim());
    labels.push(label);
  });
  return { texts, labels };
}

const trainAll = await readTsv(dataPath('sst2', 'train.tsv'));
const dev = await readTsv(dataPath('sst2', 'dev.tsv'));
// Early stopping needs data the model has not seen; GLUE dev is only scored at the end.
// 'phrases': a random 5% of the training phrases. These leak: SST-2 trains on every sub-phrase of
// every sentence, so most held-out phrases overlap training phrases and the holdout rewards
// memorisation (seen in run 1: holdout accuracy kept rising while the model overfitted).
// 'sentences': hold out long phrases (>= 8 tokens, sentence-like) and drop from training every
// phrase that is a span of one of them or contains one, so nothing of them is seen in training.
function splitHoldout(): { holdIdx: number[]; trainIdx: number[] } {
  const n = trainAll.texts.length;
  const perm = new SeededRandom(`sst2-holdout:${num('holdout-seed')}`).permutation(n);
  if (args['holdout-mode'] === 'phrases') {
    const nHold = Math.round(n * num('holdout'));
    return { holdIdx: Array.from(perm.subarray(0, nHold)), trainIdx: Array.from(perm.subarray(nHold)) };
  }
  if (args['holdout-mode'] !== 'sentences') throw new Error(`--holdout-mode must be phrases or sentences, got ${args['holdout-mode']}`);
  const toks = trainAll.texts.map((t) => t.split(' ').filter(Boolean));
  const MIN = 8;
  const holdIdx = Array.from(perm).filter((i) => toks[i]!.length >= MIN).slice(0, num('holdout-sentences'));
  const roots = new Set(holdIdx.map((i) => toks[i]!.join(' ')));
  const spans = new Set<string>();
  for (const i of holdIdx) {
    const t = toks[i]!;
    for (let a = 0; a < t.length; a++) for (let b = a + 1; b <= t.length; b++) spans.add(t.slice(a, b).join(' '));
  }
  const held = new Set(holdIdx);
  const trainIdx: number[] = [];
  for (const i of Array.from(perm)) {
    if (held.has(i)) continue;
    const t = toks[i]!;
    if (spans.has(t.join(' '))) continue;
    let containsRoot = false;
    for (let a = 0; a + MIN <= t.length && !containsRoot; a++) {
      for (let b = a + MIN; b <= t.length; b++) {
        if (roots.has(t.slice(a, b).join(' '))) {
          containsRoot = true;
          break;
        }
      }
    }
    if (!containsRoot) trainIdx.push(i);
  }
  return { holdIdx, trainIdx };
}
const split = splitHoldout();
const holdIdx = split.holdIdx;
let trainIdx = split.trainIdx;
if (num('train-limit') > 0) trainIdx = trainIdx.slice(0, num('train-limit'));
const pick = (idx: number[]) => ({ texts: idx.map((i) => trainAll.texts[i]!), labels: idx.map((i) => trainAll.labels[i]!) });
const train = pick(trainIdx);
const hold = pick(holdIdx);
console.log(`SST-2: train ${train.texts.length}, early-stopping holdout ${hold.texts.length} (from train), GLUE dev ${dev.texts.length}`);

const maxLength = num('max-length');
const vectorizerFile = path.join(args.checkpoints!, 'vectorizer.json');
let vectorizer: TextVectorizer;
if ((args.resume || args['finalize-only']) && existsSync(vectorizerFile)) {
  vectorizer = TextVectorizer.fromJSON(JSON.parse(await readFile(vectorizerFile, 'utf8')));
} else {
  vectorizer = await new TextVectorizer({ tokenizer: 'word', maxTokens: num('vocab-size') }).adapt(train.texts);
}
console.log(`vocabulary: ${vectorizer.vocabSize} tokens`);
const encode = (texts: string[]) => texts.map((t) => vectorizer.encodeIds(t).slice(0, maxLength));
const trainRows = encode(train.texts);
const holdRows = encode(hold.texts);

const arch: rnn.TextClassifierOptions = {
  vocabSize: vectorizer.vocabSize,
  embeddingDim: num('embedding'),
  cell: args.cell as rnn.CellType,
  bidirectional: true,
  layers: num('layers'),
  units: num('units'),
  attention: args.attention as rnn.ClassifierAttention,
  dropout: num('dropout'),
  numClasses: 2,
};
setGlobalSeed(seed);
const model = rnn.textClassifier(arch);
model.summary(undefined, undefined, (l) => console.log(l));

const ckpt = args.checkpoints!;
const t0 = performance.now();
let result: rnn.TrainResult | undefined;
if (!args['finalize-only']) {
  if (!args.resume && existsSync(ckpt)) await rm(ckpt, { recursive: true, force: true });
  await mkdir(ckpt, { recursive: true });
  await writeJsonAtomic(vectorizerFile, vectorizer.toJSON());
  let lastLog = 0;
  result = await rnn.train(model, rnn.bucketedData(trainRows, train.labels, { batchSize: num('batch'), seed }), {
    epochs: num('epochs'),
    learningRate: num('lr'),
    clipNorm: num('clip'),
    validationData: rnn.bucketedData(holdRows, hold.labels, { batchSize: 128, shuffle: false }),
    monitor: 'val_accuracy',
    earlyStopping: { patience: num('patience'), restoreBestWeights: true },
    reduceLrOnPlateau: { factor: 0.5, patience: 1, minLearningRate: 1e-4 },
    checkpointDir: ckpt,
    resume: args.resume,
    seed,
    timeBudgetSeconds: num('minutes') * 60,
    onProgress: (e) => {
      const now = performance.now();
      if (e.type === 'batch' && now - lastLog > 30_000) {
        lastLog = now;
        console.log(
          `epoch ${e.epoch + 1} batch ${e.batch + 1}/${e.batchesPerEpoch} loss ${e.loss.toFixed(4)} acc ${e.metrics.accuracy!.toFixed(4)} ` +
            `elapsed ${(e.elapsedSeconds / 60).toFixed(1)} min eta ${(e.etaSeconds / 60).toFixed(1)} min`,
        );
      } else if (e.type === 'epoch') {
        console.log(
          `== epoch ${e.epoch + 1}: train loss ${e.loss.toFixed(4)} holdout loss ${e.metrics.val_loss?.toFixed(4)} holdout acc ${e.metrics.val_accuracy?.toFixed(4)} ` +
            `lr ${e.learningRate.toExponential(2)} elapsed ${(e.elapsedSeconds / 60).toFixed(1)} min`,
        );
      }
    },
  });
  console.log(`training stopped: ${result.stopReason}; best epoch ${result.bestEpoch + 1} holdout accuracy ${result.bestMetric.toFixed(4)}`);
} else {
  const best = await loadLayersModel(path.join(ckpt, 'best'));
  model.setWeights(best.getWeights());
  best.dispose();
}
const state = await rnn.readTrainingState(ckpt);
const trainSeconds = state ? state.history.reduce((s, h) => s + h.seconds, 0) : (performance.now() - t0) / 1000;

// Export, then score GLUE dev through the saved model exactly as the CLI and API will load it.
const out = args.out!;
await mkdir(out, { recursive: true });
await saveModel(model, out);
await writeJsonAtomic(path.join(out, 'vectorizer.json'), vectorizer.toJSON());
const config: rnn.SentimentModelDirConfig = {
  task: 'sentiment',
  format: 'seqlab-rnn/text-classifier@1',
  labels: ['negative', 'positive'],
  vectorizerFile: 'vectorizer.json',
  maxLength,
  architecture: rnn.resolveTextClassifierOptions(arch),
  training: { seed, command, data: `SST-2 (GLUE) train minus an early-stopping holdout (${args['holdout-mode']})` },
};
await writeJsonAtomic(path.join(out, 'config.json'), config);
model.dispose();

const sentiment = await rnn.loadSentimentModel(out);
const preds = await sentiment.predict(dev.texts);
const yPred = preds.map((p) => (p.label === 'positive' ? 1 : 0));
const report = rnn.classificationReport(dev.labels, yPred, 2);
const auc = rnn.rocAuc(dev.labels, preds.map((p) => p.probabilities[1]!));
console.log(`GLUE dev: accuracy ${(report.accuracy * 100).toFixed(2)}%, macro F1 ${report.macroF1.toFixed(4)}, ROC-AUC ${auc.toFixed(4)}`);
console.log(`confusion matrix [true][pred]: ${JSON.stringify(report.confusionMatrix)}`);
const examples = ['a gorgeous , witty , seductive movie .', 'the plot is nothing but boilerplate clichés from start to finish .', "it 's not a bad film , just a forgettable one ."];
const explained = (await sentiment.predict(examples)).map((p, i) => ({
  text: examples[i],
  label: p.label,
  score: Number(p.score.toFixed(4)),
  topTokens: [...p.tokens].sort((a, b) => b.weight - a.weight).slice(0, 3).map((t) => `${t.text} (${t.weight.toFixed(2)})`),
}));
for (const e of explained) console.log(`${e.label} ${e.score}  ${e.text}  <- ${e.topTokens.join(', ')}`);
sentiment.dispose();

const sizeBytes = readdirSync(out).reduce((s, f) => s + statSync(path.join(out, f)).size, 0);
const payload = {
  backend: { name: backend.name, simd: backend.simd },
  data: {
    train: train.texts.length,
    earlyStoppingHoldout:
      args['holdout-mode'] === 'phrases'
        ? `${hold.texts.length} random phrases held out of data/sst2/train.tsv (seeded); used for early stopping and LR plateaus`
        : `${hold.texts.length} sentence-like phrases (>= 8 tokens) held out of data/sst2/train.tsv (seeded), with every training phrase that is a span of one of them or contains one removed; used for early stopping and LR plateaus`,
    trainPhrasesDropped: trainAll.texts.length - train.texts.length - hold.texts.length,
    evaluation: `GLUE dev (data/sst2/dev.tsv, ${dev.texts.length} sentences), scored once after training`,
    vocabulary: vectorizer.vocabSize,
  },
  architecture: config.architecture,
  goal: { devAccuracy: 0.84, baseline: 'CNN with random embeddings 82.7% (Kim 2014)' },
  metrics: {
    devAccuracy: report.accuracy,
    macroF1: report.macroF1,
    macroPrecision: report.macroPrecision,
    macroRecall: report.macroRecall,
    rocAuc: auc,
    confusionMatrix: report.confusionMatrix,
    holdoutAccuracy: state?.bestMetric,
  },
  reachedGoal: report.accuracy >= 0.84,
  training: {
    stopReason: result?.stopReason ?? 'finalized from checkpoint',
    epochs: state?.history.length,
    bestEpoch: state ? state.bestEpoch + 1 : undefined,
    steps: state?.step,
    wallTimeSeconds: trainSeconds,
    history: state?.history,
  },
  examples: explained,
  modelSizeBytes: sizeBytes,
};
const file = await writeResults(args['results-name']!, command, payload);
console.log(`results: ${file}; model: ${out} (${(sizeBytes / 1e6).toFixed(2)} MB)`);
await writeFile(path.join(out, 'README.md'), modelCard());
console.log(`tensors alive at exit: ${tf.memory().numTensors}`);

function modelCard(): string {
  const a = config.architecture;
  const m = payload.metrics;
  return [
    '# sentiment: SST-2 BiRNN + attention classifier',
    '',
    `A bidirectional ${a.cell.toUpperCase()} (${a.units} units per direction, ${a.layers} layer${a.layers > 1 ? 's' : ''}) over ${a.embeddingDim}-d word embeddings trained from scratch, with ${a.attention === 'none' ? 'the last state' : 'attention pooling'} and dropout ${a.dropout}. Built with \`@seqlab/rnn\`'s \`textClassifier\`; the default sentiment model of the seqlab CLI and API. Predictions come with per-token attention weights.`,
    '',
    '## Data',
    `SST-2 from GLUE: ${payload.data.train} training phrases (\`data/sst2/train.tsv\`); early stopping on ${payload.data.earlyStoppingHoldout}. Reported numbers are on the GLUE dev set (${dev.texts.length} sentences), which training never saw. Word vocabulary of ${payload.data.vocabulary} tokens built from the training phrases (\`@seqlab/tokenize\` TextVectorizer, word tokenizer); texts are cut at ${maxLength} tokens.`,
    '',
    '## Command',
    '```sh',
    command,
    '```',
    `Seed ${seed}; backend ${backend.name}${backend.simd ? ' (SIMD)' : ''}, 2 shared CPU cores. Training wall time ${(trainSeconds / 60).toFixed(1)} min (${payload.training.epochs} epochs, best epoch ${payload.training.bestEpoch}, stopped by ${payload.training.stopReason}).`,
    '',
    '## Metrics (GLUE dev)',
    '| metric | value |',
    '| --- | --- |',
    `| accuracy | ${(m.devAccuracy * 100).toFixed(2)}% |`,
    `| macro F1 | ${m.macroF1.toFixed(4)} |`,
    `| ROC-AUC | ${m.rocAuc.toFixed(4)} |`,
    `| confusion matrix [true][pred] | ${JSON.stringify(m.confusionMatrix)} |`,
    '',
    `Goal >= 84% (${payload.reachedGoal ? 'reached' : 'NOT reached'}); a CNN with random embeddings reaches 82.7% (Kim 2014).`,
    '',
    `Size: ${(sizeBytes / 1e6).toFixed(2)} MB.`,
    '',
    '## Files',
    '- `model.json`, `weights.bin`: TensorFlow.js LayersModel (custom layers register when `@seqlab/rnn` is imported).',
    '- `vectorizer.json`: the `TextVectorizer` (normalizer, word tokenizer, vocabulary; id 0 = padding).',
    '- `config.json`: labels, max length, architecture, training command.',
    '',
    '## Use',
    '```ts',
    "import { loadSentimentModel } from '@seqlab/rnn';",
    "const model = await loadSentimentModel('models/sentiment');",
    "const [r] = await model.predict(['a gorgeous, witty film']);",
    'console.log(r.label, r.score, r.tokens);',
    '```',
    '',
    '## Limitations',
    'English movie-review snippets only; binary labels (no neutral); attention weights show what the pooling looked at, which is not a faithful causal explanation. Sarcasm and negation scope remain hard.',
    '',
  ].join('\n');
}
