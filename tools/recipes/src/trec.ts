/**
 * recipe:trec — TREC question classification (Li & Roth 2002): 6 coarse and 50 fine classes,
 * 5,452 training / 500 test questions. Trains the kinds of the text-classification task on the
 * same rows (TF-IDF logistic regression, the fastText-style embedding bag, a BiLSTM with
 * attention pooling from random embeddings (`rnn`) or from GloVe 6B 100-d (`rnn-glove`), and the
 * sentence-encoder kinds: a head on Universal Sentence Encoder vectors and its hybrid with TF-IDF
 * n-grams), then an ensemble of the hybrid and rnn-glove whose weights are chosen on the
 * held-out 10%; reports test accuracy and macro F1 of each for TREC-6 and TREC-50, and saves
 * the TREC-6 model with the best accuracy on that held-out 10% of the training questions
 * (never the test set) as models/question-type.
 *
 * The sentence-encoder kinds choose on that held-out 10% only: the head (logistic regression or
 * MLP), its epochs, the hybrid's weight and, for TREC-6, whether to learn the 50 fine labels and
 * sum them into the 6 coarse ones; then they are fitted again with those settings on every
 * training question (`refit`). The other kinds keep the 90% fit.
 *
 *   npm run recipe:trec -- [--seed 1] [--epochs 15] [--units 64] [--kinds tfidf-lr,fasttext,rnn,rnn-glove,use,hybrid] [--tasks TREC-6,TREC-50] [--no-save] [--results-name NAME]
 */
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { classScores, initBackend, type TextClassificationPipeline, type TextClassificationResult } from '@seqlab/core';
import { fitUseTextClassifier, GLOVE_100D, loadEncoder, loadWordVectors } from '@seqlab/embeddings';
import { TextVectorizer } from '@seqlab/tokenize';
import {
  classificationMetrics,
  decodeText,
  fitLinearTextClassifier,
  fitRecurrentTextClassifier,
  stratifiedSplit,
  type TextClassificationMetrics,
} from '@seqlab/rnn';
import { chooseEnsembleWeights, TextClassifierEnsemble } from '@seqlab/tasks';
import { arg, REPO_ROOT, dataPath, formatTable, writeResults } from '../lib/report.js';

const SEED = Number(arg('seed', '1'));
const EPOCHS = Number(arg('epochs', '15'));
const UNITS = Number(arg('units', '64'));
const ALL_KINDS = ['tfidf-lr', 'fasttext', 'rnn', 'rnn-glove', 'use', 'hybrid'] as const;
type Kind = (typeof ALL_KINDS)[number];
const KINDS = arg('kinds', ALL_KINDS.join(','))
  .split(',')
  .map((k) => {
    if (!(ALL_KINDS as readonly string[]).includes(k)) throw new Error(`--kinds: unknown kind "${k}"; kinds: ${ALL_KINDS.join(', ')}`);
    return k as Kind;
  });
// models/question-type is the best of every kind: a run of some kinds only does not replace it.
const SAVE = !process.argv.includes('--no-save') && ALL_KINDS.every((k) => KINDS.includes(k)) && !process.argv.includes('--tasks');
const MODEL_DIR = path.join(REPO_ROOT, 'models', 'question-type');

interface Questions {
  texts: string[];
  coarse: string[];
  fine: string[];
}

/** `COARSE:fine question text` per line; the training file is Latin-1. */
function readTrec(file: string): Questions {
  const lines = decodeText(readFileSync(dataPath('trec', file)))
    .split('\n')
    .filter((l) => l.trim());
  const tags = lines.map((l) => l.slice(0, l.indexOf(' ')));
  return { texts: lines.map((l) => l.slice(l.indexOf(' ') + 1).trim()), coarse: tags.map((t) => t.split(':')[0]!), fine: tags };
}

const train = readTrec('train_5500.label');
const test = readTrec('TREC_10.label');
const backend = await initBackend();
// One encoder for every sentence-encoder fit: its cache holds every question, embedded once.
const encoder = KINDS.some((k) => k === 'use' || k === 'hybrid') ? await loadEncoder({ batchSize: 64, cacheSize: 20_000 }) : undefined;
console.log(`TREC: ${train.texts.length} training / ${test.texts.length} test questions; backend ${backend.name}`);

