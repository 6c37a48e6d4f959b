/**
 * `seqlab train classifier` / `classify` / `evaluate classifier` on multi-class and multi-label
 * data that is not SST-2: TREC questions written as a label-sorted CSV and as JSONL.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyCommand } from '../src/commands/classify.js';
import { evaluateClassifierCommand } from '../src/commands/evaluate-classifier.js';
import { trainClassifierCommand } from '../src/commands/train-classifier.js';
import { TFIDF_L2_CANDIDATES } from '@seqlab/rnn';
import { dataFile, run } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'seqlab-textclf-'));
const COARSE = ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'];

function trecRows(file: string): { question: string; coarse: string; fine: string }[] {
  return readFileSync(dataFile('trec', file), 'latin1')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const tag = l.slice(0, l.indexOf(' '));
      return { question: l.slice(l.indexOf(' ') + 1).trim(), coarse: tag.split(':')[0]!, fine: tag };
    });
}

const csv = (s: string) => `"${s.replace(/"/g, '""')}"`;
const train = trecRows('train_5500.label').sort((a, b) => a.coarse.localeCompare(b.coarse));
const test = trecRows('TREC_10.label');
const trainCsv = join(root, 'trec-train.csv');
const testCsv = join(root, 'trec-test.csv');
const trainJsonl = join(root, 'trec-train.jsonl');
writeFileSync(trainCsv, `id,question,category\n${train.map((r, i) => `${i},${csv(r.question)},${r.coarse}`).join('\n')}\n`);
writeFileSync(testCsv, `id,question,category\n${test.map((r, i) => `${i},${csv(r.question)},${r.coarse}`).join('\n')}\n`);
writeFileSync(trainJsonl, train.map((r) => JSON.stringify({ text: r.question, labels: [r.coarse, r.fine] })).join('\n'));

const TINY = ['--units', '12', '--embedding-dim', '24', '--vocab-size', '3000', '--batch-size', '32', '--lr', '0.01', '--epochs', '3'];

describe('train classifier --model auto on a label-sorted CSV of 6 classes', () => {
  const out = join(root, 'auto');
  let summary: {
    kind: string;
    problem: string;
    classes: string[];
    candidates: { kind: string; accuracy: number }[];
    trainRows: number;
    validationRows: number;
    lengthStats: { p90: number };
    maxLength: number;
    validationMetrics: { accuracy: number; perClass: { support: number }[] };
    rnnTimeBudgetSeconds: number | null;
    ensembleWeights: Record<string, number> | null;
    ensembleCrossFittedAccuracy: number | null;
    reason: string;
  };

  beforeAll(async () => {
    const r = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', out, '--limit', '1500', ...TINY, '--json']);
    expect(r.stderr).not.toMatch(/seqlab:/);
    expect(r.exitCode).toBe(0);
    summary = JSON.parse(r.stdout);
  }, 180_000);

  it('detects the columns, samples every class, fits the baselines and the rnn and keeps the best', () => {
    expect(summary.classes).toEqual(COARSE);
    expect(summary.problem).toBe('multi-class');
    expect(summary.trainRows + summary.validationRows).toBe(1500);
    // The three kinds, then their weighted ensemble when its weights use two or more of them.
    const kinds = summary.candidates.map((c) => c.kind);
    expect(kinds.slice(0, 3)).toEqual(['tfidf-lr', 'fasttext', 'rnn']);
    expect(kinds.slice(3)).toEqual(summary.ensembleWeights ? ['ensemble'] : []);
    expect(summary.rnnTimeBudgetSeconds).toBe(1500);
    const alone = Math.max(...summary.candidates.slice(0, 3).map((c) => c.accuracy));
    expect(alone).toBeGreaterThan(0.6);
    // The ensemble is kept only when its accuracy with weights chosen on other rows than those
    // scored (cross-fitted) beats the best kind alone; its accuracy on the rows that chose its
    // weights can only flatter it and never decides.
    const crossFitted = summary.ensembleCrossFittedAccuracy;
    if (summary.ensembleWeights) {
      expect(crossFitted).toBeGreaterThan(0.6);
      expect(crossFitted).toBeLessThanOrEqual(summary.candidates[3]!.accuracy);
      const weights = Object.values(summary.ensembleWeights);
      expect(weights.length).toBeGreaterThanOrEqual(2);
      expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    }
    const keptEnsemble = summary.ensembleWeights !== null && crossFitted! > alone;
    expect(summary.kind === 'ensemble').toBe(keptEnsemble);
    expect(summary.reason).toMatch(keptEnsemble ? /cross-fitted/ : new RegExp(`^${summary.kind} has the best validation accuracy`));
    const chosen = summary.candidates.find((c) => c.kind === summary.kind)!;
    if (!keptEnsemble) expect(chosen.accuracy).toBe(alone);
    expect(summary.validationMetrics.accuracy).toBeCloseTo(chosen.accuracy, 10);
    expect(summary.maxLength).toBe(Math.max(16, summary.lengthStats.p90));
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ task: 'text-classification', kind: summary.kind === 'ensemble' ? 'ensemble' : expect.any(String), classes: COARSE });
    if (keptEnsemble) expect(config.members.map((m: { kind: string; weight: number }) => [m.kind, m.weight])).toEqual(Object.entries(summary.ensembleWeights!));
    // The checkpoints lived in the run folder beside the model, removed after the run.
    expect(readdirSync(out).filter((f) => ['checkpoints', 'last', 'best', 'state.json', 'run.json'].includes(f))).toEqual([]);
    expect(existsSync(`${out}.run`)).toBe(false);
  });

  it('classify labels questions with the saved model', async () => {
    const r = await run(classifyCommand(), ['--model', out, '--json', 'How far is it from Denver to Aspen ?', 'Who wrote Hamlet ?']);
    expect(r.exitCode).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.results.map((x: { label: string }) => x.label)).toEqual(['NUM', 'HUM']);
    expect(res.results[0].labels).toHaveLength(3);
    expect(res.truncated).toBe(0);
  });

  it('evaluate classifier: per-class metrics over the TREC test set, beside a TF-IDF baseline', async () => {
    const r = await run(evaluateClassifierCommand(), ['--model', out, '--data', testCsv, '--baseline', '--json']);
    expect(r.stderr).not.toMatch(/seqlab:/);
    expect(r.exitCode).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.count).toBe(500);
    expect(e.perClass.map((c: { label: string }) => c.label)).toEqual(COARSE);
    expect(e.perClass.reduce((s: number, c: { support: number }) => s + c.support, 0)).toBe(500);
    expect((e.confusionMatrix as number[][]).flat().reduce((a, b) => a + b, 0)).toBe(500);
    expect(e.micro.f1).toBeCloseTo(e.accuracy, 10);
    expect(e.baseline.data).toBe(trainCsv);
    // Its L2 penalty was chosen on validation rows (one of the candidates), not left at a default.
    expect(TFIDF_L2_CANDIDATES).toContain(e.baseline.l2);
    expect(e.baseline.accuracy).toBeGreaterThan(0.8);
    expect(e.accuracy).toBeGreaterThan(0.6);
  });
});

describe('train classifier --encoder use', () => {
  const out = join(root, 'use');
  it('embeds the texts, fits the use and hybrid kinds beside the others, keeps the best on validation; classify serves it', async () => {
    const r = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', out, '--limit', '600', '--encoder', 'use', '--head-hidden', '0,32', ...TINY, '--json']);
    expect(r.stderr).not.toMatch(/seqlab:/);
    expect(r.exitCode).toBe(0);
    const summary = JSON.parse(r.stdout);
    const kinds = summary.candidates.map((c: { kind: string }) => c.kind);
    expect(kinds.slice(0, 5)).toEqual(['tfidf-lr', 'fasttext', 'rnn', 'use', 'hybrid']);
    expect(kinds.slice(5)).toEqual(summary.ensembleWeights ? ['ensemble'] : []);
    const best = Math.max(...summary.candidates.map((c: { accuracy: number }) => c.accuracy));
    expect(summary.candidates.find((c: { kind: string }) => c.kind === summary.kind).accuracy).toBe(best);
    // Scored again through the saved directory: the same accuracy.
    expect(summary.validationMetrics.accuracy).toBeCloseTo(best, 10);
    expect(summary.candidates.find((c: { kind: string }) => c.kind === 'hybrid').accuracy).toBeGreaterThan(0.7);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ task: 'text-classification', kind: summary.kind, classes: COARSE });
    const c = await run(classifyCommand(), ['--model', out, '--json', 'How far is it from Denver to Aspen ?', 'Who wrote Hamlet ?']);
    expect(c.exitCode).toBe(0);
    expect(JSON.parse(c.stdout).results.map((x: { label: string }) => x.label)).toEqual(['NUM', 'HUM']);

    // One encoder kind alone: the saved model names the encoder and its head.
    const hybridOut = join(root, 'use-hybrid');
    const h = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', hybridOut, '--limit', '600', '--model', 'hybrid', '--head-hidden', '0,32', '--json']);
    expect(h.exitCode).toBe(0);
    expect(JSON.parse(h.stdout).candidates.map((x: { kind: string }) => x.kind)).toEqual(['hybrid']);
    expect(JSON.parse(readFileSync(join(hybridOut, 'config.json'), 'utf8'))).toMatchObject({ kind: 'hybrid', encoder: { name: 'use-lite' }, head: { hidden: expect.any(Number) } });
  }, 240_000);

  it('refuses a model kind that reads no sentence vectors, and bad head sizes', async () => {
    const r = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', join(root, 'use-bad'), '--encoder', 'use', '--model', 'rnn']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/--encoder use: --model rnn reads no sentence vectors/);
    const h = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', join(root, 'use-bad'), '--encoder', 'use', '--head-hidden', '0,-4']);
    expect(h.exitCode).not.toBe(0);
    expect(h.stderr).toMatch(/--head-hidden.*expected comma-separated layer sizes in 0\.\.4096.*"0,-4"/);
  });
});

describe('classify with the default model', () => {
  it('labels questions with the committed question-type model', async () => {
    const r = await run(classifyCommand(), ['How far is it from Denver to Aspen ?', 'Who wrote Hamlet ?']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^NUM\s+\d\.\d{3}\s+How far/m);
    expect(r.stdout).toMatch(/^HUM\s+\d\.\d{3}\s+Who wrote Hamlet/m);
  });
});

describe('train classifier: refitting the chosen linear model', () => {
  it('refits on training + validation rows by default; --no-refit keeps the training-rows fit', async () => {
    const args = ['--data', trainCsv, '--model', 'tfidf-lr', '--limit', '800', '--json'];
    const refit = await run(trainClassifierCommand(), [...args, '--out', join(root, 'refit')]);
    const kept = await run(trainClassifierCommand(), [...args, '--out', join(root, 'kept'), '--no-refit']);
    expect([refit.exitCode, kept.exitCode]).toEqual([0, 0]);
    const [a, b] = [JSON.parse(refit.stdout), JSON.parse(kept.stdout)];
    expect(a.refitRows).toBe(800);
    expect(b.refitRows).toBeNull();
    // Both report the same held-out validation (measured before the refit).
    expect(a.validationMetrics.accuracy).toBe(b.validationMetrics.accuracy);
    const config = JSON.parse(readFileSync(join(root, 'refit', 'config.json'), 'utf8'));
    expect(JSON.stringify(config)).toContain('"refitRows":800');
    // The L2 penalty chosen on the held-out rows is the one the refit used.
    const keptConfig = JSON.parse(readFileSync(join(root, 'kept', 'config.json'), 'utf8'));
    expect(keptConfig.training.l2Candidates.map((c: { l2: number }) => c.l2)).toContain(keptConfig.training.l2);
    expect(config.training.l2).toBe(keptConfig.training.l2);
    // The refitted model has learned the validation rows too: its scores differ.
    const q = ['How far is it from Denver to Aspen ?', 'Who wrote Hamlet ?', 'What does NASA stand for ?'];
    const sa = JSON.parse((await run(classifyCommand(), ['--model', join(root, 'refit'), '--json', ...q])).stdout).results.map((r: { score: number }) => r.score);
    const sb = JSON.parse((await run(classifyCommand(), ['--model', join(root, 'kept'), '--json', ...q])).stdout).results.map((r: { score: number }) => r.score);
    expect(sa).not.toEqual(sb);
  }, 60_000);
});

describe('multi-label and long texts', () => {
  it('trains a multi-label model from JSONL lists under --model auto, the rnn among the candidates, and predicts label sets', async () => {
    const out = join(root, 'multi');
    const r = await run(trainClassifierCommand(), ['--data', trainJsonl, '--out', out, '--limit', '2000', ...TINY, '--json']);
    expect(r.exitCode).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.problem).toBe('multi-label');
    expect(s.candidates.map((c: { kind: string }) => c.kind)).toEqual(['tfidf-lr', 'fasttext', 'rnn']);
    // Chosen on validation subset accuracy like the single-label kinds; micro F1 reported beside it.
    const best = Math.max(...s.candidates.map((c: { accuracy: number }) => c.accuracy));
    expect(s.candidates.find((c: { kind: string }) => c.kind === s.kind).accuracy).toBe(best);
    for (const c of s.candidates) expect(c.microF1).toBeGreaterThan(0);
    expect(s.validationMetrics.jaccard).toBeGreaterThan(0.4);
    if (s.kind !== 'rnn') expect(s.refitRows).toBe(2000);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.thresholds).toHaveLength(config.classes.length);
    expect(Object.values(s.thresholds)).toEqual(config.thresholds);
    const c = await run(classifyCommand(), ['--model', out, '--json', '--labels', '100', 'Who wrote Hamlet ?']);
    const res = JSON.parse(c.stdout).results[0];
    const thresholdOf = (label: string) => config.thresholds[config.classes.indexOf(label)];
    expect(res.predicted).toEqual(res.labels.filter((l: { label: string; score: number }) => l.score >= thresholdOf(l.label)).map((l: { label: string }) => l.label));
  }, 240_000);

  it('trains a recurrent multi-label model; classify lists label sets, evaluate prints per-label P/R/F1 and thresholds', async () => {
    const out = join(root, 'multi-rnn');
    const r = await run(trainClassifierCommand(), ['--data', trainJsonl, '--out', out, '--model', 'rnn', '--limit', '2000', ...TINY, '--lr', '0.02', '--epochs', '8', '--json']);
    expect(r.stderr).not.toMatch(/seqlab:/);
    expect(r.exitCode).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ kind: 'rnn', problem: 'multi-label', refitRows: null });
    expect(s.validationMetrics.jaccard).toBeGreaterThan(0.4);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ kind: 'rnn', problem: 'multi-label', architecture: { output: 'sigmoid' } });
    expect(config.thresholds).toHaveLength(config.classes.length);
    const c = await run(classifyCommand(), ['--model', out, '--json', '--explain', 'Who wrote Hamlet ?', 'What is the capital of France ?']);
    expect(c.exitCode).toBe(0);
    const res = JSON.parse(c.stdout);
    expect(res.problem).toBe('multi-label');
    expect(res.thresholds).toEqual(Object.fromEntries(config.classes.map((l: string, i: number) => [l, config.thresholds[i]])));
    expect(res.results[0].predicted).toContain('HUM');
    expect(res.results[1].predicted).toContain('LOC');
    for (const x of res.results) {
      expect(x.explanation.length).toBeGreaterThan(0);
      expect(x.labelExplanations.map((l: { label: string }) => l.label)).toEqual(x.predicted);
      for (const l of x.labelExplanations) expect(l.words.length).toBeGreaterThan(0);
    }
    const text = await run(classifyCommand(), ['--model', out, 'Who wrote Hamlet ?']);
    expect(text.stdout).toMatch(/^HUM/m);
    const testJsonl = join(root, 'trec-test.jsonl');
    writeFileSync(testJsonl, test.map((t) => JSON.stringify({ text: t.question, labels: [t.coarse, t.fine] })).join('\n'));
    const e = await run(evaluateClassifierCommand(), ['--model', out, '--data', testJsonl, '--limit', '200']);
    expect(e.exitCode).toBe(0);
    expect(e.stdout).toMatch(/\(rnn, multi-label\)/);
    expect(e.stdout).toMatch(/subset accuracy [\d.]+ +macro F1 [\d.]+ +micro F1 [\d.]+ +Jaccard [\d.]+/);
    expect(e.stdout).toMatch(/class +precision +recall +F1 +support +threshold/);
    expect(e.stdout).toMatch(/^HUM:ind +[\d.]+ +[\d.]+ +[\d.]+ +\d+ +[\d.]+/m);
    const bad = await run(trainClassifierCommand(), ['--data', trainJsonl, '--out', join(root, 'multi-bad'), '--model', 'rnn', '--thresholds', '1.5']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--thresholds: expected f1 or a number between 0 and 1 \(exclusive\), got "1.5"/);
  }, 120_000);

  it('starts the rnn embedding from word vectors: GloVe under auto, a .vec file by path, clear errors', async () => {
    // No --embedding-dim: auto may use the bundled GloVe (100-d), which knows nearly every question word.
    const SMALL = ['--units', '12', '--vocab-size', '3000', '--batch-size', '32', '--lr', '0.01', '--epochs', '1', '--limit', '600'];
    const out = join(root, 'glove-rnn');
    const r = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', out, '--model', 'rnn', ...SMALL]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/rnn: embedding starts from glove-6b-100d \(\d+ of the \d+ training words, (9\d|100)\.\d% of the training tokens\)/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.architecture.embeddingDim).toBe(100);
    expect(config.training.wordVectors).toMatchObject({ vectors: 'glove-6b-100d', dim: 100, fineTuned: true });
    expect(config.training.wordVectors.tokenShare).toBeGreaterThan(0.9);

    // A user's own vectors in the word2vec text format: 3 dimensions, two question words and one
    // that no TREC question holds.
    const vec = join(root, 'own.vec');
    writeFileSync(vec, '3 3\nwhat 0.1 0.2 0.3\nquokkas 0.7 0.7 0.1\nwho -0.1 0.5 0.0\n');
    const own = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', join(root, 'own-vec'), '--model', 'rnn', ...SMALL, '--word-vectors', vec, '--json']);
    expect(own.exitCode).toBe(0);
    const s = JSON.parse(own.stdout);
    expect(s.rnnWordVectors).toMatchObject({ vectors: 'own.vec', dim: 3, found: 2 });
    const frozen = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', join(root, 'own-frozen'), '--model', 'rnn', ...SMALL, '--word-vectors', vec, '--freeze-embeddings']);
    expect(frozen.exitCode).toBe(0);
    const frozenConfig = JSON.parse(readFileSync(join(root, 'own-frozen', 'config.json'), 'utf8'));
    expect(frozenConfig.training.wordVectors).toMatchObject({ vectors: 'own.vec', fineTuned: false });
    // Frozen vectors carry the words training lacked (an open vocabulary), here the one.
    expect(frozen.stderr).toMatch(/rnn: 1 more word of own\.vec carried with their frozen vectors/);
    expect(frozenConfig.training.openVocabulary).toEqual({ vectors: 'own.vec', added: 1, limit: 20000 });
    const vocab = JSON.parse(readFileSync(join(root, 'own-frozen', 'vectorizer.json'), 'utf8')).vocabulary.tokens;
    expect(vocab.at(-1)).toBe('quokkas');
    expect(frozenConfig.architecture.vocabSize).toBe(vocab.length);
    const closed = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', join(root, 'own-closed'), '--model', 'rnn', ...SMALL, '--word-vectors', vec, '--freeze-embeddings', '--open-vocabulary', '0']);
    expect(closed.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'own-closed', 'config.json'), 'utf8')).training.openVocabulary).toBeUndefined();

    // Explicit choices that cannot work are refused by name; auto with another size trains from scratch.
    const dims = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', join(root, 'vec-dims'), '--model', 'rnn', ...SMALL, '--word-vectors', vec, '--embedding-dim', '24']);
    expect(dims.exitCode).toBe(2);
    expect(dims.stderr).toMatch(/--embedding-dim 24 differs from the 3 dimensions of --word-vectors/);
    const missing = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', join(root, 'vec-missing'), '--model', 'rnn', ...SMALL, '--word-vectors', join(root, 'nope.vec')]);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toMatch(/--word-vectors: word vectors: ".*nope\.vec" is neither 'glove-6b-100d' nor a readable file/);
    const scratch = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', join(root, 'vec-scratch'), '--model', 'rnn', ...SMALL, '--embedding-dim', '24', '--json']);
    expect(JSON.parse(scratch.stdout).rnnWordVectors).toBeNull();
  }, 180_000);

  it('counts and reports truncated texts; chunks read them whole', async () => {
    const out = join(root, 'short-rnn');
    const r = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', out, '--model', 'rnn', '--max-length', '8', '--limit', '600', ...TINY, '--epochs', '1', '--json']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ kind: 'rnn', maxLength: 8, truncation: 'head+tail' });
    const long = 'What is the name of the longest river that flows through the capital city of the country where the poet was born ?';
    const c = await run(classifyCommand(), ['--model', out, long, 'Who is he ?']);
    expect(c.exitCode).toBe(0);
    expect(c.stdout).toMatch(/\[truncated\] What is the name/);
    expect(c.stderr).toMatch(/1 of 2 texts were longer than the model reads at once \(8 tokens\) and were truncated/);
    const chunks = await run(classifyCommand(), ['--model', out, '--long-texts', 'chunks', '--json', long]);
    expect(JSON.parse(chunks.stdout).truncated).toBe(1);
    const e = await run(evaluateClassifierCommand(), ['--model', out, '--data', testCsv, '--limit', '100', '--json']);
    const ev = JSON.parse(e.stdout);
    expect(ev.truncated).toBeGreaterThan(0);
    expect(ev.count).toBe(100);
  }, 60_000);
});

describe('train classifier: the run folder and --resume', () => {
  it('keeps DIR.run with --keep-checkpoints, refuses to start over without --force, and --resume DIR continues with more epochs', async () => {
    const out = join(root, 'resumed');
    const args = ['--data', trainCsv, '--out', out, '--model', 'rnn', '--limit', '400', ...TINY, '--patience', '0'];
    const first = await run(trainClassifierCommand(), [...args, '--epochs', '1', '--keep-checkpoints', '--json']);
    expect(first.exitCode).toBe(0);
    expect(existsSync(join(`${out}.run`, 'run.json'))).toBe(true);
    expect(existsSync(join(`${out}.run`, 'state.json'))).toBe(true);
    expect(readdirSync(out)).not.toContain('state.json');
    const again = await run(trainClassifierCommand(), [...args, '--epochs', '1']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/holds the checkpoints of a training run; continue it with --resume .* or start over with --force/);
    const resumed = await run(trainClassifierCommand(), ['--resume', out, '--epochs', '2', '--json']);
    expect(resumed.stderr).not.toMatch(/seqlab:/);
    expect(resumed.exitCode).toBe(0);
    const s = JSON.parse(resumed.stdout);
    expect(s).toMatchObject({ kind: 'rnn', resumedFromEpoch: 1, epochsCompleted: 2, trainRows: JSON.parse(first.stdout).trainRows });
    expect(s.history.map((h: { epoch: number }) => h.epoch)).toEqual([0, 1]);
    // The resumed run reuses the first run's flags, --keep-checkpoints among them.
    expect(JSON.parse(readFileSync(join(`${out}.run`, 'state.json'), 'utf8')).epoch).toBe(2);
  }, 120_000);

  it('prints a closing hint that is a whole command, the example text quoted for the shell', async () => {
    const out = join(root, 'hint');
    const r = await run(trainClassifierCommand(), ['--data', trainCsv, '--out', out, '--model', 'tfidf-lr', '--limit', '300']);
    expect(r.exitCode).toBe(0);
    const hint = r.stdout.split('\n').find((l) => l.includes('try: '))!;
    const match = /try: npm run seqlab -- classify --model '([^']+)' '((?:[^']|'\\'')*)'$/.exec(hint);
    expect(match, hint).not.toBeNull();
    const text = match![2]!.replace(/'\\''/g, "'");
    expect(text.length).toBeLessThanOrEqual(80);
    expect(train.some((row) => row.question === text)).toBe(true);
    expect(r.stdout).toMatch(/^kept tfidf-lr: tfidf-lr was the only kind asked for$/m);
  }, 60_000);
});