interface Row {
  task: string;
  kind: string;
  validationAccuracy: number;
  testAccuracy: number;
  testMacroF1: number;
  trainSeconds: number;
  epochs?: number;
  /** The ensemble's member weights, chosen on validation. */
  weights?: Record<string, number>;
  /** Sentence-encoder kinds: what validation chose (`labels`: `coarse` = the task's own labels, `fine` = TREC-6 learnt through the 50 fine ones). */
  chosen?: { labels: 'coarse' | 'fine'; hidden: number; headEpochs: number; useWeight?: number; refit: boolean };
}

/** GloVe for the words of these texts only (the full table is 341k words). */
async function gloveFor(texts: readonly string[]) {
  const vocab = await new TextVectorizer({ tokenizer: 'word' }).adapt(texts);
  return loadWordVectors(GLOVE_100D, { keep: vocab.vocabulary.toArray() });
}

/** Class probabilities of each text, in the order of `classes`. */
async function probsOf(m: TextClassificationPipeline, texts: string[], classes: readonly string[]): Promise<number[][]> {
  return (await m.predict(texts)).map((r) => classScores(r, classes));
}

const rows: Row[] = [];
let questionType: { model: TextClassificationPipeline; kind: string; metrics: TextClassificationMetrics; validationAccuracy: number; chosen?: Row['chosen']; weights?: Record<string, number> } | undefined;

const TASKS = arg('tasks', 'TREC-6,TREC-50').split(',');
for (const [task, labelsOf] of [
  ['TREC-6', (q: Questions) => q.coarse],
  ['TREC-50', (q: Questions) => q.fine],
] as const) {
  if (!TASKS.includes(task)) continue;
  const labels = labelsOf(train).map((l) => [l]);
  // Every class the test set uses must be an output, even the few fine classes rare in training.
  const classes = [...new Set([...labelsOf(train), ...labelsOf(test)])].sort();
  const split = stratifiedSplit(labels, 0.1, SEED);
  const fitRows = { texts: split.train.map((i) => train.texts[i]!), labels: split.train.map((i) => labels[i]!) };
  const valRows = { texts: split.holdout.map((i) => train.texts[i]!), labels: split.holdout.map((i) => labels[i]!) };
  const testTruth = labelsOf(test).map((l) => [l]);
  const candidates: Array<{
    kind: string;
    model: TextClassificationPipeline;
    validationAccuracy: number;
    metrics: TextClassificationMetrics;
    testResults: TextClassificationResult[];
    validationResults?: TextClassificationResult[];
    chosen?: Row['chosen'];
    weights?: Record<string, number>;
  }> = [];
  let hybridValidation: number[][] | undefined;
  for (const kind of KINDS) {
    const t0 = performance.now();
    let model: TextClassificationPipeline;
    let epochs: number | undefined;
    let chosen: Row['chosen'];
    let validationAccuracy: number | undefined;
    if (kind === 'use' || kind === 'hybrid') {
      // Coarse labels, or (TREC-6) the fine ones summed per coarse class: chosen on validation.
      const labelings = task === 'TREC-6' ? (['coarse', 'fine'] as const) : (['coarse'] as const);
      let best: { labels: 'coarse' | 'fine'; accuracy: number } | undefined;
      for (const labelsChoice of labelings) {
        const subLabels = labelsChoice === 'fine' ? { train: split.train.map((i) => train.fine[i]!), validation: split.holdout.map((i) => train.fine[i]!) } : undefined;
        const trial = await fitUseTextClassifier(fitRows, { kind, classes, validation: valRows, encoder: encoder!, seed: SEED, clean: false, ...(subLabels ? { subLabels } : {}) });
        // The ensemble's weights are chosen on the validation rows, so they need the hybrid's
        // probabilities there from before its refit (the refit has seen those rows).
        if (kind === 'hybrid' && (!best || trial.validationAccuracy > best.accuracy)) hybridValidation = await probsOf(trial.classifier, valRows.texts, classes);
        trial.classifier.dispose();
        console.log(`  ${task} ${kind} on ${labelsChoice === 'fine' ? 'the fine labels, summed per class' : "the task's labels"}: validation ${trial.validationAccuracy.toFixed(4)} (heads ${trial.heads.map((h) => `${h.hidden}: ${h.validationAccuracy.toFixed(4)}`).join(', ')}${trial.useWeight !== undefined ? `; USE weight ${trial.useWeight}, n-grams alone ${trial.ngramValidationAccuracy!.toFixed(4)}` : ''})`);
        if (!best || trial.validationAccuracy > best.accuracy) best = { labels: labelsChoice, accuracy: trial.validationAccuracy };
      }
      const subLabels = best!.labels === 'fine' ? { train: split.train.map((i) => train.fine[i]!), validation: split.holdout.map((i) => train.fine[i]!) } : undefined;
      const fitted = await fitUseTextClassifier(fitRows, {
        kind,
        classes,
        validation: valRows,
        refit: true,
        encoder: encoder!,
        seed: SEED,
        clean: false,
        ...(subLabels ? { subLabels } : {}),
        training: { recipe: 'npm run recipe:trec', seed: SEED, task, data: 'data/trec/train_5500.label (choices on a stratified 10%, then refit on all)', labels: best!.labels },
      });
      model = fitted.classifier;
      validationAccuracy = fitted.validationAccuracy;
      chosen = { labels: best!.labels, hidden: fitted.chosenHidden, headEpochs: fitted.classifier.config.training!.headEpochs as number, ...(fitted.useWeight !== undefined ? { useWeight: fitted.useWeight } : {}), refit: true };
    } else if (kind === 'rnn' || kind === 'rnn-glove') {
      const fitted = await fitRecurrentTextClassifier(fitRows, {
        classes,
        validation: valRows,
        ...(kind === 'rnn-glove' ? { wordVectors: await gloveFor(fitRows.texts) } : { embeddingDim: 100 }),
        units: UNITS,
        dropout: 0.3,
        epochs: EPOCHS,
        patience: 3,
        learningRate: 0.003,
        seed: SEED,
        clean: false,
        training: { recipe: 'npm run recipe:trec', seed: SEED, data: 'data/trec/train_5500.label (90%, stratified)', task },
        onProgress: (e) => {
          if (e.type === 'epoch') console.log(`  ${task} rnn epoch ${e.epoch + 1}: loss ${e.loss.toFixed(3)}, val acc ${e.metrics.val_accuracy?.toFixed(4)}`);
        },
      });
      model = fitted.classifier;
      epochs = fitted.result.history.length;
    } else {
      // tfidf-lr chooses its L2 penalty on the held-out 10%, as the anchors' baseline does.
      model = await fitLinearTextClassifier(fitRows, { kind, classes, seed: SEED, clean: false, ...(kind === 'tfidf-lr' ? { validation: valRows } : {}), training: { recipe: 'npm run recipe:trec', seed: SEED, task } });
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    // A refitted model has seen the validation rows: its validation figure is the one measured before the refit.
    // Kept for the ensemble, which combines its members' results rather than predicting again.
    const validationResults = validationAccuracy === undefined ? await model.predict(valRows.texts) : undefined;
    validationAccuracy ??= classificationMetrics(classes, model.problem, valRows.labels, validationResults!).accuracy;
    const testResults = await model.predict(test.texts);
    const metrics = classificationMetrics(classes, model.problem, testTruth, testResults);
    rows.push({ task, kind, validationAccuracy, testAccuracy: metrics.accuracy, testMacroF1: metrics.macro.f1, trainSeconds, ...(epochs ? { epochs } : {}), ...(chosen ? { chosen } : {}) });
    console.log(`${task} ${kind}: validation ${validationAccuracy.toFixed(4)}, test accuracy ${metrics.accuracy.toFixed(4)}, macro F1 ${metrics.macro.f1.toFixed(4)} (${trainSeconds.toFixed(1)} s)`);
    candidates.push({ kind, model, validationAccuracy, metrics, testResults, ...(validationResults ? { validationResults } : {}), ...(chosen ? { chosen } : {}) });
  }
  // The ensemble: the hybrid (sentence vectors + n-grams) and the GloVe BiLSTM read questions
  // differently; the weight of each is chosen on the validation rows (grid of 0.1).
  const hybrid = candidates.find((c) => c.kind === 'hybrid');
  const glove = candidates.find((c) => c.kind === 'rnn-glove');
  if (hybrid && glove && hybridValidation && glove.validationResults) {
    const t0 = performance.now();
    const truth = valRows.labels.map((l) => classes.indexOf(l[0]!));
    const choice = chooseEnsembleWeights([hybridValidation, glove.validationResults.map((r) => classScores(r, classes))], truth);
    const ensemble = new TextClassifierEnsemble(
      [
        { model: hybrid.model, weight: choice.weights[0]! },
        { model: glove.model, weight: choice.weights[1]! },
      ],
      'question-type',
      { recipe: 'npm run recipe:trec', seed: SEED, task, weights: 'chosen on a stratified 10% of the training questions (hybrid before its refit)', validationAccuracy: choice.accuracy },
    );
    const testResults = ensemble.combine([hybrid.testResults, glove.testResults]);
    const metrics = classificationMetrics(classes, ensemble.problem, testTruth, testResults);
    // Its members' fitting time plus choosing the weights and combining.
    const trainSeconds = (performance.now() - t0) / 1000 + rows.filter((r) => r.task === task && (r.kind === 'hybrid' || r.kind === 'rnn-glove')).reduce((s, r) => s + r.trainSeconds, 0);
    const weights = { hybrid: choice.weights[0]!, 'rnn-glove': choice.weights[1]! };
    rows.push({ task, kind: 'ensemble', validationAccuracy: choice.accuracy, testAccuracy: metrics.accuracy, testMacroF1: metrics.macro.f1, trainSeconds, weights });
    console.log(`${task} ensemble (hybrid ${weights.hybrid}, rnn-glove ${weights['rnn-glove']}): validation ${choice.accuracy.toFixed(4)}, test accuracy ${metrics.accuracy.toFixed(4)}, macro F1 ${metrics.macro.f1.toFixed(4)}`);
    candidates.push({ kind: 'ensemble', model: ensemble, validationAccuracy: choice.accuracy, metrics, testResults, ...(hybrid.chosen ? { chosen: hybrid.chosen } : {}), weights });
  }
  if (task === 'TREC-6') {
    // Chosen on held-out training questions; the test set only reports.
    const best = candidates.reduce((a, b) => (b.validationAccuracy > a.validationAccuracy ? b : a));
    questionType = best;
    // An ensemble owns its members: dispose it, or the members it does not hold, never both.
    const kept = best.model instanceof TextClassifierEnsemble ? new Set<TextClassificationPipeline>(best.model.models) : new Set<TextClassificationPipeline>();
    for (const c of candidates) if (c !== best && !kept.has(c.model) && c.kind !== 'ensemble') c.model.dispose();
  } else {
    for (const c of candidates) if (c.kind !== 'ensemble') c.model.dispose();
  }
}

console.log(formatTable(rows.map(({ chosen: _c, ...r }) => ({ ...r, validationAccuracy: r.validationAccuracy.toFixed(4), testAccuracy: r.testAccuracy.toFixed(4), testMacroF1: r.testMacroF1.toFixed(4), trainSeconds: r.trainSeconds.toFixed(1) }))));

const trec6Best = Math.max(...rows.filter((r) => r.task === 'TREC-6').map((r) => r.testAccuracy));
let modelBytes: number | undefined;
if (SAVE && questionType) {
  await fs.rm(MODEL_DIR, { recursive: true, force: true });
  await questionType.model.save(MODEL_DIR);
  // Every file, sub-directories included (a hybrid keeps its n-gram model in ngrams/).
  modelBytes = 0;
  for (const f of await fs.readdir(MODEL_DIR, { recursive: true })) {
    const stat = await fs.stat(path.join(MODEL_DIR, f));
    if (stat.isFile()) modelBytes += stat.size;
  }
  if (modelBytes > 10 * 1024 * 1024) throw new Error(`models/question-type is ${(modelBytes / 1e6).toFixed(1)} MB, over the 10 MB limit`);
  const m = questionType.metrics;
  const card = `# question-type

The question-type classifier of \`seqlab classify\` and \`POST /v1/classify\`: which kind of
answer a question asks for, one of the 6 coarse TREC classes — ABBR (abbreviation), DESC
(description), ENTY (entity), HUM (person or group), LOC (location), NUM (number, date, amount).

- Task \`text-classification\`, kind \`${questionType.kind}\` (chosen among tfidf-lr, fasttext, a BiLSTM with
  attention from random or GloVe-started embeddings, a head on Universal Sentence Encoder vectors (use), its hybrid
  with TF-IDF n-grams, and an ensemble of the hybrid and the GloVe BiLSTM, by accuracy on a stratified 10% of the
  training questions, seed ${SEED}: ${(questionType.validationAccuracy * 100).toFixed(2)}%).
${
  questionType.weights
    ? `- The ensemble averages the class probabilities of its two members (\`members/\`), weighted as chosen on that 10%: the hybrid ${questionType.weights['hybrid']}, the BiLSTM over GloVe 6B 100-d word vectors (fine-tuned; trained on the other 90%, early-stopped on the 10%) ${questionType.weights['rnn-glove']}. Explanations (attention weights) come from the BiLSTM. The 10% also stopped the BiLSTM's training, so its share is chosen on rows it is tuned to; the hybrid's validation probabilities are from before its refit.
`
    : ''
}${
  questionType.chosen
    ? `- Settings chosen on that 10%: ${questionType.chosen.labels === 'fine' ? 'trained on the 50 fine labels, a coarse class scoring the sum of its fine ones' : 'trained on the 6 coarse labels'}; head ${questionType.chosen.hidden === 0 ? 'logistic regression' : `MLP with ${questionType.chosen.hidden} hidden units`} for ${questionType.chosen.headEpochs} epochs${questionType.chosen.useWeight !== undefined ? `; USE probabilities weighted ${questionType.chosen.useWeight}, TF-IDF n-gram probabilities ${(1 - questionType.chosen.useWeight).toFixed(2)}` : ''}. Then fitted again with those settings on every training question.
- The sentence encoder (USE-lite, 27 MB) is not in this directory: config.json names it with the SHA-256 of its model.json and the loader takes it from @seqlab/embeddings (the installed, verified files).
`
    : ''
}- Data: TREC question classification (Li & Roth, COLING 2002), \`data/trec/train_5500.label\`
  (${questionType.weights ? 'the hybrid: all of it after the choices; the BiLSTM: the 90%' : questionType.chosen?.refit ? 'all of it after the choices' : '90% used for fitting'}), tested on \`data/trec/TREC_10.label\`.
- TREC-6 test accuracy ${(m.accuracy * 100).toFixed(2)}%, macro F1 ${m.macro.f1.toFixed(4)} (500 questions).
  Per class: ${m.perClass.map((c) => `${c.label} F1 ${c.f1.toFixed(3)} (${c.support})`).join(', ')}.
- Files: ${(modelBytes / 1e6).toFixed(2)} MB. Made by \`npm run recipe:trec -- --seed ${SEED}\` on backend ${backend.name}.
- Limits: trained on short English factoid questions from the late 1990s; other text (statements,
  long documents, other languages) gets a class anyway. The goal of issue 15 (TREC-6 >= 95%) is
  ${trec6Best >= 0.95 ? 'met' : 'not met yet'} by this recipe's best kind (${(trec6Best * 100).toFixed(2)}%).

\`\`\`sh
npm run seqlab -- classify --model question-type "How far is it from Denver to Aspen ?"
\`\`\`
`;
  await fs.writeFile(path.join(MODEL_DIR, 'README.md'), card);
  console.log(`saved models/question-type (${questionType.kind}, ${(modelBytes / 1e6).toFixed(2)} MB)`);
}
questionType?.model.dispose();
encoder?.dispose();

// A run of some kinds or tasks only is a trial: it does not replace the full table.
const complete = ALL_KINDS.every((k) => KINDS.includes(k)) && TASKS.includes('TREC-6') && TASKS.includes('TREC-50');
// `--results-name` keeps a partial run (e.g. other seeds of some kinds) under a name of its own.
const resultsName = arg('results-name', complete ? 'trec' : 'trec-partial');
const partialArgs = complete ? '' : ` --kinds ${KINDS.join(',')} --tasks ${TASKS.join(',')}${SAVE ? '' : ' --no-save'}`;
const file = await writeResults(resultsName, `npm run recipe:trec -- --seed ${SEED} --epochs ${EPOCHS} --units ${UNITS}${partialArgs}${resultsName !== (complete ? 'trec' : 'trec-partial') ? ` --results-name ${resultsName}` : ''}`, {
  backend: backend.name,
  rows,
  questionType: questionType ? { kind: questionType.kind, ...(questionType.chosen ? { chosen: questionType.chosen } : {}), ...(questionType.weights ? { weights: questionType.weights } : {}), validationAccuracy: questionType.validationAccuracy, testAccuracy: questionType.metrics.accuracy, bytes: modelBytes ?? null } : null,
  goal: { metric: 'TREC-6 test accuracy', target: 0.95, best: trec6Best, met: trec6Best >= 0.95 },
  references: { 'Kim 2014 CNN-rand': 0.912, 'Kim 2014 CNN-static': 0.928, 'Kim 2014 CNN-non-static': 0.936, 'Silva et al. SVM (hand-made features)': 0.95 },
});
console.log(`results written to ${path.relative(REPO_ROOT, file)}`);
